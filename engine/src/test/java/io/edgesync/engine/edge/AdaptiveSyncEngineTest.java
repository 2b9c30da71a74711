package io.edgesync.engine.edge;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgesync.engine.cloud.IncomingBatches;
import io.edgesync.engine.link.BandwidthPolicy;
import io.edgesync.engine.link.LinkEstimator;
import io.edgesync.engine.testing.InMemoryOutbox;
import io.edgesync.engine.testing.RecordingEdgeIo;
import io.edgesync.protocol.Frames;
import io.edgesync.protocol.codec.CodecCapabilities;
import io.edgesync.protocol.codec.CodecSettings;
import io.edgesync.protocol.wire.Frame;
import io.edgesync.protocol.wire.RecordBatch;
import io.edgesync.testing.FakeClock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Adaptive sync and the daily byte budget, driven through the edge engine with a fake clock: the
 * link estimate from acks, batch size and compression level from it, deferral of less important
 * streams below {@code min_bandwidth_kbps} with probes, and the budget spent by priority and reset
 * at midnight UTC. Batches are uncompressed here (codec none) so that their sizes are known.
 */
class AdaptiveSyncEngineTest {
  /** 2023-11-14T22:13:20Z; the next UTC midnight is {@link #MIDNIGHT}. */
  private static final long T0 = 1_700_000_000_000L;

  private static final long MIDNIGHT = 1_700_006_400_000L;

  private final FakeClock clock = new FakeClock(T0);
  private final InMemoryOutbox outbox = new InMemoryOutbox(clock);
  private final SyncPolicy.Builder policy = TestPolicy.builder();
  private final RecordingEdgeIo edgeIo = new RecordingEdgeIo();
  private EdgeSyncEngine engine;

  AdaptiveSyncEngineTest() {
    // Long liveness timers: these tests jump the clock by hours.
    policy.heartbeatIntervalMs(40 * 3_600_000L);
    policy.heartbeatTimeoutMs(80 * 3_600_000L);
  }

  @AfterEach
  void stop() {
    if (engine != null) {
      engine.stop();
    }
    assertThat(edgeIo.disconnects())
        .as("unexpected disconnects")
        .allMatch("agent stopping"::equals);
  }

  /** Uncompressed batches, full envelope, adaptive sync on with the given rules. */
  private static BandwidthPolicy plainAdaptive(long minKbps, int lowMaxPriority) {
    return BandwidthPolicy.plain().withAdaptive(true, minKbps, lowMaxPriority);
  }

  private EdgeSyncEngine engine(BandwidthPolicy bandwidth) {
    engine = TestPolicy.engine(policy, bandwidth, outbox, edgeIo);
    return engine;
  }

  private long now() {
    return clock.nowMs();
  }

  private void connect(List<String> caps) {
    engine.start(now());
    engine.onConnected(now());
    edgeIo.frames().clear();
    engine.onFrame(now(), TestCloud.frame(TestCloud.welcome(Map.of()).addAllCapabilities(caps)));
  }

  /** The batches sent since the last call. */
  private List<RecordBatch> takeBatches() {
    return edgeIo.takeBatches();
  }

  /** The size of the frame that carried {@code b} (without the trailer). */
  private static long frameBytes(RecordBatch b) {
    return Frame.newBuilder().setBatch(b).build().getSerializedSize();
  }

  private static long last(RecordBatch b) {
    return b.getFirstSequence() + b.getCount() - 1;
  }

  private void ack(String stream, long sequence) {
    engine.onFrame(now(), Frames.ack(stream, sequence));
  }

  // ---------------------------------------------------------------- measuring the link

  @Test
  void throughput_isBytesAckedOverTheTimeTheyTook_whileTheWindowIsFull() {
    policy.maxInFlightBatches(2);
    outbox.append("a", 100, 100);
    engine(plainAdaptive(0, 1));
    connect(List.of());
    List<RecordBatch> first = takeBatches();
    assertThat(first).hasSize(2);
    assertThat(engine.linkStatus().bandwidthKbps()).isEqualTo(-1);

    clock.advance(1_000);
    ack("a", last(first.get(0)));

    long bytes = first.get(0).getSerializedSize();
    assertThat(engine.linkStatus().bandwidthKbps()).isEqualTo(bytes * 8 / 1000);
    assertThat(engine.linkStatus().srttMs()).isEqualTo(1_000);
  }

  @Test
  void aTrickleAckedSlowly_measuresTheRoundTripNotTheLink_andDoesNotLowerTheEstimate() {
    policy.maxInFlightBatches(2);
    outbox.append("a", 40, 100);
    engine(plainAdaptive(0, 1));
    connect(List.of());
    for (List<RecordBatch> b = takeBatches(); !b.isEmpty(); b = takeBatches()) {
      clock.advance(100);
      ack("a", last(b.get(b.size() - 1)));
    }
    long measured = engine.linkStatus().bandwidthKbps();
    assertThat(measured).isPositive();

    // One small record, nothing else queued: application limited, acked after 5 s.
    outbox.append("a", 1, 10);
    engine.requestSync(now());
    RecordBatch trickle = takeBatches().get(0);
    clock.advance(5_000);
    ack("a", last(trickle));

    assertThat(engine.linkStatus().bandwidthKbps()).isEqualTo(measured);
    assertThat(engine.linkStatus().srttMs()).isGreaterThan(100);

    // Long after the window: the last real measurement still stands (a trickle sample would say
    // 0 kbit/s).
    outbox.append("a", 1, 10);
    engine.requestSync(now());
    RecordBatch late = takeBatches().get(0);
    clock.advance(3 * LinkEstimator.WINDOW_MS);
    ack("a", last(late));
    assertThat(engine.linkStatus().bandwidthKbps()).isPositive();
  }

  @Test
  void slowLink_shrinksBatchesToAboutTheTargetLinkTime_neverBelowTheColumnarFloor() {
    policy.maxInFlightBatches(2);
    policy.maxBatchRecords(2_000);
    policy.maxBatchBytes(1L << 24);
    outbox.append("a", 6_000, 100);
    engine(plainAdaptive(0, 1).withTiming(30_000, 1_000));
    connect(List.of());
    List<RecordBatch> first = takeBatches();
    // Unmeasured link: the first batches start at the floor (they measure it).
    assertThat(first).extracting(f -> f.getCount()).containsExactly(300, 300);

    EdgeSyncEngine.WireStats w = engine.wireStats().get("a");
    clock.advance(400);
    ack("a", 300);

    // About 1 s of link time at the measured rate: bytes/s divided by the frame bytes per record.
    long bytesPerSecond = first.get(0).getSerializedSize() * 1000L / 400;
    double perRecord = (double) w.frameBytes() / w.records();
    int expected = (int) Math.max(300, Math.min(2_000, (long) (bytesPerSecond / perRecord)));
    RecordBatch third = takeBatches().get(0);
    assertThat(third.getCount()).isEqualTo(expected).isBetween(300, 1_999);
  }

  @Test
  void adaptiveOff_keepsTheConfiguredBatchSize() {
    policy.maxInFlightBatches(2);
    policy.maxBatchRecords(2_000);
    policy.maxBatchBytes(1L << 24);
    outbox.append("a", 6_000, 100);
    engine(BandwidthPolicy.plain());
    connect(List.of());
    takeBatches();
    clock.advance(4_000);
    ack("a", 2_000);

    // Measured (and shown in status) all the same, but not acted on.
    assertThat(engine.linkStatus().bandwidthKbps()).isPositive();
    assertThat(takeBatches().get(0).getCount()).isEqualTo(2_000);
  }

  @Test
  void compressionLevel_risesOnSlowerLinks() {
    CodecSettings auto = CodecSettings.auto();
    assertThat(BatchSizing.levelFor(auto, 100)).isEqualTo(19);
    assertThat(BatchSizing.levelFor(auto, 1_000)).isEqualTo(12);
    assertThat(BatchSizing.levelFor(auto, 8_000)).isEqualTo(9);
    assertThat(BatchSizing.levelFor(auto, 100_000)).isEqualTo(3);
    assertThat(BatchSizing.levelFor(CodecSettings.parse("zstd:15"), 8_000)).isEqualTo(15);
    assertThat(BatchSizing.levelFor(CodecSettings.parse("gzip:1"), 1_000)).isEqualTo(9);
    assertThat(BatchSizing.levelFor(CodecSettings.parse("gzip:1"), 100_000)).isEqualTo(1);
    assertThat(BatchSizing.levelFor(CodecSettings.parse("lzma"), 100)).isEqualTo(6);
  }

  @Test
  void theEngineEncodesWithTheLevelForTheMeasuredLink() {
    policy.maxInFlightBatches(2);
    outbox.append("a", 100, 100);
    engine(BandwidthPolicy.defaults());
    List<String> all = new ArrayList<>(CodecCapabilities.all());
    connect(all);
    assertThat(engine.linkStatus().level()).isEqualTo(3);
    List<RecordBatch> b = takeBatches();

    clock.advance(2_000); // about 1 KB in 2 s: far below 256 kbit/s
    ack("a", last(b.get(0)));

    assertThat(engine.linkStatus().bandwidthKbps()).isLessThan(256);
    assertThat(engine.linkStatus().level()).isEqualTo(19);
  }

  @Test
  void zstdOnASlowLink_sendsLargeBatchesAsStatelessFramesAtTheRaisedLevel_theStreamStaysInStep()
      throws Exception {
    policy.maxInFlightBatches(2);
    policy.maxBatchRecords(400);
    outbox.append("a", 1_600, 100);
    engine(BandwidthPolicy.defaults().withCompression(CodecSettings.parse("zstd")));
    List<String> all = new ArrayList<>(CodecCapabilities.all());
    all.add(CodecCapabilities.COMPACT_BATCH);
    connect(all);
    IncomingBatches cloud = TestCloud.decoder(all, id -> null);
    List<RecordBatch> first = takeBatches();
    assertThat(first)
        .allMatch(f -> f.getCodec() == io.edgesync.protocol.wire.Codec.CODEC_ZSTD_STREAM);

    clock.advance(5_000); // a few KB in 5 s: below 256 kbit/s
    ack("a", 300); // the first batches: the floor of 300 records, the link being unmeasured
    List<RecordBatch> later = new ArrayList<>(takeBatches());
    ack("a", 600);
    later.addAll(takeBatches());
    assertThat(engine.linkStatus().level()).isEqualTo(19);
    assertThat(later)
        .hasSize(2)
        .allMatch(f -> f.getCodec() == io.edgesync.protocol.wire.Codec.CODEC_ZSTD);

    // A small batch still goes through the session's stream, which the frames did not disturb.
    ack("a", 1_600);
    outbox.append("a", 5, 100);
    engine.requestSync(now());
    List<RecordBatch> small = takeBatches();
    assertThat(small).hasSize(1);
    assertThat(small.get(0).getCodec())
        .isEqualTo(io.edgesync.protocol.wire.Codec.CODEC_ZSTD_STREAM);
    long records = 0;
    for (List<RecordBatch> group : List.of(first, later, small)) {
      for (RecordBatch f : group) {
        IncomingBatches.Decoded d = cloud.decode(f);
        for (io.edgesync.protocol.Record r : d.records()) {
          assertThat(r).isEqualTo(outbox.original("a", r.sequence()));
        }
        records += d.records().size();
      }
    }
    long laterRecords = later.stream().mapToLong(f -> f.getCount()).sum();
    assertThat(records).isEqualTo(600 + laterRecords + 5);
    cloud.close();
  }

  // ---------------------------------------------------------------- low bandwidth

  @Test
  void
      belowMinBandwidth_onlyImportantStreamsFlow_theOthersWaitWithAReason_untilAProbeShowsTheLinkIsBack() {
    policy.maxInFlightBatches(2);
    outbox.stream("alarms", 1).stream("logs", 5);
    outbox.append("alarms", 60, 100);
    outbox.append("logs", 60, 100);
    engine(plainAdaptive(64, 1));
    connect(List.of());
    List<RecordBatch> b = takeBatches();
    assertThat(b).allMatch(f -> f.getStream().equals("alarms"));

    // About 1 KB per second: 8 kbit/s, below 64.
    long probeAt = now() + 1_000 + BandwidthPolicy.DEFAULT_PROBE_INTERVAL_MS;
    clock.advance(1_000);
    ack("alarms", last(b.get(0)));
    assertThat(engine.linkStatus().lowBandwidth()).isTrue();
    assertThat(engine.deferredStreams()).containsOnlyKeys("logs");
    assertThat(engine.deferredStreams().get("logs"))
        .startsWith("low bandwidth: the link measured ")
        .contains("below min_bandwidth_kbps 64; only priority <= 1 is sent (priority 5)");

    // Alarms drain on the slow link; logs wait.
    List<RecordBatch> during = new ArrayList<>();
    while (true) {
      List<RecordBatch> more = takeBatches();
      during.addAll(more);
      if (outbox.acked("alarms") == 60) {
        break;
      }
      clock.advance(1_000);
      ack("alarms", last(more.isEmpty() ? during.get(during.size() - 1) : more.get(0)));
    }
    assertThat(during).isNotEmpty().allMatch(f -> f.getStream().equals("alarms"));
    assertThat(engine.nextWakeupMs()).isEqualTo(probeAt);

    // The probe: one batch of logs.
    clock.set(probeAt);
    engine.onTimer(now());
    List<RecordBatch> probe = takeBatches();
    assertThat(probe).hasSize(1);
    assertThat(probe.get(0).getStream()).isEqualTo("logs");

    // Acked 10 ms later: the link is fast again, logs flow.
    clock.advance(10);
    ack("logs", last(probe.get(0)));
    assertThat(engine.linkStatus().lowBandwidth()).isFalse();
    assertThat(engine.deferredStreams()).isEmpty();
    assertThat(takeBatches()).hasSize(2).allMatch(f -> f.getStream().equals("logs"));
  }

  @Test
  void withoutMinBandwidth_aSlowLinkDefersNothing() {
    policy.maxInFlightBatches(2);
    outbox.stream("alarms", 1).stream("logs", 5);
    outbox.append("alarms", 20, 100);
    outbox.append("logs", 20, 100);
    engine(plainAdaptive(0, 1));
    connect(List.of());
    List<RecordBatch> b = takeBatches();
    clock.advance(10_000);
    ack("alarms", last(b.get(1)));

    assertThat(engine.deferredStreams()).isEmpty();
    assertThat(takeBatches()).extracting(f -> f.getStream()).contains("logs");
  }

  // ---------------------------------------------------------------- daily budget

  /** Acks whatever is in flight, one batch at a time, until nothing more is sent. */
  private List<RecordBatch> ackUntilQuiet(String stream) {
    List<RecordBatch> all = new ArrayList<>();
    List<RecordBatch> b = takeBatches();
    while (!b.isEmpty()) {
      all.addAll(b);
      clock.advance(10);
      ack(stream, last(b.get(b.size() - 1)));
      b = takeBatches();
    }
    return all;
  }

  @Test
  void dailyBudget_stopsSendingWhenSpent_explainsWhy_andResumesAtMidnightUtc() {
    policy.maxInFlightBatches(2);
    outbox.append("a", 200, 100);
    engine(BandwidthPolicy.plain().withDailyBudget(5_000));
    connect(List.of());

    List<RecordBatch> batches = ackUntilQuiet("a");
    long spent = engine.budgetStatus().spentBytes();
    assertThat(spent).isBetween(5_000L - 300, 5_000L + 150);
    long framesBytes = batches.stream().mapToLong(AdaptiveSyncEngineTest::frameBytes).sum();
    assertThat(framesBytes).isLessThanOrEqualTo(spent); // Hello counts too
    assertThat(engine.deferredStreams().get("a"))
        .startsWith("daily budget: " + spent + " of 5000 bytes spent today")
        .endsWith("resets at 2023-11-15T00:00:00Z");
    assertThat(engine.budgetStatus().resetsAtMs()).isEqualTo(MIDNIGHT);
    assertThat(engine.nextWakeupMs()).isEqualTo(MIDNIGHT);
    assertThat(engine.status()).isEqualTo(EdgeSyncEngine.Status.IDLE);
    assertThat(outbox.savedBudget()).isNotNull();
    assertThat(outbox.savedBudget().utcDay()).isEqualTo(MIDNIGHT / 86_400_000L - 1);

    clock.set(MIDNIGHT);
    engine.onTimer(now());
    assertThat(engine.deferredStreams()).isEmpty();
    assertThat(takeBatches()).isNotEmpty();
    assertThat(engine.budgetStatus().spentBytes()).isLessThan(3_000);
  }

  @Test
  void dailyBudget_aWideWindowDoesNotOverspendWithinOnePump() {
    policy.maxInFlightBatches(64);
    outbox.append("a", 500, 100);
    engine(BandwidthPolicy.plain().withDailyBudget(5_000));
    connect(List.of());

    List<RecordBatch> batches = takeBatches();
    assertThat(batches).isNotEmpty();
    assertThat(engine.budgetStatus().spentBytes()).isBetween(5_000L - 300, 5_000L + 150);
    assertThat(engine.deferredStreams()).containsKey("a");
  }

  @Test
  void dailyBudget_survivesARestart_throughTheOutbox() {
    policy.maxInFlightBatches(2);
    outbox.append("a", 200, 100);
    engine(BandwidthPolicy.plain().withDailyBudget(5_000));
    connect(List.of());
    ackUntilQuiet("a");
    long spent = engine.budgetStatus().spentBytes();
    engine.stop();
    assertThat(outbox.savedBudget().spentBytes()).isEqualTo(spent);

    clock.advance(60_000);
    engine(BandwidthPolicy.plain().withDailyBudget(5_000));
    connect(List.of());

    assertThat(takeBatches()).isEmpty();
    assertThat(engine.budgetStatus().spentBytes()).isGreaterThanOrEqualTo(spent);
    assertThat(engine.deferredStreams()).containsKey("a");
  }

  @Test
  void dailyBudget_keepsYesterdaysShareOfMoreImportantStreams_forThem() {
    policy.maxInFlightBatches(2);
    outbox.stream("alarms", 1).stream("logs", 5);
    outbox.append("alarms", 20, 100);
    engine(BandwidthPolicy.plain().withDailyBudget(6_000));
    connect(List.of());
    List<RecordBatch> day1 = ackUntilQuiet("alarms");
    long alarmsYesterday = day1.stream().mapToLong(AdaptiveSyncEngineTest::frameBytes).sum();

    clock.set(MIDNIGHT);
    engine.onTimer(now());
    outbox.append("logs", 100, 100);
    engine.onAppended(now());
    engine.requestSync(now());
    List<RecordBatch> logs = ackUntilQuiet("logs");

    long logsBytes = logs.stream().mapToLong(AdaptiveSyncEngineTest::frameBytes).sum();
    // Logs got the budget minus what alarms used yesterday (scaled to the whole day left).
    assertThat(logsBytes).isBetween(6_000 - alarmsYesterday - 300, 6_000 - alarmsYesterday + 150);
    assertThat(engine.deferredStreams().get("logs"))
        .contains("bytes reserved for more important streams");

    // The reserve is there for alarms when they come.
    outbox.append("alarms", 10, 100);
    engine.onAppended(now());
    engine.requestSync(now());
    assertThat(takeBatches()).isNotEmpty().allMatch(f -> f.getStream().equals("alarms"));
  }
}
