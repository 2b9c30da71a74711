package io.edgesync.protocol.codec;

import static io.edgesync.protocol.codec.TestBatches.utf8;
import static org.assertj.core.api.Assertions.assertThat;

import io.edgesync.protocol.Record;
import io.edgesync.protocol.codec.internal.ByteSink;
import io.edgesync.protocol.codec.internal.ColumnarEncoder;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * COLUMNAR with series (docs/codecs.md "Series", negotiated as {@code columnar:series}): every
 * batch decodes to exactly its records whatever the interleaving, key columns are found where
 * readings of many sensors interleave and not where a column is (nearly) unique per record, the
 * bytes are a function of the records only, and the size on interleaved sensor data stays within
 * the budget measured when the layout was made.
 */
class SeriesColumnarTest {
  private static final CodecSettings SERIES = CodecSettings.auto();
  private static final CodecSettings PLAIN = CodecSettings.auto().withColumnarSeries(false);

  static LongStream seeds() {
    return LongStream.rangeClosed(1, 40);
  }

  /**
   * Readings of {@code sensors} sensors, each a random walk, in a random arrival order (a shuffled
   * round robin, or fully random), with nulls, missing fields, extreme numbers and non-JSON records
   * mixed in when {@code messy}.
   */
  static List<Record> interleaved(long seed, int sensors, int n, boolean messy) {
    SplittableRandom r = new SplittableRandom(seed);
    long[] t = new long[sensors];
    long[] h = new long[sensors];
    int[] phase = new int[sensors];
    for (int s = 0; s < sensors; s++) {
      t[s] = 1500 + r.nextInt(1500);
      h[s] = 3000 + r.nextInt(4000);
      phase[s] = r.nextInt(1000);
    }
    boolean roundRobin = r.nextBoolean();
    List<Record> out = new ArrayList<>(n);
    long origin = TestBatches.START_MS;
    for (int i = 0; i < n; i++) {
      int s = roundRobin ? (i + (r.nextInt(10) == 0 ? 1 : 0)) % sensors : r.nextInt(sensors);
      t[s] += r.nextInt(21) - 10;
      h[s] += r.nextInt(61) - 30;
      long ts = TestBatches.START_MS + (i / sensors) * 1000L + phase[s];
      origin = Math.max(origin, ts) + r.nextInt(3);
      out.add(new Record(i + 1, origin, utf8(reading(r, s, ts, t[s], h[s], messy))));
    }
    return out;
  }

  private static String reading(SplittableRandom r, int s, long ts, long t, long h, boolean messy) {
    int odd = messy ? r.nextInt(40) : -1;
    String temp = TestBatches.dec(t, 2);
    String status = r.nextInt(200) == 0 ? "warn" : "ok";
    return switch (odd) {
      case 0 -> "not json at all " + r.nextInt(1000);
      case 1 -> String.format(Locale.ROOT, "{\"sensor\":\"s-%03d\",\"ts\":%d,\"t\":null}", s, ts);
      case 2 -> String.format(Locale.ROOT, "{\"sensor\":\"s-%03d\",\"ts\":%d}", s, ts);
      case 3 ->
          String.format(
              Locale.ROOT,
              "{\"sensor\":\"s-%03d\",\"ts\":%d,\"t\":%s,\"h\":%s,\"status\":\"%s\"}",
              s,
              ts,
              extreme(r),
              extreme(r),
              status);
      default ->
          String.format(
              Locale.ROOT,
              "{\"sensor\":\"s-%03d\",\"ts\":%d,\"t\":%s,\"h\":%s,\"status\":\"%s\"}",
              s,
              ts,
              temp,
              TestBatches.dec(h, 2),
              status);
    };
  }

  private static String extreme(SplittableRandom r) {
    String[] v = {
      "9223372036854775807",
      "-9223372036854775808",
      "92233720368547758070",
      "-0",
      "1e308",
      "0.000000000000000001",
      "-922337203685477580.8",
      "\"text\"",
      "true",
      "21.50"
    };
    return v[r.nextInt(v.length)];
  }

  private static List<Record> roundTrip(CodecSettings s, List<Record> records, int batch)
      throws Exception {
    List<Record> back = new ArrayList<>();
    try (BatchEncoder enc = new BatchEncoder(s);
        BatchDecoder dec = new BatchDecoder()) {
      for (int i = 0; i < records.size(); i += batch) {
        List<Record> b = records.subList(i, Math.min(records.size(), i + batch));
        EncodedBatch e = enc.encode(b, Codec.COLUMNAR);
        back.addAll(dec.decode(e.codec(), e.payload(), b.get(0).sequence(), b.size()));
      }
    }
    return back;
  }

  /** Bytes of the COLUMNAR payloads of the batches, and how many templates used series. */
  private static long[] encode(CodecSettings s, List<Record> records, int batch) {
    long bytes = 0;
    long series = 0;
    try (ColumnarEncoder enc = new ColumnarEncoder(3, s.columnarSeries())) {
      ByteSink out = new ByteSink(1024);
      for (int i = 0; i < records.size(); i += batch) {
        out.clear();
        enc.analyze(records.subList(i, Math.min(records.size(), i + batch)));
        enc.write(out);
        bytes += out.size() + 4;
        series += enc.seriesTemplates();
      }
    }
    return new long[] {bytes, series};
  }

  @ParameterizedTest
  @MethodSource("seeds")
  void randomInterleavings_manySensors_decodeToExactlyTheirRecords(long seed) throws Exception {
    SplittableRandom r = new SplittableRandom(seed);
    int sensors = 2 + r.nextInt(300);
    List<Record> records = interleaved(seed, sensors, 3000, seed % 2 == 0);
    int batch = 32 + r.nextInt(3000);
    assertThat(roundTrip(SERIES, records, batch)).isEqualTo(records);
  }

  @Test
  void interleavedSensors_useSeries_andAreSmallerThanWithout() throws Exception {
    List<Record> records = interleaved(7, 50, 4000, false);
    long[] with = encode(SERIES, records, 1000);
    long[] without = encode(PLAIN, records, 1000);
    assertThat(with[1]).as("templates coded in series").isEqualTo(4);
    assertThat(without[1]).isZero();
    assertThat(with[0]).isLessThan(without[0] * 3 / 4);
    assertThat(roundTrip(SERIES, records, 1000)).isEqualTo(records);
  }

  @Test
  void messyInterleavedSensors_nullsMissingFieldsExtremesAndRawRecords_decodeExactly()
      throws Exception {
    List<Record> records = interleaved(11, 40, 5000, true);
    assertThat(encode(SERIES, records, 2500)[1]).isPositive();
    assertThat(roundTrip(SERIES, records, 2500)).isEqualTo(records);
    assertThat(roundTrip(SERIES, records, 333)).isEqualTo(records);
  }

  @Test
  void oneSensor_hasNoSeries_andDecodesExactly() throws Exception {
    List<Record> records = interleaved(3, 1, 2000, false);
    assertThat(encode(SERIES, records, 1000)[1]).isZero();
    assertThat(roundTrip(SERIES, records, 1000)).isEqualTo(records);
  }

  @Test
  void allDistinctKeys_areNotTreatedAsSeries() throws Exception {
    SplittableRandom r = new SplittableRandom(5);
    List<byte[]> payloads = new ArrayList<>();
    for (int i = 0; i < 2000; i++) {
      payloads.add(
          utf8(
              String.format(
                  Locale.ROOT,
                  "{\"msg_id\":\"%016x\",\"t\":%s}",
                  r.nextLong(),
                  TestBatches.dec(2000 + r.nextInt(100), 2))));
    }
    List<Record> records = TestBatches.records(payloads, 1, 5);
    assertThat(encode(SERIES, records, 1000)[1]).isZero();
    assertThat(roundTrip(SERIES, records, 1000)).isEqualTo(records);
  }

  @Test
  void statusColumn_isNotTakenForASensorKey_onOneSensorsTelemetry() throws Exception {
    List<Record> records = TestBatches.records(TestBatches.telemetry(9, 5000), 1, 9);
    assertThat(encode(SERIES, records, 1000)[1]).isZero();
    assertThat(roundTrip(SERIES, records, 1000)).isEqualTo(records);
  }

  @Test
  void nonJsonAndEdgeNumbers_roundTripWithSeriesAllowed() throws Exception {
    for (List<byte[]> payloads :
        List.of(
            TestBatches.nonJson(1, 700),
            TestBatches.edgeNumbers(2, 700),
            TestBatches.mixed(3, 700))) {
      List<Record> records = TestBatches.records(payloads, 1, 4);
      assertThat(roundTrip(SERIES, records, 700)).isEqualTo(records);
    }
  }

  @Test
  void sameRecords_giveTheSameBytes_withAFreshOrAUsedEncoder() {
    List<Record> records = interleaved(13, 100, 3000, true);
    List<Record> batch = records.subList(1000, 2000);
    try (BatchEncoder fresh = new BatchEncoder(SERIES);
        BatchEncoder used = new BatchEncoder(SERIES)) {
      used.encode(records.subList(0, 1000), Codec.COLUMNAR);
      used.encode(records.subList(2000, 3000), Codec.COLUMNAR);
      byte[] a = fresh.encode(batch, Codec.COLUMNAR).payload();
      byte[] b = used.encode(batch, Codec.COLUMNAR).payload();
      assertThat(b).isEqualTo(a);
      assertThat(fresh.encode(batch, Codec.COLUMNAR).payload()).isEqualTo(a);
    }
  }

  /**
   * Series payloads with bytes flipped, cut or inserted (in the meta, the series and heads streams,
   * anywhere) are refused with INVALID_BATCH or decode to exactly the records (the checksum), never
   * to other records or another exception.
   */
  @Test
  void corruptSeriesPayloads_areRefusedAsInvalidBatches_neverOtherRecords() throws Exception {
    List<Record> records = interleaved(17, 30, 600, true);
    byte[] good;
    try (BatchEncoder enc = new BatchEncoder(SERIES)) {
      good = uncompressed(enc.encode(records, Codec.COLUMNAR).payload());
    }
    SplittableRandom r = new SplittableRandom(17);
    int refused = 0;
    try (BatchDecoder dec = new BatchDecoder()) {
      assertThat(dec.decode(Codec.COLUMNAR, good, 1, records.size())).isEqualTo(records);
      for (int i = 0; i < 3000; i++) {
        byte[] bad = mutate(r, good);
        try {
          assertThat(dec.decode(Codec.COLUMNAR, bad, 1, records.size())).isEqualTo(records);
        } catch (io.edgesync.protocol.ProtocolException e) {
          assertThat(e.code()).isEqualTo(io.edgesync.protocol.wire.ErrorCode.INVALID_BATCH);
          refused++;
        }
      }
    }
    assertThat(refused).isGreaterThan(2900);
  }

  /**
   * The same batch with its section stored as is (layout 0, every stream raw), so that mutations
   * reach the meta and the series streams instead of a zstd frame.
   */
  private static byte[] uncompressed(byte[] payload) throws Exception {
    assertThat(payload[0]).as("layout 1: one frame").isEqualTo((byte) 1);
    io.edgesync.protocol.codec.internal.ByteSource in =
        new io.edgesync.protocol.codec.internal.ByteSource(
            payload, 1, payload.length - 5, "COLUMNAR", "test");
    int length = in.readCount(1 << 24, "a section length");
    byte[] section = new byte[length];
    try (io.edgesync.protocol.codec.internal.ZstdFrames z =
        new io.edgesync.protocol.codec.internal.ZstdFrames(3)) {
      z.decompress(
          payload, in.position(), in.remaining(), section, 0, length, null, "COLUMNAR", "test");
    }
    byte[] out = new byte[1 + length + 4];
    System.arraycopy(section, 0, out, 1, length);
    System.arraycopy(payload, payload.length - 4, out, 1 + length, 4);
    return out;
  }

  private static byte[] mutate(SplittableRandom r, byte[] good) {
    byte[] b = good.clone();
    switch (r.nextInt(3)) {
      case 0 -> {
        for (int k = 1 + r.nextInt(3); k > 0; k--) {
          b[r.nextInt(b.length)] ^= (byte) (1 + r.nextInt(255));
        }
      }
      case 1 -> b = java.util.Arrays.copyOf(b, r.nextInt(b.length));
      default -> {
        int at = r.nextInt(b.length);
        byte[] c = new byte[b.length + 1];
        System.arraycopy(b, 0, c, 0, at);
        c[at] = (byte) r.nextInt(256);
        System.arraycopy(b, at, c, at + 1, b.length - at);
        b = c;
      }
    }
    return b;
  }

  /**
   * A size budget, not a timing: 100 sensors interleaved nearly round robin, batches of 1,000 and
   * 8,192, stay within what this layout measured (deterministic data and encoder).
   */
  @Test
  void interleavedHundredSensors_stayWithinTheMeasuredBudget() {
    List<Record> records = interleaved(21, 100, 16_384, false);
    double at1000 = (double) encode(SERIES, records.subList(0, 16_000), 1000)[0] / 16_000;
    double at8192 = (double) encode(SERIES, records, 8192)[0] / records.size();
    double before = (double) encode(PLAIN, records.subList(0, 16_000), 1000)[0] / 16_000;
    System.err.printf(
        Locale.ROOT,
        "series budget: %.3f B/record at 1,000 (without series %.3f), %.3f at 8,192%n",
        at1000,
        before,
        at8192);
    assertThat(at1000).isLessThanOrEqualTo(BUDGET_1000);
    assertThat(at8192).isLessThanOrEqualTo(BUDGET_8192);
  }

  static final double BUDGET_1000 = 4.25;
  static final double BUDGET_8192 = 3.25;
}
