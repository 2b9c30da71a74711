package io.edgesync.bench;

import io.edgesync.agent.AgentMetrics;
import io.edgesync.testing.TempDirs;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * edgesync scenario runners. Usage: {@code java -jar edgesync-bench.jar <scenario> [--key=value
 * ...]}; see {@link #USAGE}. Progress goes to stderr, the result table (Markdown) to stdout.
 */
public final class Bench {
  static final String USAGE =
      """
      usage: java -jar bench/target/edgesync-bench.jar <scenario> [--key=value ...]

      scenarios:
        ingest        durable outbox ingest: async (windowed) then sync (wait per append)
        ingest-async  only the windowed async variant
        ingest-sync   only the one-record-per-call synchronous variant
        sync          preload N records offline, then time edge->cloud acked drain (loopback)
        live          appenders write through the agent while it syncs; end-to-end acked rate
        drain         edge side only: read+acknowledge batches of a preloaded outbox, no network
        fsync         how fast the data directory's disk does write+fdatasync
        codec         batch codecs on generated telemetry: bytes/record at batch 1..1000, speed
        codec-series  series-aware COLUMNAR vs before, per data case (single sensor, 10 sensors,
                      --nodes=100 interleaved), next to zstd -19; sizes and CPU (not in all)
        dict          zstd at batch 1, 10, 100 without and with a dictionary the cloud trained
                      (CloudDictionaries over a real SQLite store) from received telemetry
        docs          cloud side of document sync: edge changes applied per second (embedded
                      store, no network), 10 % of them concurrent and merged
        catchup       a week offline (10 sensors at 1 Hz, 6,048,000 records) drains over loopback
        catchup-throttled  600,000 such records through a link throttled to 1 Mbit/s
        all           fsync, ingest, drain, sync, live, docs (defaults: about 100 s in total)
        storm         reconnect storm over mutual TLS: N devices (own certificates) connect at
                      once to a server pacing admission; full, then resumed TLS handshakes
                      (not in all; docs/benchmarks.md, bench/openssl-s-time.sh for the anchor)
        files         file transfers of a 64 MiB mixed file: delta (small edits, insert, append),
                      no base, 90 % shared; every protocol byte counted, against xdelta3, zstd
                      and rsync when installed (bench/files.sh installs them; not in all)
        files-resume  a seeded random file rolled out by a real server to a real agent through
                      FaultProxy, the link dropped every 5 s until installed, and the same uncut:
                      bytes on the wire both ways, extra %, time, sha256 (not in all)
        files-fair    a priority-1 stream's append→cloud latency while a file crosses a 1 Mbit/s
                      link, as a download and as an upload (not in all)
        fleet         many real device sessions (light devices, one or two selector threads) against
                      a server in its own JVM (or --server URLs): connect + memory per idle
                      session, steady batches (ack latency), fleet document fan-out, restart
                      storm (not in all; docs/benchmarks.md "Fleet (issue 14)")
        export        Kafka export: a SQLite store of N devices x M small records drained by the
                      exactly-once exporter into an in-JVM KRaft broker; records/s (not in all)
        mqtt          MQTT QoS 1 from 10 local publishers: the agent's listener (PUBACK after the
                      outbox commit) against Mosquitto, alternating runs (not in all;
                      docs/benchmarks.md "MQTT ingest (issue 16)")
        fuzz          wire-protocol fuzzer: mutated frames into the decoder and a CloudSession
                      over a real SQLite store; prints inputs/s and every failing input (not in all)
        footprint     the agent as a child process with deploy/jvm/agent.options: RSS, heap,
                      threads idle, under 1,000 records/s, catching up 1,000,000; start-up time
                      (not in all; docs/benchmarks.md "Small agent (issue 16)")

      common options:
        --dir=PATH            where the SQLite files go (default: a new dir under java.io.tmpdir);
                              each scenario uses a fresh subdirectory of it
        --keep                keep the files afterwards
        --node-writes=400     nodes: device documents written (half through each node)
        --threads=8           appender threads (ingest, live)
        --record-bytes=150    JSON record size
        --full-sync=true      outbox durability: true = synchronous=FULL (fsync per commit)
      ingest:
        --window=512          outstanding single-record appends per thread (async)
        --per-call=1          records per appendAsync call (async)
        --warmup=3 --seconds=12            async warm-up and measured seconds
        --sync-per-call=1 --sync-warmup=2 --sync-seconds=8   the synchronous variant
        --encrypt             seal the outbox's chunks with AES-256-GCM (at-rest encryption)
      sync / live:
        --records=2000000     records preloaded (sync)
        --preload-call=1024   records per append call while preloading
        --batch-records=8192 --batch-bytes=3MiB --in-flight=4 --in-flight-bytes=64MiB
        --codec=auto          the agent's codec (auto, none, zstd, zstd:3, columnar, ...)
        --live-warmup=3 --live-seconds=12 --live-window=512 (defaults to --window)
        --sync-warmup-records=200000  drained first by another device on the same server (JIT)
        --sync-timeout=180    give up after this many seconds
      catchup / catchup-throttled (not part of 'all'):
        --catchup-records=6048000 (throttled: 600000)   --sensors=10
        --throttle-kbps=0 (throttled: 1000)   each direction, FaultProxy.throttle on loopback
        --catchup-codec=auto  none|gzip|lzma|zstd|auto[:level]
        --catchup-data=fleet  fleet (--sensors, one call per second) or nodes (--nodes=100 sensor
                              nodes interleaved in arrival order, one call per reading)
        --catchup-series=true  allow COLUMNAR's series coding (false: the codec as before)
        --catchup-adaptive=true  false: no adaptive sync (full batches, level and codec as
                              configured), so the bytes on the wire depend only on the data
        --catchup-warmup=100000 (throttled: 0)  records of another device first (JIT)
        --catchup-verify=true  compare every record in the cloud with the generated one
        --catchup-timeout=600 (throttled: 1800)  seconds
        --batch-records, --batch-bytes, --in-flight, --in-flight-bytes: default the agent's
      codec (no files; not part of 'all'):
        --codec-records=100000  records measured    --codec-seed=1   generator seed
        --dict-bytes=16KiB      trained dictionary size    --lzma-records=10000  for LZMA, zstd -19
        --rounds=5              timed rounds per speed measurement (median reported)
      dict (not part of 'all'):
        --dict-devices=4 --dict-received=20000   devices and records each the cloud received
        --dict-records=20000  records of the first device measured afterwards
        --dict-session-batches=100   ZSTD_STREAM batches per session (a reconnect starts anew)
        --dict-batches=1,10,100      batch sizes measured (at least two)
        --sample-bytes=1MiB --dict-bytes=16KiB   the cloud's server.dictionaries settings
      docs:
        --doc-devices=100 --doc-keys=10000   devices editing that many shared (fleet) documents
        --doc-frame=256       changes per DocChanges frame (one device each, one transaction)
        --doc-warmup-frames=200 --doc-frames=1000   warm-up and measured frames
        --doc-conflict-every=10   every Nth change is concurrent (merged); 0 = none
        --doc-body=patch      patch (merge patches, as the agent sends) or value (whole documents)
        --doc-seed=1
        --doc-sessions=16     frames of different devices in flight at once (group commit)
      storm:
        --devices=2000        devices, each with its own EC P-256 certificate
        --max-sessions-per-s=200 --max-pending-sessions=64   the server's server.admission
        --storm-timeout=120   seconds a phase may take before it is reported incomplete
        --port=0              the server's port (0: a free one; written to DIR/storm/port)
        --serve-seconds=0     keep the server up this long afterwards (for openssl s_time)
        --warmup-devices=200  other devices connect first, in a cold JVM (JIT); reported apart
      files:
        --files-seed=1        seed of the generated file and its edits
        --rounds=3            exchanges per case; timings are the best round's CPU time
      files-resume (full figure: --resume-bytes=256MiB):
        --resume-bytes=32MiB  file size     --cut-every=5   seconds between link drops
        --files-seed=1        --resume-timeout=1800  seconds each transfer may take
        --resume-kbps=0       FaultProxy.throttle each direction (0: loopback speed)
      files-fair (full figure: --fair-bytes=256MiB --fair-seconds=90):
        --fair-bytes=32MiB    file size (it need not complete)
        --fair-kbps=1000      FaultProxy.throttle, each direction
        --fair-every=0.2      seconds between appends to the priority-1 stream
        --fair-seconds=30     measured seconds    --fair-direction=both (download, upload)
      fleet:
        --devices=10000       device sessions (ids fleet-00000...)
        --tls=true            mutual TLS with a certificate per device; false: plain ws:// (insecure,
                              loopback only; results are labelled with the mode)
        --phases=steady,fanout,restart   (connect and the idle memory figure always run; add
                              ceiling to keep adding idle sessions until something gives)
        --ceiling-step=5000 --ceiling-max=100000   sessions added per step, and where to stop;
                              clients bind 127.0.0.1, .2, ... (25,000 each); raise the bench's own
                              limit first (ulimit -n) and the server's with --server-nofile=N
        --steady-seconds=60   --batch-every=10 (s, jittered ±10 %)   --record-bytes=64
        --loops=2             client selector threads   --idle-seconds=5   before the idle figure
        --server-heap=1g      the child server's -Xmx   --server-jvm-opts="-XX:..." more options
        --max-sessions-per-s=500 --max-pending-sessions=512 --max-hello-wait-ms=5000
                              the child server's admission
        --fleet-timeout=180   seconds a phase may take before it is reported incomplete
        --histogram           the server's live-object histogram with N idle sessions (jcmd
                              GC.class_histogram) into DIR/fleet/histogram-idle.txt, top in the log
        --store=sqlite        or postgres: the child server(s) on an embedded PostgreSQL 17.6
                              (the tests' binaries and settings: fsync off)
        --nodes=1             server nodes (child JVMs) on one PostgreSQL store; devices spread
                              over them round-robin; no memory figure with several; the restart
                              phase kills and restarts them all
        --server=wss://h:p/v1/sync[,...]  external servers instead of a child (devices spread
                              round-robin; no memory figure, no restart); with --api-key-file=F
                              (an operator key), --api-url=https://h:p (default: the first server),
                              --ca-dir=D (the CA that signs device certificates and the servers')
      export (goal >= 200,000 records/s):
        --devices=1000 --export-records=1000   records per device (batches of 100 in the store)
        --record-bytes=64     payload size     --export-partitions=6   partitions of the topic
        --export-batch=10000  max_batch_records (records per Kafka transaction)
        --export-timeout=600  seconds
      mqtt (run from the repository's root: the agent is cli/target/edgesync.jar):
        --mqtt-runs=3         runs per broker, alternating mosquitto, agent, mosquitto, ...
        --mqtt-clients=10     publishers, a TCP connection each   --mqtt-sensors=10 topics each
        --mqtt-window=64      QoS 1 messages in flight per client (a list, e.g. 8,64,256, sweeps)
        --mqtt-warmup=5 --mqtt-seconds=20   warm-up and measured seconds per run
        --mqtt-drain-timeout=30   seconds to wait for the PUBACKs still due after the window
        --mqtt-fsync-seconds=2    fdatasync probe of the data dir's disk first (0: none)
        --mqtt-targets=mosquitto,agent   --mqtt-cloud=false  (true: the agent syncs to a local
                              server in its own JVM during the run; default offline)
        --mosquitto=/usr/sbin/mosquitto   --agent-jar=cli/target/edgesync.jar
        --agent-jvm-options=deploy/jvm/agent.options   (none: no options)
      fuzz:
        --inputs=1000000      frames to generate (each also goes to the decoder; every 4th input
                              adds a record-layout input)
        --seed=1              the run's seed: the same seed replays the same inputs
        --inputs-per-store=20000   a fresh SQLite store after this many inputs
        --max-failures=20     failing inputs to print (all are counted; exit status 1 if any)
        (--dir=/dev/shm/x puts the stores in memory: the fuzzer tests logic, not fsync)
      """
          + FootprintScenario.USAGE;

  static final java.util.Set<String> KNOWN =
      java.util.Set.of(
          "dir",
          "keep",
          "threads",
          "record-bytes",
          "full-sync",
          "max-samples",
          "window",
          "encrypt",
          "per-call",
          "warmup",
          "seconds",
          "sync-per-call",
          "sync-warmup",
          "sync-seconds",
          "fsync-seconds",
          "records",
          "preload-call",
          "batch-records",
          "batch-bytes",
          "in-flight",
          "in-flight-bytes",
          "live-warmup",
          "live-seconds",
          "live-window",
          "live-sample-every",
          "sync-timeout",
          "sync-warmup-records",
          "codec-records",
          "codec-seed",
          "dict-bytes",
          "dict-devices",
          "dict-received",
          "dict-records",
          "dict-session-batches",
          "dict-batches",
          "sample-bytes",
          "lzma-records",
          "rounds",
          "doc-devices",
          "doc-keys",
          "doc-frame",
          "doc-warmup-frames",
          "doc-frames",
          "doc-conflict-every",
          "doc-body",
          "doc-seed",
          "doc-sessions",
          "inputs",
          "seed",
          "inputs-per-store",
          "max-failures",
          "catchup-records",
          "sensors",
          "throttle-kbps",
          "catchup-codec",
          "catchup-data",
          "catchup-series",
          "catchup-adaptive",
          "codec",
          "catchup-warmup",
          "catchup-verify",
          "catchup-timeout",
          "devices",
          "node-writes",
          "max-sessions-per-s",
          "max-pending-sessions",
          "max-hello-wait-ms",
          "storm-timeout",
          "port",
          "serve-seconds",
          "warmup-devices",
          "files-seed",
          "resume-bytes",
          "cut-every",
          "resume-timeout",
          "resume-kbps",
          "fair-bytes",
          "fair-kbps",
          "fair-every",
          "fair-seconds",
          "fair-direction",
          "tls",
          "phases",
          "steady-seconds",
          "batch-every",
          "loops",
          "idle-seconds",
          "server-heap",
          "server-jvm-opts",
          "fleet-timeout",
          "server",
          "api-url",
          "api-key-file",
          "ca-dir",
          "histogram",
          "server-nofile",
          "ceiling-step",
          "ceiling-max",
          "store",
          "nodes",
          "export-records",
          "export-partitions",
          "export-batch",
          "export-timeout");

  private Bench() {}

  public static void main(String[] args) throws Exception {
    if (args.length == 0 || args[0].equals("-h") || args[0].equals("--help")) {
      System.out.print(USAGE);
      return;
    }
    String scenario = args[0];
    Opts o;
    try {
      o = new Opts(args, 1);
      o.checkKnown(union(MqttScenario.withOptions(KNOWN), FootprintScenario.OPTIONS));
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      System.exit(2);
      return;
    }
    boolean tempDir = o.string("dir", null) == null;
    Path dir =
        tempDir
            ? Files.createTempDirectory("edgesync-bench-")
            : Files.createDirectories(Path.of(o.string("dir", null)));
    boolean keep = o.bool("keep", false);
    List<String[]> rows = new ArrayList<>();
    PrintStream out = System.out;
    out.println("# edgesync bench: " + scenario);
    out.println();
    out.println(machine(dir));
    out.println();
    try {
      runScenario(scenario, dir, keep, o, out, rows);
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      System.exit(2);
    } finally {
      if (!keep && tempDir) {
        TempDirs.deleteTree(dir);
      } else if (keep) {
        log("files kept in " + dir);
      }
    }
    out.println("| scenario | target | reached | settings |");
    out.println("|---|---|---|---|");
    for (String[] r : rows) {
      out.println("| " + String.join(" | ", r) + " |");
    }
    out.flush();
    // Jetty/HttpClient threads may linger; the run is over.
    System.exit(failed ? 1 : 0);
  }

  /** Runs the named scenario (or all of the main ones), each in a directory of its own. */
  private static void runScenario(
      String scenario, Path dir, boolean keep, Opts o, PrintStream out, List<String[]> rows)
      throws Exception {
    switch (scenario) {
      case "ingest" -> {
        inDir(dir, keep, "ingest-async", d -> ingest(d, o, IngestScenario.Mode.ASYNC, rows));
        inDir(dir, keep, "ingest-sync", d -> ingest(d, o, IngestScenario.Mode.SYNC, rows));
      }
      case "ingest-async" ->
          inDir(dir, keep, "ingest-async", d -> ingest(d, o, IngestScenario.Mode.ASYNC, rows));
      case "ingest-sync" ->
          inDir(dir, keep, "ingest-sync", d -> ingest(d, o, IngestScenario.Mode.SYNC, rows));
      case "sync" -> inDir(dir, keep, "sync", d -> sync(d, o, rows));
      case "live" -> inDir(dir, keep, "live", d -> live(d, o, rows));
      case "fsync" -> inDir(dir, keep, "fsync", d -> fsync(d, o, rows));
      case "drain" -> inDir(dir, keep, "drain", d -> drain(d, o, rows));
      case "codec" -> codec(o, out, rows);
      case "codec-series" -> SeriesScenario.run(o, out);
      case "files" -> inDir(dir, keep, "files", d -> files(d, o, out, rows));
      case "files-resume" -> inDir(dir, keep, "files-resume", d -> filesResume(d, o, out, rows));
      case "files-fair" -> inDir(dir, keep, "files-fair", d -> filesFair(d, o, out, rows));
      case "dict" -> inDir(dir, keep, "dict", d -> dict(d, o, out, rows));
      case "docs" -> inDir(dir, keep, "docs", d -> docs(d, o, rows));
      case "nodes" -> inDir(dir, keep, "nodes", d -> nodes(d, o, rows));
      case "fuzz" -> inDir(dir, keep, "fuzz", d -> failed = !fuzz(d, o, rows));
      case "export" -> inDir(dir, keep, "export", d -> export(d, o, rows));
      case "mqtt" -> inDir(dir, keep, "mqtt", d -> failed = !MqttScenario.report(d, o, out, rows));
      case "storm" -> inDir(dir, keep, "storm", d -> failed = !storm(d, o, rows));
      case "fleet" -> inDir(dir, keep, "fleet", d -> failed = !FleetReport.report(d, o, out, rows));
      case "footprint" ->
          inDir(dir, keep, "footprint", d -> failed = !FootprintScenario.report(d, o, out, rows));
      case "catchup" -> inDir(dir, keep, "catchup", d -> catchup(d, o, false, rows));
      case "catchup-throttled" ->
          inDir(dir, keep, "catchup-throttled", d -> catchup(d, o, true, rows));
      case "all" -> {
        inDir(dir, keep, "fsync", d -> fsync(d, o, rows));
        inDir(dir, keep, "ingest-async", d -> ingest(d, o, IngestScenario.Mode.ASYNC, rows));
        inDir(dir, keep, "ingest-sync", d -> ingest(d, o, IngestScenario.Mode.SYNC, rows));
        inDir(dir, keep, "drain", d -> drain(d, o, rows));
        inDir(dir, keep, "sync", d -> sync(d, o, rows));
        inDir(dir, keep, "live", d -> live(d, o, rows));
        inDir(dir, keep, "docs", d -> docs(d, o, rows));
      }
      default -> {
        System.err.println("unknown scenario '" + scenario + "'\n\n" + USAGE);
        System.exit(2);
      }
    }
  }

  private static java.util.Set<String> union(java.util.Set<String> a, java.util.Set<String> b) {
    java.util.Set<String> u = new java.util.HashSet<>(a);
    u.addAll(b);
    return u;
  }

  /** Runs the storm; false when a phase did not admit every device within its timeout. */
  private static boolean storm(Path dir, Opts o, List<String[]> rows) throws Exception {
    StormScenario.Result r = StormScenario.run(dir, o);
    String settings =
        String.format(
            Locale.ROOT,
            "%,d devices, in-process server on loopback, admission %d sessions/s, %d pending;"
                + " certificates issued in %.1f s",
            r.devices(),
            r.limits().maxSessionsPerS(),
            r.limits().maxPendingSessions(),
            r.issueSeconds());
    List<StormScenario.Phase> phases = new ArrayList<>();
    if (r.warmup() != null) {
      phases.add(r.warmup());
    }
    phases.add(r.full());
    phases.add(r.resumed());
    for (StormScenario.Phase p : phases) {
      rows.add(
          new String[] {
            "storm: " + p.name(),
            p == r.warmup() ? "(cold JVM: not the target)" : "all admitted within 30 s",
            String.format(
                Locale.ROOT,
                "**%s**; first connections open in %.1f s = **%s handshakes/s**; %,d connections"
                    + " (%,d full, %,d resumed handshakes), %,d RETRY_LATER, %,d failed connects",
                p.admittedSeconds() < 0
                    ? p.admitted() + " of " + p.devices() + " admitted (timeout)"
                    : String.format(Locale.ROOT, "all admitted in %.1f s", p.admittedSeconds()),
                p.firstOpenSeconds(),
                Stats.rate(p.firstOpensPerSecond()),
                p.opens(),
                p.fullHandshakes(),
                p.resumedHandshakes(),
                p.retryLater(),
                p.failedConnects()),
            settings
          });
    }
    return r.full().admittedSeconds() >= 0 && r.resumed().admittedSeconds() >= 0;
  }

  private static void export(Path dir, Opts o, List<String[]> rows) throws Exception {
    ExportScenario.Result r = ExportScenario.run(dir, o);
    rows.add(
        new String[] {
          "export: committed records to Kafka, exactly once",
          "≥ 200,000 records/s",
          String.format(
              Locale.ROOT,
              "**%s records/s** after warm-up (%s over the whole drain of %,d records in %.1f s,"
                  + " %,d transactions)",
              Stats.rate(r.steadyRecordsPerSecond()),
              Stats.rate(r.recordsPerSecond()),
              r.records(),
              r.seconds(),
              r.transactions()),
          String.format(
              Locale.ROOT,
              "%,d devices × %,d records of %d bytes (store filled in %.1f s); in-JVM broker,"
                  + " %d partitions; max_batch_records %,d",
              r.devices(),
              r.records() / r.devices(),
              r.recordBytes(),
              r.fillSeconds(),
              r.partitions(),
              r.maxBatchRecords())
        });
  }

  /** Set by a scenario whose run found a problem (fuzz: a failing input). */
  private static boolean failed;

  private static boolean fuzz(Path dir, Opts o, List<String[]> rows) throws Exception {
    long seed = o.longValue("seed", 1);
    long inputs = o.longValue("inputs", 1_000_000);
    log("fuzz: " + String.format(Locale.ROOT, "%,d", inputs) + " inputs, seed " + seed);
    FuzzScenario.Result r =
        FuzzScenario.run(
            seed,
            inputs,
            o.longValue("inputs-per-store", 20_000),
            dir,
            o.integer("max-failures", 20),
            Bench::log);
    rows.add(
        new String[] {
          "fuzz: wire protocol (decoder, record layout, CloudSession over SQLite)",
          "no failing input",
          String.format(
              Locale.ROOT,
              "**%,d inputs, %s inputs/s, %d failing**; %,d frames accepted, %,d refused %s;"
                  + " %,d record layouts; good device %,d batches acked intact",
              r.inputs(),
              Stats.rate(r.inputsPerSecond()),
              r.failureCount(),
              r.accepted(),
              r.refused(),
              r.refusedBy(),
              r.layouts(),
              r.goodBatches()),
          String.format(
              Locale.ROOT,
              "seed %d; %.0f s; %d stores; max frame %d bytes, %d records",
              r.seed(),
              r.seconds(),
              r.stores(),
              FuzzScenario.MAX_FRAME_BYTES,
              FuzzScenario.MAX_RECORDS)
        });
    for (FuzzScenario.Failure f : r.failures()) {
      System.out.println(f.describe());
      System.out.println();
    }
    return r.failureCount() == 0;
  }

  private static void dict(Path d, Opts o, PrintStream out, List<String[]> rows) throws Exception {
    DictScenario.Result r = DictScenario.run(d, o, out);
    rows.add(
        new String[] {
          "dict: ZSTD bytes/record at batch " + r.batchA(),
          "smaller with the cloud's dictionary",
          String.format(
              Locale.ROOT,
              "**%.2f → %.2f B/record** (%.1f× smaller); batch %d: %.2f → %.2f",
              r.zstd1(),
              r.zstdDict1(),
              r.zstd1() / r.zstdDict1(),
              r.batchB(),
              r.zstd10(),
              r.zstdDict10()),
          "seeded telemetry; dictionary trained by CloudDictionaries"
        });
  }

  private static void codec(Opts o, PrintStream out, List<String[]> rows) throws Exception {
    CodecScenario.Result r = CodecScenario.run(o, out);
    String settings =
        String.format(
            Locale.ROOT,
            "%,d generated telemetry records of %.1f B JSON; entropy %.2f B/record",
            r.records(),
            r.rawJsonBytesPerRecord(),
            r.entropyBytesPerRecord());
    double[] a = r.autoBytes();
    rows.add(
        new String[] {
          "codec: bytes/record at batch 1,000",
          "≤ 4.0 B/record",
          String.format(
              Locale.ROOT, "**%.2f B/record** (COLUMNAR); auto %.2f", r.columnar1000(), a[3]),
          settings
        });
    rows.add(
        new String[] {
          "codec: bytes/record at batch 1",
          "≤ 20 B/record",
          String.format(
              Locale.ROOT, "**%.2f B/record** (%s); auto %.2f", r.best1(), r.best1Label(), a[0]),
          settings
        });
    rows.add(
        new String[] {
          "codec: encode + decode, one core",
          "≥ 1,000,000 records/s",
          String.format(
              Locale.ROOT,
              "**%s records/s** (%s)",
              Stats.rate(r.throughput()),
              r.throughputLabel()),
          "batches of 1,000; CPU time of the one thread; median of the rounds"
        });
    logf("codec scenario took %.1f s", r.seconds());
  }

  private static void files(Path dir, Opts o, PrintStream out, List<String[]> rows)
      throws Exception {
    FilesScenario.Result r = FilesScenario.run(dir, o, out);
    out.println("Tools: " + r.tools() + "; seed " + r.seed());
    out.println();
    out.println(
        "| case | ours, bytes on the wire | xdelta3 -9 | zstd -3 --patch-from | rsync -z batch"
            + " | zstd -3 | ours ÷ anchor (goal) | encode, ms CPU per 64 MiB"
            + " | apply, ms CPU per 64 MiB |");
    out.println("|---|---|---|---|---|---|---|---|---|");
    for (FilesScenario.CaseResult c : r.cases()) {
      out.println(
          String.format(
              Locale.ROOT,
              "| %s | **%,d** | %s | %s | %s | %s | %s | %.0f (wall %.0f) | %.0f (wall %.0f) |",
              c.kind().label,
              c.ours().wireBytes(),
              bytes(c.xdelta3()),
              bytes(c.zstdPatch()),
              bytes(c.rsync()),
              bytes(c.zstd3()),
              ratio(c),
              c.perFile(c.bestEncodeCpuNanos()),
              c.perFile(c.bestEncodeWallNanos()),
              c.perFile(c.bestApplyCpuNanos()),
              c.perFile(c.bestApplyWallNanos())));
    }
    out.println();
    out.println(
        "| case | frames | bytes by kind | of which ChunkPack.base | packs | chunks sent of all"
            + " | raw bytes sent |");
    out.println("|---|---|---|---|---|---|---|");
    for (FilesScenario.CaseResult c : r.cases()) {
      FilesExchange.Result e = c.ours();
      out.println(
          String.format(
              Locale.ROOT,
              "| %s | %d | %s | %,d | %s | %,d of %,d | %,d of %,d |",
              c.kind().label,
              e.frames(),
              e.bytesByKind(),
              e.baseRangeBytes(),
              e.packs(),
              e.sentChunks(),
              e.chunks(),
              e.sentRawBytes(),
              c.targetBytes()));
    }
    out.println();
    for (FilesScenario.CaseResult c : r.cases()) {
      rows.add(
          new String[] {
            "files: " + c.kind().label,
            goal(c),
            String.format(
                Locale.ROOT,
                "**%,d bytes** (%s); encode %.0f ms, apply %.0f ms CPU per 64 MiB",
                c.ours().wireBytes(),
                ratio(c),
                c.perFile(c.bestEncodeCpuNanos()),
                c.perFile(c.bestApplyCpuNanos())),
            "seed " + r.seed() + "; every frame of the exchange, both directions"
          });
    }
  }

  private static void filesResume(Path dir, Opts o, PrintStream out, List<String[]> rows)
      throws Exception {
    logf("load before: %s", loadAverage());
    FilesLinkScenario.ResumeResult r = FilesLinkScenario.resume(dir, o);
    logf("load after: %s", loadAverage());
    out.println(
        "| transfer | file bytes | bytes up | bytes down | on the wire | extra | cuts"
            + " | connections | seconds | sha256 |");
    out.println("|---|---|---|---|---|---|---|---|---|---|");
    for (FilesLinkScenario.Transfer t : List.of(r.uncut(), r.cut())) {
      out.println(
          String.format(
              Locale.ROOT,
              "| %s | %,d | %,d | %,d | **%,d** | %s | %d | %d | %.1f | %s |",
              t.name(),
              t.fileBytes(),
              t.up(),
              t.down(),
              t.wire(),
              t == r.cut() ? String.format(Locale.ROOT, "%+.3f %%", r.extraPercent()) : "-",
              t.cuts(),
              t.connections(),
              t.seconds(),
              t.sha256Matches() ? "matches" : "DIFFERS"));
    }
    out.println();
    boolean ok = r.cut().sha256Matches() && r.uncut().sha256Matches();
    failed |= !ok;
    rows.add(
        new String[] {
          "files-resume",
          "≤ 1 % extra bytes, completes",
          String.format(
              Locale.ROOT,
              "**%+.3f %%** (%s); %,d vs %,d bytes both ways, %d cuts, %.1f s vs %.1f s, sha256 %s",
              r.extraPercent(),
              r.extraPercent() <= 1.0 ? "met" : "NOT met",
              r.cut().wire(),
              r.uncut().wire(),
              r.cut().cuts(),
              r.cut().seconds(),
              r.uncut().seconds(),
              ok ? "matches" : "DIFFERS"),
          String.format(
              Locale.ROOT,
              "%,d bytes seeded random (seed %d), link dropped every %d ms, %s",
              r.cut().fileBytes(),
              r.seed(),
              r.cutEveryMs(),
              r.kbps() > 0 ? r.kbps() + " kbit/s each way" : "loopback unthrottled")
        });
  }

  private static void filesFair(Path dir, Opts o, PrintStream out, List<String[]> rows)
      throws Exception {
    String which = o.string("fair-direction", "both");
    if (!List.of("both", "download", "upload").contains(which)) {
      throw new IllegalArgumentException(
          "--fair-direction: one of both, download, upload; was '" + which + "'");
    }
    List<FilesFairness.Result> results = new ArrayList<>();
    for (boolean upload : new boolean[] {false, true}) {
      if (which.equals("both") || which.equals(upload ? "upload" : "download")) {
        logf("load before: %s", loadAverage());
        results.add(FilesFairness.run(dir.resolve(upload ? "upload" : "download"), o, upload));
        logf("load after: %s", loadAverage());
      }
    }
    out.println(
        "| file transfer | p1 records committed | p50 ms | p99 ms | max ms | the file's direction, kbit/s meanwhile"
            + " | link kbit/s each way |");
    out.println("|---|---|---|---|---|---|---|");
    for (FilesFairness.Result r : results) {
      out.println(
          String.format(
              Locale.ROOT,
              "| %s | %d of %d | %.0f | %.0f | %.0f | %.0f | %d |",
              r.direction(),
              r.committed(),
              r.appended(),
              r.latency().p50Ms(),
              r.latency().p99Ms(),
              r.latency().maxMs(),
              r.fileKbps(),
              r.kbps()));
      rows.add(
          new String[] {
            "files-fair: " + r.direction(),
            "p1 append→cloud < 2 s",
            String.format(
                Locale.ROOT,
                "**p99 %.0f ms** (%s), p50 %.0f, max %.0f ms; file at %.0f kbit/s meanwhile",
                r.latency().p99Ms(),
                r.latency().maxMs() < 2_000 && r.committed() == r.appended() ? "met" : "NOT met",
                r.latency().p50Ms(),
                r.latency().maxMs(),
                r.fileKbps()),
            String.format(
                Locale.ROOT,
                "%,d-byte random file, %d kbit/s each way, a record every %d ms for %.0f s",
                r.fileBytes(),
                r.kbps(),
                r.everyMs(),
                r.seconds())
          });
    }
    out.println();
  }

  /** The 1, 5 and 15 minute load averages (the machine is shared). */
  private static String loadAverage() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).trim();
    } catch (IOException e) {
      return "unknown";
    }
  }

  private static String bytes(long n) {
    return n < 0 ? "-" : String.format(Locale.ROOT, "%,d", n);
  }

  private static String goal(FilesScenario.CaseResult c) {
    return switch (c.kind()) {
      case NO_BASE -> "≤ 1.05× zstd -3";
      case SHARED -> "≤ 15 % of the file";
      default -> String.format(Locale.ROOT, "≤ %.1f× xdelta3", c.kind().goal);
    };
  }

  private static String ratio(FilesScenario.CaseResult c) {
    double x = c.ratio();
    if (Double.isNaN(x)) {
      return "no anchor";
    }
    boolean met = x <= c.kind().goal;
    String v =
        c.kind() == FilesScenario.Kind.SHARED
            ? String.format(Locale.ROOT, "%.1f %%", 100 * x)
            : String.format(Locale.ROOT, "%.2f×", x);
    return v + (met ? " met" : " NOT met") + " (" + goal(c) + ")";
  }

  private static void catchup(Path dir, Opts o, boolean throttled, List<String[]> rows)
      throws Exception {
    CatchupScenario.Result r = CatchupScenario.run(dir, o, throttled);
    AgentMetrics m = r.metrics();
    rows.add(
        new String[] {
          r.throttleKbps() > 0
              ? String.format(Locale.ROOT, "catch-up through %,d kbit/s", r.throttleKbps())
              : "catch-up over loopback",
          r.throttleKbps() > 0 ? "report bytes/record and drain time" : "≤ 60 s",
          String.format(
              Locale.ROOT,
              "**%.1f s** (%s records/s; cloud durable at %.1f s); **%.2f B/record** in batch"
                  + " frames (ratio %.1f), %.2f B/record of TCP upstream (WebSocket and"
                  + " handshake included), %.3f B/record downstream; **%.2f B/record on the wire"
                  + " both ways**; every record %s; CPU %s of %d cores",
              r.edgeSeconds(),
              Stats.rate(r.recordsPerSecond()),
              r.cloudSeconds(),
              (double) m.batchFrameBytes() / r.records(),
              m.compressionRatio(),
              (double) r.tcpUp() / r.records(),
              (double) r.tcpDown() / r.records(),
              (double) (r.tcpUp() + r.tcpDown()) / r.records(),
              r.verified() ? "verified in the cloud" : "NOT verified",
              r.coresBusy(),
              Runtime.getRuntime().availableProcessors()),
          String.format(
              Locale.ROOT,
              "%,d records (%d sensors, 1 Hz), preloaded in %.1f s; codec %s (in use: %s,"
                  + " level %d); %,d batches; link estimate %d kbit/s; cloud database %,d MB"
                  + " (records stored decoded)",
              r.records(),
              r.sensors(),
              r.preloadSeconds(),
              r.codec(),
              r.bandwidth().codec(),
              r.bandwidth().level(),
              m.batchesSent(),
              r.bandwidth().bandwidthKbps(),
              r.cloudDbBytes() / 1_000_000)
        });
  }

  private static void fsync(Path dir, Opts o, List<String[]> rows) throws Exception {
    FsyncProbe.Result r = FsyncProbe.run(dir, o.seconds("fsync-seconds", 2));
    rows.add(
        new String[] {
          "disk: write 4 KiB + fdatasync",
          "-",
          Stats.rate(r.fsyncsPerSecond()) + " /s; " + r.latency(),
          "single thread"
        });
  }

  private static void ingest(Path dir, Opts o, IngestScenario.Mode mode, List<String[]> rows)
      throws Exception {
    IngestScenario.Settings s = IngestScenario.settings(o, mode);
    IngestScenario.Result r = IngestScenario.run(dir, s);
    rows.add(
        new String[] {
          mode == IngestScenario.Mode.ASYNC ? "ingest, async window" : "ingest, sync per record",
          mode == IngestScenario.Mode.ASYNC ? "≥ 150,000 records/s" : "(reference)",
          String.format(
              Locale.ROOT,
              "**%s records/s** (%.1f MB/s); append latency %s; errors %d; CPU %s of %d cores",
              Stats.rate(r.recordsPerSecond()),
              r.mbPerSecond(),
              r.latency(),
              r.errors(),
              r.coresBusy(),
              Runtime.getRuntime().availableProcessors()),
          s.describe() + String.format(Locale.ROOT, "; %.0f s measured", r.seconds())
        });
  }

  private static void drain(Path dir, Opts o, List<String[]> rows) throws Exception {
    DrainScenario.Result r = DrainScenario.run(dir, o);
    rows.add(
        new String[] {
          "edge outbox drain (read + acknowledge, no network)",
          "(ceiling for sync)",
          String.format(
              Locale.ROOT,
              "**%s records/s**; read %.2f s, acknowledge %.2f s in total; first half %s;"
                  + " second half %s",
              Stats.rate(r.recordsPerSecond()),
              r.readSeconds(),
              r.ackSeconds(),
              r.firstHalf(),
              r.secondHalf()),
          String.format(Locale.ROOT, "%,d records", r.records())
        });
  }

  private static void sync(Path dir, Opts o, List<String[]> rows) throws Exception {
    SyncScenario.Result r = SyncScenario.run(dir, o);
    rows.add(
        new String[] {
          "edge→cloud acked, preloaded backlog",
          "≥ 220,000 records/s",
          String.format(
              Locale.ROOT,
              "**%s records/s** (edge ack durable; cloud durable: %s records/s; after the first"
                  + " ack, %.2f s in: %s records/s), %.1f MB/s payload, %.1f MB/s wire; %,d"
                  + " records in %.2f s; CPU %s of %d cores",
              Stats.rate(r.edgeRecordsPerSecond()),
              Stats.rate(r.cloudRecordsPerSecond()),
              r.firstAckSeconds(),
              Stats.rate(r.steadyRecordsPerSecond()),
              r.payloadMbPerSecond(),
              r.wireMbPerSecond(),
              r.records(),
              r.edgeSeconds(),
              r.coresBusy(),
              Runtime.getRuntime().availableProcessors()),
          String.format(
              Locale.ROOT,
              "%s; %d-byte records; outbox %s; %,d batches",
              r.tuning().describe(),
              r.recordBytes(),
              r.chunks(),
              r.batches())
        });
  }

  private static void live(Path dir, Opts o, List<String[]> rows) throws Exception {
    LiveScenario.Result r = LiveScenario.run(dir, o);
    rows.add(
        new String[] {
          "edge→cloud acked, live appends",
          "(reference)",
          String.format(
              Locale.ROOT,
              "**%s records/s acked** while appending %s records/s; backlog at stop %,d (drained"
                  + " in %.1f s); append→cloud latency %s; CPU %s of %d cores",
              Stats.rate(r.ackedPerSecond()),
              Stats.rate(r.appendedPerSecond()),
              r.backlogAtEnd(),
              r.drainSeconds(),
              r.endToEnd(),
              r.coresBusy(),
              Runtime.getRuntime().availableProcessors()),
          String.format(
              Locale.ROOT,
              "%d threads, window %d; %s",
              r.threads(),
              r.window(),
              r.tuning().describe())
        });
  }

  private static void nodes(Path dir, Opts o, List<String[]> rows) throws Exception {
    NodesScenario.Result r = NodesScenario.run(dir, o);
    rows.add(
        new String[] {
          "cloud: a device document written through another node than the device's",
          "p99 ≤ 250 ms more than through the device's own node",
          String.format(
              Locale.ROOT,
              "**p99 %s%s ms** (other node: %s; same node: %s)",
              r.otherNode().p99Ms() >= r.sameNode().p99Ms() ? "+" : "",
              Stats.num(r.otherNode().p99Ms() - r.sameNode().p99Ms()),
              r.otherNode(),
              r.sameNode()),
          String.format(
              Locale.ROOT,
              "2 nodes in one JVM on the embedded PostgreSQL, %d agents on one node; writes"
                  + " alternate between the nodes; from sending the REST write to the agent's"
                  + " watcher",
              r.devices())
        });
  }

  private static void docs(Path dir, Opts o, List<String[]> rows) throws Exception {
    DocsScenario.Result r = DocsScenario.run(dir, o);
    rows.add(
        new String[] {
          "cloud: document changes applied (embedded store)",
          "≥ 50,000 changes/s",
          String.format(
              Locale.ROOT,
              "**%s changes/s**, %s conflicts/s merged (%,d changes, %,d conflicts in %.2f s);"
                  + " per frame %s; CPU %s of %d cores (%s changes per CPU-second; %s per"
                  + " CPU-second of the store's writer thread)",
              Stats.rate(r.changesPerSecond()),
              Stats.rate(r.conflictsPerSecond()),
              r.changes(),
              r.conflicts(),
              r.seconds(),
              r.perFrame(),
              r.coresBusy(),
              Runtime.getRuntime().availableProcessors(),
              Stats.rate(r.changesPerCpuSecond()),
              Stats.rate(r.writerChangesPerCpuSecond())),
          String.format(
              Locale.ROOT,
              "%s; documents of %d bytes on average; database %.1f MB at the end",
              r.settings().describe(),
              r.avgDocBytes(),
              r.dbBytes() / 1e6)
        });
  }

  private interface Step {
    void run(Path dir) throws Exception;
  }

  /** Runs one scenario in its own fresh subdirectory, removed afterwards unless kept. */
  private static void inDir(Path root, boolean keep, String name, Step step) throws Exception {
    Path d = root.resolve(name);
    TempDirs.deleteTree(d);
    Files.createDirectories(d);
    try {
      step.run(d);
    } finally {
      if (!keep) {
        TempDirs.deleteTree(d);
      }
    }
  }

  static String machine(Path dir) {
    StringBuilder b = new StringBuilder();
    b.append("- CPUs available to the JVM: ")
        .append(Runtime.getRuntime().availableProcessors())
        .append('\n');
    b.append("- Java: ")
        .append(System.getProperty("java.vm.name"))
        .append(' ')
        .append(System.getProperty("java.runtime.version"))
        .append(", max heap ")
        .append(Runtime.getRuntime().maxMemory() / (1024 * 1024))
        .append(" MiB\n");
    b.append("- OS: ")
        .append(System.getProperty("os.name"))
        .append(' ')
        .append(System.getProperty("os.version"))
        .append(' ')
        .append(System.getProperty("os.arch"))
        .append('\n');
    try {
      FileStore fs = Files.getFileStore(dir);
      b.append("- data dir: ")
          .append(dir)
          .append(" on ")
          .append(fs.name())
          .append(" (")
          .append(fs.type())
          .append(')');
    } catch (IOException e) {
      b.append("- data dir: ").append(dir);
    }
    return b.toString();
  }

  /** {@link #log} of {@code String.format(Locale.ROOT, format, args)}. */
  static void logf(String format, Object... args) {
    log(String.format(Locale.ROOT, format, args));
  }

  static void log(String message) {
    System.err.println(
        LocalTime.now().format(DateTimeFormatter.ofPattern("HH:mm:ss", Locale.ROOT))
            + " "
            + message);
  }
}
