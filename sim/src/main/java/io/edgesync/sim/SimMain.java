package io.edgesync.sim;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Command line runner of the simulator.
 *
 * <pre>
 * java -jar sim/target/edgesync-sim.jar --seeds 100000 --from 1     # a long run
 * java -jar sim/target/edgesync-sim.jar --seed 4242 --trace         # replay one seed, every step
 * </pre>
 *
 * Options: {@code --threads N} (default: the number of processors), {@code --max-failures N} (stop
 * after that many failed seeds, default 10), {@code --dir PATH} (where the SQLite files go), {@code
 * --keep-files}, {@code --nodes N} (N cloud nodes sharing one store, docs/simulator.md), {@code
 * --files} (the files scenario: file versions published to the devices, uploads from them;
 * docs/simulator.md), {@code --hashes FILE} (write "seed trace-hash" per line, in seed order: the
 * proof that a refactoring changed no event order). Exit status 1 if a seed failed.
 */
public final class SimMain {
  private SimMain() {}

  /** The command line's choices; {@code hashes} is null unless asked for. */
  private record Args(
      long from, long seeds, int threads, int maxFailures, Path hashes, SimOptions options) {}

  public static void main(String[] args) throws java.io.IOException {
    Args a = parse(args);
    if (a == null) {
      return;
    }
    System.out.printf(
        "edgesync simulator: seeds %d..%d%s on %d threads, files in %s%n",
        a.from(),
        a.from() + a.seeds() - 1,
        a.options().files() ? " with file transfers" : "",
        a.threads(),
        a.options().workDir());
    TreeMap<Long, Long> traceHashes = new TreeMap<>();
    Simulator.Summary summary =
        Simulator.runMany(
            a.from(),
            a.seeds(),
            a.threads(),
            a.maxFailures(),
            a.options(),
            progress(a.seeds() == 1, traceHashes));
    System.out.printf(
        Locale.ROOT,
        "%d seeds, %d failed, %.1f s, %.1f seeds/s%n",
        summary.seeds(),
        summary.failures().size(),
        summary.elapsedNanos() / 1e9,
        summary.seedsPerSecond());
    if (a.hashes() != null) {
      writeHashes(a.hashes(), traceHashes);
    }
    StringBuilder counters = new StringBuilder("exercised:");
    for (Map.Entry<String, Long> c : summary.counters().entrySet()) {
      counters.append(' ').append(c.getKey()).append('=').append(c.getValue());
    }
    System.out.println(counters);
    if (!summary.failures().isEmpty()) {
      StringBuilder failed = new StringBuilder("failed seeds:");
      summary.failures().forEach(r -> failed.append(' ').append(r.seed()));
      System.out.println(failed);
      System.exit(1);
    }
  }

  /** The options, or null after printing the usage for {@code --help}; exits on a bad option. */
  private static Args parse(String[] args) {
    long from = 1;
    long seeds = 1_000;
    int threads = Runtime.getRuntime().availableProcessors();
    int maxFailures = 10;
    boolean trace = false;
    Path hashes = null;
    SimOptions options = SimOptions.defaults();
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      switch (a) {
        case "--seeds" -> seeds = Long.parseLong(value(args, ++i, a));
        case "--from" -> from = Long.parseLong(value(args, ++i, a));
        case "--seed" -> {
          from = Long.parseLong(value(args, ++i, a));
          seeds = 1;
        }
        case "--threads" -> threads = Integer.parseInt(value(args, ++i, a));
        case "--max-failures" -> maxFailures = Integer.parseInt(value(args, ++i, a));
        case "--dir" -> options = options.withWorkDir(Path.of(value(args, ++i, a)));
        case "--keep-files" -> options = options.withKeepFiles(true);
        case "--files" -> options = options.withFiles(true);
        case "--nodes" -> options = options.withCloudNodes(Integer.parseInt(value(args, ++i, a)));
        case "--trace" -> trace = true;
        case "--hashes" -> hashes = Path.of(value(args, ++i, a));
        case "-h", "--help" -> {
          usage();
          return null;
        }
        default -> {
          System.err.println("unknown option " + a);
          usage();
          System.exit(2);
        }
      }
    }
    if (trace) {
      options = options.withEcho(System.out);
      threads = 1;
    }
    return new Args(from, seeds, threads, maxFailures, hashes, options);
  }

  /**
   * Called as each seed finishes: records its trace hash, prints a failure's report (or a single
   * seed's pass) and, at most every 10 s, the rate so far.
   */
  private static Consumer<SimResult> progress(boolean single, Map<Long, Long> traceHashes) {
    long started = System.nanoTime();
    AtomicLong lastReport = new AtomicLong(started);
    AtomicLong done = new AtomicLong();
    return r -> {
      long n = done.incrementAndGet();
      synchronized (traceHashes) {
        traceHashes.put(r.seed(), r.traceHash());
      }
      if (!r.passed()) {
        System.out.print(r.report());
      } else if (single) {
        System.out.printf("seed %d passed, trace hash %016x%n", r.seed(), r.traceHash());
      }
      long now = System.nanoTime();
      long last = lastReport.get();
      if (now - last > 10_000_000_000L && lastReport.compareAndSet(last, now)) {
        System.out.printf(
            Locale.ROOT, "%d seeds done, %.1f seeds/s%n", n, n / ((now - started) / 1e9));
      }
    };
  }

  /** Writes "seed trace-hash" per line in seed order. */
  private static void writeHashes(Path file, Map<Long, Long> traceHashes)
      throws java.io.IOException {
    StringBuilder lines = new StringBuilder();
    traceHashes.forEach(
        (seed, hash) -> lines.append(String.format(Locale.ROOT, "%d %016x%n", seed, hash)));
    Files.writeString(file, lines);
    System.out.println("trace hashes of " + traceHashes.size() + " seeds written to " + file);
  }

  private static String value(String[] args, int i, String option) {
    if (i >= args.length) {
      System.err.println(option + " needs a value");
      System.exit(2);
    }
    return args[i];
  }

  private static void usage() {
    System.out.println(
        "usage: java -jar edgesync-sim.jar [--seeds N] [--from S | --seed S] [--threads N]"
            + " [--max-failures N] [--trace] [--hashes FILE] [--dir PATH] [--keep-files] [--files]"
            + " [--nodes N]");
  }
}
