package io.edgesync.bench;

import io.edgesync.protocol.ProtocolException;
import io.edgesync.protocol.Record;
import io.edgesync.protocol.codec.BatchDecoder;
import io.edgesync.protocol.codec.BatchEncoder;
import io.edgesync.protocol.codec.Codec;
import io.edgesync.protocol.codec.CodecSettings;
import io.edgesync.protocol.codec.EncodedBatch;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * Series-aware COLUMNAR (issue 16) against COLUMNAR as before, per data case: the codec benchmark's
 * single sensor, the catch-up's 10-sensor gateway, and {@code --nodes} sensor nodes interleaved in
 * arrival order ({@link TelemetryData#interleaved}); next to stateless zstd -19 on batches of 1,000
 * of the same records. Bytes of codec payload per record (checksum included) at batches of 1,000
 * and 8,192, and encode / decode CPU time per record of the one thread. Every batch is decoded and
 * compared with its records.
 */
final class SeriesScenario {
  static final String DEVICE = "edge-gw-0042";
  static final int[] BATCHES = {1000, 8192};

  /** One case's figures; sizes in bytes per record, speeds in ns of CPU per record. */
  record CaseResult(
      String name,
      int records,
      double jsonBytes,
      double zstd19,
      double[] before,
      double[] after,
      double[] encodeNs,
      double[] decodeNs) {}

  private SeriesScenario() {}

  static List<CaseResult> run(Opts o, PrintStream out) throws Exception {
    int n = o.integer("codec-records", 100_000);
    long seed = o.longValue("codec-seed", 1);
    int rounds = o.integer("rounds", 5);
    List<CaseResult> results = new ArrayList<>();
    results.add(measure("single sensor (codec bench)", single(seed, n), rounds));
    results.add(measure("10 sensors, one call per second (catch-up)", fleet(seed, 10, n), rounds));
    for (String nodes : o.string("nodes", "100").split(",")) {
      int k = Integer.parseInt(nodes.trim());
      results.add(
          measure(
              k + " nodes interleaved", interleaved(seed, k, n, CodecScenario.START_MS), rounds));
    }
    print(out, results, n);
    return results;
  }

  static List<Record> single(long seed, int n) {
    return TelemetryData.generate(seed, n, CodecScenario.START_MS, DEVICE);
  }

  /** The catch-up's data: every second the sensors' readings in one call, one origin time. */
  static List<Record> fleet(long seed, int sensors, int n) {
    long start = CodecScenario.START_MS;
    TelemetryData.Fleet fleet = new TelemetryData.Fleet(seed, sensors, start, DEVICE);
    Random jitter = new Random(seed);
    List<Record> out = new ArrayList<>(n);
    for (long k = 0; out.size() < n; k++) {
      long origin = start + k * 1000 + jitter.nextInt(3);
      for (byte[] p : fleet.second(k)) {
        if (out.size() < n) {
          out.add(new Record(out.size() + 1, origin, p));
        }
      }
    }
    return out;
  }

  static List<Record> interleaved(long seed, int nodes, int n, long startMs) {
    return TelemetryData.interleaved(seed, nodes, n, startMs, DEVICE);
  }

  private static CaseResult measure(String name, List<Record> data, int rounds)
      throws ProtocolException {
    long json = 0;
    for (Record r : data) {
      json += r.payload().length;
    }
    CodecSettings before = CodecSettings.auto().withColumnarSeries(false);
    CodecSettings after = CodecSettings.auto().withColumnarSeries(true);
    CodecSettings zstd19 = CodecSettings.parse("zstd:19").withContextTakeover(false);
    double z = bytes(zstd19, Codec.ZSTD, data, 1000);
    double[] b = new double[BATCHES.length];
    double[] a = new double[BATCHES.length];
    for (int i = 0; i < BATCHES.length; i++) {
      b[i] = bytes(before, Codec.COLUMNAR, data, BATCHES[i]);
      a[i] = bytes(after, Codec.COLUMNAR, data, BATCHES[i]);
    }
    double[] before1000 = speed(before, data, 1000, rounds);
    double[] after1000 = speed(after, data, 1000, rounds);
    double[] before8192 = speed(before, data, 8192, rounds);
    double[] after8192 = speed(after, data, 8192, rounds);
    Bench.logf(
        "series: %-45s zstd-19 %.2f | before %s | after %s B/record; encode %.0f -> %.0f ns,"
            + " decode %.0f -> %.0f ns per record",
        name,
        z,
        Arrays.toString(b),
        Arrays.toString(a),
        before1000[0],
        after1000[0],
        before1000[1],
        after1000[1]);
    return new CaseResult(
        name,
        data.size(),
        (double) json / data.size(),
        z,
        b,
        a,
        new double[] {before1000[0], after1000[0], before8192[0], after8192[0]},
        new double[] {before1000[1], after1000[1], before8192[1], after8192[1]});
  }

  /** Payload bytes per record of one session over the data; checks every batch. */
  private static double bytes(CodecSettings s, Codec codec, List<Record> data, int batch)
      throws ProtocolException {
    long total = 0;
    try (BatchEncoder enc = new BatchEncoder(s);
        BatchDecoder dec = new BatchDecoder()) {
      for (int i = 0; i < data.size(); i += batch) {
        List<Record> b = data.subList(i, Math.min(data.size(), i + batch));
        EncodedBatch e = enc.encode(b, codec);
        total += e.payload().length;
        if (!dec.decode(e.codec(), e.payload(), b.get(0).sequence(), b.size()).equals(b)) {
          throw new IllegalStateException(
              codec + " " + s + ": batch at record " + i + " did not decode to its records");
        }
      }
    }
    return (double) total / data.size();
  }

  /** Median ns of CPU per record to encode and to decode COLUMNAR, after two warm-up rounds. */
  private static double[] speed(CodecSettings s, List<Record> data, int batch, int rounds)
      throws ProtocolException {
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    List<List<Record>> batches = new ArrayList<>();
    for (int i = 0; i < data.size(); i += batch) {
      batches.add(data.subList(i, Math.min(data.size(), i + batch)));
    }
    double[] enc = new double[rounds];
    double[] dec = new double[rounds];
    EncodedBatch[] encoded = new EncodedBatch[batches.size()];
    for (int round = -2; round < rounds; round++) {
      try (BatchEncoder e = new BatchEncoder(s);
          BatchDecoder d = new BatchDecoder()) {
        long c0 = mx.getCurrentThreadCpuTime();
        for (int i = 0; i < batches.size(); i++) {
          encoded[i] = e.encode(batches.get(i), Codec.COLUMNAR);
        }
        long c1 = mx.getCurrentThreadCpuTime();
        long sink = 0;
        for (int i = 0; i < batches.size(); i++) {
          List<Record> b = batches.get(i);
          sink +=
              d.decode(encoded[i].codec(), encoded[i].payload(), b.get(0).sequence(), b.size())
                  .size();
        }
        long c2 = mx.getCurrentThreadCpuTime();
        if (sink != data.size()) {
          throw new IllegalStateException("decoded " + sink + " of " + data.size());
        }
        if (round >= 0) {
          enc[round] = (c1 - c0) / (double) data.size();
          dec[round] = (c2 - c1) / (double) data.size();
        }
      }
    }
    Arrays.sort(enc);
    Arrays.sort(dec);
    return new double[] {enc[rounds / 2], dec[rounds / 2]};
  }

  private static void print(PrintStream out, List<CaseResult> results, int n) {
    out.println("## Series-aware COLUMNAR: bytes per record (codec payload)");
    out.println();
    out.printf(
        Locale.ROOT,
        "%,d records per case; before = COLUMNAR as every decoder reads it, after = with series"
            + " (columnar:series negotiated). zstd -19: stateless ZSTD frames of 1,000 records.%n%n",
        n);
    out.println(
        "| data | JSON B/record | zstd -19, batch 1,000 | before, 1,000 | after, 1,000 |"
            + " before, 8,192 | after, 8,192 |");
    out.println("|---|---:|---:|---:|---:|---:|---:|");
    for (CaseResult c : results) {
      out.printf(
          Locale.ROOT,
          "| %s | %.1f | %.2f | %.2f | **%.2f** | %.2f | **%.2f** |%n",
          c.name(),
          c.jsonBytes(),
          c.zstd19(),
          c.before()[0],
          c.after()[0],
          c.before()[1],
          c.after()[1]);
    }
    out.println();
    out.println(
        "## Series-aware COLUMNAR: ns of CPU per record, one thread (median of the rounds;"
            + " a shared machine's figures vary)");
    out.println();
    out.println(
        "| data | batch | encode, before | encode, after | decode, before | decode, after |");
    out.println("|---|---:|---:|---:|---:|---:|");
    for (CaseResult c : results) {
      for (int b = 0; b < BATCHES.length; b++) {
        out.printf(
            Locale.ROOT,
            "| %s | %,d | %.0f | %.0f | %.0f | %.0f |%n",
            c.name(),
            BATCHES[b],
            c.encodeNs()[2 * b],
            c.encodeNs()[2 * b + 1],
            c.decodeNs()[2 * b],
            c.decodeNs()[2 * b + 1]);
      }
    }
    out.println();
  }
}
