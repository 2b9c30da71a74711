package io.edgesync.engine.edge;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgesync.engine.link.BandwidthPolicy;
import io.edgesync.engine.testing.InMemoryOutbox;
import io.edgesync.engine.testing.RecordingEdgeIo;
import io.edgesync.protocol.FrameCodec;
import io.edgesync.protocol.Frames;
import io.edgesync.protocol.wire.Frame;
import io.edgesync.protocol.wire.RecordBatch;
import io.edgesync.testing.FakeClock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The slow-link livelock (docs/testing.md, "A backlog cannot drain over a slow link"), driven
 * through the edge engine with a fake clock: a batch that takes longer than {@code
 * heartbeatTimeoutMs} to transmit used to end every session mid-batch, and the next session resent
 * the same batch. Now send progress counts as liveness, a timeout with batches in flight halves the
 * next batches, and adaptive batches fit a quarter of the timeout at the measured rate. A dead link
 * (no bytes taken, nothing received) still ends the session after the timeout.
 *
 * <p>The link is simulated by hand: {@link #RATE_BYTES_PER_SECOND} (200 kbit/s) one way, the
 * transport reporting progress every 500 ms while it has bytes to write.
 */
class SlowLinkEngineTest {
  private static final long T0 = 1_700_000_000_000L;

  /** 200 kbit/s. */
  private static final long RATE_BYTES_PER_SECOND = 25_000;

  private final FakeClock clock = new FakeClock(T0);
  private final InMemoryOutbox outbox = new InMemoryOutbox(clock);
  private final SyncPolicy.Builder policy = TestPolicy.builder();
  private final RecordingEdgeIo io = new RecordingEdgeIo();
  private final List<Frame> sent = io.frames();
  private final List<String> disconnects = io.disconnects();
  private EdgeSyncEngine engine;

  SlowLinkEngineTest() {
    // The doc's case: the test liveness settings and the default batch size.
    policy.heartbeatIntervalMs(1_000);
    policy.heartbeatTimeoutMs(5_000);
    policy.maxBatchRecords(8_192);
    policy.maxBatchBytes(3L * 1024 * 1024);
    policy.maxInFlightBatches(8);
    policy.batchMinRecords(1);
    policy.backoffInitialMs(100);
    policy.backoffMaxMs(200);
  }

  private EdgeSyncEngine engine(BandwidthPolicy bandwidth) {
    engine = TestPolicy.engine(policy, bandwidth, outbox, io);
    return engine;
  }

  private long now() {
    return clock.nowMs();
  }

  private void connectAndWelcome() {
    if (engine.state() == EdgeSyncEngine.State.DISCONNECTED) {
      clock.set(Math.max(now(), engine.nextWakeupMs()));
      engine.onTimer(now());
    }
    assertThat(engine.state()).isEqualTo(EdgeSyncEngine.State.CONNECTING);
    engine.onConnected(now());
    sent.clear();
    engine.onFrame(now(), TestCloud.frame(TestCloud.welcome(Map.of("a", outbox.acked("a")))));
    assertThat(engine.state()).isEqualTo(EdgeSyncEngine.State.ACTIVE);
  }

  private List<RecordBatch> takeBatches() {
    return io.takeBatches();
  }

  private static long wireBytes(RecordBatch b) {
    return Frame.newBuilder().setBatch(b).build().getSerializedSize() + FrameCodec.TRAILER_BYTES;
  }

  private static long last(RecordBatch b) {
    return b.getFirstSequence() + b.getCount() - 1;
  }

  /**
   * Transmits {@code bytes} at the link rate: every 500 ms the transport reports progress (if
   * {@code reportsProgress}) and the engine's timer runs. Returns false if the engine disconnected.
   */
  private boolean transmit(long bytes, boolean reportsProgress) {
    long endMs = now() + bytes * 1000 / RATE_BYTES_PER_SECOND;
    while (now() < endMs) {
      clock.set(Math.min(endMs, now() + 500));
      if (reportsProgress) {
        engine.onSendProgress(now());
      }
      engine.onTimer(now());
      if (!disconnects.isEmpty()) {
        return false;
      }
    }
    return true;
  }

  private void disconnected() {
    engine.onDisconnected(now(), disconnects.get(disconnects.size() - 1));
    sent.clear();
  }

  // ---------------------------------------------------------------- send progress as liveness

  @Test
  void regression_batchLongerThanTheTimeout_endedEverySession_nowSendProgressKeepsItAlive() {
    outbox.append("a", 8_000, 100);
    engine(BandwidthPolicy.plain()).start(now());
    connectAndWelcome();
    List<RecordBatch> batches = takeBatches();
    assertThat(batches).singleElement().satisfies(b -> assertThat(b.getCount()).isEqualTo(8_000));
    long bytes = wireBytes(batches.get(0));
    assertThat(bytes * 1000 / RATE_BYTES_PER_SECOND)
        .as("transmit time of the batch, ms: far above the 5 s timeout")
        .isGreaterThan(30_000);

    assertThat(transmit(bytes, true)).as("session survived the upload").isTrue();
    clock.advance(100);
    engine.onFrame(now(), Frames.ack("a", 8_000));

    assertThat(disconnects).isEmpty();
    assertThat(engine.sessionsEstablished()).isEqualTo(1);
    assertThat(outbox.acked("a")).isEqualTo(8_000);
    assertThat(engine.batchesSent()).as("the batch was sent once").isEqualTo(1);
  }

  @Test
  void deadLink_noBytesTakenAndNothingReceived_stillEndsTheSessionAfterTheTimeout() {
    outbox.append("a", 8_000, 100);
    engine(BandwidthPolicy.plain()).start(now());
    connectAndWelcome();
    long connectedAt = now();

    assertThat(transmit(1_000_000, false)).isFalse();

    assertThat(now()).isEqualTo(connectedAt + 5_000);
    assertThat(disconnects).containsExactly("nothing received for 5000 ms");
  }

  @Test
  void linkThatStopsTakingBytes_endsTheSessionOneTimeoutAfterTheLastProgress() {
    outbox.append("a", 8_000, 100);
    engine(BandwidthPolicy.plain()).start(now());
    connectAndWelcome();
    long connectedAt = now();
    assertThat(transmit(250_000, true)).isTrue(); // 10 s of progress, nothing received

    assertThat(engine.nextWakeupMs()).isLessThanOrEqualTo(connectedAt + 15_000);
    assertThat(transmit(1_000_000, false)).isFalse();

    assertThat(now()).isEqualTo(connectedAt + 15_000);
    assertThat(disconnects)
        .containsExactly("nothing received for 15000 ms, no bytes sent for 5000 ms");
  }

  // ---------------------------------------------------------------- shrink after a timeout

  @Test
  void timeoutWithABatchInFlight_halvesTheNextBatches_acksGrowThemBack() {
    // A transport that reports no progress: only the batch size can save the session.
    policy.maxInFlightBatches(1);
    outbox.append("a", 8_000, 100);
    engine(BandwidthPolicy.plain()).start(now());
    List<Integer> counts = new ArrayList<>();
    while (true) {
      connectAndWelcome();
      List<RecordBatch> batches = takeBatches();
      RecordBatch first = batches.get(0);
      counts.add(first.getCount());
      if (transmit(wireBytes(first), false)) {
        clock.advance(100);
        engine.onFrame(now(), Frames.ack("a", last(first)));
        break;
      }
      disconnected();
      disconnects.clear();
    }
    // 8,000 records (800 KB, 32 s) -> 400 KB -> 200 KB -> 100 KB (4 s at 200 kbit/s) gets through.
    assertThat(counts).containsExactly(8_000, 4_000, 2_000, 1_000);
    assertThat(engine.sessionsEstablished()).isEqualTo(4);

    // The ack doubled the cap: the batches sent after it carry up to 2,000 records.
    List<RecordBatch> after = takeBatches();
    assertThat(after).isNotEmpty();
    assertThat(after.get(after.size() - 1).getCount()).isEqualTo(2_000);
  }

  // ---------------------------------------------------------------- adaptive sizing

  @Test
  void adaptiveBatches_startSmall_thenFitAQuarterOfTheTimeoutAtTheMeasuredRate() {
    policy.heartbeatTimeoutMs(12_000); // a quarter: 3 s of link time, below batch_target (5 s)
    policy.maxInFlightBatches(1);
    outbox.append("a", 8_000, 100);
    engine(BandwidthPolicy.plain().withAdaptive(true, 0, 1)).start(now());
    connectAndWelcome();

    RecordBatch first = takeBatches().get(0);
    assertThat(first.getCount())
        .as("unmeasured link: the first batch is small")
        .isEqualTo(BatchSizing.MIN_ADAPTIVE_BATCH_RECORDS);

    for (int i = 0; i < 3; i++) {
      RecordBatch b = i == 0 ? first : takeBatches().get(0);
      assertThat(transmit(wireBytes(b), true)).isTrue();
      engine.onFrame(now(), Frames.ack("a", last(b)));
    }
    RecordBatch sized = takeBatches().get(0);
    long transmitMs = wireBytes(sized) * 1000 / RATE_BYTES_PER_SECOND;
    assertThat(transmitMs)
        .as("link time of a batch sized from the measured rate")
        .isBetween(2_500L, 3_000L);
    assertThat(disconnects).isEmpty();
  }
}
