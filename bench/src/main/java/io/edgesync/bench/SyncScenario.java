package io.edgesync.bench;

import io.edgesync.agent.AgentConfig;
import io.edgesync.agent.EdgeAgent;
import io.edgesync.agent.OutboxLimits;
import io.edgesync.agent.internal.outbox.SqliteOutbox;
import io.edgesync.engine.edge.SyncPolicy;
import io.edgesync.protocol.Clock;
import io.edgesync.protocol.codec.CodecSettings;
import io.edgesync.server.ServerConfig;
import io.edgesync.server.SyncServer;
import java.net.URI;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Edge→cloud acknowledged throughput, one device over loopback: {@code records} records are
 * preloaded into the agent's outbox while no agent runs, then the agent is opened against a fresh
 * {@link SyncServer} and the clock runs until the cloud's checkpoint (durably committed there)
 * reaches the last sequence, and then until the agent recorded the ack durably too.
 */
final class SyncScenario {
  static final String STREAM = "sensor_data";

  record Tuning(
      int maxBatchRecords,
      long maxBatchBytes,
      int maxInFlightBatches,
      long inFlightBytes,
      String codec) {
    String describe() {
      return String.format(
          Locale.ROOT,
          "maxBatchRecords %d, maxBatchBytes %s, maxInFlightBatches %d, maxInFlightBytes %s,"
              + " codec %s",
          maxBatchRecords,
          bytes(maxBatchBytes),
          maxInFlightBatches,
          bytes(inFlightBytes),
          codec);
    }

    static Tuning from(Opts o) {
      return new Tuning(
          o.integer("batch-records", 8192),
          o.longValue("batch-bytes", 3L * 1024 * 1024),
          o.integer("in-flight", 4),
          o.longValue("in-flight-bytes", 64L * 1024 * 1024),
          o.string("codec", "auto"));
    }

    SyncPolicy apply(SyncPolicy d) {
      SyncPolicy batched =
          d.withBatching(maxBatchRecords, maxBatchBytes, maxInFlightBatches, inFlightBytes);
      return batched.withBandwidth(batched.bandwidth().withCompression(CodecSettings.parse(codec)));
    }
  }

  record Result(
      long records,
      int recordBytes,
      Tuning tuning,
      double preloadSeconds,
      String chunks,
      double firstAckSeconds,
      double cloudSeconds,
      double edgeSeconds,
      double cloudRecordsPerSecond,
      double edgeRecordsPerSecond,
      double steadyRecordsPerSecond,
      double payloadMbPerSecond,
      double wireMbPerSecond,
      long batches,
      String coresBusy) {}

  static String bytes(long b) {
    if (b % (1024 * 1024) == 0) {
      return (b / (1024 * 1024)) + " MiB";
    }
    if (b % 1024 == 0) {
      return (b / 1024) + " KiB";
    }
    return b + " B";
  }

  /** The agent configuration every scenario uses: a queue big enough for the preload. */
  static AgentConfig agentConfig(String device, URI url, Path dir, Tuning tuning, boolean full) {
    AgentConfig base = AgentConfig.simple(device, url, dir);
    OutboxLimits limits = IngestScenario.limits(full);
    return base.withOutbox(limits).withSync(tuning.apply(base.sync()));
  }

  static Result run(Path dir, Opts o) throws Exception {
    long n = o.longValue("records", 2_000_000);
    int recordBytes = o.integer("record-bytes", 150);
    int preloadCall = o.integer("preload-call", 1024);
    boolean full = o.bool("full-sync", true);
    Tuning tuning = Tuning.from(o);
    String device = "bench-gw-1";
    Path edgeDir = dir.resolve("sync-edge");
    Path cloudDir = dir.resolve("sync-cloud");
    Bench.log(
        String.format(
            Locale.ROOT,
            "sync: %,d records of %d bytes, preload %d records/call; %s; synchronous=%s",
            n,
            recordBytes,
            preloadCall,
            tuning.describe(),
            full ? "FULL" : "NORMAL"));

    long warmupRecords = o.longValue("sync-warmup-records", 200_000);
    try (SyncServer server = SyncServer.start(ServerConfig.defaults(cloudDir).withPort(0))) {
      if (warmupRecords > 0) {
        // Same JVM, same server, another device: JIT-compiles the whole path before measuring.
        Bench.log(
            String.format(
                Locale.ROOT, "  warm-up: %,d records, device bench-gw-warmup", warmupRecords));
        Path warmDir = dir.resolve("sync-warmup-edge");
        AgentConfig warm =
            agentConfig("bench-gw-warmup", URI.create(server.syncUrl()), warmDir, tuning, full);
        preload(warm, warmupRecords, recordBytes, preloadCall);
        long w0 = System.nanoTime();
        try (EdgeAgent agent = EdgeAgent.open(warm)) {
          drain(server, agent, "bench-gw-warmup", warmupRecords, o, false, w0);
        }
      }

      // 1. Preload while no agent runs (the device was offline).
      AgentConfig config = agentConfig(device, URI.create(server.syncUrl()), edgeDir, tuning, full);
      long p0 = System.nanoTime();
      preload(config, n, recordBytes, preloadCall);
      double preloadSecs = (System.nanoTime() - p0) / 1e9;
      String chunks = describeChunks(edgeDir.resolve("edgesync-agent.db"));
      Bench.log(
          String.format(
              Locale.ROOT,
              "  preloaded %,d records in %.1f s (%s records/s); outbox %s",
              n,
              preloadSecs,
              Stats.rate(n / preloadSecs),
              chunks));

      // 2. The agent connects and drains.
      long cpu0 = Stats.processCpuNanos();
      long t0 = System.nanoTime();
      try (EdgeAgent agent = EdgeAgent.open(config)) {
        Drain d = drain(server, agent, device, n, o, true, t0);
        long cpu1 = Stats.processCpuNanos();
        verify(server, device, n);
        var m = agent.metrics();
        double cloudSecs = (d.cloudDone - d.t0) / 1e9;
        double edgeSecs = (d.edgeDone - d.t0) / 1e9;
        double steady = (n - d.cpAtFirstAck) / ((d.cloudDone - d.firstAck) / 1e9);
        Result r =
            new Result(
                n,
                recordBytes,
                tuning,
                preloadSecs,
                chunks,
                (d.firstAck - d.t0) / 1e9,
                cloudSecs,
                edgeSecs,
                n / cloudSecs,
                n / edgeSecs,
                steady,
                n * (double) recordBytes / edgeSecs / 1e6,
                m.bytesSent() / edgeSecs / 1e6,
                m.batchesSent(),
                Stats.coresBusy(cpu0, cpu1, d.edgeDone - d.t0));
        Bench.log(
            String.format(
                Locale.ROOT,
                "sync: %,d records acked in %.2f s (cloud durable) / %.2f s (edge ack durable):"
                    + " %s records/s (after the first ack: %s records/s), %.1f MB/s payload,"
                    + " %.1f MB/s on the wire, %,d batches, first ack after %.3f s; CPU %s cores",
                n,
                cloudSecs,
                edgeSecs,
                Stats.rate(r.edgeRecordsPerSecond()),
                Stats.rate(r.steadyRecordsPerSecond()),
                r.payloadMbPerSecond(),
                r.wireMbPerSecond(),
                r.batches(),
                r.firstAckSeconds(),
                r.coresBusy()));
        return r;
      }
    }
  }

  /** The cloud holds exactly records 1..n of the stream, none dropped. */
  static void verify(SyncServer server, String device, long n) {
    for (var s : server.store().streams(device)) {
      if (s.stream().equals(STREAM)
          && (s.records() != n || s.lastSequence() != n || s.droppedRecords() != 0)) {
        throw new IllegalStateException("cloud holds an unexpected stream state: " + s);
      }
    }
  }

  private record Drain(long t0, long firstAck, long cpAtFirstAck, long cloudDone, long edgeDone) {}

  /**
   * Waits until the cloud's durable checkpoint of {@code device} reaches {@code n}, then until the
   * agent counts {@code n} synced records (its ack committed); times count from {@code t0}, taken
   * just before {@link EdgeAgent#open}.
   */
  private static Drain drain(
      SyncServer server, EdgeAgent agent, String device, long n, Opts o, boolean report, long t0)
      throws InterruptedException {
    long firstAck = -1;
    long cpAtFirstAck = 0;
    long cloudDone;
    long deadline = t0 + (long) (o.seconds("sync-timeout", 180) * 1e9);
    long nextReport = t0 + 1_000_000_000L;
    long lastCp = 0;
    long lastT = t0;
    while (true) {
      long cp = server.store().checkpoints(device).getOrDefault(STREAM, 0L);
      long now = System.nanoTime();
      if (cp > 0 && firstAck < 0) {
        firstAck = now;
        cpAtFirstAck = cp;
      }
      if (cp >= n) {
        cloudDone = now;
        break;
      }
      if (now > deadline) {
        throw new IllegalStateException(
            "cloud checkpoint stuck at " + cp + " of " + n + "; agent " + agent.status());
      }
      if (report && now >= nextReport) {
        Bench.log(
            String.format(
                Locale.ROOT,
                "  ... cloud checkpoint %,d (%s records/s)",
                cp,
                Stats.rate((cp - lastCp) / ((now - lastT) / 1e9))));
        lastCp = cp;
        lastT = now;
        nextReport = now + 1_000_000_000L;
      }
      Thread.sleep(2);
    }
    while (true) {
      long synced = agent.metrics().synced();
      long now = System.nanoTime();
      if (synced >= n) {
        return new Drain(t0, firstAck, cpAtFirstAck, cloudDone, now);
      }
      if (now > deadline) {
        throw new IllegalStateException("agent synced stuck at " + synced + " of " + n);
      }
      Thread.sleep(2);
    }
  }

  /** Appends {@code n} records with a few large calls in flight, then closes the outbox. */
  static void preload(AgentConfig config, long n, int recordBytes, int perCall) throws Exception {
    try (SqliteOutbox outbox =
        new SqliteOutbox(
            config.dataDir().resolve("edgesync-agent.db"),
            config.outbox(),
            config.streamPriorities(),
            config.undeclaredStreamPriority(),
            Clock.SYSTEM)) {
      Payloads payloads = new Payloads(recordBytes, 0);
      Semaphore window = new Semaphore(16);
      AtomicReference<Throwable> failure = new AtomicReference<>();
      long done = 0;
      while (done < n) {
        int k = (int) Math.min(perCall, n - done);
        List<byte[]> call = new ArrayList<>(k);
        for (int i = 0; i < k; i++) {
          call.add(payloads.next());
        }
        window.acquireUninterruptibly();
        CompletableFuture<Long> f = outbox.appendAsync(STREAM, call);
        f.whenComplete(
            (seq, err) -> {
              if (err != null) {
                failure.compareAndSet(null, err);
              }
              window.release();
            });
        done += k;
        if (failure.get() != null) {
          break;
        }
      }
      window.acquireUninterruptibly(16);
      if (failure.get() != null) {
        throw new IllegalStateException("preload failed: " + failure.get(), failure.get());
      }
    }
  }

  /** "N chunks, avg/max records per chunk" of an outbox file (read with a separate connection). */
  static String describeChunks(Path db) {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db.toAbsolutePath());
        Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT count(*), avg(last_seq-first_seq+1), max(last_seq-first_seq+1) FROM"
                    + " chunks")) {
      rs.next();
      return String.format(
          Locale.ROOT,
          "%,d chunks, %.0f records/chunk avg, %d max",
          rs.getLong(1),
          rs.getDouble(2),
          rs.getLong(3));
    } catch (Exception e) {
      return "chunks: " + e.getMessage();
    }
  }
}
