package io.edgesync.bench;

import io.edgesync.agent.AgentConfig;
import io.edgesync.agent.EdgeAgent;
import io.edgesync.agent.OutboxLimits;
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
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

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

  /** The run's settings: records, their size, the preload's call size, fsync, tuning, warm-up. */
  private record Settings(
      long n, int recordBytes, int preloadCall, boolean full, Tuning tuning, long warmupRecords) {
    static Settings from(Opts o) {
      return new Settings(
          o.longValue("records", 2_000_000),
          o.integer("record-bytes", 150),
          o.integer("preload-call", 1024),
          o.bool("full-sync", true),
          Tuning.from(o),
          o.longValue("sync-warmup-records", 200_000));
    }
  }

  static Result run(Path dir, Opts o) throws Exception {
    Settings s = Settings.from(o);
    long n = s.n();
    String device = "bench-gw-1";
    Path edgeDir = dir.resolve("sync-edge");
    Path cloudDir = dir.resolve("sync-cloud");
    Bench.logf(
        "sync: %,d records of %d bytes, preload %d records/call; %s; synchronous=%s",
        n, s.recordBytes(), s.preloadCall(), s.tuning().describe(), s.full() ? "FULL" : "NORMAL");

    try (SyncServer server = SyncServer.start(ServerConfig.defaults(cloudDir).withPort(0))) {
      if (s.warmupRecords() > 0) {
        warmUp(server, dir.resolve("sync-warmup-edge"), s, o);
      }

      // 1. Preload while no agent runs (the device was offline).
      AgentConfig config =
          agentConfig(device, URI.create(server.syncUrl()), edgeDir, s.tuning(), s.full());
      long p0 = System.nanoTime();
      preload(config, n, s.recordBytes(), s.preloadCall());
      double preloadSecs = (System.nanoTime() - p0) / 1e9;
      String chunks = describeChunks(edgeDir.resolve("edgesync-agent.db"));
      Bench.logf(
          "  preloaded %,d records in %.1f s (%s records/s); outbox %s",
          n, preloadSecs, Stats.rate(n / preloadSecs), chunks);

      return connectAndDrain(server, config, device, s, preloadSecs, chunks, o);
    }
  }

  /** Same JVM, same server, another device: JIT-compiles the whole path before measuring. */
  private static void warmUp(SyncServer server, Path warmDir, Settings s, Opts o) throws Exception {
    long warmupRecords = s.warmupRecords();
    Bench.logf("  warm-up: %,d records, device bench-gw-warmup", warmupRecords);
    AgentConfig warm =
        agentConfig("bench-gw-warmup", URI.create(server.syncUrl()), warmDir, s.tuning(), s.full());
    preload(warm, warmupRecords, s.recordBytes(), s.preloadCall());
    long w0 = System.nanoTime();
    try (EdgeAgent agent = EdgeAgent.open(warm)) {
      drain(server, agent, "bench-gw-warmup", warmupRecords, o, false, w0);
    }
  }

  /** 2. The agent connects and drains, timed from just before it opens. */
  private static Result connectAndDrain(
      SyncServer server,
      AgentConfig config,
      String device,
      Settings s,
      double preloadSecs,
      String chunks,
      Opts o)
      throws Exception {
    long n = s.n();
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
              s.recordBytes(),
              s.tuning(),
              preloadSecs,
              chunks,
              (d.firstAck - d.t0) / 1e9,
              cloudSecs,
              edgeSecs,
              n / cloudSecs,
              n / edgeSecs,
              steady,
              n * (double) s.recordBytes() / edgeSecs / 1e6,
              m.bytesSent() / edgeSecs / 1e6,
              m.batchesSent(),
              Stats.coresBusy(cpu0, cpu1, d.edgeDone - d.t0));
      Bench.logf(
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
          r.coresBusy());
      return r;
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
    long deadline = t0 + (long) (o.seconds("sync-timeout", 180) * 1e9);
    Progress progress =
        (cp, now, lastCp, lastT) ->
            Bench.logf(
                "  ... cloud checkpoint %,d (%s records/s)",
                cp, Stats.rate((cp - lastCp) / ((now - lastT) / 1e9)));
    CloudDrain cloud =
        awaitCheckpoint(
            server, agent, device, n, t0, deadline, 1_000_000_000L, report ? progress : null);
    return new Drain(
        t0,
        cloud.firstAckNanos(),
        cloud.checkpointAtFirstAck(),
        cloud.doneNanos(),
        awaitSynced(agent, n, deadline));
  }

  /**
   * What {@link #awaitCheckpoint} saw: when the checkpoint first moved (the first ack) and to what,
   * and when it reached the end.
   */
  record CloudDrain(long firstAckNanos, long checkpointAtFirstAck, long doneNanos) {}

  /** Logs progress: the checkpoint now, and the one and the time of the previous report. */
  interface Progress {
    void report(long cp, long nowNanos, long previousCp, long previousNanos);
  }

  /**
   * Waits until the cloud's durable checkpoint of {@code device}'s stream reaches {@code n},
   * polling every 2 ms and, unless {@code progress} is null, reporting every {@code
   * reportEveryNanos} (the first report compares with checkpoint 0 at {@code t0}).
   */
  static CloudDrain awaitCheckpoint(
      SyncServer server,
      EdgeAgent agent,
      String device,
      long n,
      long t0,
      long deadlineNanos,
      long reportEveryNanos,
      Progress progress)
      throws InterruptedException {
    long firstAck = -1;
    long cpAtFirstAck = 0;
    long nextReport = t0 + reportEveryNanos;
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
        return new CloudDrain(firstAck, cpAtFirstAck, now);
      }
      if (now > deadlineNanos) {
        throw new IllegalStateException(
            "cloud checkpoint stuck at " + cp + " of " + n + "; agent " + agent.status());
      }
      if (progress != null && now >= nextReport) {
        progress.report(cp, now, lastCp, lastT);
        lastCp = cp;
        lastT = now;
        nextReport = now + reportEveryNanos;
      }
      Thread.sleep(2);
    }
  }

  /**
   * Waits until the agent counts {@code n} synced records (its ack committed), polling every 2 ms;
   * returns the time it saw them ({@link System#nanoTime}).
   */
  static long awaitSynced(EdgeAgent agent, long n, long deadlineNanos) throws InterruptedException {
    while (true) {
      long synced = agent.metrics().synced();
      long now = System.nanoTime();
      if (synced >= n) {
        return now;
      }
      if (now > deadlineNanos) {
        throw new IllegalStateException("agent synced stuck at " + synced + " of " + n);
      }
      Thread.sleep(2);
    }
  }

  /** Appends {@code n} records with a few large calls in flight, then closes the outbox. */
  static void preload(AgentConfig config, long n, int recordBytes, int perCall)
      throws SQLException {
    try (OfflineOutbox outbox = new OfflineOutbox(config, Clock.SYSTEM, 16)) {
      Payloads payloads = new Payloads(recordBytes, 0);
      long done = 0;
      while (done < n) {
        int k = (int) Math.min(perCall, n - done);
        List<byte[]> call = new ArrayList<>(k);
        for (int i = 0; i < k; i++) {
          call.add(payloads.next());
        }
        boolean appending = outbox.append(STREAM, call);
        done += k;
        if (!appending) {
          break;
        }
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
