package io.edgesync.engine.cloud;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.edgesync.engine.dict.DictionaryCatalog;
import io.edgesync.engine.edge.EdgeDictionaryEngineTest;
import io.edgesync.engine.testing.InMemoryCloudStore;
import io.edgesync.engine.testing.RecordingCloudIo;
import io.edgesync.protocol.Record;
import io.edgesync.protocol.codec.BatchEncoder;
import io.edgesync.protocol.codec.Codec;
import io.edgesync.protocol.codec.CodecCapabilities;
import io.edgesync.protocol.codec.CodecSettings;
import io.edgesync.protocol.codec.Dictionary;
import io.edgesync.protocol.codec.EncodedBatch;
import io.edgesync.protocol.wire.ErrorCode;
import io.edgesync.protocol.wire.Frame;
import io.edgesync.protocol.wire.Hello;
import io.edgesync.protocol.wire.RecordBatch;
import io.edgesync.protocol.wire.StreamCheckpoint;
import io.edgesync.protocol.wire.StreamDictionary;
import io.edgesync.protocol.wire.Welcome;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The cloud session with trained dictionaries: what Welcome ships and confirms, pushes of new ones,
 * decoding batches that name them (also an older, still kept version), and refusals: a batch naming
 * a dictionary the cloud does not keep (INVALID_BATCH, nothing stored), a device sending a
 * dictionary, a Hello listing too many.
 */
class CloudSessionDictionaryTest {
  private static final long T0 = 1_700_000_000_000L;
  private static final String DEVICE = "dev-1";
  private static final String STREAM = "sensor_data";
  private static final Dictionary DICT_7 =
      Dictionary.train(7, EdgeDictionaryEngineTest.json(3000, 10_000), 4096);
  private static final Dictionary DICT_8 =
      Dictionary.train(8, EdgeDictionaryEngineTest.json(3000, 20_000), 4096);

  /** An in-memory catalog: what the server's CloudDictionaries is to a session. */
  private static final class FakeCatalog implements DictionaryCatalog {
    final Map<Integer, StreamDictionary> byId = new LinkedHashMap<>();
    final Map<String, Long> committed = new LinkedHashMap<>();
    final List<Integer> used = new ArrayList<>();

    void add(String stream, Dictionary d) {
      byId.put(d.id(), new StreamDictionary(stream, d, T0));
    }

    @Override
    public List<StreamDictionary> newest(Collection<String> streams) {
      List<StreamDictionary> out = new ArrayList<>();
      for (String s : streams) {
        byId.values().stream()
            .filter(d -> d.stream().equals(s))
            .reduce((a, b) -> b)
            .ifPresent(out::add);
      }
      return out;
    }

    @Override
    public Dictionary byId(int id) {
      StreamDictionary d = byId.get(id);
      return d == null ? null : d.dictionary();
    }

    @Override
    public void onCommitted(String stream, long recordBytes, long nowMs) {
      committed.merge(stream, recordBytes, Long::sum);
    }

    @Override
    public void onUsed(int id) {
      used.add(id);
    }
  }

  private final InMemoryCloudStore store = new InMemoryCloudStore();
  private final FakeCatalog catalog = new FakeCatalog();
  private final RecordingCloudIo io = new RecordingCloudIo();
  private final List<Frame> out = io.frames();
  private final List<String> closes = io.closes();
  private final BatchEncoder encoder =
      new BatchEncoder(CodecSettings.parse("zstd").withContextTakeover(false));
  private final LazySession session =
      new LazySession(
          () -> new CloudSession(ServerPolicy.defaults(), store, io).withDictionaries(catalog));

  @AfterEach
  void close() {
    encoder.close();
    session.closeIfOpen(T0);
  }

  private void receive(Frame frame) {
    session.receive(T0, frame);
  }

  private Welcome hello(List<Integer> held, String... streams) {
    Hello.Builder h =
        Hello.newBuilder()
            .setProtocolVersion(1)
            .setDeviceId(DEVICE)
            .addAllCapabilities(List.of("codec:zstd", "codec:zstd_stream", "codec:gzip"))
            .addAllDictionaryIds(held);
    for (String s : streams) {
      h.addCheckpoints(StreamCheckpoint.newBuilder().setStream(s));
    }
    receive(Frame.newBuilder().setHello(h).build());
    return out.get(0).getWelcome();
  }

  private Frame batch(long first, int n, Dictionary d) {
    List<Record> records = new ArrayList<>();
    List<byte[]> payloads = EdgeDictionaryEngineTest.json(n, (int) first);
    for (int i = 0; i < n; i++) {
      records.add(new Record(first + i, T0 + i, payloads.get(i)));
    }
    EncodedBatch e = encoder.encode(records, d);
    assertThat(e.codec()).isEqualTo(Codec.ZSTD);
    return Frame.newBuilder()
        .setBatch(
            RecordBatch.newBuilder()
                .setStream(STREAM)
                .setFirstSequence(first)
                .setCount(n)
                .setCodec(CodecCapabilities.toWire(e.codec()))
                .setPayload(ByteString.copyFrom(e.payload())))
        .build();
  }

  @Test
  void welcome_shipsTheNewestDictionaryOfTheDevicesStreams_andConfirmsHeldOnesTheCloudKeeps() {
    catalog.add(STREAM, DICT_7);
    catalog.add(STREAM, DICT_8);
    catalog.add("other", Dictionary.of(9, DICT_8.bytes()));
    Welcome w = hello(List.of(7, 42), STREAM);

    assertThat(w.getDictionariesList()).hasSize(1);
    StreamDictionary shipped = w.getDictionaries(0);
    assertThat(shipped.getStream()).isEqualTo(STREAM);
    assertThat(shipped.getId()).isEqualTo(8);
    assertThat(shipped.getData().toByteArray()).isEqualTo(DICT_8.bytes());
    // 7 is kept and held: confirmed; 42 is unknown to the cloud: not confirmed.
    assertThat(w.getDictionaryIdsList()).containsExactly(7);
    assertThat(session.get().dictionariesSent()).isEqualTo(1);
  }

  @Test
  void welcome_doesNotResendWhatTheDeviceHolds() {
    catalog.add(STREAM, DICT_8);
    Welcome w = hello(List.of(8), STREAM);
    assertThat(w.getDictionariesList()).isEmpty();
    assertThat(w.getDictionaryIdsList()).containsExactly(8);
    assertThat(session.get().dictionariesSent()).isZero();
  }

  @Test
  void aNewDictionary_isPushedOnce_toSessionsOfDevicesWithThatStream() {
    hello(List.of(), STREAM);
    out.clear();
    catalog.add(STREAM, DICT_7);
    DictionaryCatalog.StreamDictionary d = catalog.byId.get(7);
    session.get().onDictionary(d);
    session.get().onDictionary(d);
    session.get().onDictionary(new DictionaryCatalog.StreamDictionary("logs", DICT_8, T0));

    assertThat(out).hasSize(1);
    assertThat(out.get(0).getDictionary().getId()).isEqualTo(7);
    assertThat(out.get(0).getDictionary().getStream()).isEqualTo(STREAM);
  }

  @Test
  void batchesNamingAKeptDictionary_decode_alsoTheOlderVersionWhileItIsKept() {
    catalog.add(STREAM, DICT_7);
    catalog.add(STREAM, DICT_8);
    hello(List.of(), STREAM);
    receive(batch(1, 3, DICT_8));
    receive(batch(4, 2, DICT_7)); // in flight before the device switched to 8

    assertThat(out.get(out.size() - 1).getAck().getSequence()).isEqualTo(5);
    assertThat(catalog.used).containsExactly(8, 7);
    List<byte[]> sent = EdgeDictionaryEngineTest.json(5, 1);
    List<Record> stored = store.read(DEVICE, STREAM, 0, 100);
    assertThat(stored).hasSize(5);
    for (int i = 0; i < 5; i++) {
      assertThat(stored.get(i).payload()).isEqualTo(sent.get(i));
    }
    long bytes = sent.stream().mapToLong(p -> p.length).sum();
    assertThat(catalog.committed).containsEntry(STREAM, bytes);
  }

  @Test
  void batchesInCodecsThatCannotUseADictionary_doNotCountTowardsATraining() {
    hello(List.of(), STREAM);
    List<Record> records = new ArrayList<>();
    List<byte[]> payloads = EdgeDictionaryEngineTest.json(3, 1);
    for (int i = 0; i < 3; i++) {
      records.add(new Record(1 + i, T0 + i, payloads.get(i)));
    }
    try (BatchEncoder gzip = new BatchEncoder(CodecSettings.parse("gzip"))) {
      EncodedBatch e = gzip.encode(records);
      receive(
          Frame.newBuilder()
              .setBatch(
                  RecordBatch.newBuilder()
                      .setStream(STREAM)
                      .setFirstSequence(1)
                      .setCount(3)
                      .setCodec(CodecCapabilities.toWire(e.codec()))
                      .setPayload(ByteString.copyFrom(e.payload())))
              .build());
    }
    assertThat(out.get(out.size() - 1).getAck().getSequence()).isEqualTo(3);
    assertThat(catalog.committed).isEmpty();
  }

  @Test
  void aBatchNamingADictionaryTheCloudDoesNotKeep_isRefused_andNothingIsStored() {
    catalog.add(STREAM, DICT_7);
    hello(List.of(), STREAM);
    receive(batch(1, 2, DICT_8));

    Frame last = out.get(out.size() - 1);
    assertThat(last.getError().getCode()).isEqualTo(ErrorCode.INVALID_BATCH);
    assertThat(last.getError().getMessage())
        .isEqualTo("invalid ZSTD payload: names dictionary 8, which this decoder does not have");
    assertThat(session.get().state()).isEqualTo(CloudSession.State.CLOSED);
    assertThat(store.read(DEVICE, STREAM, 0, 100)).isEmpty();
    assertThat(catalog.committed).isEmpty();
  }

  @Test
  void aDeviceSendingADictionary_isAProtocolViolation() {
    hello(List.of(), STREAM);
    receive(
        Frame.newBuilder()
            .setDictionary(
                StreamDictionary.newBuilder()
                    .setStream(STREAM)
                    .setId(1)
                    .setData(ByteString.copyFrom(DICT_7.bytes())))
            .build());
    Frame last = out.get(out.size() - 1);
    assertThat(last.getError().getCode()).isEqualTo(ErrorCode.PROTOCOL_VIOLATION);
    assertThat(last.getError().getMessage()).isEqualTo("a device may not send DICTIONARY frames");
  }

  @Test
  void aHelloListingTooManyDictionaryIds_isRefused() {
    List<Integer> ids = new ArrayList<>();
    for (int i = 1; i <= CloudSession.MAX_HELLO_DICTIONARY_IDS + 1; i++) {
      ids.add(i);
    }
    hello(ids, STREAM);
    assertThat(out.get(0).getError().getCode()).isEqualTo(ErrorCode.PROTOCOL_VIOLATION);
    assertThat(out.get(0).getError().getMessage())
        .isEqualTo("Hello lists 4097 dictionary ids; the limit is 4096");
    assertThat(store.device(DEVICE)).isEmpty(); // refused before anything is stored
  }
}
