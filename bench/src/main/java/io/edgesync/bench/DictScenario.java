package io.edgesync.bench;

import io.edgesync.engine.dict.DictionaryCatalog;
import io.edgesync.engine.dict.DictionaryRules;
import io.edgesync.protocol.Record;
import io.edgesync.protocol.codec.BatchDecoder;
import io.edgesync.protocol.codec.BatchEncoder;
import io.edgesync.protocol.codec.Codec;
import io.edgesync.protocol.codec.CodecSettings;
import io.edgesync.protocol.codec.Dictionary;
import io.edgesync.protocol.codec.EncodedBatch;
import io.edgesync.server.CloudDictionaries;
import io.edgesync.server.SqliteCloudStore;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * What a dictionary the cloud trained costs and saves: the cloud's own path, end to end but without
 * a network. {@code --dict-devices} devices' telemetry ({@link TelemetryData}, seeded) is committed
 * into a real {@link SqliteCloudStore}; {@link CloudDictionaries#trainNow} trains from it as the
 * server does (the newest {@code sample_bytes} of the stream, from every device, into a dictionary
 * of {@code dictionary_bytes}). Then the next records of the measured device (never seen by the
 * training) are encoded at batch 1 and 10 (and 100) with and without it: stateless ZSTD, and
 * ZSTD_STREAM over sessions of {@code --dict-session-batches} batches (a reconnect starts a new
 * one) and over one long session. Every batch is decoded and compared.
 */
final class DictScenario {
  static final String STREAM = CodecScenario.STREAM;

  private DictScenario() {}

  /** ZSTD bytes per record without and with the dictionary at the first two batch sizes. */
  record Result(
      double zstd1, double zstdDict1, double zstd10, double zstdDict10, int batchA, int batchB) {}

  static Result run(Path dir, Opts o, PrintStream out) throws Exception {
    int devices = o.integer("dict-devices", 4);
    int received = o.integer("dict-received", 20_000);
    int measured = o.integer("dict-records", 20_000);
    int sessionBatches = o.integer("dict-session-batches", 100);
    int[] BATCHES =
        Arrays.stream(o.string("dict-batches", "1,10,100").split(","))
            .mapToInt(s -> Integer.parseInt(s.trim()))
            .toArray();
    long seed = o.longValue("codec-seed", 1);
    DictionaryRules def = DictionaryRules.defaults();
    DictionaryRules rules =
        new DictionaryRules(
            true,
            o.longValue("sample-bytes", def.sampleBytes()),
            (int) o.longValue("dict-bytes", def.dictionaryBytes()),
            0,
            def.keepPerStream(),
            def.maxStreams());

    // The measured device's records: the first `received` reached the cloud, the rest are measured.
    List<Record> mine =
        TelemetryData.generate(seed, received + measured, CodecScenario.START_MS, "edge-gw-0042");
    Trained trained = trainInCloud(dir, rules, mine, devices, received, seed);
    Dictionary dict = trained.dict();
    long trainNanos = trained.nanos();
    List<Record> test = mine.subList(received, received + measured);
    Bench.logf(
        "dict: %d devices x %,d records received; dictionary %d B (id %d) trained in %.0f ms",
        devices, received, dict.size(), dict.id(), trainNanos / 1e6);

    CodecSettings stateless = CodecSettings.parse("zstd:3").withContextTakeover(false);
    CodecSettings stream = CodecSettings.parse("zstd:3");
    String[] labels = {
      "zstd -3 (ZSTD), no dictionary",
      "zstd -3 (ZSTD), cloud-trained dictionary",
      "zstd -3 carried context (ZSTD_STREAM), sessions of " + sessionBatches + " batches",
      "zstd -3 carried context + dictionary (ZSTD_STREAM), sessions of "
          + sessionBatches
          + " batches",
      "zstd -3 carried context (ZSTD_STREAM), one session",
      "zstd -3 carried context + dictionary (ZSTD_STREAM), one session",
    };
    double[][] bytes = new double[labels.length][BATCHES.length];
    for (int b = 0; b < BATCHES.length; b++) {
      int batch = BATCHES[b];
      bytes[0][b] = measure(test, batch, stateless, null, Integer.MAX_VALUE);
      bytes[1][b] = measure(test, batch, stateless, dict, Integer.MAX_VALUE);
      bytes[2][b] = measure(test, batch, stream, null, sessionBatches);
      bytes[3][b] = measure(test, batch, stream, dict, sessionBatches);
      bytes[4][b] = measure(test, batch, stream, null, Integer.MAX_VALUE);
      bytes[5][b] = measure(test, batch, stream, dict, Integer.MAX_VALUE);
    }
    for (int v = 0; v < labels.length; v++) {
      Bench.logf("dict: %-75s %s", labels[v], Arrays.toString(bytes[v]));
    }
    out.println("## Trained dictionary: bytes per record (codec payload)");
    out.println();
    out.printf(
        Locale.ROOT,
        "Cloud: %d devices, %,d records each committed to a SQLite store; dictionary %,d B (id %d)"
            + " trained by CloudDictionaries from the newest %,d sample bytes in %.0f ms. Measured:"
            + " the next %,d records of device edge-gw-0042.%n%n",
        devices,
        received,
        dict.size(),
        dict.id(),
        rules.sampleBytes(),
        trainNanos / 1e6,
        measured);
    table(out, labels, BATCHES, bytes);
    out.println();
    return new Result(bytes[0][0], bytes[1][0], bytes[0][1], bytes[1][1], BATCHES[0], BATCHES[1]);
  }

  /** The dictionary the cloud trained, and the nanoseconds {@code trainNow} took. */
  private record Trained(Dictionary dict, long nanos) {}

  /**
   * Commits {@code received} records of each device (the measured one's are the first of {@code
   * mine}) into a real cloud store and trains a dictionary from them as the server does.
   */
  private static Trained trainInCloud(
      Path dir, DictionaryRules rules, List<Record> mine, int devices, int received, long seed)
      throws Exception {
    try (SqliteCloudStore store = new SqliteCloudStore(dir.resolve("edgesync-cloud.db"))) {
      for (int d = 0; d < devices; d++) {
        String device = d == 0 ? "edge-gw-0042" : "edge-gw-" + (1100 + d);
        List<Record> recs =
            d == 0
                ? mine.subList(0, received)
                : TelemetryData.generate(seed + 1000 + d, received, CodecScenario.START_MS, device);
        store.registerDevice(device, CodecScenario.START_MS);
        for (int i = 0; i < recs.size(); i += 100) {
          store.commitRecords(device, STREAM, recs.subList(i, Math.min(recs.size(), i + 100)), 0);
        }
      }
      CloudDictionaries cloud =
          new CloudDictionaries(rules, store.dictionaries(), () -> CodecScenario.START_MS);
      long t0 = System.nanoTime();
      DictionaryCatalog.StreamDictionary sd = cloud.trainNow(STREAM);
      long trainNanos = System.nanoTime() - t0;
      cloud.close();
      if (sd == null) {
        throw new IllegalStateException("the cloud could not train a dictionary");
      }
      return new Trained(sd.dictionary(), trainNanos);
    }
  }

  private static void table(PrintStream out, String[] labels, int[] batches, double[][] bytes) {
    StringBuilder head = new StringBuilder("| codec |");
    StringBuilder rule = new StringBuilder("|---|");
    for (int b : batches) {
      head.append(" batch ").append(b).append(" |");
      rule.append("---:|");
    }
    out.println(head);
    out.println(rule);
    for (int v = 0; v < labels.length; v++) {
      StringBuilder row = new StringBuilder("| " + labels[v] + " |");
      for (int b = 0; b < batches.length; b++) {
        row.append(String.format(Locale.ROOT, " %.2f |", bytes[v][b]));
      }
      out.println(row);
    }
  }

  /** Payload bytes per record; a new session (encoder and decoder) every `sessionBatches`. */
  private static double measure(
      List<Record> records, int batch, CodecSettings settings, Dictionary dict, int sessionBatches)
      throws Exception {
    long total = 0;
    BatchEncoder enc = null;
    BatchDecoder dec = null;
    int inSession = 0;
    try {
      for (int i = 0; i < records.size(); i += batch) {
        if (enc == null || inSession == sessionBatches) {
          if (enc != null) {
            enc.close();
            dec.close();
          }
          enc = new BatchEncoder(settings);
          dec = new BatchDecoder(dict == null ? List.of() : List.of(dict), 16 << 20);
          inSession = 0;
        }
        List<Record> part = records.subList(i, Math.min(records.size(), i + batch));
        EncodedBatch e = enc.encode(part, dict);
        Codec expected = settings.contextTakeover() ? Codec.ZSTD_STREAM : Codec.ZSTD;
        if (e.codec() != expected) {
          throw new IllegalStateException("encoded as " + e.codec() + ", expected " + expected);
        }
        List<Record> back = dec.decode(e.codec(), e.payload(), part.get(0).sequence(), part.size());
        for (int k = 0; k < part.size(); k++) {
          if (!Arrays.equals(back.get(k).payload(), part.get(k).payload())
              || back.get(k).originMs() != part.get(k).originMs()) {
            throw new IllegalStateException("record " + part.get(k).sequence() + " differs");
          }
        }
        total += e.payload().length;
        inSession++;
      }
    } finally {
      if (enc != null) {
        enc.close();
        dec.close();
      }
    }
    return (double) total / records.size();
  }
}
