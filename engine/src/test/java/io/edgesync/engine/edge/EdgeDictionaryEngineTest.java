package io.edgesync.engine.edge;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.edgesync.engine.cloud.IncomingBatches;
import io.edgesync.engine.link.BandwidthPolicy;
import io.edgesync.engine.testing.InMemoryOutbox;
import io.edgesync.engine.testing.RecordingEdgeIo;
import io.edgesync.protocol.Frames;
import io.edgesync.protocol.ProtocolLimits;
import io.edgesync.protocol.codec.CodecSettings;
import io.edgesync.protocol.codec.Dictionary;
import io.edgesync.protocol.wire.Codec;
import io.edgesync.protocol.wire.ErrorCode;
import io.edgesync.protocol.wire.Frame;
import io.edgesync.protocol.wire.RecordBatch;
import io.edgesync.protocol.wire.StreamCheckpoint;
import io.edgesync.protocol.wire.StreamDictionary;
import io.edgesync.protocol.wire.Welcome;
import io.edgesync.testing.FakeClock;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The edge engine with trained dictionaries: it keeps what the cloud ships (in Welcome or as a
 * frame), lists it in Hello, names it in small ZSTD batches only when the cloud confirmed it for
 * the session, and refuses a bad dictionary frame with PROTOCOL_VIOLATION, keeping nothing of it.
 */
public class EdgeDictionaryEngineTest {
  private static final long T0 = 1_700_000_000_000L;
  private static final String STREAM = "sensor_data";
  private static final Dictionary DICT_7 = Dictionary.train(7, json(3000, 10_000), 4096);
  private static final Dictionary DICT_8 = Dictionary.train(8, json(3000, 20_000), 4096);

  private final FakeClock clock = new FakeClock(T0);
  private final InMemoryOutbox outbox = new InMemoryOutbox(clock);
  private final SyncPolicy.Builder policy = TestPolicy.builder();
  private final RecordingEdgeIo edgeIo = new RecordingEdgeIo();
  private final List<Frame> sent = edgeIo.frames();
  private final List<String> disconnects = edgeIo.disconnects();
  private final Map<Integer, Dictionary> cloudDictionaries = new HashMap<>();
  private final List<IncomingBatches> decoders = new ArrayList<>();
  private EdgeSyncEngine engine;

  @AfterEach
  void close() {
    decoders.forEach(IncomingBatches::close);
    if (engine != null) {
      engine.stop();
    }
  }

  /** Sample sensor records; public for {@code cloud.CloudSessionDictionaryTest}. */
  public static List<byte[]> json(int n, int from) {
    List<byte[]> out = new ArrayList<>();
    for (int i = from; i < from + n; i++) {
      out.add(
          String.format(
                  Locale.ROOT,
                  "{\"device_id\":\"gw-1\",\"sensor_type\":\"bme280\",\"ts\":%d,"
                      + "\"temperature_c\":%.2f,\"humidity_pct\":%.1f,\"status\":\"%s\"}",
                  T0 + i * 1000L,
                  21 + (i % 17) / 10.0,
                  40 + (i % 23) / 3.0,
                  i % 50 == 0 ? "warn" : "ok")
              .getBytes(StandardCharsets.UTF_8));
    }
    return out;
  }

  private static final List<String> STATELESS_ZSTD = List.of("codec:zstd", "batch:compact");

  private EdgeSyncEngine engine(String codec, boolean contextTakeover) {
    policy.maxBatchRecords(1000);
    CodecSettings c = CodecSettings.parse(codec).withContextTakeover(contextTakeover);
    engine =
        TestPolicy.engine(policy, BandwidthPolicy.defaults().withCompression(c), outbox, edgeIo);
    return engine;
  }

  private void connect(Welcome.Builder extra, List<String> caps) {
    if (engine.state() == EdgeSyncEngine.State.DISCONNECTED) {
      engine.start(clock.nowMs());
    }
    engine.onConnected(clock.nowMs());
    Welcome.Builder w =
        TestCloud.defaults(extra)
            .addAllCapabilities(caps)
            .addCheckpoints(
                StreamCheckpoint.newBuilder().setStream(STREAM).setSequence(outbox.acked(STREAM)));
    engine.onFrame(clock.nowMs(), TestCloud.frame(w));
  }

  private IncomingBatches cloud(List<String> caps) {
    IncomingBatches d = TestCloud.decoder(caps, cloudDictionaries::get);
    decoders.add(d);
    return d;
  }

  private static StreamDictionary wire(String stream, Dictionary d) {
    return wire(stream, d.id(), d.bytes());
  }

  private static StreamDictionary wire(String stream, int id, byte[] bytes) {
    return StreamDictionary.newBuilder()
        .setStream(stream)
        .setId(id)
        .setData(ByteString.copyFrom(bytes))
        .build();
  }

  private List<RecordBatch> batches() {
    return edgeIo.takeBatches();
  }

  /** Appends one record, syncs, and returns its batch (acked). */
  private RecordBatch sendOne(int i) {
    long seq = outbox.appendPayloads(STREAM, json(1, i));
    engine.requestSync(clock.nowMs());
    List<RecordBatch> b = batches();
    assertThat(b).hasSize(1);
    engine.onFrame(clock.nowMs(), Frames.ack(STREAM, seq));
    return b.get(0);
  }

  @Test
  void dictionaryInWelcome_isSaved_andSmallZstdBatchesNameIt_andDecodeToTheSameRecords()
      throws Exception {
    cloudDictionaries.put(7, DICT_7);
    engine("zstd", false);
    connect(Welcome.newBuilder().addDictionaries(wire(STREAM, DICT_7)), STATELESS_ZSTD);
    IncomingBatches cloud = cloud(STATELESS_ZSTD);

    assertThat(outbox.dictionaries().get(STREAM).id()).isEqualTo(7);
    assertThat(engine.dictionaries()).containsEntry(STREAM, 7);
    long withDict = 0;
    for (int i = 0; i < 20; i++) {
      RecordBatch b = sendOne(i);
      IncomingBatches.Decoded d = cloud.decode(b);
      assertThat(cloud.lastDictionaryId()).isEqualTo(7);
      assertThat(d.records().get(0)).isEqualTo(outbox.original(STREAM, d.firstSequence()));
      withDict += b.getPayload().size();
    }
    // Without: a fresh engine and session, the same records.
    long without = 0;
    try (BatchSizes plain = new BatchSizes()) {
      without = plain.statelessBytes(json(20, 0));
    }
    assertThat(withDict * 2).isLessThan(without);
  }

  /** What stateless zstd without a dictionary makes of single records. */
  private static final class BatchSizes implements AutoCloseable {
    final io.edgesync.protocol.codec.BatchEncoder enc =
        new io.edgesync.protocol.codec.BatchEncoder(
            CodecSettings.parse("zstd").withContextTakeover(false));

    long statelessBytes(List<byte[]> payloads) {
      long total = 0;
      long seq = 1;
      for (byte[] p : payloads) {
        total +=
            enc.encode(List.of(new io.edgesync.protocol.Record(seq++, T0, p))).payload().length;
      }
      return total;
    }

    @Override
    public void close() {
      enc.close();
    }
  }

  @Test
  void heldDictionary_isListedInHello_andNamedOnlyWhenTheCloudConfirmsItForTheSession()
      throws Exception {
    outbox.saveDictionary(STREAM, 7, DICT_7.bytes());
    engine("zstd", false);
    connect(Welcome.newBuilder(), STATELESS_ZSTD); // the cloud does not list 7
    assertThat(sent.get(0).getHello().getDictionaryIdsList()).containsExactly(7);
    sent.removeIf(f -> !f.hasBatch());
    IncomingBatches cloud = cloud(STATELESS_ZSTD);
    cloud.decode(sendOne(0));
    assertThat(cloud.lastDictionaryId()).isZero();

    engine.onDisconnected(clock.nowMs(), "test");
    clock.advance(60_000);
    engine.onTimer(clock.nowMs());
    cloudDictionaries.put(7, DICT_7);
    connect(Welcome.newBuilder().addDictionaryIds(7), STATELESS_ZSTD);
    sent.removeIf(f -> !f.hasBatch());
    IncomingBatches cloud2 = cloud(STATELESS_ZSTD);
    cloud2.decode(sendOne(1));
    assertThat(cloud2.lastDictionaryId()).isEqualTo(7);
  }

  @Test
  void newerDictionaryFrame_supersedesTheOld_fromTheNextBatch() throws Exception {
    cloudDictionaries.put(7, DICT_7);
    cloudDictionaries.put(8, DICT_8);
    engine("zstd", false);
    connect(Welcome.newBuilder().addDictionaries(wire(STREAM, DICT_7)), STATELESS_ZSTD);
    IncomingBatches cloud = cloud(STATELESS_ZSTD);
    cloud.decode(sendOne(0));
    assertThat(cloud.lastDictionaryId()).isEqualTo(7);

    engine.onFrame(clock.nowMs(), Frame.newBuilder().setDictionary(wire(STREAM, DICT_8)).build());
    cloud.decode(sendOne(1));
    assertThat(cloud.lastDictionaryId()).isEqualTo(8);
    assertThat(outbox.dictionaries().get(STREAM).id()).isEqualTo(8);
    // An older version arriving later does not replace the newer one.
    engine.onFrame(clock.nowMs(), Frame.newBuilder().setDictionary(wire(STREAM, DICT_7)).build());
    cloud.decode(sendOne(2));
    assertThat(cloud.lastDictionaryId()).isEqualTo(8);
    assertThat(disconnects).isEmpty();
  }

  @Test
  void largeBatches_goWithoutTheDictionary() throws Exception {
    cloudDictionaries.put(7, DICT_7);
    engine("zstd", false);
    outbox.appendPayloads(
        STREAM, json(BandwidthPolicy.DEFAULT_DICTIONARY_MAX_BATCH_RECORDS + 1, 0));
    connect(Welcome.newBuilder().addDictionaries(wire(STREAM, DICT_7)), STATELESS_ZSTD);
    IncomingBatches cloud = cloud(STATELESS_ZSTD);
    List<RecordBatch> b = batches();
    assertThat(b).hasSize(1);
    cloud.decode(b.get(0));
    assertThat(cloud.lastDictionaryId()).isZero();
  }

  @Test
  void zstdStream_startsTheSessionStreamWithTheDictionary_whenItsFirstBatchIsSmall()
      throws Exception {
    cloudDictionaries.put(7, DICT_7);
    List<String> caps = List.of("codec:zstd_stream", "codec:zstd", "batch:compact");
    engine("zstd", true);
    connect(Welcome.newBuilder().addDictionaries(wire(STREAM, DICT_7)), caps);
    IncomingBatches cloud = cloud(caps);
    for (int i = 0; i < 5; i++) {
      RecordBatch b = sendOne(i);
      assertThat(b.getCodec()).isEqualTo(Codec.CODEC_ZSTD_STREAM);
      IncomingBatches.Decoded d = cloud.decode(b);
      assertThat(cloud.lastDictionaryId()).isEqualTo(7);
      assertThat(d.records().get(0)).isEqualTo(outbox.original(STREAM, d.firstSequence()));
    }
  }

  private void assertRefused(StreamDictionary bad, String message) {
    cloudDictionaries.put(7, DICT_7);
    engine("zstd", false);
    connect(Welcome.newBuilder().addDictionaries(wire(STREAM, DICT_7)), STATELESS_ZSTD);
    sent.clear();
    engine.onFrame(clock.nowMs(), Frame.newBuilder().setDictionary(bad).build());

    assertThat(sent).hasSize(1);
    assertThat(sent.get(0).getError().getCode()).isEqualTo(ErrorCode.PROTOCOL_VIOLATION);
    assertThat(sent.get(0).getError().getMessage()).contains("invalid StreamDictionary", message);
    assertThat(disconnects).hasSize(1);
    // Nothing of it kept: the stream's dictionary is still 7, in memory and in the outbox.
    assertThat(outbox.dictionaries()).hasSize(1);
    assertThat(outbox.dictionaries().get(STREAM).id()).isEqualTo(7);
    assertThat(engine.dictionaries()).containsExactlyEntriesOf(Map.of(STREAM, 7));
  }

  @Test
  void dictionaryFrame_withABadStreamName_isRefused() {
    assertRefused(wire("no spaces", DICT_8), "invalid stream name 'no spaces'");
  }

  @Test
  void dictionaryFrame_withIdZero_isRefused() {
    assertRefused(wire(STREAM, 0, DICT_8.bytes()), "dictionary id must be positive, was 0");
  }

  @Test
  void dictionaryFrame_overOneMebibyte_isRefused() {
    assertRefused(
        wire(STREAM, 9, new byte[Dictionary.MAX_DICTIONARY_BYTES + 1]),
        "dictionary 9 has 1048577 bytes; allowed 1..1048576");
  }

  @Test
  void dictionaryFrame_empty_isRefused() {
    assertRefused(wire(STREAM, 9, new byte[0]), "dictionary 9 has 0 bytes");
  }

  @Test
  void dictionaryFrame_whoseZstdHeaderNamesAnotherId_isRefused() {
    assertRefused(wire(STREAM, 9, DICT_8.bytes()), "carries the zstd header of dictionary 8");
  }

  @Test
  void dictionaryFrame_withACorruptZstdBody_isRefused() {
    byte[] bad = DICT_8.bytes();
    for (int i = 8; i < 200; i++) {
      bad[i] = (byte) 0xff;
    }
    assertRefused(wire(STREAM, 8, bad), "cannot be loaded by zstd");
  }

  @Test
  void welcomeWithABadDictionary_isRefused_andNothingIsKept() {
    engine("zstd", false);
    engine.start(clock.nowMs());
    engine.onConnected(clock.nowMs());
    sent.clear();
    engine.onFrame(
        clock.nowMs(),
        Frame.newBuilder()
            .setWelcome(
                Welcome.newBuilder()
                    .setProtocolVersion(ProtocolLimits.PROTOCOL_VERSION)
                    .addAllCapabilities(STATELESS_ZSTD)
                    .addDictionaries(wire(STREAM, DICT_7))
                    .addDictionaries(wire(STREAM, 0, DICT_8.bytes())))
            .build());

    assertThat(sent.get(0).getError().getMessage())
        .isEqualTo("invalid dictionary in Welcome: dictionary id must be positive, was 0");
    assertThat(engine.state()).isNotEqualTo(EdgeSyncEngine.State.ACTIVE);
    assertThat(outbox.dictionaries()).isEmpty();
  }
}
