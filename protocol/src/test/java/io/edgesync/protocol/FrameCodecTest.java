package io.edgesync.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.edgesync.protocol.wire.Ack;
import io.edgesync.protocol.wire.ErrorCode;
import io.edgesync.protocol.wire.Frame;
import io.edgesync.protocol.wire.Gap;
import io.edgesync.protocol.wire.GapReason;
import io.edgesync.protocol.wire.Hello;
import io.edgesync.protocol.wire.RecordBatch;
import io.edgesync.protocol.wire.StreamCheckpoint;
import io.edgesync.protocol.wire.Welcome;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.Test;

class FrameCodecTest {
  private static final HexFormat HEX = HexFormat.of();
  private static final int MAX = ProtocolLimits.DEFAULT_MAX_FRAME_BYTES;

  private static byte[] hex(String s) {
    return HEX.parseHex(s.replace(" ", ""));
  }

  /** Hex of a serialized Frame, with its checksum trailer appended. */
  private static byte[] sealed(String s) {
    return FrameCodec.withChecksum(hex(s));
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static AbstractThrowableAssert<?, ?> assertDecodeFails(
      byte[] bytes, int maxFrameBytes, ErrorCode code) {
    return assertThatThrownBy(() -> FrameCodec.decode(bytes, maxFrameBytes))
        .isInstanceOf(ProtocolException.class)
        .satisfies(e -> assertThat(((ProtocolException) e).code()).isEqualTo(code));
  }

  private static AbstractThrowableAssert<?, ?> assertRecordsFail(RecordBatch batch, int max) {
    return assertThatThrownBy(() -> FrameCodec.records(batch, max))
        .isInstanceOf(ProtocolException.class)
        .satisfies(
            e -> assertThat(((ProtocolException) e).code()).isEqualTo(ErrorCode.INVALID_BATCH));
  }

  private static RecordBatch validBatch() {
    return FrameCodec.batch(
        "sensor_data", List.of(new Record(5, 100, utf8("a")), new Record(6, 101, utf8("bc"))));
  }

  // ---------------------------------------------------------------- decode

  @Test
  void decode_heartbeatFromHex() throws Exception {
    // heartbeat {sent_at_ms: 1, reply: true}, then field 15 (crc32c) = CRC-32C of those 6 bytes
    Frame frame = FrameCodec.decode(hex("32 04 0801 1001 7d 50c7b0b7"), MAX);

    assertThat(frame.getBodyCase()).isEqualTo(Frame.BodyCase.HEARTBEAT);
    assertThat(frame.getHeartbeat().getSentAtMs()).isEqualTo(1);
    assertThat(frame.getHeartbeat().getReply()).isTrue();
  }

  @Test
  void encodeThenDecode_roundTripsEveryBody() throws Exception {
    List<Frame> frames =
        List.of(
            Frame.newBuilder()
                .setHello(
                    Hello.newBuilder()
                        .setProtocolVersion(1)
                        .setDeviceId("dev-1")
                        .setAgentVersion("a/1")
                        .addCheckpoints(
                            StreamCheckpoint.newBuilder().setStream("logs").setSequence(9)))
                .build(),
            Frame.newBuilder()
                .setWelcome(Welcome.newBuilder().setProtocolVersion(1).setMaxFrameBytes(4096))
                .build(),
            Frame.newBuilder().setBatch(validBatch()).build(),
            Frames.ack("logs", 12),
            Frame.newBuilder()
                .setGap(
                    Gap.newBuilder()
                        .setStream("logs")
                        .setFirstSequence(3)
                        .setLastSequence(4)
                        .setReason(GapReason.GAP_REASON_EXPIRED))
                .build(),
            Frames.heartbeat(77, false),
            Frames.error(ErrorCode.SERVER_BUSY, "busy", false));

    for (Frame frame : frames) {
      assertThat(FrameCodec.decode(FrameCodec.encode(frame), MAX)).isEqualTo(frame);
    }
  }

  @Test
  void decode_frameAtExactlyTheLimit_isAccepted() throws Exception {
    byte[] bytes = FrameCodec.encode(Frame.newBuilder().setBatch(validBatch()).build());

    assertThat(FrameCodec.decode(bytes, bytes.length).hasBatch()).isTrue();
  }

  @Test
  void decode_oversizedFrame_isFrameTooLarge_withoutParsing() {
    byte[] bytes = new byte[1025]; // not even a valid frame: the size check comes first

    assertDecodeFails(bytes, 1024, ErrorCode.FRAME_TOO_LARGE)
        .hasMessage("frame of 1025 bytes exceeds the maximum of 1024 bytes");
  }

  @Test
  void decode_validFrameOneByteOverTheLimit_isFrameTooLarge() {
    byte[] bytes = FrameCodec.encode(Frame.newBuilder().setBatch(validBatch()).build());

    assertDecodeFails(bytes, bytes.length - 1, ErrorCode.FRAME_TOO_LARGE)
        .hasMessage(
            "frame of "
                + bytes.length
                + " bytes exceeds the maximum of "
                + (bytes.length - 1)
                + " bytes");
  }

  @Test
  void decode_empty_isMalformedEmptyFrame() {
    assertDecodeFails(new byte[0], MAX, ErrorCode.MALFORMED_FRAME).hasMessage("empty frame");
  }

  @Test
  void decode_garbage_isMalformed() {
    assertDecodeFails(sealed("ff ff ff"), MAX, ErrorCode.MALFORMED_FRAME)
        .hasMessageStartingWith("frame is not a valid protobuf Frame: ");
  }

  @Test
  void decode_withoutChecksumTrailer_isMalformed() {
    assertDecodeFails(hex("32 04 0801 1001"), MAX, ErrorCode.MALFORMED_FRAME)
        .hasMessage(
            "frame of 6 bytes does not end with its checksum (field 15 crc32c, tag 0x7D, as the"
                + " last 5 bytes)");
    assertDecodeFails(hex("7d 0000"), MAX, ErrorCode.MALFORMED_FRAME)
        .hasMessageStartingWith("frame of 3 bytes does not end with its checksum");
  }

  @Test
  void decode_everySingleBitFlip_isRefusedAsChecksumMismatchOrMissingTrailer() {
    byte[] good = FrameCodec.encode(Frame.newBuilder().setBatch(validBatch()).build());
    for (int bit = 0; bit < good.length * 8; bit++) {
      byte[] bad = good.clone();
      bad[bit / 8] ^= (byte) (1 << (bit % 8));
      assertDecodeFails(bad, MAX, ErrorCode.MALFORMED_FRAME)
          .as("bit " + bit)
          .hasMessageMatching(
              "frame checksum mismatch: CRC-32C of its \\d+ bytes is [0-9a-f]{8} but the frame"
                  + " says [0-9a-f]{8} \\(corrupted in transit\\?\\)|frame of \\d+ bytes does"
                  + " not end with its checksum.*");
    }
  }

  @Test
  void decode_checksumMismatch_namesBothValues() {
    byte[] bytes = hex("32 04 0801 1001 7d 50c7b0b8");

    assertDecodeFails(bytes, MAX, ErrorCode.MALFORMED_FRAME)
        .hasMessage(
            "frame checksum mismatch: CRC-32C of its 6 bytes is b7b0c750 but the frame says"
                + " b8b0c750 (corrupted in transit?)");
  }

  @Test
  void encode_ignoresAChecksumSetOnTheFrame() throws Exception {
    Frame frame = Frames.ack("a", 1);

    byte[] bytes = FrameCodec.encode(frame.toBuilder().setCrc32C(12345).build());

    assertThat(bytes).isEqualTo(FrameCodec.encode(frame));
    assertThat(FrameCodec.decode(bytes, MAX)).isEqualTo(frame);
  }

  @Test
  void decode_truncatedBody_isMalformed() {
    // heartbeat body claims 4 bytes, 2 follow
    assertDecodeFails(sealed("32 04 0801"), MAX, ErrorCode.MALFORMED_FRAME)
        .hasMessageStartingWith("frame is not a valid protobuf Frame: ");
  }

  @Test
  void decode_truncatedRealFrame_isMalformed() {
    byte[] bytes = FrameCodec.encode(Frame.newBuilder().setBatch(validBatch()).build());

    assertDecodeFails(Arrays.copyOf(bytes, bytes.length - 1), MAX, ErrorCode.MALFORMED_FRAME)
        .hasMessageStartingWith("frame of " + (bytes.length - 1) + " bytes does not end with");
    byte[] bodyCut = Arrays.copyOf(bytes, bytes.length - FrameCodec.TRAILER_BYTES - 1);
    assertDecodeFails(FrameCodec.withChecksum(bodyCut), MAX, ErrorCode.MALFORMED_FRAME)
        .hasMessageStartingWith("frame is not a valid protobuf Frame: ");
  }

  @Test
  void decode_onlyUnknownFields_isMalformedNoKnownBody() {
    // field 15, varint 1: a message type this version does not know
    assertDecodeFails(sealed("78 01"), MAX, ErrorCode.MALFORMED_FRAME)
        .hasMessage("frame has no known body (unknown message type?)");
  }

  // ---------------------------------------------------------------- batch / records

  @Test
  void batch_setsHeaderFromRecords_andRecordsDecodesThem() throws Exception {
    List<Record> records = List.of(new Record(5, 100, utf8("a")), new Record(6, 90, new byte[0]));

    RecordBatch batch = FrameCodec.batch("sensor_data", records);

    assertThat(batch.getStream()).isEqualTo("sensor_data");
    assertThat(batch.getFirstSequence()).isEqualTo(5);
    assertThat(batch.getCount()).isEqualTo(2);
    assertThat(batch.getRawBytes()).isEqualTo(batch.getPayload().size());
    assertThat(FrameCodec.records(batch, 2)).containsExactlyElementsOf(records);
  }

  @Test
  void records_badStreamNames_areInvalidBatch() {
    for (String name : List.of("", "-leading-dash", "has space", "ü", "a".repeat(65), "a/b")) {
      assertRecordsFail(validBatch().toBuilder().setStream(name).build(), 10)
          .hasMessage(
              "invalid stream name '" + name + "': must match [A-Za-z0-9][A-Za-z0-9_.-]{0,63}");
    }
  }

  @Test
  void records_longestAllowedStreamName_isAccepted() throws Exception {
    RecordBatch batch = validBatch().toBuilder().setStream("a" + "_.-9".repeat(15) + "abc").build();

    assertThat(batch.getStream()).hasSize(64);
    assertThat(FrameCodec.records(batch, 10)).hasSize(2);
  }

  @Test
  void records_countZero_isInvalidBatch() {
    assertRecordsFail(validBatch().toBuilder().setCount(0).build(), 10)
        .hasMessage("batch count 0 outside 1..10");
  }

  @Test
  void records_countAboveMax_isInvalidBatch() {
    assertRecordsFail(validBatch().toBuilder().setCount(11).build(), 10)
        .hasMessage("batch count 11 outside 1..10");
  }

  @Test
  void records_countWithHighBitSet_isReportedUnsigned() {
    assertRecordsFail(validBatch().toBuilder().setCount(-1).build(), 10)
        .hasMessage("batch count 4294967295 outside 1..10");
  }

  @Test
  void records_firstSequenceZero_isInvalidBatch() {
    assertRecordsFail(validBatch().toBuilder().setFirstSequence(0).build(), 10)
        .hasMessage("first_sequence must be within 1..9223372036854775807, was 0");
  }

  @Test
  void records_firstSequenceAbove2pow63_isReportedUnsigned() {
    // Regression: the message used to say "was 0" for every out-of-range first_sequence.
    assertRecordsFail(validBatch().toBuilder().setFirstSequence(-1).build(), 10)
        .hasMessage(
            "first_sequence must be within 1..9223372036854775807, was 18446744073709551615");
  }

  @Test
  void records_sequencesRunningPastLongMax_areInvalidBatch() {
    assertRecordsFail(validBatch().toBuilder().setFirstSequence(Long.MAX_VALUE).build(), 10)
        .hasMessage(
            "batch of 2 records from first_sequence 9223372036854775807 runs past the maximum"
                + " sequence 9223372036854775807");
  }

  @Test
  void records_lastSequenceExactlyLongMax_isAccepted() throws Exception {
    RecordBatch batch = validBatch().toBuilder().setFirstSequence(Long.MAX_VALUE - 1).build();

    assertThat(FrameCodec.records(batch, 10))
        .extracting(Record::sequence)
        .containsExactly(Long.MAX_VALUE - 1, Long.MAX_VALUE);
  }

  @Test
  void records_unknownCodec_isInvalidBatch() {
    assertRecordsFail(validBatch().toBuilder().setCodecValue(7).build(), 10)
        .hasMessage("unsupported codec 7");
  }

  @Test
  void records_countDisagreeingWithPayload_isInvalidBatch() {
    assertRecordsFail(validBatch().toBuilder().setCount(3).build(), 10)
        .hasMessage("invalid record payload: payload ends inside record 2");
    assertRecordsFail(validBatch().toBuilder().setCount(1).build(), 10)
        .hasMessage("invalid record payload: 4 trailing bytes after 1 records");
  }

  @Test
  void records_payloadFromHex_withNegativeLength_isInvalidBatch() {
    RecordBatch batch =
        RecordBatch.newBuilder()
            .setStream("s")
            .setFirstSequence(1)
            .setCount(1)
            .setPayload(ByteString.copyFrom(hex("00 ffffffffffffffffff01")))
            .build();

    assertRecordsFail(batch, 10)
        .hasMessage(
            "invalid record payload: record 0 is 18446744073709551615 bytes, above the limit of"
                + " 1048576");
  }

  @Test
  void ack_wrapsStreamAndSequence() {
    assertThat(Frames.ack("s", 4).getAck())
        .isEqualTo(Ack.newBuilder().setStream("s").setSequence(4).build());
  }
}
