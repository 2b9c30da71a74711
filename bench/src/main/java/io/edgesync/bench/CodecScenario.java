package io.edgesync.bench;

import com.google.protobuf.UnsafeByteOperations;
import io.edgesync.protocol.ProtocolException;
import io.edgesync.protocol.Record;
import io.edgesync.protocol.codec.BatchDecoder;
import io.edgesync.protocol.codec.BatchEncoder;
import io.edgesync.protocol.codec.Codec;
import io.edgesync.protocol.codec.CodecSettings;
import io.edgesync.protocol.codec.Dictionary;
import io.edgesync.protocol.codec.EncodedBatch;
import io.edgesync.protocol.wire.Frame;
import io.edgesync.protocol.wire.RecordBatch;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Bytes per record on the wire and encode/decode speed of the batch codecs on a generated telemetry
 * stream ({@link TelemetryData}). Every batch is decoded and compared with its records, so the run
 * also checks correctness. The dictionary is trained on other devices' data from another week
 * (other seeds), never on the measured records.
 */
final class CodecScenario {
  static final int[] BATCH_SIZES = {1, 10, 100, 1000};
  static final long START_MS = 1_767_225_600_000L; // 2026-01-01T00:00:00Z
  static final long WEEK_MS = 7 * 86_400_000L;
  static final String STREAM = "sensor_data";

  private record Variant(String label, CodecSettings settings, Codec codec, boolean subset) {}

  record Result(
      int records,
      double rawJsonBytesPerRecord,
      double entropyBytesPerRecord,
      double payloadEntropyBytesPerRecord,
      double[] autoBytes,
      double columnar1000,
      double best1,
      String best1Label,
      double throughput,
      String throughputLabel,
      double seconds) {}

  private CodecScenario() {}

  static Result run(Opts o, PrintStream out) throws Exception {
    long t0 = System.nanoTime();
    int n = o.integer("codec-records", 100_000);
    int lzmaRecords = Math.min(n, o.integer("lzma-records", 10_000));
    long seed = o.longValue("codec-seed", 1);
    int dictBytes = (int) o.longValue("dict-bytes", 16 * 1024);
    int rounds = o.integer("rounds", 5);

    List<Record> records = TelemetryData.generate(seed, n, START_MS, "edge-gw-0042");
    long json = 0;
    for (Record r : records) {
      json += r.payload().length;
    }
    List<byte[]> samples = trainingSamples(seed);
    long trainStart = System.nanoTime();
    Dictionary dict = Dictionary.train(1, samples, dictBytes);
    double trainMs = (System.nanoTime() - trainStart) / 1e6;
    Bench.logf(
        "codec: %,d records, %.1f B of JSON each; dictionary %d B trained on %,d samples in"
            + " %.0f ms",
        n, (double) json / n, dict.size(), samples.size(), trainMs);

    List<Variant> variants = variants(dict);
    Sizes sizes = measureSizes(variants, records, lzmaRecords, dict);
    double[][] payload = sizes.payload();
    double entropyBits = TelemetryData.entropyBitsPerRecord();
    double payloadEntropyBits = TelemetryData.payloadEntropyBitsPerRecord();
    out.println("## Telemetry encoding: bytes per record (codec payload)");
    out.println();
    out.printf(
        Locale.ROOT,
        "%,d records, %.1f bytes of JSON each; generator entropy %.2f B/record (payload %.2f B +"
            + " origin-time jitter %.2f B). Dictionary: %,d bytes, trained on %,d records of 8"
            + " other devices from the week before (other seeds).%n%n",
        n,
        (double) json / n,
        entropyBits / 8,
        payloadEntropyBits / 8,
        (entropyBits - payloadEntropyBits) / 8,
        dict.size(),
        samples.size());
    printSizes(out, variants, sizes, lzmaRecords);
    Best fastest = printSpeed(out, variants, records, dict, rounds);
    int bestAt1 = -1;
    for (int v = 0; v < variants.size(); v++) {
      if (bestAt1 < 0 || payload[v][0] < payload[bestAt1][0]) {
        bestAt1 = v;
      }
    }
    return new Result(
        n,
        (double) json / n,
        entropyBits / 8,
        payloadEntropyBits / 8,
        payload[variants.size() - 1],
        payload[8][3],
        payload[bestAt1][0],
        variants.get(bestAt1).label,
        fastest.throughput(),
        fastest.label(),
        (System.nanoTime() - t0) / 1e9);
  }

  /** Training set: 8 other devices, a week earlier, other seeds. */
  private static List<byte[]> trainingSamples(long seed) {
    List<byte[]> samples = new ArrayList<>();
    for (int d = 0; d < 8; d++) {
      for (Record r :
          TelemetryData.generate(
              seed + 1000 + d, 2500, START_MS - WEEK_MS, "edge-gw-" + (1100 + d))) {
        samples.add(r.payload());
      }
    }
    return samples;
  }

  /**
   * The codecs compared, in table order; {@link #run} and {@link #printSpeed} pick some by index
   * (3: zstd -3, 8: columnar, 9: templates, 10: auto, the last).
   */
  private static List<Variant> variants(Dictionary dict) {
    CodecSettings zstd3 = CodecSettings.parse("zstd:3").withContextTakeover(false);
    CodecSettings auto = CodecSettings.auto();
    return List.of(
        new Variant("raw JSON (NONE: record layout)", auto, Codec.NONE, false),
        new Variant("gzip -6 (GZIP)", CodecSettings.parse("gzip:6"), Codec.GZIP, false),
        new Variant("lzma -6 (LZMA) ‡", CodecSettings.parse("lzma:6"), Codec.LZMA, true),
        new Variant("zstd -3 (ZSTD)", zstd3, Codec.ZSTD, false),
        new Variant(
            "zstd -19 (ZSTD) ‡",
            CodecSettings.parse("zstd:19").withContextTakeover(false),
            Codec.ZSTD,
            true),
        new Variant(
            "zstd -3 + trained dictionary (ZSTD)", zstd3.withDictionary(dict), Codec.ZSTD, false),
        new Variant("zstd -3, carried context (ZSTD_STREAM)", auto, Codec.ZSTD_STREAM, false),
        new Variant(
            "zstd -3, dictionary + carried context (ZSTD_STREAM)",
            auto.withDictionary(dict),
            Codec.ZSTD_STREAM,
            false),
        new Variant("columnar + zstd (COLUMNAR)", auto, Codec.COLUMNAR, false),
        new Variant(
            "templates + deltas, carried context (TEMPLATE_STREAM)",
            auto.withDictionary(dict),
            Codec.TEMPLATE_STREAM,
            false),
        new Variant("**auto** (dictionary + context)", auto.withDictionary(dict), null, false));
  }

  /**
   * Bytes per record, by variant and batch size: the codec payload, the whole frame, the frame in
   * the compact envelope; and what auto chose at each batch size.
   */
  private record Sizes(
      double[][] payload, double[][] frame, double[][] compact, String[] autoChoices) {}

  private static Sizes measureSizes(
      List<Variant> variants, List<Record> records, int lzmaRecords, Dictionary dict)
      throws ProtocolException {
    double[][] payload = new double[variants.size()][BATCH_SIZES.length];
    double[][] frame = new double[variants.size()][BATCH_SIZES.length];
    double[][] compact = new double[variants.size()][BATCH_SIZES.length];
    String[] autoChoices = new String[BATCH_SIZES.length];
    for (int v = 0; v < variants.size(); v++) {
      Variant var = variants.get(v);
      List<Record> data = var.subset ? records.subList(0, lzmaRecords) : records;
      for (int b = 0; b < BATCH_SIZES.length; b++) {
        Map<Codec, Integer> choices = new EnumMap<>(Codec.class);
        long[] sizes = measureSize(var, data, BATCH_SIZES[b], dict, choices);
        payload[v][b] = (double) sizes[0] / data.size();
        frame[v][b] = (double) sizes[1] / data.size();
        compact[v][b] = (double) sizes[2] / data.size();
        if (var.codec == null) {
          autoChoices[b] = choices.toString();
        }
      }
      Bench.logf(
          "codec: %-52s %s B/record at batch 1/10/100/1000",
          var.label, Arrays.toString(payload[v]));
    }
    return new Sizes(payload, frame, compact, autoChoices);
  }

  /** The size tables after the report's heading: payload, auto's choices, frame, compact frame. */
  private static void printSizes(
      PrintStream out, List<Variant> variants, Sizes sizes, int lzmaRecords) {
    table(out, variants, sizes.payload());
    out.println();
    out.printf(
        Locale.ROOT,
        "‡ measured on the first %,d records (--lzma-records) to keep the run short: these two"
            + " compress slowly.%n%n",
        lzmaRecords);
    out.println("auto chose: ");
    for (int b = 0; b < BATCH_SIZES.length; b++) {
      out.println("- batch " + BATCH_SIZES[b] + ": " + sizes.autoChoices()[b] + " batches");
    }
    out.println();
    out.println(
        "## Whole frame per record (protobuf Frame{RecordBatch} around the payload: stream"
            + " \"sensor_data\", sequence, count, codec, raw_bytes)");
    out.println();
    table(out, variants, sizes.frame());
    out.println();
    out.println(
        "## Whole frame per record, compact envelope (what the agent sends when the cloud accepts"
            + " batch:compact: the stream named once per session, then stream_ref 1; first_sequence"
            + " implied; no raw_bytes)");
    out.println();
    table(out, variants, sizes.compact());
    out.println();
  }

  /** A variant's encode + decode records/s and its label. */
  private record Best(double throughput, String label) {}

  /**
   * Throughput on one core (this thread's CPU time), batches of 1,000 and 100, as a table; returns
   * columnar's at batch 1,000 (the headline figure).
   */
  private static Best printSpeed(
      PrintStream out, List<Variant> variants, List<Record> records, Dictionary dict, int rounds)
      throws ProtocolException {
    out.println("## Encode + decode speed, one thread (CPU time of that thread)");
    out.println();
    out.println(
        "| codec | batch | encode records/s | decode records/s | encode + decode records/s |");
    out.println("|---|---|---|---|---|");
    double bestThroughput = 0;
    String bestLabel = "";
    List<Variant> speed =
        List.of(variants.get(8), variants.get(9), variants.get(3), variants.get(10));
    for (int batch : new int[] {1000, 100}) {
      for (Variant var : speed) {
        double[] s = measureSpeed(var, records, batch, dict, rounds);
        out.printf(
            Locale.ROOT,
            "| %s | %,d | %s | %s | **%s** |%n",
            var.label,
            batch,
            Stats.rate(s[0]),
            Stats.rate(s[1]),
            Stats.rate(s[2]));
        Bench.logf(
            "codec speed: %s batch %d: encode %.0f, decode %.0f, both %.0f records/s",
            var.label, batch, s[0], s[1], s[2]);
        if (batch == 1000 && var.codec == Codec.COLUMNAR) {
          bestThroughput = s[2];
          bestLabel = var.label;
        }
      }
    }
    out.println();
    return new Best(bestThroughput, bestLabel);
  }

  private static void table(PrintStream out, List<Variant> variants, double[][] v) {
    StringBuilder head = new StringBuilder("| codec |");
    StringBuilder rule = new StringBuilder("|---|");
    for (int b : BATCH_SIZES) {
      head.append(" batch ").append(String.format(Locale.ROOT, "%,d", b)).append(" |");
      rule.append("---:|");
    }
    out.println(head);
    out.println(rule);
    for (int i = 0; i < variants.size(); i++) {
      StringBuilder row = new StringBuilder("| ").append(variants.get(i).label).append(" |");
      for (int b = 0; b < BATCH_SIZES.length; b++) {
        row.append(String.format(Locale.ROOT, " %.2f |", v[i][b]));
      }
      out.println(row);
    }
  }

  /** Total payload bytes and total frame bytes of one session over the data; checks decoding. */
  private static long[] measureSize(
      Variant var, List<Record> data, int batch, Dictionary dict, Map<Codec, Integer> choices)
      throws ProtocolException {
    long payload = 0;
    long frame = 0;
    long compact = 0;
    try (BatchEncoder enc = new BatchEncoder(var.settings);
        BatchDecoder dec =
            new BatchDecoder(List.of(dict), BatchDecoder.DEFAULT_MAX_DECODED_BYTES)) {
      for (int i = 0; i < data.size(); i += batch) {
        List<Record> b = data.subList(i, Math.min(data.size(), i + batch));
        EncodedBatch e = var.codec == null ? enc.encode(b) : enc.encode(b, var.codec);
        choices.merge(e.codec(), 1, Integer::sum);
        payload += e.payload().length;
        frame += frameBytes(e, b.get(0).sequence(), b.size());
        compact += compactFrameBytes(e, b.get(0).sequence(), b.size(), i == 0);
        List<Record> back = dec.decode(e.codec(), e.payload(), b.get(0).sequence(), b.size());
        if (!back.equals(b)) {
          throw new IllegalStateException(
              var.label + ": batch at record " + i + " did not decode to its records");
        }
      }
    }
    return new long[] {payload, frame, compact};
  }

  /**
   * The frame as the agent's compact envelope writes it (engine {@code OutgoingBatches}): the
   * session's first batch of the stream names it and its first sequence, later ones carry only
   * {@code stream_ref} and continue the sequence; {@code raw_bytes} is left for the cloud.
   */
  static int compactFrameBytes(EncodedBatch e, long first, int count, boolean firstOfSession) {
    RecordBatch.Builder b =
        RecordBatch.newBuilder()
            .setStreamRef(1)
            .setCount(count)
            .setCodecValue(e.codec().id())
            .setPayload(UnsafeByteOperations.unsafeWrap(e.payload()));
    if (firstOfSession) {
      b.setStream(STREAM).setFirstSequence(first);
    }
    return Frame.newBuilder().setBatch(b).build().getSerializedSize();
  }

  static int frameBytes(EncodedBatch e, long first, int count) {
    return Frame.newBuilder()
        .setBatch(
            RecordBatch.newBuilder()
                .setStream(STREAM)
                .setFirstSequence(first)
                .setCount(count)
                .setCodecValue(e.codec().id())
                .setPayload(UnsafeByteOperations.unsafeWrap(e.payload()))
                .setRawBytes(e.rawBytes()))
        .build()
        .getSerializedSize();
  }

  /**
   * Median over rounds of encode, decode and encode+decode records/s, by this thread's CPU time.
   * One warm-up pass first.
   */
  private static double[] measureSpeed(
      Variant var, List<Record> data, int batch, Dictionary dict, int rounds)
      throws ProtocolException {
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    List<List<Record>> batches = new ArrayList<>();
    for (int i = 0; i < data.size(); i += batch) {
      batches.add(data.subList(i, Math.min(data.size(), i + batch)));
    }
    double[] enc = new double[rounds];
    double[] dec = new double[rounds];
    double[] both = new double[rounds];
    EncodedBatch[] encoded = new EncodedBatch[batches.size()];
    for (int round = -2; round < rounds; round++) {
      try (BatchEncoder e = new BatchEncoder(var.settings);
          BatchDecoder d =
              new BatchDecoder(List.of(dict), BatchDecoder.DEFAULT_MAX_DECODED_BYTES)) {
        long c0 = mx.getCurrentThreadCpuTime();
        for (int i = 0; i < batches.size(); i++) {
          encoded[i] =
              var.codec == null ? e.encode(batches.get(i)) : e.encode(batches.get(i), var.codec);
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
          enc[round] = data.size() / ((c1 - c0) / 1e9);
          dec[round] = data.size() / ((c2 - c1) / 1e9);
          both[round] = data.size() / ((c2 - c0) / 1e9);
        }
      }
    }
    return new double[] {median(enc), median(dec), median(both)};
  }

  private static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s[s.length / 2];
  }
}
