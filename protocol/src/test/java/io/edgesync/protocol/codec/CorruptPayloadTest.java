package io.edgesync.protocol.codec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import io.edgesync.protocol.ProtocolException;
import io.edgesync.protocol.Record;
import io.edgesync.protocol.wire.ErrorCode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Corrupt and truncated payloads: a seeded mutation loop over encoded batches. A decoder must
 * answer every mutant with INVALID_BATCH and a message naming the codec, or with exactly the
 * original records (a change that does not alter the result, such as a bit zstd ignores) — never
 * another exception, never other records.
 */
class CorruptPayloadTest {
  private static final int MUTANTS_PER_CODEC = 1500;

  private static List<Record> batch(long seed) {
    List<byte[]> payloads = new ArrayList<>(TestBatches.telemetry(seed, 60));
    payloads.addAll(TestBatches.mixed(seed, 20));
    payloads.addAll(TestBatches.edgeNumbers(seed, 10));
    return TestBatches.records(payloads, 1, seed);
  }

  @ParameterizedTest
  @EnumSource(Codec.class)
  void mutatedPayloads_failWithInvalidBatchOrDecodeToTheOriginal(Codec codec) throws Exception {
    SplittableRandom r = new SplittableRandom(codec.id() * 7919L + 17);
    List<Record> history = batch(1);
    List<Record> records = batch(2).stream().map(x -> shift(x, 90)).toList();
    byte[] earlier;
    byte[] payload;
    try (BatchEncoder enc = new BatchEncoder(CodecSettings.auto())) {
      // Session codecs: the mutated batch is the second of its session.
      earlier = enc.encode(history, codec).payload();
      payload = enc.encode(records, codec).payload();
    }
    int rejected = 0;
    for (int m = 0; m < MUTANTS_PER_CODEC; m++) {
      byte[] mutant = mutate(payload, r);
      try (BatchDecoder dec = new BatchDecoder(List.of(), 1 << 20)) {
        if (codec.needsSession()) {
          dec.decode(codec, earlier, 1, history.size());
        }
        List<Record> decoded;
        try {
          decoded = dec.decode(codec, mutant, 91, records.size());
        } catch (ProtocolException e) {
          assertThat(e.code()).isEqualTo(ErrorCode.INVALID_BATCH);
          assertThat(e.getMessage()).startsWith("invalid ");
          rejected++;
          continue;
        } catch (RuntimeException | Error e) {
          fail(
              "mutant %d of %s threw %s; payload %s",
              m, codec, e, java.util.HexFormat.of().formatHex(mutant), e);
          return;
        }
        if (codec == Codec.NONE) {
          // NONE has no checksum: a change of payload bytes is not detectable, only structure.
          assertThat(decoded).hasSize(records.size());
        } else {
          assertThat(decoded).as("mutant %d of %s", m, codec).isEqualTo(records);
        }
      }
    }
    // NONE has no checksum, so a changed byte inside a payload goes unnoticed there.
    assertThat(rejected).isGreaterThan(MUTANTS_PER_CODEC / (codec == Codec.NONE ? 4 : 2));
  }

  @ParameterizedTest
  @EnumSource(Codec.class)
  void everyTruncation_isRejected(Codec codec) throws Exception {
    List<Record> records = batch(3);
    byte[] payload;
    try (BatchEncoder enc = new BatchEncoder(CodecSettings.auto())) {
      payload = enc.encode(records, codec).payload();
    }
    int step = Math.max(1, payload.length / 200);
    for (int len = 0; len < payload.length; len += step) {
      byte[] cut = Arrays.copyOf(payload, len);
      try (BatchDecoder dec = new BatchDecoder()) {
        assertThatThrownBy(() -> dec.decode(codec, cut, 1, records.size()))
            .as("%s cut to %d of %d bytes", codec, len, payload.length)
            .isInstanceOf(ProtocolException.class);
      }
    }
  }

  @Test
  void wrongRecordCount_isRejectedWithTheCounts() throws Exception {
    List<Record> records = batch(4);
    try (BatchEncoder enc = new BatchEncoder(CodecSettings.auto());
        BatchDecoder dec = new BatchDecoder()) {
      byte[] columnar = enc.encode(records, Codec.COLUMNAR).payload();
      assertThatThrownBy(() -> dec.decode(Codec.COLUMNAR, columnar, 1, records.size() + 1))
          .isInstanceOf(ProtocolException.class)
          .hasMessage("invalid COLUMNAR payload: holds 90 records but the batch has 91");
      byte[] zstd = enc.encode(records, Codec.ZSTD).payload();
      assertThatThrownBy(() -> dec.decode(Codec.ZSTD, zstd, 1, records.size() - 1))
          .isInstanceOf(ProtocolException.class)
          .hasMessageStartingWith("invalid ZSTD payload: invalid record payload: ");
    }
  }

  @Test
  void decodedSizeAboveTheLimit_isRejectedBeforeAllocating() throws Exception {
    List<Record> records =
        TestBatches.records(
            List.of(TestBatches.utf8("{\"k\":\"" + "x".repeat(600_000) + "\"}")), 1, 1);
    try (BatchEncoder enc = new BatchEncoder(CodecSettings.auto());
        BatchDecoder dec = new BatchDecoder(List.of(), 100_000)) {
      for (Codec c : List.of(Codec.GZIP, Codec.ZSTD, Codec.LZMA, Codec.COLUMNAR)) {
        byte[] p = enc.encode(records, c).payload();
        assertThatThrownBy(() -> dec.decode(c, p, 1, 1))
            .as(c.name())
            .isInstanceOf(ProtocolException.class)
            .hasMessageStartingWith("invalid " + c + " payload: ");
      }
    }
  }

  @Test
  void columnarValueCount_isBoundedByTheDecodedLimitBeforeColumnsAreBuilt() throws Exception {
    List<byte[]> payloads = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      payloads.add(TestBatches.utf8("{\"a\":true}"));
    }
    List<Record> records = TestBatches.records(payloads, 1, 1);
    try (BatchEncoder enc = new BatchEncoder(CodecSettings.auto());
        BatchDecoder dec = new BatchDecoder(List.of(), 50)) {
      byte[] p = enc.encode(records, Codec.COLUMNAR).payload();
      assertThatThrownBy(() -> dec.decode(Codec.COLUMNAR, p, 1, 100))
          .isInstanceOf(ProtocolException.class)
          .hasMessage("invalid COLUMNAR payload: holds 100 values, more than 50 bytes can hold");
    }
  }

  private static Record shift(Record r, long by) {
    return new Record(r.sequence() + by, r.originMs(), r.payload());
  }

  private static byte[] mutate(byte[] p, SplittableRandom r) {
    byte[] m = p.clone();
    switch (r.nextInt(6)) {
      case 0 -> { // flip one bit
        int i = r.nextInt(m.length);
        m[i] ^= (byte) (1 << r.nextInt(8));
      }
      case 1 -> { // random byte
        m[r.nextInt(m.length)] = (byte) r.nextInt(256);
      }
      case 2 -> { // truncate
        m = Arrays.copyOf(m, r.nextInt(m.length));
      }
      case 3 -> { // delete a byte
        int i = r.nextInt(m.length);
        byte[] d = new byte[m.length - 1];
        System.arraycopy(m, 0, d, 0, i);
        System.arraycopy(m, i + 1, d, i, m.length - i - 1);
        m = d;
      }
      case 4 -> { // insert a byte
        int i = r.nextInt(m.length + 1);
        byte[] d = new byte[m.length + 1];
        System.arraycopy(m, 0, d, 0, i);
        d[i] = (byte) r.nextInt(256);
        System.arraycopy(m, i, d, i + 1, m.length - i);
        m = d;
      }
      default -> { // a few random bytes in the first 16 (headers, counts)
        for (int k = 0; k < 3; k++) {
          m[r.nextInt(Math.min(16, m.length))] = (byte) r.nextInt(256);
        }
      }
    }
    return m;
  }
}
