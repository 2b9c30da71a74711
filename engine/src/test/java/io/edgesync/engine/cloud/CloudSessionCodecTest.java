package io.edgesync.engine.cloud;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.edgesync.engine.testing.InMemoryCloudStore;
import io.edgesync.engine.testing.RecordingCloudIo;
import io.edgesync.protocol.FrameCodec;
import io.edgesync.protocol.Record;
import io.edgesync.protocol.RecordLayout;
import io.edgesync.protocol.codec.BatchEncoder;
import io.edgesync.protocol.codec.Codec;
import io.edgesync.protocol.codec.CodecCapabilities;
import io.edgesync.protocol.codec.CodecSettings;
import io.edgesync.protocol.codec.EncodedBatch;
import io.edgesync.protocol.wire.ErrorCode;
import io.edgesync.protocol.wire.Frame;
import io.edgesync.protocol.wire.Gap;
import io.edgesync.protocol.wire.GapReason;
import io.edgesync.protocol.wire.Hello;
import io.edgesync.protocol.wire.RecordBatch;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The cloud session with batch codecs: what it accepts in the handshake, decoding per session, the
 * compact envelope, wire accounting, and every refusal (INVALID_BATCH naming the problem, nothing
 * stored, session closed).
 */
class CloudSessionCodecTest {
  private static final long T0 = 1_700_000_000_000L;
  private static final String DEVICE = "dev-1";

  private final InMemoryCloudStore store = new InMemoryCloudStore();
  private final RecordingCloudIo io = new RecordingCloudIo();
  private final List<Frame> out = io.frames();
  private final List<String> closes = io.closes();
  private final BatchEncoder encoder = new BatchEncoder(CodecSettings.auto());
  private ServerPolicy policy = ServerPolicy.defaults();
  private final LazySession session = new LazySession(() -> new CloudSession(policy, store, io));

  @AfterEach
  void close() {
    encoder.close();
    session.closeIfOpen(T0);
  }

  private void receive(Frame frame) {
    session.receive(T0, frame);
  }

  private List<String> hello(String... capabilities) {
    receive(
        Frame.newBuilder()
            .setHello(
                Hello.newBuilder()
                    .setProtocolVersion(1)
                    .setDeviceId(DEVICE)
                    .addAllCapabilities(List.of(capabilities)))
            .build());
    return out.get(0).getWelcome().getCapabilitiesList();
  }

  private static String[] everything() {
    List<String> caps = new ArrayList<>(CodecCapabilities.all());
    caps.add(CodecCapabilities.COMPACT_BATCH);
    return caps.toArray(new String[0]);
  }

  private static List<Record> json(long first, int n) {
    List<Record> r = new ArrayList<>();
    for (long s = first; s < first + n; s++) {
      r.add(
          new Record(
              s,
              T0 + s * 1000,
              String.format(Locale.ROOT, "{\"ts\":%d,\"t\":%.1f}", T0 + s * 1000, 20 + s % 7 / 10.0)
                  .getBytes(StandardCharsets.UTF_8)));
    }
    return r;
  }

  private Frame batch(String stream, List<Record> records, Codec codec) {
    EncodedBatch e = encoder.encode(records, codec);
    return Frame.newBuilder()
        .setBatch(
            RecordBatch.newBuilder()
                .setStream(stream)
                .setFirstSequence(records.get(0).sequence())
                .setCount(records.size())
                .setCodec(CodecCapabilities.toWire(e.codec()))
                .setPayload(ByteString.copyFrom(e.payload()))
                .setRawBytes(e.rawBytes()))
        .build();
  }

  private void assertRefused(String message) {
    Frame last = out.get(out.size() - 1);
    assertThat(last.getError().getCode()).isEqualTo(ErrorCode.INVALID_BATCH);
    assertThat(last.getError().getMessage()).isEqualTo(message);
    assertThat(last.getError().getFatal()).isTrue();
    assertThat(closes).containsExactly("INVALID_BATCH: " + message);
    assertThat(session.get().state()).isEqualTo(CloudSession.State.CLOSED);
  }

  private long ackOf(int index) {
    return out.get(index).getAck().getSequence();
  }

  // ---------------------------------------------------------------- negotiation

  @Test
  void welcome_acceptsWhatTheDeviceOffersAndTheServerTakes_ignoringUnknownEntries() {
    assertThat(hello(everything())).containsExactly(everything());
  }

  @Test
  void welcome_listsOnlyTheIntersection() {
    policy = policy.withCodecs(EnumSet.of(Codec.GZIP, Codec.COLUMNAR), false);

    List<String> accepted = hello("codec:gzip", "codec:zstd", "codec:brotli", "batch:compact");

    assertThat(accepted).containsExactly("codec:gzip");
    assertThat(session.get().acceptedCapabilities()).containsExactly("codec:gzip");
  }

  @Test
  void aDeviceOfferingNothing_getsAnEmptyList_andItsCodecNoneBatchesStillWork() {
    assertThat(hello()).isEmpty();
    receive(Frame.newBuilder().setBatch(FrameCodec.batch("a", json(1, 3))).build());
    assertThat(ackOf(1)).isEqualTo(3);
    assertThat(store.read(DEVICE, "a", 0, 10)).isEqualTo(json(1, 3));
  }

  // ---------------------------------------------------------------- decoding

  @Test
  void sessionCodecBatches_decodeInOrder_toTheSameRecords_andAreAccountedOnTheWire() {
    hello(everything());
    Frame b1 = batch("a", json(1, 5), Codec.TEMPLATE_STREAM);
    Frame b2 = batch("a", json(6, 5), Codec.TEMPLATE_STREAM);
    Frame b3 = batch("a", json(11, 400), Codec.COLUMNAR);

    receive(b1);
    receive(b2);
    receive(b3);

    assertThat(store.read(DEVICE, "a", 0, 1_000)).isEqualTo(json(1, 410));
    assertThat(ackOf(3)).isEqualTo(410);
    List<CloudStore.WireBytes> wire = store.wireBytes("a");
    assertThat(wire).hasSize(3);
    assertThat(wire.get(0))
        .isEqualTo(
            new CloudStore.WireBytes(
                RecordLayout.encodedSize(json(1, 5)),
                b1.getBatch().getPayload().size(),
                b1.getSerializedSize() + FrameCodec.TRAILER_BYTES));
    assertThat(wire.get(2).payloadBytes()).isLessThan(wire.get(2).rawBytes() / 4);
    assertThat(session.get().wireRawBytes())
        .isEqualTo(wire.stream().mapToLong(w -> w.rawBytes()).sum());
  }

  @Test
  void codecNotNegotiated_isInvalidBatchNamingIt_andNothingIsStored() {
    policy = policy.withCodecs(EnumSet.of(Codec.GZIP), true);
    hello(everything());
    String before = store.snapshot();

    receive(batch("a", json(1, 400), Codec.COLUMNAR));

    assertRefused("codec COLUMNAR (5) was not negotiated in this session; accepted: [NONE, GZIP]");
    assertThat(store.snapshot()).isEqualTo(before);
  }

  @Test
  void unknownCodecNumber_isInvalidBatch() {
    hello(everything());
    Frame f = batch("a", json(1, 2), Codec.NONE);

    receive(f.toBuilder().setBatch(f.getBatch().toBuilder().setCodecValue(42)).build());

    assertRefused("unknown codec 42");
  }

  @Test
  void payloadThatDoesNotDecode_isInvalidBatchNamingTheCodec_andNothingIsStored() {
    hello(everything());
    receive(batch("a", json(1, 5), Codec.TEMPLATE_STREAM));
    String before = store.snapshot();
    Frame good = batch("a", json(6, 5), Codec.TEMPLATE_STREAM);
    byte[] payload = good.getBatch().getPayload().toByteArray();
    payload[payload.length - 1] ^= 0x55; // the checksum

    receive(
        good.toBuilder()
            .setBatch(good.getBatch().toBuilder().setPayload(ByteString.copyFrom(payload)))
            .build());

    assertRefused("invalid TEMPLATE_STREAM payload: checksum does not match the decoded records");
    assertThat(store.snapshot()).isEqualTo(before);
  }

  @Test
  void rawBytesThatDoNotMatchTheRecords_isInvalidBatch() {
    hello(everything());
    Frame f = batch("a", json(1, 3), Codec.GZIP);
    int raw = f.getBatch().getRawBytes();

    receive(f.toBuilder().setBatch(f.getBatch().toBuilder().setRawBytes(raw + 1)).build());

    assertRefused(
        "raw_bytes "
            + (raw + 1)
            + " does not match the "
            + raw
            + " bytes of the decoded records in the record layout");
    assertThat(store.read(DEVICE, "a", 0, 10)).isEmpty();
  }

  @Test
  void decodedBatchAboveTheFrameLimit_isInvalidBatch() {
    policy = new ServerPolicy("s", true, ServerPolicy.MIN_FRAME_BYTES, 8192, 15_000);
    hello(everything());
    List<Record> big = new ArrayList<>();
    byte[] filler = new byte[64 * 1024]; // zeros: compresses to almost nothing
    for (long s = 1; s <= 40; s++) {
      big.add(new Record(s, T0, filler));
    }
    Frame f = batch("a", big, Codec.ZSTD);
    assertThat(f.getSerializedSize()).isLessThan(ServerPolicy.MIN_FRAME_BYTES);

    receive(f);

    Frame last = out.get(out.size() - 1);
    assertThat(last.getError().getCode()).isEqualTo(ErrorCode.INVALID_BATCH);
    assertThat(last.getError().getMessage()).startsWith("invalid ZSTD payload: ");
    assertThat(store.read(DEVICE, "a", 0, 10)).isEmpty();
  }

  // ---------------------------------------------------------------- compact envelope

  private Frame compact(Frame f, String stream, int ref, long first) {
    return f.toBuilder()
        .setBatch(
            f.getBatch().toBuilder()
                .setStream(stream)
                .setStreamRef(ref)
                .setFirstSequence(first)
                .setRawBytes(0))
        .build();
  }

  @Test
  void compactBatches_resolveTheStreamAndContinueAfterTheLastBatchOrGap() {
    hello(everything());
    receive(compact(batch("a", json(1, 3), Codec.TEMPLATE_STREAM), "a", 1, 1));
    receive(compact(batch("a", json(4, 3), Codec.TEMPLATE_STREAM), "", 1, 0));
    receive(
        Frame.newBuilder()
            .setGap(
                Gap.newBuilder()
                    .setStream("a")
                    .setFirstSequence(7)
                    .setLastSequence(9)
                    .setReason(GapReason.GAP_REASON_QUEUE_FULL))
            .build());
    receive(compact(batch("a", json(10, 2), Codec.TEMPLATE_STREAM), "", 1, 0));

    assertThat(out).extracting(f -> f.getAck().getSequence()).containsExactly(0L, 3L, 6L, 9L, 11L);
    List<Record> expected = new ArrayList<>(json(1, 6));
    expected.addAll(json(10, 2));
    assertThat(store.read(DEVICE, "a", 0, 100)).isEqualTo(expected);
    // raw_bytes 0: the cloud computes the accounting itself
    assertThat(store.wireBytes("a").get(0).rawBytes())
        .isEqualTo(RecordLayout.encodedSize(json(1, 3)));
  }

  @Test
  void streamRefWithoutCompact_isInvalidBatch() {
    hello(CodecCapabilities.all().toArray(new String[0]));
    receive(compact(batch("a", json(1, 1), Codec.NONE), "a", 1, 1));
    assertRefused("stream_ref is only allowed in a session that negotiated batch:compact");
  }

  @Test
  void unboundStreamRef_isInvalidBatch() {
    hello(everything());
    receive(compact(batch("a", json(1, 1), Codec.NONE), "", 7, 1));
    assertRefused("stream_ref 7 was never bound to a stream name in this session");
  }

  @Test
  void reboundStreamRef_isInvalidBatch() {
    hello(everything());
    receive(compact(batch("a", json(1, 1), Codec.NONE), "a", 1, 1));
    receive(compact(batch("b", json(1, 1), Codec.NONE), "b", 1, 1));
    assertRefused("stream_ref 1 is bound to 'a' in this session and cannot name 'b'");
  }

  @Test
  void implicitFirstSequence_withNothingBefore_isInvalidBatch() {
    hello(everything());
    receive(compact(batch("a", json(1, 1), Codec.NONE), "a", 1, 0));
    assertRefused(
        "first_sequence must be within 1..9223372036854775807, was 0 (0 continues a stream only"
            + " after an earlier batch or gap of it in this session)");
  }
}
