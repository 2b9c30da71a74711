package io.edgesync.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgesync.protocol.wire.ErrorCode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class RecordLayoutTest {
  private static final HexFormat HEX = HexFormat.of();

  private static byte[] hex(String s) {
    return HEX.parseHex(s.replace(" ", ""));
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static void assertInvalid(String hexBytes, long first, int count, String message) {
    assertThatThrownBy(() -> RecordLayout.decode(hex(hexBytes), first, count))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("invalid record payload: " + message)
        .extracting(e -> ((ProtocolException) e).code())
        .isEqualTo(ErrorCode.INVALID_BATCH);
  }

  @Test
  void roundTrip_keepsSequencesOriginsAndPayloads() throws Exception {
    List<Record> records =
        List.of(
            new Record(7, 1_700_000_000_000L, utf8("{\"t\":21.5}")),
            new Record(8, 1_700_000_000_250L, utf8("{\"t\":21.6}")),
            new Record(9, 1_700_000_000_250L, utf8("x")));

    List<Record> decoded = RecordLayout.decode(RecordLayout.encode(records), 7, 3);

    assertThat(decoded).containsExactlyElementsOf(records);
  }

  @Test
  void roundTrip_emptyPayloads() throws Exception {
    List<Record> records =
        List.of(
            new Record(1, 5, new byte[0]),
            new Record(2, 6, new byte[0]),
            new Record(3, 7, new byte[0]));

    byte[] bytes = RecordLayout.encode(records);

    assertThat(bytes).isEqualTo(hex("0a00 0200 0200"));
    assertThat(RecordLayout.decode(bytes, 1, 3)).containsExactlyElementsOf(records);
  }

  @Test
  void roundTrip_negativeOriginDeltas_clockStepsBack() throws Exception {
    List<Record> records =
        List.of(
            new Record(1, 10, utf8("a")),
            new Record(2, 7, utf8("b")),
            new Record(3, -5, utf8("c")),
            new Record(4, 1_000, utf8("d")));

    byte[] bytes = RecordLayout.encode(records);

    // zigzag: 10 -> 0x14, -3 -> 0x05, -12 -> 0x17, +1005 -> 2010 = 0xda 0x0f
    assertThat(bytes).isEqualTo(hex("14 01 61  05 01 62  17 01 63  da0f 01 64"));
    assertThat(RecordLayout.decode(bytes, 1, 4)).containsExactlyElementsOf(records);
  }

  @Test
  void roundTrip_extremeValues_deltasWrapButDecodeExactly() throws Exception {
    List<Record> records =
        List.of(
            new Record(Long.MAX_VALUE - 3, Long.MAX_VALUE, utf8("max")),
            new Record(Long.MAX_VALUE - 2, Long.MIN_VALUE, utf8("min")),
            new Record(Long.MAX_VALUE - 1, 0, new byte[0]),
            new Record(Long.MAX_VALUE, Long.MIN_VALUE, utf8("min again")));

    List<Record> decoded =
        RecordLayout.decode(RecordLayout.encode(records), Long.MAX_VALUE - 3, records.size());

    assertThat(decoded).containsExactlyElementsOf(records);
  }

  @Test
  void roundTrip_payloadAtTheRecordLimit_andMultiByteLengths() throws Exception {
    byte[] big = new byte[ProtocolLimits.MAX_RECORD_BYTES];
    new SplittableRandom(1).nextBytes(big);
    byte[] medium = new byte[300]; // length needs a two-byte varint
    Arrays.fill(medium, (byte) 0x5a);
    List<Record> records = List.of(new Record(1, 1, big), new Record(2, 2, medium));

    byte[] bytes = RecordLayout.encode(records);

    assertThat(bytes).hasSize(big.length + medium.length + 1 + 3 + 1 + 2);
    assertThat(RecordLayout.decode(bytes, 1, 2)).containsExactlyElementsOf(records);
  }

  @Test
  void roundTrip_randomRecords_seeded() throws Exception {
    SplittableRandom random = new SplittableRandom(42);
    for (int round = 0; round < 500; round++) {
      int count = random.nextInt(1, 40);
      long first = random.nextLong(1, Long.MAX_VALUE - 100);
      List<Record> records = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        byte[] payload = new byte[random.nextInt(0, 200)];
        random.nextBytes(payload);
        records.add(new Record(first + i, random.nextLong(), payload));
      }
      assertThat(RecordLayout.decode(RecordLayout.encode(records), first, count))
          .as("round %d", round)
          .containsExactlyElementsOf(records);
    }
  }

  @Test
  void decode_countZero_emptyInput_isEmptyList() throws Exception {
    assertThat(RecordLayout.decode(new byte[0], 1, 0)).isEmpty();
  }

  @Test
  void decode_emptyInput_isTruncated() {
    assertInvalid("", 1, 1, "payload ends inside record 0");
  }

  @Test
  void decode_missingLength_isTruncated() {
    assertInvalid("02", 1, 1, "payload ends inside record 0");
  }

  @Test
  void decode_varintCutMidway_isTruncated() {
    assertInvalid("80", 1, 1, "payload ends inside record 0");
  }

  @Test
  void decode_fewerRecordsThanCount_namesTheMissingRecord() {
    assertInvalid("0200 0200", 1, 3, "payload ends inside record 2");
  }

  @Test
  void decode_payloadShorterThanItsLength() {
    assertInvalid("02 05 6869", 1, 1, "record 0 claims 5 bytes but only 2 remain");
  }

  @Test
  void decode_trailingBytes() {
    assertInvalid("02 02 6869 ff ff", 1, 1, "2 trailing bytes after 1 records");
  }

  @Test
  void decode_bytesWhenCountIsZero_areTrailing() {
    assertInvalid("00", 1, 0, "1 trailing bytes after 0 records");
  }

  @Test
  void decode_recordAboveLimit_isRejectedBeforeAllocating() {
    // length 1048577 = varint 81 80 40
    assertInvalid("00 818040", 1, 1, "record 0 is 1048577 bytes, above the limit of 1048576");
  }

  @Test
  void decode_lengthWithSignBitSet_isInvalidBatch_notNegativeArraySizeException() {
    // Regression: a 10-byte varint length of 2^64-1 read as -1 passed both size checks and
    // reached new byte[-1].
    assertInvalid(
        "00 ffffffffffffffffff01",
        1,
        1,
        "record 0 is 18446744073709551615 bytes, above the limit of 1048576");
  }

  @Test
  void decode_varintLongerThanTenBytes() {
    assertInvalid("0000 ffffffffffffffffffff", 1, 2, "varint longer than 10 bytes in record 1");
  }

  @Test
  void decode_negativeCount_isInvalidBatch() {
    assertInvalid("", 1, -1, "negative record count -1");
  }

  @Test
  void decode_numbersRecordsFromFirstSequence() throws Exception {
    List<Record> decoded = RecordLayout.decode(hex("02 01 61 02 01 62"), 41, 2);

    assertThat(decoded).containsExactly(new Record(41, 1, utf8("a")), new Record(42, 2, utf8("b")));
  }
}
