package io.edgesync.engine.edge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgesync.engine.cloud.IncomingBatches;
import io.edgesync.engine.link.BandwidthPolicy;
import io.edgesync.engine.testing.InMemoryOutbox;
import io.edgesync.engine.testing.RecordingEdgeIo;
import io.edgesync.protocol.FrameCodec;
import io.edgesync.protocol.Frames;
import io.edgesync.protocol.ProtocolException;
import io.edgesync.protocol.Record;
import io.edgesync.protocol.RecordLayout;
import io.edgesync.protocol.codec.BatchEncoder;
import io.edgesync.protocol.codec.Codec;
import io.edgesync.protocol.codec.CodecCapabilities;
import io.edgesync.protocol.codec.CodecSettings;
import io.edgesync.protocol.wire.ErrorCode;
import io.edgesync.protocol.wire.Frame;
import io.edgesync.protocol.wire.GapReason;
import io.edgesync.protocol.wire.RecordBatch;
import io.edgesync.protocol.wire.Welcome;
import io.edgesync.testing.FakeClock;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The edge engine with batch codecs: what it offers and uses after the handshake, encoding at send
 * time with a fresh encoder per session, the compact envelope, and the wire accounting. Batches are
 * decoded as the cloud would ({@link IncomingBatches}) and compared with what was appended.
 */
class EdgeCodecEngineTest {
  /** The protocol's enum (the codec library has its own {@link Codec}). */
  private static final class WireCodec {
    static final io.edgesync.protocol.wire.Codec CODEC_NONE =
        io.edgesync.protocol.wire.Codec.CODEC_NONE;
    static final io.edgesync.protocol.wire.Codec CODEC_GZIP =
        io.edgesync.protocol.wire.Codec.CODEC_GZIP;
    static final io.edgesync.protocol.wire.Codec CODEC_ZSTD =
        io.edgesync.protocol.wire.Codec.CODEC_ZSTD;
    static final io.edgesync.protocol.wire.Codec CODEC_COLUMNAR =
        io.edgesync.protocol.wire.Codec.CODEC_COLUMNAR;
    static final io.edgesync.protocol.wire.Codec CODEC_TEMPLATE_STREAM =
        io.edgesync.protocol.wire.Codec.CODEC_TEMPLATE_STREAM;
  }

  private static final long T0 = 1_700_000_000_000L;

  private final FakeClock clock = new FakeClock(T0);
  private final InMemoryOutbox outbox = new InMemoryOutbox(clock);
  private final SyncPolicy.Builder policy = TestPolicy.builder();
  private final List<IncomingBatches> decoders = new ArrayList<>();
  private EdgeSyncEngine engine;
  private long fakeNanos;
  private java.util.function.ToLongFunction<String> encodeCostNanos = encoding -> 0;

  private final RecordingEdgeIo edgeIo =
      new RecordingEdgeIo()
          .nanoTime(
              () -> {
                // Each call costs what encoding one batch at the current rung costs (the engine
                // reads the ticker once before and once after encoding).
                fakeNanos += encodeCostNanos.applyAsLong(engine.linkStatus().encoding());
                return fakeNanos;
              });
  private final List<Frame> sent = edgeIo.frames();

  @AfterEach
  void closeDecoders() {
    decoders.forEach(IncomingBatches::close);
    if (engine != null) {
      engine.stop();
    }
  }

  private EdgeSyncEngine engine(BandwidthPolicy bandwidth) {
    engine = TestPolicy.engine(policy, bandwidth, outbox, edgeIo);
    return engine;
  }

  private long now() {
    return clock.nowMs();
  }

  private static List<String> everything() {
    List<String> caps = new ArrayList<>(CodecCapabilities.all());
    caps.add(CodecCapabilities.COMPACT_BATCH);
    return caps;
  }

  /** Connects (starting the engine if needed) and answers with a Welcome accepting {@code caps}. */
  private void connect(Map<String, Long> checkpoints, List<String> caps) {
    if (engine.state() == EdgeSyncEngine.State.DISCONNECTED) {
      engine.start(now());
    }
    engine.onConnected(now());
    Welcome.Builder w = TestCloud.welcome(checkpoints).addAllCapabilities(caps);
    sent.clear();
    engine.onFrame(now(), TestCloud.frame(w));
  }

  /** A cloud-side decoder for a new session, accepting what {@code caps} lists. */
  private IncomingBatches cloudSession(List<String> caps) {
    IncomingBatches d = TestCloud.decoder(caps, id -> null);
    decoders.add(d);
    return d;
  }

  private List<RecordBatch> takeBatches() {
    return edgeIo.takeBatches();
  }

  private static List<byte[]> json(int n, int from) {
    List<byte[]> out = new ArrayList<>();
    for (int i = from; i < from + n; i++) {
      out.add(
          String.format(
                  Locale.ROOT,
                  "{\"device_id\":\"gw-1\",\"ts\":%d,\"t\":%.2f,\"status\":\"ok\"}",
                  T0 + i * 1000L,
                  21 + (i % 17) / 10.0)
              .getBytes(StandardCharsets.UTF_8));
    }
    return out;
  }

  private void assertOriginal(String stream, List<Record> decoded) {
    for (Record r : decoded) {
      assertThat(r).isEqualTo(outbox.original(stream, r.sequence()));
    }
  }

  @Test
  void hello_offersEveryCodecOfThisBuild_andTheCompactEnvelope() {
    engine(BandwidthPolicy.defaults()).start(T0);
    engine.onConnected(T0);

    assertThat(sent.get(0).getHello().getCapabilitiesList())
        .containsExactly(
            "codec:gzip",
            "codec:lzma",
            "codec:zstd",
            "codec:zstd_stream",
            "codec:columnar",
            "codec:template_stream",
            "columnar:series",
            "batch:compact");
  }

  /** Readings of 20 sensors (each a seeded random walk), interleaved round robin. */
  private static List<byte[]> sensors(int n) {
    java.util.SplittableRandom r = new java.util.SplittableRandom(16);
    long[] t = new long[20];
    for (int s = 0; s < 20; s++) {
      t[s] = 1500 + r.nextInt(1500);
    }
    List<byte[]> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      int s = i % 20;
      t[s] += r.nextInt(21) - 10;
      out.add(
          String.format(
                  Locale.ROOT,
                  "{\"sensor\":\"s-%02d\",\"ts\":%d,\"t\":%d.%02d}",
                  s,
                  T0 + (i / 20) * 1000L + s,
                  t[s] / 100,
                  t[s] % 100)
              .getBytes(StandardCharsets.UTF_8));
    }
    return out;
  }

  private RecordBatch firstColumnarBatch(List<String> welcome) {
    policy.maxBatchRecords(1000);
    outbox.appendPayloads("sensor_data", sensors(600));
    engine(BandwidthPolicy.defaults());
    connect(Map.of(), welcome);
    RecordBatch b = takeBatches().get(0);
    assertThat(b.getCodec()).isEqualTo(WireCodec.CODEC_COLUMNAR);
    return b;
  }

  @Test
  void cloudWithoutSeries_getsColumnarAsEveryDecoderReadsIt() throws Exception {
    // An older cloud accepts the codecs but does not echo columnar:series.
    RecordBatch b = firstColumnarBatch(everything());
    List<Record> records = cloudSession(everything()).decode(b).records();
    assertOriginal("sensor_data", records);
    try (BatchEncoder plain = new BatchEncoder(CodecSettings.auto().withColumnarSeries(false))) {
      assertThat(b.getPayload().toByteArray())
          .isEqualTo(plain.encode(records, Codec.COLUMNAR).payload());
    }
  }

  @Test
  void cloudEchoingSeries_getsSeriesColumnar_smallerAndDecodingToTheSameRecords() throws Exception {
    List<String> caps = new ArrayList<>(everything());
    caps.add(CodecCapabilities.COLUMNAR_SERIES);
    RecordBatch b = firstColumnarBatch(caps);
    List<Record> records = cloudSession(caps).decode(b).records();
    assertOriginal("sensor_data", records);
    try (BatchEncoder plain = new BatchEncoder(CodecSettings.auto().withColumnarSeries(false))) {
      assertThat(b.getPayload().size())
          .isLessThan(plain.encode(records, Codec.COLUMNAR).payload().length * 3 / 4);
    }
  }

  @Test
  void auto_smallJsonBatchGoesAsTemplateStream_largeAsColumnar_andDecodesToTheSameRecords()
      throws Exception {
    policy.maxBatchRecords(1000);
    outbox.appendPayloads("sensor_data", json(5, 0));
    engine(BandwidthPolicy.defaults());
    connect(Map.of(), everything());
    IncomingBatches cloud = cloudSession(everything());

    RecordBatch small = takeBatches().get(0);
    assertThat(small.getCodec()).isEqualTo(WireCodec.CODEC_TEMPLATE_STREAM);
    IncomingBatches.Decoded d1 = cloud.decode(small);
    assertThat(d1.records()).hasSize(5);
    assertOriginal("sensor_data", d1.records());

    engine.onFrame(now(), Frames.ack("sensor_data", 5));
    outbox.appendPayloads("sensor_data", json(600, 5));
    engine.requestSync(now());

    RecordBatch large = takeBatches().get(0);
    assertThat(large.getCodec()).isEqualTo(WireCodec.CODEC_COLUMNAR);
    IncomingBatches.Decoded d2 = cloud.decode(large);
    assertThat(d2.firstSequence()).isEqualTo(6);
    assertThat(d2.records()).hasSize(600);
    assertOriginal("sensor_data", d2.records());
    // Columns of 600 similar records: far below the ~60 raw bytes per record.
    assertThat(large.getPayload().size()).isLessThan(600 * 10);
  }

  @Test
  void welcomeWithoutCapabilities_sendsCodecNone_withTheFullEnvelopeAndRawBytes() throws Exception {
    outbox.appendPayloads("a", json(3, 0));
    engine(BandwidthPolicy.defaults());
    connect(Map.of(), List.of());

    RecordBatch b = takeBatches().get(0);
    assertThat(b.getCodec()).isEqualTo(WireCodec.CODEC_NONE);
    assertThat(b.getStream()).isEqualTo("a");
    assertThat(b.getFirstSequence()).isEqualTo(1);
    assertThat(b.getStreamRef()).isZero();
    List<Record> records = RecordLayout.decode(b.getPayload().toByteArray(), 1, 3);
    assertThat(b.getRawBytes()).isEqualTo(RecordLayout.encodedSize(records));
    assertOriginal("a", records);
    assertThat(engine.linkStatus().codec()).isEqualTo("none");
    assertThat(engine.linkStatus().accepted()).isEmpty();
  }

  @Test
  void welcomeAcceptingOnlyGzip_narrowsAutoToGzip() throws Exception {
    outbox.appendPayloads("a", json(20, 0));
    engine(BandwidthPolicy.defaults());
    connect(Map.of(), List.of("codec:gzip"));

    RecordBatch b = takeBatches().get(0);
    assertThat(b.getCodec()).isEqualTo(WireCodec.CODEC_GZIP);
    assertThat(engine.linkStatus().codec()).isEqualTo("gzip");
    assertThat(engine.linkStatus().accepted()).containsExactly("codec:gzip");
    // Not compact: the cloud did not accept it.
    assertThat(b.getStream()).isEqualTo("a");
    assertThat(b.getRawBytes()).isPositive();
    assertOriginal("a", cloudSession(List.of("codec:gzip")).decode(b).records());
  }

  @Test
  void configuredZstd_withoutContextTakeoverAccepted_usesStatelessZstd() throws Exception {
    outbox.appendPayloads("a", json(4, 0));
    engine(BandwidthPolicy.defaults().withCompression(CodecSettings.parse("zstd")));
    connect(Map.of(), List.of("codec:zstd", "codec:columnar"));

    RecordBatch b = takeBatches().get(0);
    assertThat(b.getCodec()).isEqualTo(WireCodec.CODEC_ZSTD);
  }

  @Test
  void reconnect_resendsFromTheCheckpoint_encodedByAFreshEncoderForTheNewSession()
      throws Exception {
    policy.maxInFlightBatches(3);
    outbox.appendPayloads("a", json(30, 0));
    engine(BandwidthPolicy.defaults());
    connect(Map.of(), everything());
    IncomingBatches first = cloudSession(everything());
    List<RecordBatch> session1 = takeBatches();
    assertThat(session1).hasSize(3);
    assertThat(session1).allMatch(b -> b.getCodec() == WireCodec.CODEC_TEMPLATE_STREAM);
    assertOriginal("a", first.decode(session1.get(0)).records());
    engine.onFrame(now(), Frames.ack("a", 10));

    engine.onDisconnected(now(), "cut");
    clock.advance(120_000);
    engine.onTimer(now());
    connect(Map.of("a", 10L), everything());
    List<RecordBatch> session2 = takeBatches();
    assertThat(session2).hasSize(2);

    // A new session's decoder knows nothing of the old session and decodes the resend...
    IncomingBatches second = cloudSession(everything());
    IncomingBatches.Decoded resent = second.decode(session2.get(0));
    assertThat(resent.firstSequence()).isEqualTo(11);
    assertOriginal("a", resent.records());
    assertOriginal("a", second.decode(session2.get(1)).records());
    // ...while a batch of the old session, which leaned on that session's state, is refused
    // loudly by a fresh decoder rather than decoded into other records.
    IncomingBatches third = cloudSession(everything());
    RecordBatch stale = session1.get(1).toBuilder().setStream("a").setFirstSequence(11).build();
    assertThatThrownBy(() -> third.decode(stale))
        .isInstanceOfSatisfying(
            ProtocolException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_BATCH));
  }

  @Test
  void compactEnvelope_namesAStreamOnce_thenContinuesWithoutNameOrSequence() throws Exception {
    policy.maxInFlightBatches(8);
    outbox.stream("a", 1).stream("b", 2);
    outbox.appendPayloads("a", json(25, 0));
    outbox.appendPayloads("b", json(5, 0));
    engine(BandwidthPolicy.defaults());
    connect(Map.of(), everything());
    IncomingBatches cloud = cloudSession(everything());

    List<RecordBatch> batches = takeBatches();
    assertThat(batches).hasSize(4);
    RecordBatch a1 = batches.get(0);
    RecordBatch a2 = batches.get(1);
    RecordBatch b1 = batches.get(3);
    assertThat(a1.getStream()).isEqualTo("a");
    assertThat(a1.getStreamRef()).isEqualTo(1);
    assertThat(a1.getFirstSequence()).isEqualTo(1);
    assertThat(a2.getStream()).isEmpty();
    assertThat(a2.getStreamRef()).isEqualTo(1);
    assertThat(a2.getFirstSequence()).isZero();
    assertThat(a2.getRawBytes()).isZero();
    assertThat(b1.getStream()).isEqualTo("b");
    assertThat(b1.getStreamRef()).isEqualTo(2);
    for (RecordBatch b : batches) {
      IncomingBatches.Decoded d = cloud.decode(b);
      assertOriginal(d.stream(), d.records());
    }
  }

  @Test
  void compactEnvelope_afterAGap_continuesImplicitly_afterAnAckJump_namesTheSequence()
      throws Exception {
    policy.maxInFlightBatches(8);
    outbox.appendPayloads("a", json(30, 0));
    outbox.drop("a", 11, 15, GapReason.GAP_REASON_QUEUE_FULL);
    engine(BandwidthPolicy.defaults());
    connect(Map.of(), everything());

    List<Frame> frames = List.copyOf(sent);
    sent.clear();
    assertThat(frames).extracting(Frame::getBodyCase).contains(Frame.BodyCase.GAP);
    RecordBatch afterGap =
        frames.stream()
            .filter(Frame::hasBatch)
            .map(Frame::getBatch)
            .filter(b -> b.getCount() == 10 && b.getFirstSequence() == 0)
            .findFirst()
            .orElseThrow();
    IncomingBatches cloud = cloudSession(everything());
    long expectFirst = 1;
    for (Frame f : frames) {
      if (f.hasGap()) {
        cloud.onGap("a", f.getGap().getLastSequence());
        expectFirst = f.getGap().getLastSequence() + 1;
      } else {
        IncomingBatches.Decoded d = cloud.decode(f.getBatch());
        assertThat(d.firstSequence()).isEqualTo(expectFirst);
        expectFirst += d.records().size();
      }
    }
    assertThat(afterGap.getStreamRef()).isEqualTo(1);

    // The cloud committed more than this session sent (an earlier session's batch landed late):
    // the next batch must name where it starts.
    outbox.appendPayloads("a", json(20, 30));
    engine.onFrame(now(), Frames.ack("a", 40));
    engine.requestSync(now());
    RecordBatch next = takeBatches().get(0);
    assertThat(next.getFirstSequence()).isEqualTo(41);
  }

  @Test
  void wireStats_countRawEncodedAndFrameBytesOfEveryBatch() {
    policy.maxInFlightBatches(8);
    outbox.appendPayloads("a", json(40, 0));
    engine(BandwidthPolicy.defaults());
    connect(Map.of(), everything());

    long frameBytes = 0;
    long encoded = 0;
    long batches = 0;
    for (Frame f : sent) {
      if (f.hasBatch()) {
        frameBytes += f.getSerializedSize() + FrameCodec.TRAILER_BYTES; // as on the wire
        encoded += f.getBatch().getPayload().size();
        batches++;
      }
    }
    long payload = 0;
    long raw = 0; // each batch's record layout starts its origin deltas from 0
    for (long first = 1; first <= 40; first += 10) {
      List<Record> batch = new ArrayList<>();
      for (long s = first; s < first + 10; s++) {
        batch.add(outbox.original("a", s));
        payload += outbox.original("a", s).payload().length;
      }
      raw += RecordLayout.encodedSize(batch);
    }
    EdgeSyncEngine.WireStats w = engine.wireStats().get("a");
    assertThat(w.batches()).isEqualTo(batches).isEqualTo(4);
    assertThat(w.records()).isEqualTo(40);
    assertThat(w.payloadBytes()).isEqualTo(payload);
    assertThat(w.rawBytes()).isEqualTo(raw);
    assertThat(w.encodedBytes()).isEqualTo(encoded);
    assertThat(w.frameBytes()).isEqualTo(frameBytes);
    assertThat(w.ratio()).isEqualTo((double) w.rawBytes() / frameBytes).isGreaterThan(1.5);
    assertThat(engine.wireTotals()).isEqualTo(w);
  }

  /**
   * Appends {@code n} JSON records, then runs the session for {@code seconds}: every {@code stepMs}
   * the cloud decodes and acknowledges every batch in flight. Returns the codec of each batch in
   * send order; every record decoded must equal what was appended.
   */
  private List<io.edgesync.protocol.wire.Codec> runBacklog(
      int n, long stepMs, int seconds, IncomingBatches cloud) throws Exception {
    List<io.edgesync.protocol.wire.Codec> codecs = new ArrayList<>();
    long acked = 0;
    long end = now() + seconds * 1_000L;
    while (now() < end) {
      for (RecordBatch b : takeBatches()) {
        codecs.add(b.getCodec());
        IncomingBatches.Decoded d = cloud.decode(b);
        assertOriginal("sensor_data", d.records());
        acked = d.firstSequence() + d.records().size() - 1;
        clock.advance(stepMs / 4);
        engine.onFrame(now(), Frames.ack("sensor_data", acked));
      }
      clock.advance(stepMs);
      engine.onTimer(now());
      if (acked == n) {
        break;
      }
    }
    return codecs;
  }

  @Test
  void auto_encoderSlowerThanTheLink_batchesGoAsFastZstd_andDecodeToTheSameRecords()
      throws Exception {
    policy.maxBatchRecords(400);
    outbox.appendPayloads("sensor_data", json(40_000, 0));
    // COLUMNAR costs 150 ms a batch, zstd level 1 costs 5: with a batch acknowledged every 25 ms
    // the encoder, not the link, holds the records back.
    encodeCostNanos = e -> e.startsWith("configured") ? 75_000_000 : 2_500_000;
    engine(BandwidthPolicy.defaults());
    connect(Map.of(), everything());

    List<io.edgesync.protocol.wire.Codec> codecs =
        runBacklog(40_000, 100, 5, cloudSession(everything()));

    assertThat(codecs.get(0)).isEqualTo(WireCodec.CODEC_COLUMNAR);
    assertThat(codecs.get(codecs.size() - 1)).isEqualTo(WireCodec.CODEC_ZSTD);
    assertThat(codecs).doesNotContain(WireCodec.CODEC_NONE);
    assertThat(engine.linkStatus().encoding()).startsWith("fast (encoding took");
  }

  @Test
  void auto_encoderFasterThanTheLink_keepsTheConfiguredCodec() throws Exception {
    policy.maxBatchRecords(400);
    outbox.appendPayloads("sensor_data", json(20_000, 0));
    // 1 ms a batch, one batch acknowledged every 500 ms: the link holds the records back.
    encodeCostNanos = e -> 500_000;
    engine(BandwidthPolicy.defaults());
    connect(Map.of(), everything());

    List<io.edgesync.protocol.wire.Codec> codecs =
        runBacklog(20_000, 2_000, 20, cloudSession(everything()));

    assertThat(codecs).hasSizeGreaterThan(10).containsOnly(WireCodec.CODEC_COLUMNAR);
    assertThat(engine.linkStatus().encoding()).isEqualTo("configured (configured)");
  }

  @Test
  void explicitCodec_isKept_evenWhenTheEncoderHoldsRecordsBack() throws Exception {
    policy.maxBatchRecords(400);
    outbox.appendPayloads("sensor_data", json(40_000, 0));
    encodeCostNanos = e -> 75_000_000;
    engine(BandwidthPolicy.defaults().withCompression(CodecSettings.parse("zstd:19")));
    connect(Map.of(), everything());

    List<io.edgesync.protocol.wire.Codec> codecs =
        runBacklog(40_000, 100, 5, cloudSession(everything()));

    assertThat(codecs)
        .hasSizeGreaterThan(10)
        .doesNotContain(WireCodec.CODEC_NONE, WireCodec.CODEC_COLUMNAR);
    assertThat(engine.linkStatus().encoding()).isEqualTo("configured (configured)");
  }

  @Test
  void negotiate_fallsBackToWhatThePeerTakes() {
    CodecSettings auto = CodecSettings.auto();
    // A set of codecs does not say whether the peer reads COLUMNAR's series.
    assertThat(CodecCapabilities.negotiate(auto, EnumSet.allOf(Codec.class)))
        .isEqualTo(auto.withColumnarSeries(false));
    assertThat(
            CodecCapabilities.negotiate(auto, EnumSet.of(Codec.NONE, Codec.COLUMNAR, Codec.ZSTD)))
        .isEqualTo(auto.withContextTakeover(false).withColumnarSeries(false));
    assertThat(
            CodecCapabilities.negotiate(
                    auto, EnumSet.of(Codec.NONE, Codec.TEMPLATE_STREAM, Codec.ZSTD_STREAM))
                .effectiveColumnarMinRecords())
        .isEqualTo(Integer.MAX_VALUE);
    assertThat(
            CodecCapabilities.negotiate(auto, EnumSet.of(Codec.NONE, Codec.ZSTD_STREAM)).choice())
        .isEqualTo(CodecSettings.Choice.ZSTD);
    assertThat(CodecCapabilities.negotiate(auto, EnumSet.of(Codec.NONE)).choice())
        .isEqualTo(CodecSettings.Choice.NONE);
    assertThat(
            CodecCapabilities.negotiate(
                    CodecSettings.parse("lzma"), EnumSet.of(Codec.NONE, Codec.GZIP))
                .choice())
        .isEqualTo(CodecSettings.Choice.NONE);
  }

  @Test
  void negotiate_seriesOnlyWhenConfiguredAllowedAndTheCloudEchoedIt() {
    List<String> old = everything();
    List<String> echoed = new ArrayList<>(old);
    echoed.add(CodecCapabilities.COLUMNAR_SERIES);
    CodecSettings auto = CodecSettings.auto();
    assertThat(CodecCapabilities.negotiate(auto, echoed).columnarSeries()).isTrue();
    assertThat(CodecCapabilities.negotiate(auto, old).columnarSeries()).isFalse();
    assertThat(CodecCapabilities.negotiate(auto.withColumnarSeries(false), echoed).columnarSeries())
        .isFalse();
    // Echoed but COLUMNAR itself refused: nothing to use it for.
    assertThat(
            CodecCapabilities.negotiate(
                    auto, List.of("codec:zstd_stream", "codec:template_stream", "columnar:series"))
                .columnarSeries())
        .isFalse();
    // An agent configured without series does not offer it.
    assertThat(CodecCapabilities.offer(auto.withColumnarSeries(false)))
        .doesNotContain(CodecCapabilities.COLUMNAR_SERIES);
  }
}
