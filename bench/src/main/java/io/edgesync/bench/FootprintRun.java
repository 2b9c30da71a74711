package io.edgesync.bench;

import io.edgesync.server.SyncServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The phases of bench {@code footprint} ({@link FootprintScenario}), each with an agent process of
 * its own against the bench's in-process server. Collects notes (rates, latencies, the NMT
 * breakdown) for the report. Used by the runner thread only.
 */
final class FootprintRun {
  /** Start-up times in milliseconds: the first start (empty data dir), then the restarts. */
  record Starts(double firstMs, double[] restartMs, double[] restartCpuMs, long rssAtAccept) {
    /** CPU time (user + system) of the agent until the first accepted append, median. */
    double cpuMedianMs() {
      return restartCpuMs.length == 0 ? Double.NaN : restartCpuMs[(restartCpuMs.length - 1) / 2];
    }

    double min() {
      return restartMs.length == 0 ? Double.NaN : restartMs[0];
    }

    double median() {
      return restartMs.length == 0 ? Double.NaN : restartMs[(restartMs.length - 1) / 2];
    }

    double max() {
      return restartMs.length == 0 ? Double.NaN : restartMs[restartMs.length - 1];
    }
  }

  private static final Pattern NMT_LINE =
      Pattern.compile("^-\\s+(.+?) \\(reserved=\\d+KB, committed=(\\d+)KB\\)");
  private static final Pattern NMT_TOTAL =
      Pattern.compile("^Total: reserved=\\d+KB, committed=(\\d+)KB");

  private final Path dir;
  private final Opts o;
  private final int recordBytes;
  private final String extraYaml;
  FootprintJvm jvm;
  SyncServer server;
  final List<String> notes = new ArrayList<>();
  boolean ok = true;

  FootprintRun(Path dir, Opts o, FootprintJvm jvm) {
    this.dir = dir;
    this.o = o;
    this.jvm = jvm;
    this.recordBytes = o.integer("record-bytes", 150);
    this.extraYaml = o.string("agent-yaml", "");
  }

  /** The YAML of a phase's agent, written to {@code dir/<name>.yaml}; returns its path. */
  private Path config(String name, int apiPort) throws Exception {
    Path yaml = dir.resolve(name + ".yaml");
    Files.writeString(yaml, yaml(name, apiPort));
    return yaml;
  }

  private String yaml(String name, int apiPort) {
    return FootprintScenario.agentYaml(
        "fp-" + name, server.syncUrl(), apiPort, dir.resolve(name), extraYaml);
  }

  private FootprintAgent start(String name, Path yaml) throws Exception {
    return FootprintAgent.start(jvm, yaml, dir.resolve(name + ".log"));
  }

  /**
   * A training run with {@code -XX:ArchiveClassesAtExit}: start, append, sync, scrape, then
   * SIGTERM, at which the JVM writes the archive; every later start maps it.
   */
  void trainCds() throws Exception {
    Path archive = dir.resolve("agent-cds.jsa");
    int port = FootprintScenario.freePort();
    Path yaml = config("cds-training", port);
    FootprintJvm training = jvm.with("-XX:ArchiveClassesAtExit=" + archive);
    long t0 = System.nanoTime();
    try (FootprintAgent agent = FootprintAgent.start(training, yaml, dir.resolve("cds.log"))) {
      FootprintApi api = new FootprintApi(port);
      awaitAccepted(agent, api);
      awaitConnected(agent, api);
      FootprintLoad.run(api, FootprintScenario.stream(), 1000, 10, 2, recordBytes);
      api.metrics();
      agent.stop(120);
    }
    if (Files.isRegularFile(archive)) {
      jvm = jvm.with("-XX:SharedArchiveFile=" + archive);
      notes.add(
          String.format(
              Locale.ROOT,
              "class-data sharing: training run and dump %.1f s, archive %s",
              (System.nanoTime() - t0) / 1e9,
              FootprintScenario.mib(Files.size(archive))));
    } else {
      notes.add("class-data sharing: the training run wrote no archive; measured without");
    }
  }

  /** Start-up to the first accepted append, {@code --starts} times on one data directory. */
  Starts starts() throws Exception {
    int n = Math.max(2, o.integer("starts", 5));
    int port = FootprintScenario.freePort();
    Path yaml = config("start", port);
    FootprintApi api = new FootprintApi(port);
    double first = 0;
    double[] restarts = new double[n - 1];
    double[] cpu = new double[n - 1];
    long rss = -1;
    for (int i = 0; i < n; i++) {
      try (FootprintAgent agent = start("start", yaml)) {
        double ms = awaitAccepted(agent, api) / 1e6;
        long ticks = agent.cpuTicks();
        rss = Math.max(rss, agent.status("VmRSS") * 1024);
        Bench.logf(
            "footprint: start %d of %d: %.0f ms to the first accepted append (CPU %d ms)",
            i + 1, n, ms, ticks * 10);
        if (i == 0) {
          first = ms;
        } else {
          restarts[i - 1] = ms;
          cpu[i - 1] = ticks * 10.0;
        }
        agent.stop(30);
      }
    }
    Arrays.sort(restarts);
    Arrays.sort(cpu);
    return new Starts(first, restarts, cpu, rss);
  }

  /** Idle while connected, then the steady load; one agent process for both. */
  List<FootprintSampler.Figures> idleAndLoad(boolean idle, boolean load) throws Exception {
    List<FootprintSampler.Figures> out = new ArrayList<>();
    int port = FootprintScenario.freePort();
    Path yaml = config("load", port);
    FootprintApi api = new FootprintApi(port);
    try (FootprintAgent agent = start("load", yaml)) {
      awaitAccepted(agent, api);
      awaitConnected(agent, api);
      if (idle) {
        double s = o.seconds("idle-seconds", 30);
        Bench.logf("footprint: idle, connected, %.0f s", s);
        FootprintSampler sampler = FootprintSampler.start("idle (connected)", agent, api);
        Thread.sleep((long) (s * 1000));
        out.add(sampler.finish());
      }
      if (load) {
        out.add(load(agent, api));
      }
      checkAlive(agent, "load");
      agent.stop(30);
    }
    return out;
  }

  private FootprintSampler.Figures load(FootprintAgent agent, FootprintApi api) throws Exception {
    int rate = o.integer("rate", 1000);
    int perRequest = o.integer("per-request", 1);
    double seconds = o.seconds("load-seconds", 60);
    Bench.logf(
        "footprint: %d records/s in requests of %d for %.0f s, syncing", rate, perRequest, seconds);
    FootprintSampler sampler =
        FootprintSampler.start(
            String.format(Locale.ROOT, "load: %,d records/s, syncing", rate), agent, api);
    FootprintLoad.Result r =
        FootprintLoad.run(api, FootprintScenario.stream(), rate, perRequest, seconds, recordBytes);
    long end = System.nanoTime();
    long appended =
        api.metrics().getOrDefault(streamMetric("appended_records_total"), -1.0).longValue();
    boolean caughtUp = awaitCheckpoint(agent, "fp-load", appended, 120);
    double lag = (System.nanoTime() - end) / 1e9;
    notes.add(nmt(agent, "load"));
    FootprintSampler.Figures f = sampler.finish();
    notes.add(
        String.format(
            Locale.ROOT,
            "load: %,d records accepted (%s records/s) in %,d requests of %d, %,d failed; append"
                + " latency %s; cloud %s",
            r.records(),
            Stats.rate(r.recordsPerSecond()),
            r.requests(),
            perRequest,
            r.failed(),
            r.latency(),
            caughtUp
                ? String.format(
                    Locale.ROOT, "had all %,d records %.1f s after the load", appended, lag)
                : "did NOT get all records within 120 s"));
    ok &= caughtUp && r.failed() == 0;
    return f;
  }

  /** A backlog written offline, then the agent started against the cloud and drained. */
  FootprintSampler.Figures catchUp() throws Exception {
    long n = o.longValue("backlog", 1_000_000);
    int port = FootprintScenario.freePort();
    Path yaml = config("catchup", port);
    long p0 = System.nanoTime();
    FootprintScenario.preload(yaml("catchup", port), n, recordBytes);
    Bench.logf("footprint: %,d records preloaded in %.1f s", n, (System.nanoTime() - p0) / 1e9);
    FootprintApi api = new FootprintApi(port);
    try (FootprintAgent agent = start("catchup", yaml)) {
      FootprintSampler sampler =
          FootprintSampler.start(
              String.format(Locale.ROOT, "catch-up: %,d records", n), agent, api);
      double timeout = o.seconds("footprint-timeout", 900);
      boolean done = awaitCheckpoint(agent, "fp-catchup", n, timeout);
      double secs = (System.nanoTime() - agent.startedNanos()) / 1e9;
      notes.add(nmt(agent, "catch-up"));
      FootprintSampler.Figures f = sampler.finish();
      notes.add(
          done
              ? String.format(
                  Locale.ROOT,
                  "catch-up: the cloud had all %,d records %.1f s after the agent was started"
                      + " (%s records/s)",
                  n,
                  secs,
                  Stats.rate(n / secs))
              : String.format(Locale.ROOT, "catch-up: NOT done within %.0f s", timeout));
      ok &= done;
      checkAlive(agent, "catch-up");
      agent.stop(30);
      return f;
    }
  }

  private static String streamMetric(String suffix) {
    return "edgesync_agent_stream_" + suffix + "{stream=\"" + FootprintScenario.stream() + "\"}";
  }

  /** Nanoseconds from the agent's spawn until an append through its local API was accepted. */
  private long awaitAccepted(FootprintAgent agent, FootprintApi api) throws Exception {
    byte[] record = new Payloads(recordBytes, 1).next();
    long deadline = agent.startedNanos() + 60_000_000_000L;
    while (System.nanoTime() < deadline) {
      if (api.post(FootprintScenario.stream(), record) == 200) {
        return System.nanoTime() - agent.startedNanos();
      }
      checkAlive(agent, "start");
      Thread.sleep(5);
    }
    throw new IllegalStateException(
        "the agent accepted no append within 60 s; its log:\n" + agent.logTail(20));
  }

  private static void awaitConnected(FootprintAgent agent, FootprintApi api) throws Exception {
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (System.nanoTime() < deadline) {
      if (api.metrics().getOrDefault("edgesync_agent_connected", 0.0) == 1.0) {
        return;
      }
      checkAlive(agent, "connect");
      Thread.sleep(50);
    }
    throw new IllegalStateException(
        "the agent did not connect within 30 s; its log:\n" + agent.logTail(20));
  }

  /** Waits until the cloud's durable checkpoint of the device's stream reaches {@code n}. */
  private boolean awaitCheckpoint(FootprintAgent agent, String device, long n, double timeoutS)
      throws Exception {
    long deadline = System.nanoTime() + (long) (timeoutS * 1e9);
    long lastLog = System.nanoTime();
    while (System.nanoTime() < deadline) {
      Map<String, Long> cps = server.store().checkpoints(device);
      long cp = cps.getOrDefault(FootprintScenario.stream(), 0L);
      if (cp >= n) {
        return true;
      }
      if (System.nanoTime() - lastLog > 10_000_000_000L) {
        lastLog = System.nanoTime();
        Bench.logf("footprint: cloud checkpoint %,d of %,d", cp, n);
      }
      checkAlive(agent, "sync");
      Thread.sleep(100);
    }
    return false;
  }

  private static void checkAlive(FootprintAgent agent, String phase) {
    if (!agent.isAlive()) {
      throw new IllegalStateException(
          "the agent exited during " + phase + "; its log:\n" + agent.logTail(30));
    }
  }

  /** With {@code --nmt}: the native memory summary, committed per area, largest first. */
  private String nmt(FootprintAgent agent, String phase) throws Exception {
    if (!o.bool("nmt", false)) {
      return "NMT (" + phase + "): not measured (add --nmt)";
    }
    String text = agent.jcmd(jvm.javaHome(), "VM.native_memory", "summary");
    Files.writeString(dir.resolve("nmt-" + phase.replace(' ', '-') + ".txt"), text);
    record Area(String name, long kb) {}
    List<Area> areas = new ArrayList<>();
    long total = -1;
    for (String line : text.split("\n")) {
      Matcher m = NMT_LINE.matcher(line.trim());
      Matcher t = NMT_TOTAL.matcher(line.trim());
      if (m.find()) {
        areas.add(new Area(m.group(1).trim(), Long.parseLong(m.group(2))));
      } else if (t.find()) {
        total = Long.parseLong(t.group(1));
      }
    }
    areas.sort((a, b) -> Long.compare(b.kb(), a.kb()));
    StringBuilder b =
        new StringBuilder("NMT committed at the end of ")
            .append(phase)
            .append(String.format(Locale.ROOT, ": total %.1f MiB; ", total / 1024.0));
    for (Area a : areas) {
      if (a.kb() >= 256) {
        b.append(String.format(Locale.ROOT, "%s %.1f, ", a.name(), a.kb() / 1024.0));
      }
    }
    b.append(
        String.format(
            Locale.ROOT,
            "(MiB); RSS then %s",
            FootprintScenario.mib(agent.status("VmRSS") * 1024)));
    return b.toString();
  }
}
