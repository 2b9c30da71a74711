package io.edgesync.bench;

import io.edgesync.agent.AgentConfig;
import io.edgesync.agent.AgentMetrics;
import io.edgesync.agent.AgentStatus;
import io.edgesync.agent.EdgeAgent;
import io.edgesync.agent.OutboxLimits;
import io.edgesync.engine.edge.SyncPolicy;
import io.edgesync.engine.link.BandwidthPolicy;
import io.edgesync.protocol.Clock;
import io.edgesync.protocol.Record;
import io.edgesync.protocol.codec.CodecSettings;
import io.edgesync.server.ServerConfig;
import io.edgesync.server.SyncServer;
import io.edgesync.testing.FaultProxy;
import io.edgesync.testing.FaultProxy.Direction;
import java.net.URI;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Catch-up after an outage: a gateway with 10 sensors read once a second was offline for a week, so
 * its outbox holds about 6 million telemetry records (generated like the codec benchmark's, {@link
 * TelemetryData.Fleet}). The agent then connects — through {@link FaultProxy} on loopback, which
 * counts the TCP bytes and can throttle the link (its token bucket, {@code --throttle-kbps} each
 * way) — and the runner times until the cloud has committed every record and the agent has recorded
 * the last ack. Afterwards every record in the cloud is compared with the generated one (payload
 * and origin time).
 *
 * <p>Settings are the agent's defaults (codec {@code auto}, adaptive sync on, batches of up to
 * 8,192 records / 3 MiB, 8 in flight), except a queue large enough for the backlog and {@code
 * max_offline_hours} of 10 days: the default 168 h is exactly a week, and the oldest records would
 * expire while the backlog drains.
 */
final class CatchupScenario {
  static final String STREAM = "sensor_data";
  static final String DEVICE = "edge-gw-0042";

  record Result(
      long records,
      int sensors,
      String codec,
      long throttleKbps,
      double preloadSeconds,
      double cloudSeconds,
      double edgeSeconds,
      AgentMetrics metrics,
      AgentStatus.BandwidthView bandwidth,
      long tcpUp,
      long tcpDown,
      String coresBusy,
      boolean verified,
      long cloudDbBytes) {
    double recordsPerSecond() {
      return records / edgeSeconds;
    }
  }

  /** The clock the preload's appends are stamped with: the time the readings were taken. */
  private static final class DataClock implements Clock {
    volatile long ms;

    @Override
    public long nowMs() {
      return ms;
    }
  }

  /** The run's settings, from the options and the preset. */
  private record Settings(
      boolean interleaved,
      int sensors,
      long seconds,
      long n,
      long throttleKbps,
      String codecSpec,
      CodecSettings codec,
      long warmup,
      boolean verify,
      long timeoutSeconds,
      long seed) {
    static Settings from(Opts o, boolean throttledPreset) {
      String data = o.string("catchup-data", "fleet");
      if (!data.equals("fleet") && !data.equals("nodes")) {
        throw new IllegalArgumentException("--catchup-data must be fleet or nodes, was " + data);
      }
      boolean interleaved = data.equals("nodes");
      int sensors = interleaved ? o.integer("nodes", 100) : o.integer("sensors", 10);
      long records =
          o.longValue("catchup-records", throttledPreset ? 600_000 : 10L * 7 * 24 * 3600);
      long seconds = (records + sensors - 1) / sensors;
      long throttleKbps = o.longValue("throttle-kbps", throttledPreset ? 1_000 : 0);
      String codecSpec = o.string("catchup-codec", "auto");
      CodecSettings codec = CodecSettings.parse(codecSpec);
      if (!o.bool("catchup-series", true)) {
        codec = codec.withColumnarSeries(false);
        codecSpec += " (series off)";
      }
      return new Settings(
          interleaved,
          sensors,
          seconds,
          interleaved ? records : seconds * sensors,
          throttleKbps,
          codecSpec,
          codec,
          o.longValue("catchup-warmup", throttleKbps > 0 ? 0 : 100_000),
          o.bool("catchup-verify", true),
          (long) o.seconds("catchup-timeout", throttleKbps > 0 ? 1_800 : 600),
          o.longValue("codec-seed", 1));
    }
  }

  static Result run(Path dir, Opts o, boolean throttledPreset) throws Exception {
    Settings s = Settings.from(o, throttledPreset);
    Bench.logf(
        "catchup: %,d records (%d %s x %,d s), codec %s, link %s",
        s.n(),
        s.sensors(),
        s.interleaved() ? "nodes interleaved" : "sensors",
        s.seconds(),
        s.codecSpec(),
        s.throttleKbps() > 0 ? s.throttleKbps() + " kbit/s each way" : "loopback, unthrottled");

    try (SyncServer server =
            SyncServer.start(ServerConfig.defaults(dir.resolve("cloud")).withPort(0));
        FaultProxy proxy = FaultProxy.start("127.0.0.1", server.port(), s.seed())) {
      if (s.throttleKbps() > 0) {
        proxy.throttle(Direction.UPSTREAM, s.throttleKbps() * 1000);
        proxy.throttle(Direction.DOWNSTREAM, s.throttleKbps() * 1000);
      }
      URI url = URI.create("ws://127.0.0.1:" + proxy.port() + "/v1/sync");
      if (s.warmup() > 0) {
        warmUp(server, url, dir.resolve("warmup"), s, o);
      }
      Offline offline = weekOffline(proxy, url, dir.resolve("edge"), s, o);
      return backOnline(server, proxy, offline, s, dir.resolve("cloud"));
    }
  }

  /** Another device through the same server and proxy: the JIT compiles the whole path. */
  private static void warmUp(SyncServer server, URI url, Path dir, Settings s, Opts o)
      throws Exception {
    long warmup = s.warmup();
    int sensors = s.sensors();
    Bench.logf("  warm-up: %,d records of another device", warmup);
    AgentConfig w = config("bench-warmup", url, dir, s.codec(), o);
    long startMs = System.currentTimeMillis() - (warmup / sensors) * 1000;
    long n = (warmup / sensors) * sensors;
    if (s.interleaved()) {
      preloadNodes(w, nodes(s, s.seed() + 99, n, startMs));
    } else {
      preload(w, warmup / sensors, sensors, s.seed() + 99, startMs);
    }
    try (EdgeAgent a = EdgeAgent.open(w)) {
      waitDrained(server, a, "bench-warmup", n, 300, false);
    }
  }

  /**
   * The preloaded device: its config, when its readings start, how long the preload took, and the
   * proxy's byte counts before it connects.
   */
  private record Offline(
      AgentConfig config, long startMs, double preloadSeconds, long upBefore, long downBefore) {}

  /** 1. The week offline: the outbox fills while no agent runs. */
  private static Offline weekOffline(FaultProxy proxy, URI url, Path dir, Settings s, Opts o)
      throws SQLException {
    long upBefore = proxy.bytes(Direction.UPSTREAM);
    long downBefore = proxy.bytes(Direction.DOWNSTREAM);
    AgentConfig config = config(DEVICE, url, dir, s.codec(), o);
    long startMs = System.currentTimeMillis() - s.seconds() * 1000 - 3_600_000;
    long p0 = System.nanoTime();
    if (s.interleaved()) {
      preloadNodes(config, nodes(s, s.seed(), s.n(), startMs));
    } else {
      preload(config, s.seconds(), s.sensors(), s.seed(), startMs);
    }
    double preloadSeconds = (System.nanoTime() - p0) / 1e9;
    Bench.logf(
        "  preloaded %,d records in %.1f s (%s records/s); %s",
        s.n(),
        preloadSeconds,
        Stats.rate(s.n() / preloadSeconds),
        SyncScenario.describeChunks(config.dataDir().resolve("edgesync-agent.db")));
    return new Offline(config, startMs, preloadSeconds, upBefore, downBefore);
  }

  /** 2. Back online: drain, timed from just before the agent opens; then verify. */
  private static Result backOnline(
      SyncServer server, FaultProxy proxy, Offline offline, Settings s, Path cloudDir)
      throws Exception {
    long n = s.n();
    long cpu0 = Stats.processCpuNanos();
    long t0 = System.nanoTime();
    try (EdgeAgent agent = EdgeAgent.open(offline.config())) {
      Drained done = waitDrained(server, agent, DEVICE, n, s.timeoutSeconds(), true);
      long cpu1 = Stats.processCpuNanos();
      double cloudSeconds = (done.cloudNanos() - t0) / 1e9;
      double edgeSeconds = (done.edgeNanos() - t0) / 1e9;
      AgentMetrics m = agent.metrics();
      AgentStatus status = agent.status();
      long up = proxy.bytes(Direction.UPSTREAM) - offline.upBefore();
      long down = proxy.bytes(Direction.DOWNSTREAM) - offline.downBefore();
      Bench.logf(
          "catchup: %,d records in %.2f s (cloud durable) / %.2f s (edge ack durable):"
              + " %s records/s; %.3f B/record in batch frames, %.3f B/record of TCP"
              + " upstream; ratio %.1f; link %d kbit/s, level %d; %,d batches; encoding %s",
          n,
          cloudSeconds,
          edgeSeconds,
          Stats.rate(n / edgeSeconds),
          (double) m.batchFrameBytes() / n,
          (double) up / n,
          m.compressionRatio(),
          status.bandwidth().bandwidthKbps(),
          status.bandwidth().level(),
          m.batchesSent(),
          status.bandwidth().encoding());
      boolean verified =
          s.verify()
              && (s.interleaved()
                  ? verifyNodes(server, nodes(s, s.seed(), n, offline.startMs()))
                  : verify(server, n, s.sensors(), s.seed(), offline.startMs()));
      return new Result(
          n,
          s.sensors(),
          s.codecSpec(),
          s.throttleKbps(),
          offline.preloadSeconds(),
          cloudSeconds,
          edgeSeconds,
          m,
          status.bandwidth(),
          up,
          down,
          Stats.coresBusy(cpu0, cpu1, done.edgeNanos() - t0),
          verified,
          dbBytes(cloudDir));
    }
  }

  /** Bytes of the SQLite files (database and WAL) in a directory. */
  private static long dbBytes(Path dir) {
    long total = 0;
    try (java.util.stream.Stream<Path> files = java.nio.file.Files.list(dir)) {
      for (Path f : files.toList()) {
        total += java.nio.file.Files.size(f);
      }
    } catch (java.io.IOException e) {
      return -1;
    }
    return total;
  }

  private static AgentConfig config(String device, URI url, Path dir, CodecSettings codec, Opts o) {
    AgentConfig base = AgentConfig.simple(device, url, dir);
    OutboxLimits limits =
        IngestScenario.limits(o.bool("full-sync", true)).withAge(10L * 24 * 3_600_000, 60_000);
    SyncPolicy sync = base.sync();
    sync =
        sync.withBatching(
            o.integer("batch-records", sync.maxBatchRecords()),
            o.longValue("batch-bytes", sync.maxBatchBytes()),
            o.integer("in-flight", sync.maxInFlightBatches()),
            o.longValue("in-flight-bytes", sync.maxInFlightBytes()));
    BandwidthPolicy b = sync.bandwidth().withCompression(codec);
    if (!o.bool("catchup-adaptive", true)) {
      // No level changes, batch sizing or codec governor: the bytes depend only on the data.
      b = b.withAdaptive(false, b.minBandwidthKbps(), b.lowBandwidthMaxPriority());
    }
    return base.withOutbox(limits).withSync(sync.withBandwidth(b));
  }

  /**
   * Appends {@code seconds} seconds of readings, one call per second (all sensors), stamped with
   * the time the readings were taken plus 0-2 ms, with up to 256 calls in flight.
   */
  private static void preload(
      AgentConfig config, long seconds, int sensors, long seed, long startMs) throws SQLException {
    DataClock clock = new DataClock();
    clock.ms = startMs;
    TelemetryData.Fleet fleet = new TelemetryData.Fleet(seed, sensors, startMs, DEVICE);
    Random jitter = new Random(seed);
    try (OfflineOutbox outbox = new OfflineOutbox(config, clock, 256)) {
      for (long k = 0; k < seconds; k++) {
        List<byte[]> readings = fleet.second(k);
        clock.ms = startMs + k * 1000 + jitter.nextInt(3);
        if (!outbox.append(STREAM, readings)) {
          break;
        }
      }
    }
  }

  /**
   * The interleaved readings of {@code --nodes} sensor nodes ({@link TelemetryData#interleaved}).
   */
  private static List<Record> nodes(Settings s, long seed, long n, long startMs) {
    return TelemetryData.interleaved(seed, s.sensors(), (int) n, startMs, DEVICE);
  }

  /**
   * Appends the readings one call each, in arrival order, each stamped with its own origin time
   * (the gateway appends each reading as it arrives), with up to 256 calls in flight.
   */
  private static void preloadNodes(AgentConfig config, List<Record> records) throws SQLException {
    DataClock clock = new DataClock();
    try (OfflineOutbox outbox = new OfflineOutbox(config, clock, 256)) {
      for (Record r : records) {
        clock.ms = r.originMs();
        if (!outbox.append(STREAM, List.of(r.payload()))) {
          break;
        }
      }
    }
  }

  /** Every record in the cloud equals the generated one: sequence, payload, origin time. */
  private static boolean verifyNodes(SyncServer server, List<Record> expected) {
    long seq = 0;
    long n = expected.size();
    while (seq < n) {
      List<Record> page = server.store().read(DEVICE, STREAM, seq, 100_000);
      if (page.isEmpty()) {
        throw new IllegalStateException("cloud ends at sequence " + seq + " of " + n);
      }
      for (Record r : page) {
        Record want = expected.get((int) seq);
        seq++;
        if (r.sequence() != seq
            || r.originMs() != want.originMs()
            || !Arrays.equals(r.payload(), want.payload())) {
          throw new IllegalStateException(
              "cloud record " + r + " differs from the generated record " + seq);
        }
      }
    }
    Bench.logf("  verified: all %,d records in the cloud equal the generated ones", n);
    return true;
  }

  /** When the cloud committed the last record, then when the agent recorded its ack. */
  private record Drained(long cloudNanos, long edgeNanos) {}

  /** Waits for the cloud checkpoint, then the agent's synced count; returns both nano times. */
  private static Drained waitDrained(
      SyncServer server,
      EdgeAgent agent,
      String device,
      long n,
      long timeoutSeconds,
      boolean report)
      throws InterruptedException {
    long t0 = System.nanoTime();
    long deadline = t0 + timeoutSeconds * 1_000_000_000L;
    SyncScenario.Progress progress =
        (cp, now, lastCp, lastT) -> {
          AgentStatus.BandwidthView bw = agent.status().bandwidth();
          Bench.logf(
              "  ... %.0f s: cloud checkpoint %,d; link %d kbit/s, rtt %d ms, level %d, %.2f"
                  + " B/record so far",
              (now - t0) / 1e9,
              cp,
              bw.bandwidthKbps(),
              bw.rttMs(),
              bw.level(),
              bw.total().records() == 0
                  ? 0.0
                  : (double) bw.total().frameBytes() / bw.total().records());
        };
    SyncScenario.CloudDrain cloud =
        SyncScenario.awaitCheckpoint(
            server, agent, device, n, t0, deadline, 5_000_000_000L, report ? progress : null);
    return new Drained(cloud.doneNanos(), SyncScenario.awaitSynced(agent, n, deadline));
  }

  /** Every record in the cloud equals the generated one: sequence, payload, origin time. */
  private static boolean verify(SyncServer server, long n, int sensors, long seed, long startMs) {
    long v0 = System.nanoTime();
    TelemetryData.Fleet fleet = new TelemetryData.Fleet(seed, sensors, startMs, DEVICE);
    Random jitter = new Random(seed);
    long seq = 0;
    List<byte[]> second = List.of();
    long origin = 0;
    int inSecond = sensors;
    long k = 0;
    while (seq < n) {
      List<Record> page = server.store().read(DEVICE, STREAM, seq, 100_000);
      if (page.isEmpty()) {
        throw new IllegalStateException("cloud ends at sequence " + seq + " of " + n);
      }
      for (Record r : page) {
        if (inSecond == sensors) {
          second = fleet.second(k);
          origin = startMs + k * 1000 + jitter.nextInt(3);
          k++;
          inSecond = 0;
        }
        seq++;
        if (r.sequence() != seq
            || r.originMs() != origin
            || !Arrays.equals(r.payload(), second.get(inSecond))) {
          throw new IllegalStateException(
              "cloud record " + r + " differs from the generated record " + seq);
        }
        inSecond++;
      }
    }
    Bench.logf(
        "  verified: all %,d records in the cloud equal the generated ones (%.1f s)",
        n, (System.nanoTime() - v0) / 1e9);
    return true;
  }
}
