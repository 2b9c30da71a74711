package io.edgesync.bench;

import io.edgesync.testing.TempDirs;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Bench {@code mqtt} (issue 16): durable QoS 1 messages per second from {@link MqttLoad}'s local
 * publishers into the edgesync agent's MQTT listener, and their PUBACK latency, side by side with
 * Mosquitto's QoS 1 (in memory, not durable) on the same machine under the same load. Runs
 * alternate (mosquitto, agent, mosquitto, agent, ...) so that a change in the machine's load
 * touches both; each run starts its broker afresh (a new outbox for the agent). Prints every run,
 * then min/median/max per target and the ratio of the medians. Runner thread only.
 */
final class MqttScenario {
  /** The scenario's options (Bench refuses others). */
  static final Set<String> OPTIONS =
      Set.of(
          "mqtt-clients",
          "mqtt-window",
          "mqtt-sensors",
          "mqtt-warmup",
          "mqtt-seconds",
          "mqtt-runs",
          "mqtt-targets",
          "mqtt-cloud",
          "mqtt-drain-timeout",
          "mqtt-fsync-seconds",
          "mosquitto",
          "agent-jar",
          "agent-jvm-options");

  static final String GOAL = "≥ 2× Mosquitto's rate, durable, p99 ≤ 10 ms";

  /** One run's figures; {@code brokerCores} the broker's CPU over the measured window. */
  record Run(
      int index,
      String target,
      MqttLoad.Result load,
      String brokerCores,
      long brokerRssBytes,
      MqttTarget.Check check,
      String details) {}

  private interface Starter {
    MqttTarget start() throws Exception;
  }

  private MqttScenario() {}

  /** {@code known} and {@link #OPTIONS}. */
  static Set<String> withOptions(Set<String> known) {
    Set<String> all = new HashSet<>(known);
    all.addAll(OPTIONS);
    return all;
  }

  /** Runs the bench; false when a run's check failed (the agent's outbox disagrees). */
  static boolean report(Path dir, Opts o, PrintStream out, List<String[]> rows) throws Exception {
    int runs = o.integer("mqtt-runs", 3);
    List<String> targets = List.of(o.string("mqtt-targets", "mosquitto,agent").split(","));
    for (String t : targets) {
      if (!t.equals("mosquitto") && !t.equals("agent")) {
        throw new IllegalArgumentException("--mqtt-targets: '" + t + "'; want mosquitto, agent");
      }
    }
    String mosquitto = o.string("mosquitto", MqttMosquitto.DEFAULT_BINARY);
    boolean cloud = o.bool("mqtt-cloud", false);
    String noMosquitto = targets.contains("mosquitto") ? MqttMosquitto.unavailable(mosquitto) : "";
    String noAgent = targets.contains("agent") ? setup(o, cloud, 1).unavailable() : "";
    printHeader(out, o, mosquitto, noMosquitto, noAgent, cloud);
    double fsyncS = o.seconds("mqtt-fsync-seconds", 2);
    if (fsyncS > 0) {
      // The agent's PUBACK waits for an fsync: the disk's own latency bounds its p99.
      FsyncProbe.Result f = FsyncProbe.run(dir, fsyncS);
      out.printf(
          Locale.ROOT,
          "- disk of the data dir: write 4 KiB + fdatasync %s/s; %s%n%n",
          Stats.rate(f.fsyncsPerSecond()),
          f.latency());
    }
    boolean ok = true;
    for (int w : windows(o)) {
      MqttLoad.Settings s = settings(o, w);
      MqttAgent.Setup setup = setup(o, cloud, w);
      List<Run> done = new ArrayList<>();
      for (int i = 1; i <= runs; i++) {
        Path d = dir.resolve("w" + w + "-run" + i);
        if (noMosquitto == null) {
          done.add(runOnce(i, s, () -> MqttMosquitto.start(mosquitto, d.resolve("mosquitto"))));
        }
        if (noAgent == null) {
          done.add(runOnce(i, s, () -> MqttAgent.start(setup, d.resolve("agent"))));
          if (!o.bool("keep", false)) {
            TempDirs.deleteTree(d.resolve("agent").resolve("data")); // ~1 GB per run at 50k/s
          }
        }
      }
      ok &= done.stream().allMatch(r -> r.check().ok());
      MqttReport.runs(out, s, done);
      MqttReport.summary(rows, s, done, cloud);
    }
    return ok;
  }

  private static int[] windows(Opts o) {
    String v = o.string("mqtt-window", "64");
    try {
      return Arrays.stream(v.split(",")).mapToInt(x -> Integer.parseInt(x.trim())).toArray();
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--mqtt-window: '" + v + "'; want N or N,N,...");
    }
  }

  static MqttLoad.Settings settings(Opts o, int window) {
    return new MqttLoad.Settings(
        o.integer("mqtt-clients", 10),
        window,
        o.integer("mqtt-sensors", 10),
        o.seconds("mqtt-warmup", 5),
        o.seconds("mqtt-seconds", 20),
        o.seconds("mqtt-drain-timeout", 30),
        20);
  }

  private static MqttAgent.Setup setup(Opts o, boolean cloud, int maxInflight) {
    String jvm = o.string("agent-jvm-options", "deploy/jvm/agent.options");
    return new MqttAgent.Setup(
        Path.of(o.string("agent-jar", "cli/target/edgesync.jar")),
        jvm.equals("none") ? null : Path.of(jvm),
        cloud,
        maxInflight);
  }

  /** Starts the broker, runs the load against it, checks what it holds, stops it. */
  private static Run runOnce(int index, MqttLoad.Settings s, Starter starter) throws Exception {
    try (MqttTarget t = starter.start()) {
      Bench.logf(
          "mqtt: run %d, %s (pid %d) on port %d", index, t.name(), t.process().pid(), t.port());
      long[] cpu = new long[2];
      long[] rss = {-1};
      MqttLoad.Result r =
          MqttLoad.run(
              "127.0.0.1",
              t.port(),
              s,
              new MqttLoad.Window() {
                @Override
                public void started() {
                  cpu[0] = t.cpuNanos();
                }

                @Override
                public void ended() {
                  cpu[1] = t.cpuNanos();
                  rss[0] = t.rssBytes();
                }
              });
      String cores = Stats.coresBusy(cpu[0], cpu[1], (long) (r.seconds() * 1e9));
      MqttTarget.Check check = t.check(r);
      Bench.logf(
          "mqtt: run %d, %s: %s msg/s, PUBACK %s; %s",
          index, t.name(), Stats.rate(r.rate()), r.latency(), check.text());
      return new Run(index, t.name(), r, cores, rss[0], check, t.details());
    }
  }

  private static void printHeader(
      PrintStream out, Opts o, String mosquitto, String noMosquitto, String noAgent, boolean cloud)
      throws IOException {
    out.println("- CPU: " + cpuModel());
    out.println("- commit: " + commit());
    out.println("- command: " + ProcessHandle.current().info().commandLine().orElse("(not known)"));
    if (noMosquitto == null) {
      out.println(
          "- Mosquitto: " + MqttMosquitto.version(mosquitto) + " (" + mosquitto + "), config:");
      out.println();
      out.println("```");
      out.print(MqttMosquitto.config("PORT", "RUN_DIR/mosquitto.log"));
      out.println("```");
    } else if (!noMosquitto.isEmpty()) {
      out.println("- Mosquitto: skipped: " + noMosquitto);
      Bench.log("mqtt: NOTICE: Mosquitto side skipped: " + noMosquitto);
    }
    out.println();
    if (noAgent == null) {
      MqttAgent.Setup s = setup(o, cloud, 0);
      out.println(
          "- agent: java "
              + String.join(" ", s.jvmOptions())
              + " -jar "
              + s.jar()
              + " agent --config agent.yaml ("
              + (cloud ? "syncing to a local server in its own JVM" : "offline: sync disabled")
              + "), agent.yaml:");
      out.println();
      out.println("```yaml");
      out.print(
          MqttAgent.config(
              setup(o, cloud, windows(o)[0]),
              "RUN_DIR/data",
              cloud ? "ws://127.0.0.1:SERVER_PORT/v1/sync" : "ws://127.0.0.1:9/v1/sync",
              "MQTT_PORT",
              "API_PORT"));
      out.println("```");
    } else if (!noAgent.isEmpty()) {
      out.println("- agent: skipped: " + noAgent);
      Bench.log("mqtt: NOTICE: agent side skipped: " + noAgent);
    }
    out.println();
  }

  /** The first "model name" of /proc/cpuinfo, or why not known. */
  static String cpuModel() {
    try {
      for (String l : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        if (l.startsWith("model name")) {
          return l.substring(l.indexOf(':') + 1).trim()
              + " ("
              + Runtime.getRuntime().availableProcessors()
              + " CPUs available)";
        }
      }
      return "(no model name in /proc/cpuinfo)";
    } catch (IOException e) {
      return "(/proc/cpuinfo unreadable: " + e.getMessage() + ")";
    }
  }

  /** {@code git rev-parse HEAD} of the working directory (+ "dirty"), or why not known. */
  static String commit() {
    try {
      String head = git("rev-parse", "HEAD");
      String status = git("status", "--porcelain", "--untracked-files=no");
      return head.isEmpty() ? "(not a git checkout)" : head + (status.isEmpty() ? "" : " (dirty)");
    } catch (IOException | InterruptedException e) {
      return "(git not available: " + e.getMessage() + ")";
    }
  }

  private static String git(String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of("git"));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    p.waitFor(10, TimeUnit.SECONDS);
    return p.exitValue() == 0 ? text : "";
  }
}
