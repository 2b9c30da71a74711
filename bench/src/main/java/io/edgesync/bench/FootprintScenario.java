package io.edgesync.bench;

import io.edgesync.agent.AgentConfig;
import io.edgesync.server.ServerConfig;
import io.edgesync.server.SyncServer;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Bench {@code footprint} (issue 16): the agent as a child process started as the launcher starts
 * it ({@link FootprintJvm}), measured from outside ({@link FootprintSampler}) through four phases:
 * start-up to the first accepted append (repeated), idle while connected, a steady load through the
 * local API while syncing, and the catch-up of an offline backlog.
 *
 * <p>The cloud server runs inside the bench's JVM: its memory is not what is measured, and from
 * here the bench reads the cloud's durable checkpoint directly (when the catch-up is done) without
 * an API key or a REST round trip. It shares the machine's cores with the agent as a real server
 * would not, so the CPU figures are an upper bound.
 */
final class FootprintScenario {
  static final Set<String> OPTIONS =
      Set.of(
          "agent-jvm-options",
          "agent-jar",
          "agent-extra-opts",
          "agent-yaml",
          "malloc-arena-max",
          "agent-env",
          "nmt",
          "cds",
          "starts",
          "idle-seconds",
          "rate",
          "per-request",
          "load-seconds",
          "backlog",
          "footprint-phases",
          "footprint-timeout");

  static final String USAGE =
      """
      footprint (issue 16; run from the repository root, after mvn -pl cli,bench -am package):
        --agent-jvm-options=deploy/jvm/agent.options   the agent's JVM options (one a line, # comments)
        --agent-extra-opts="..."  more options, after the file's (as EDGESYNC_JAVA_OPTS)
        --agent-jar=cli/target/edgesync.jar   --malloc-arena-max=2 (0: leave glibc's default)
        --agent-env="K=V ..."  more environment variables of the agent (e.g. MALLOC_TRIM_THRESHOLD_)
        --cds=true            a training run dumps a class-data-sharing archive
                              (-XX:ArchiveClassesAtExit) used by every later start
        --nmt                 -XX:NativeMemoryTracking=summary; jcmd VM.native_memory summary after
                              the load and the catch-up (NMT costs memory: not the goal's figures)
        --agent-yaml="mqtt: {enabled: true}"   YAML lines added to the agent's config
        --starts=5            start-ups timed (the first on an empty data directory)
        --idle-seconds=30     --rate=1000 (records/s)  --per-request=1   --load-seconds=60
        --backlog=1000000     records preloaded offline, then caught up
        --record-bytes=150    --footprint-phases=start,idle,load,catchup
        --footprint-timeout=900   seconds the catch-up may take
      """;

  private static final String STREAM = SyncScenario.STREAM; // the stream preload() writes

  private FootprintScenario() {}

  /** Runs the phases, prints the table; false if a phase failed (agent died, timeout). */
  static boolean report(Path dir, Opts o, PrintStream out, List<String[]> rows) throws Exception {
    FootprintJvm jvm = FootprintJvm.from(o);
    List<String> phases =
        Arrays.asList(o.string("footprint-phases", "start,idle,load,catchup").split(","));
    FootprintRun run = new FootprintRun(dir, o, jvm);
    out.println(header(jvm, dir));
    try (SyncServer server =
        SyncServer.start(ServerConfig.defaults(dir.resolve("cloud")).withPort(0))) {
      run.server = server;
      if (o.bool("cds", true)) {
        run.trainCds();
      }
      out.println("- agent command: `" + run.jvm.describe(dir.resolve("<phase>/agent.yaml")) + "`");
      out.println();
      List<FootprintSampler.Figures> figures = new ArrayList<>();
      FootprintRun.Starts starts = phases.contains("start") ? run.starts() : null;
      if (phases.contains("idle") || phases.contains("load")) {
        figures.addAll(run.idleAndLoad(phases.contains("idle"), phases.contains("load")));
      }
      if (phases.contains("catchup")) {
        figures.add(run.catchUp());
      }
      print(out, starts, figures, run.notes);
      addRows(rows, starts, figures, run);
      return run.ok;
    }
  }

  private static String header(FootprintJvm jvm, Path dir) throws IOException {
    StringBuilder b = new StringBuilder();
    b.append("- CPU: ").append(cpuModel()).append('\n');
    b.append("- commit: ").append(run("git", "rev-parse", "--short", "HEAD")).append('\n');
    b.append("- agent JVM: ")
        .append(run(jvm.javaHome().resolve("bin/java").toString(), "-version").replace('\n', ' '))
        .append('\n');
    b.append("- agent JVM options: `").append(String.join(" ", jvm.options())).append("`\n");
    b.append("- server: in the bench's JVM, loopback; data in ").append(dir);
    return b.toString();
  }

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
    } catch (IOException e) {
      // not Linux
    }
    return "unknown";
  }

  /** A short command's output, trimmed; "unknown" if it cannot run. */
  static String run(String... cmd) {
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      String s = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      return p.waitFor() == 0 ? s : "unknown";
    } catch (IOException | InterruptedException e) {
      return "unknown";
    }
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /** The agent's YAML: the device, the server, a fixed local API port, the data directory. */
  static String agentYaml(String device, String url, int apiPort, Path data, String extra) {
    return "device: {id: \""
        + device
        + "\"}\nserver: {url: \""
        + url
        + "\"}\nlocal_api: {port: "
        + apiPort
        + "}\nsync: {offline: {local_storage_path: \""
        + data.toAbsolutePath().toString().replace("\\", "/")
        + "\"}}\n"
        + (extra.isBlank() ? "" : extra.strip() + "\n");
  }

  /**
   * Preloads {@code n} records into the outbox of {@code yaml}, as an offline device wrote them.
   */
  static void preload(String yaml, long n, int recordBytes) throws Exception {
    AgentConfig config = AgentConfig.fromYaml(yaml);
    SyncScenario.preload(config, n, recordBytes, 1024);
  }

  static String stream() {
    return STREAM;
  }

  private static void print(
      PrintStream out,
      FootprintRun.Starts starts,
      List<FootprintSampler.Figures> figures,
      List<String> notes) {
    if (starts != null) {
      out.println(
          String.format(
              Locale.ROOT,
              "start-up to the first accepted append: first start (empty data dir) %.0f ms;"
                  + " restarts (%d): min %.0f / median %.0f / max %.0f ms (the agent's CPU time"
                  + " until then, median: %.0f ms); RSS at that moment %s",
              starts.firstMs(),
              starts.restartMs().length,
              starts.min(),
              starts.median(),
              starts.max(),
              starts.cpuMedianMs(),
              mib(starts.rssAtAccept())));
      out.println();
    }
    out.println(
        "| phase | s | RSS max | RSS avg | peak RSS (VmHWM) | anon max | heap used max |"
            + " heap committed max | non-heap committed max | direct max | threads max | GCs |"
            + " agent CPU s |");
    out.println("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for (FootprintSampler.Figures f : figures) {
      out.println(
          String.format(
              Locale.ROOT,
              "| %s | %.1f | %s | %s | %s | %s | %s | %s | %s | %s | %d | %d | %.1f |",
              f.phase(),
              f.seconds(),
              mib(f.rssMax()),
              mib(f.rssAvg()),
              mib(f.hwm()),
              mib(f.rssAnonMax()),
              mib(f.heapUsedMax()),
              mib(f.heapCommittedMax()),
              mib(f.nonHeapCommittedMax()),
              mib(f.directMax()),
              f.threadsMax(),
              f.gcs(),
              f.cpuSeconds()));
    }
    out.println();
    for (String n : notes) {
      out.println("- " + n);
    }
    out.println();
  }

  private static void addRows(
      List<String[]> rows,
      FootprintRun.Starts starts,
      List<FootprintSampler.Figures> figures,
      FootprintRun run) {
    String settings = "agent: `" + String.join(" ", run.jvm.options()) + "`";
    if (starts != null) {
      rows.add(
          new String[] {
            "footprint: start to the first accepted append",
            "≤ 1.5 s",
            String.format(
                Locale.ROOT,
                "**median %.0f ms** (min %.0f, max %.0f over %d restarts; first start %.0f ms);"
                    + " agent CPU until then %.0f ms (median)",
                starts.median(),
                starts.min(),
                starts.max(),
                starts.restartMs().length,
                starts.firstMs(),
                starts.cpuMedianMs()),
            settings
          });
    }
    for (FootprintSampler.Figures f : figures) {
      boolean goal = f.phase().startsWith("load") || f.phase().startsWith("catch-up");
      rows.add(
          new String[] {
            "footprint: " + f.phase(),
            goal ? "RSS ≤ 96 MiB" : "-",
            String.format(
                Locale.ROOT,
                "**RSS max %s** (avg %s, VmHWM %s); heap used ≤ %s of %s committed; %d threads",
                mib(f.rssMax()),
                mib(f.rssAvg()),
                mib(f.hwm()),
                mib(f.heapUsedMax()),
                mib(f.heapCommittedMax()),
                f.threadsMax()),
            settings
          });
    }
  }

  static String mib(long bytes) {
    return bytes < 0 ? "-" : String.format(Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024));
  }
}
