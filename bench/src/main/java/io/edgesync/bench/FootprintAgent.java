package io.edgesync.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The agent as a child process, seen from outside: its {@code /proc/<pid>} figures (RSS, peak RSS,
 * threads, CPU time), {@code jcmd} on it, and a stop by SIGTERM (as systemd stops it, so a
 * class-data-sharing training run dumps its archive) or SIGKILL. Its stdout and stderr go to a log
 * file. Used by the bench's runner thread; the /proc readers are safe from any thread.
 */
final class FootprintAgent implements AutoCloseable {
  private final Process process;
  private final Path log;
  private final long startedNanos;

  private FootprintAgent(Process process, Path log, long startedNanos) {
    this.process = process;
    this.log = log;
    this.startedNanos = startedNanos;
  }

  static FootprintAgent start(FootprintJvm jvm, Path config, Path log) throws IOException {
    ProcessBuilder pb =
        new ProcessBuilder(jvm.command(config))
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    pb.environment().putAll(jvm.env());
    long t0 = System.nanoTime();
    return new FootprintAgent(pb.start(), log, t0);
  }

  long pid() {
    return process.pid();
  }

  long startedNanos() {
    return startedNanos;
  }

  boolean isAlive() {
    return process.isAlive();
  }

  /** A kB field of /proc/<pid>/status (VmRSS, VmHWM, RssAnon, RssFile) or Threads; -1 if gone. */
  long status(String field) {
    return FleetServerProcess.procStatus(pid(), field + ":");
  }

  /** User + system CPU time of the process in clock ticks (usually 100 a second); -1 if gone. */
  long cpuTicks() {
    try {
      String stat = Files.readString(Path.of("/proc/" + pid() + "/stat"));
      // Fields after the command name, which may contain spaces: state is field 3, utime 14.
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /** Runs {@code jcmd <pid> <command...>} and returns its output, or why there is none. */
  String jcmd(Path javaHome, String... command) throws InterruptedException {
    Path jcmd = javaHome.resolve("bin").resolve("jcmd");
    if (!Files.isExecutable(jcmd)) {
      return "(no " + jcmd + ")";
    }
    try {
      List<String> cmd = new java.util.ArrayList<>(List.of(jcmd.toString(), "" + pid()));
      cmd.addAll(List.of(command));
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      byte[] out = p.getInputStream().readAllBytes();
      p.waitFor(60, TimeUnit.SECONDS);
      return new String(out, java.nio.charset.StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(jcmd failed: " + e + ")";
    }
  }

  /** The last lines of the agent's log, for an error message. */
  String logTail(int lines) {
    try {
      List<String> all = Files.readAllLines(log);
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException e) {
      return "(unreadable log " + log + ": " + e + ")";
    }
  }

  /** SIGTERM, then SIGKILL after {@code graceSeconds}; returns once the process is gone. */
  void stop(int graceSeconds) throws InterruptedException {
    process.destroy();
    if (!process.waitFor(graceSeconds, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      process.waitFor(30, TimeUnit.SECONDS);
    }
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      stop(30);
    }
  }
}
