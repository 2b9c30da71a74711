package io.edgesync.cli;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.edgesync.agent.AgentConfig;
import io.edgesync.agent.AgentMetrics;
import io.edgesync.agent.EdgeAgent;
import io.edgesync.cli.internal.TcpRelay;
import io.edgesync.engine.cloud.CloudStore;
import io.edgesync.engine.edge.SyncPolicy;
import io.edgesync.protocol.Record;
import io.edgesync.server.ServerConfig;
import io.edgesync.server.SyncServer;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLongArray;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The whole system on one machine: a server, several simulated devices appending telemetry, the
 * uplink cut for a while and healed, and a summary that checks every acknowledged record reached
 * the cloud exactly once.
 */
@Command(
    name = "demo",
    description =
        "Run a server and simulated devices on this machine, cut the link, heal it, and check"
            + " that nothing was lost or duplicated.")
final class DemoCommand implements Callable<Integer> {
  @Option(names = "--devices", defaultValue = "3", description = "Simulated devices (default 3)")
  int devices;

  @Option(
      names = "--rate",
      defaultValue = "500",
      description = "Records per second per device (default 500)")
  int rate;

  @Option(
      names = "--seconds",
      defaultValue = "20",
      description = "Seconds of appending (default 20)")
  int seconds;

  @Option(
      names = "--outage-at",
      defaultValue = "5",
      description = "Second at which the link is cut (default 5)")
  int outageAt;

  @Option(
      names = "--outage-seconds",
      defaultValue = "8",
      description = "How long the link stays cut (default 8)")
  int outageSeconds;

  @Option(names = "--data-dir", description = "Where to keep the stores (default: a temp dir)")
  Path dataDir;

  @Option(
      names = "--files",
      description =
          "Instead: roll firmware out to the devices, cut the link mid-download, then roll out a"
              + " new version that crosses as a delta, and check what they installed")
  boolean files;

  @Option(
      names = "--image-mib",
      defaultValue = "32",
      description = "With --files: the firmware image's size in MiB (default 32)")
  int imageMiB;

  @Override
  public Integer call() throws Exception {
    if (files) {
      return filesDemo();
    }
    if (devices < 1 || devices > 100 || rate < 1 || rate > 100_000 || seconds < 1) {
      throw new IllegalArgumentException(
          "--devices must be 1..100, --rate 1..100000, --seconds >= 1");
    }
    Path dir = dataDir != null ? dataDir : Files.createTempDirectory("edgesync-demo");
    DemoPki pki = DemoPki.create(dir.resolve("pki"));
    SyncServer server =
        SyncServer.start(
            ServerConfig.defaults(dir.resolve("cloud"))
                .withAddress("127.0.0.1", 0)
                .withTls(pki.serverTls()));
    TcpRelay link = new TcpRelay(server.port());
    List<EdgeAgent> agents = new ArrayList<>();
    AtomicLongArray appended = new AtomicLongArray(devices);
    System.out.printf(
        "edgesync demo: server on port %d, %d devices x %d records/s for %d s; link cut at %d s"
            + " for %d s%nstores in %s; mutual TLS with a throwaway CA in %s%n%n",
        server.port(), devices, rate, seconds, outageAt, outageSeconds, dir, pki.dir());
    try {
      for (int d = 0; d < devices; d++) {
        String id = String.format("demo-device-%02d", d + 1);
        AgentConfig c =
            pki.agentConfig(
                id, URI.create("wss://127.0.0.1:" + link.port() + "/v1/sync"), dir.resolve(id));
        agents.add(EdgeAgent.open(c.withSync(demoPolicy(c.sync()))));
      }
      List<Thread> producers = new ArrayList<>();
      long start = System.nanoTime();
      for (int d = 0; d < devices; d++) {
        int index = d;
        Thread t =
            new Thread(() -> produce(agents.get(index), index, appended, start), "demo-producer");
        t.start();
        producers.add(t);
      }
      boolean wasCut = false;
      while (producers.stream().anyMatch(Thread::isAlive)) {
        double t = (System.nanoTime() - start) / 1e9;
        if (!wasCut && t >= outageAt && t < outageAt + outageSeconds) {
          link.cut();
          wasCut = true;
          System.out.printf("%n-- %5.1fs  link CUT: devices keep appending to their outboxes%n", t);
        } else if (wasCut && link.isCut() && t >= outageAt + outageSeconds) {
          link.heal();
          System.out.printf("%n-- %5.1fs  link HEALED: queues drain%n", t);
        }
        progress(t, link, agents, appended, server);
        Thread.sleep(250);
      }
      link.heal();
      long drainStart = System.nanoTime();
      while (totalQueued(agents) > 0 && System.nanoTime() - drainStart < 120_000_000_000L) {
        progress((System.nanoTime() - start) / 1e9, link, agents, appended, server);
        Thread.sleep(250);
      }
      progress((System.nanoTime() - start) / 1e9, link, agents, appended, server);
      System.out.println();
      return summary(server.store(), agents, appended);
    } finally {
      for (EdgeAgent a : agents) {
        a.close();
      }
      link.close();
      server.close();
      if (dataDir == null) {
        deleteTree(dir);
      }
    }
  }

  private int filesDemo() throws Exception {
    Path dir = dataDir != null ? dataDir : Files.createTempDirectory("edgesync-demo-files");
    try {
      return FilesDemo.run(devices, imageMiB, dir);
    } finally {
      if (dataDir == null) {
        deleteTree(dir);
      }
    }
  }

  /** Quick triggers and liveness, so a healed link is noticed in about a second. */
  static SyncPolicy demoPolicy(SyncPolicy d) {
    return d.withTriggers(true, 100, false, d.intervalMs(), 2_000, 256 * 1024, 500)
        .withLiveness(1_000, 3_000, 2_000, 2_000, 200, 2_000);
  }

  private void produce(EdgeAgent agent, int index, AtomicLongArray appended, long start) {
    long total = (long) rate * seconds;
    int perTick = Math.max(1, rate / 20);
    long n = 0;
    while (n < total) {
      List<byte[]> batch = new ArrayList<>(perTick);
      for (int i = 0; i < perTick && n + batch.size() < total; i++) {
        long seq = n + batch.size() + 1;
        batch.add(
            String.format(
                    Locale.ROOT,
                    "{\"n\":%d,\"sensor\":\"temp-%d\",\"t\":%.2f,\"rh\":%.1f,\"ts\":%d}",
                    seq,
                    index,
                    20 + (seq % 50) / 10.0,
                    40 + (seq % 30) / 2.0,
                    System.currentTimeMillis())
                .getBytes(UTF_8));
      }
      agent.appendAll("sensor_data", batch); // returns once durable: counted as acknowledged
      n += batch.size();
      appended.set(index, n);
      long due = start + (long) (n * 1e9 / rate);
      long wait = due - System.nanoTime();
      if (wait > 0) {
        try {
          Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
        } catch (InterruptedException e) {
          return;
        }
      }
    }
  }

  private static void progress(
      double t,
      TcpRelay link,
      List<EdgeAgent> agents,
      AtomicLongArray appended,
      SyncServer server) {
    long sum = 0;
    for (int i = 0; i < appended.length(); i++) {
      sum += appended.get(i);
    }
    long queued = totalQueued(agents);
    long cloud = 0;
    for (EdgeAgent a : agents) {
      for (CloudStore.StreamSummary s : server.store().streams(a.deviceId())) {
        cloud += s.records();
      }
    }
    System.out.printf(
        "\r%6.1fs  link %-4s  appended %,9d  queued on devices %,8d  stored in cloud %,9d   ",
        t, link.isCut() ? "DOWN" : "UP", sum, queued, cloud);
    System.out.flush();
  }

  private static long totalQueued(List<EdgeAgent> agents) {
    long q = 0;
    for (EdgeAgent a : agents) {
      q += a.metrics().queueDepthRecords();
    }
    return q;
  }

  /** Reads everything back from the cloud store and checks it record by record. */
  private static int summary(CloudStore store, List<EdgeAgent> agents, AtomicLongArray appended) {
    long totalAppended = 0;
    long totalStored = 0;
    long duplicates = 0;
    long lost = 0;
    long outOfOrder = 0;
    System.out.println();
    System.out.println("device            appended    stored  duplicates  lost  bytes sent");
    for (int i = 0; i < agents.size(); i++) {
      EdgeAgent agent = agents.get(i);
      long expected = appended.get(i);
      boolean[] seen = new boolean[(int) expected + 1];
      long stored = 0;
      long dup = 0;
      long disorder = 0;
      long after = 0;
      long previousN = 0;
      while (true) {
        List<Record> page = store.read(agent.deviceId(), "sensor_data", after, 10_000);
        if (page.isEmpty()) {
          break;
        }
        for (Record r : page) {
          long n = payloadCounter(r.payload());
          stored++;
          if (n < 1 || n > expected) {
            dup++; // a record the device never appended counts against us too
          } else if (seen[(int) n]) {
            dup++;
          } else {
            seen[(int) n] = true;
          }
          if (n <= previousN) {
            disorder++;
          }
          previousN = n;
          after = r.sequence();
        }
      }
      long missing = 0;
      for (int n = 1; n <= expected; n++) {
        if (!seen[n]) {
          missing++;
        }
      }
      AgentMetrics m = agent.metrics();
      System.out.printf(
          "%-16s %9d %9d %11d %5d %11d%n",
          agent.deviceId(), expected, stored, dup, missing, m.bytesSent());
      totalAppended += expected;
      totalStored += stored;
      duplicates += dup;
      lost += missing;
      outOfOrder += disorder;
    }
    boolean ok = totalAppended == totalStored && duplicates == 0 && lost == 0 && outOfOrder == 0;
    System.out.printf(
        "%nrecords appended (acknowledged) = %,d%nrecords stored in the cloud     = %,d%n"
            + "duplicates = %d, lost = %d, out of order = %d%n%s%n",
        totalAppended,
        totalStored,
        duplicates,
        lost,
        outOfOrder,
        ok
            ? "PASS: every acknowledged record reached the cloud exactly once, in order."
            : "FAIL: see the table above.");
    return ok ? 0 : 1;
  }

  private static long payloadCounter(byte[] payload) {
    String s = new String(payload, UTF_8);
    int i = s.indexOf("\"n\":");
    if (i < 0) {
      return -1;
    }
    int j = i + 4;
    int k = j;
    while (k < s.length() && Character.isDigit(s.charAt(k))) {
      k++;
    }
    return k > j ? Long.parseLong(s.substring(j, k)) : -1;
  }

  private static void deleteTree(Path dir) {
    try (var paths = Files.walk(dir)) {
      paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // a temp dir; the OS cleans it eventually
    }
  }
}
