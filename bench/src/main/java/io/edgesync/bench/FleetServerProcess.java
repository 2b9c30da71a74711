package io.edgesync.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The fleet bench's server as a child JVM ({@link FleetServerMain}) with the bench's classpath:
 * start, wait for it to listen, ask its heap, read its RSS from {@code /proc/<pid>/status}, kill
 * it. The child's logs go to a file; its stdout carries only the line protocol, read by one daemon
 * thread. Used by the runner thread only.
 */
final class FleetServerProcess implements AutoCloseable {
  /** Memory of the server at one moment, in bytes; -1 where not known. */
  record Memory(long heapUsed, long heapCommitted, long rss, int threads) {}

  private final Process process;
  private final LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
  private final OutputStream stdin;
  private final int port;

  private FleetServerProcess(Process process, Path log, double readyTimeoutS) throws Exception {
    this.process = process;
    this.stdin = process.getOutputStream();
    Thread reader = new Thread(this::readLines, "fleet-server-stdout");
    reader.setDaemon(true);
    reader.start();
    long deadline = System.nanoTime() + (long) (readyTimeoutS * 1e9);
    String ready = null;
    while (ready == null && process.isAlive() && System.nanoTime() < deadline) {
      String line = lines.poll(200, TimeUnit.MILLISECONDS);
      // The JVM may print first (a flight recording's notice from --server-jvm-opts).
      ready = line != null && line.startsWith("READY ") ? line : null;
    }
    if (ready == null || !ready.startsWith("READY ")) {
      process.destroyForcibly();
      throw new IllegalStateException(
          "the fleet server did not start within "
              + readyTimeoutS
              + " s ("
              + (process.isAlive() ? "still starting" : "exited with " + process.exitValue())
              + "); the end of its log "
              + log
              + ":\n"
              + tail(log, 10));
    }
    this.port = Integer.parseInt(ready.substring(6).trim());
  }

  /**
   * Starts the server of {@code config} with these JVM options and waits until it listens; {@code
   * nofile} above 0 sets its open-file limit (soft and hard) through {@code prlimit}, which needs
   * the right to raise the hard limit (root).
   */
  static FleetServerProcess start(Path config, List<String> jvmOptions, int nofile, Path log)
      throws Exception {
    List<String> cmd = new ArrayList<>();
    if (nofile > 0) {
      cmd.addAll(List.of("prlimit", "--nofile=" + nofile + ":" + nofile, "--"));
    }
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(jvmOptions);
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(FleetServerMain.class.getName());
    cmd.add(config.toString());
    Files.createDirectories(log.getParent());
    Process p =
        new ProcessBuilder(cmd)
            .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()))
            .start();
    return new FleetServerProcess(p, log, 60);
  }

  private static String tail(Path file, int lines) {
    try {
      List<String> all = Files.readAllLines(file);
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException e) {
      return "(unreadable: " + e + ")";
    }
  }

  int port() {
    return port;
  }

  long pid() {
    return process.pid();
  }

  /** Heap after a forced full GC in the server, RSS and thread count from /proc. */
  Memory memory() throws Exception {
    stdin.write("HEAP\n".getBytes(StandardCharsets.US_ASCII));
    stdin.flush();
    String reply = lines.poll(60, TimeUnit.SECONDS);
    long used = -1;
    long committed = -1;
    if (reply != null && reply.startsWith("HEAP ")) {
      String[] parts = reply.split(" ");
      used = Long.parseLong(parts[1]);
      committed = Long.parseLong(parts[2]);
    }
    return new Memory(
        used,
        committed,
        procStatus(process.pid(), "VmRSS:") * 1024,
        (int) procStatus(process.pid(), "Threads:"));
  }

  /** A number field of /proc/<pid>/status (VmRSS in kB), -1 if there is none. */
  static long procStatus(long pid, String field) {
    try {
      for (String l : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
        if (l.startsWith(field)) {
          return Long.parseLong(l.substring(field.length()).trim().split("\\s+")[0]);
        }
      }
    } catch (IOException | NumberFormatException e) {
      return -1;
    }
    return -1;
  }

  /** Open file descriptors of the process, -1 if /proc does not say. */
  long openFiles() {
    try (var s = Files.list(Path.of("/proc/" + process.pid() + "/fd"))) {
      return s.count();
    } catch (IOException e) {
      return -1;
    }
  }

  /**
   * Writes the server's class histogram of live objects ({@code jcmd <pid> GC.class_histogram},
   * which collects first) to {@code out}; returns its first {@code lines} lines, or a note on why
   * there is none (no jcmd in this JDK).
   */
  String histogram(Path out, int lines) throws Exception {
    Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
    if (!Files.isExecutable(jcmd)) {
      return "(no histogram: " + jcmd + " is missing)";
    }
    Process p =
        new ProcessBuilder(jcmd.toString(), Long.toString(pid()), "GC.class_histogram")
            .redirectErrorStream(true)
            .redirectOutput(out.toFile())
            .start();
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      return "(no histogram: jcmd took over 120 s)";
    }
    List<String> all = Files.readAllLines(out);
    return String.join("\n", all.subList(0, Math.min(lines, all.size())));
  }

  boolean isAlive() {
    return process.isAlive();
  }

  /** SIGKILL, as a crash: returns once the process is gone. */
  void kill() throws InterruptedException {
    process.toHandle().destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  private void readLines() {
    try (BufferedReader r =
        new BufferedReader(
            new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      for (String l; (l = r.readLine()) != null; ) {
        lines.add(l);
      }
    } catch (IOException e) {
      // the child is gone
    }
  }

  /** Ends the server: closes its stdin (it stops itself), then kills it if it lingers. */
  @Override
  public void close() throws Exception {
    try {
      stdin.close();
    } catch (IOException e) {
      // already gone
    }
    if (!process.waitFor(20, TimeUnit.SECONDS)) {
      kill();
    }
  }
}
