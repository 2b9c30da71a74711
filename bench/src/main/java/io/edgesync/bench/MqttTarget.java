package io.edgesync.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A broker the MQTT bench measures, running as a child process of its own (so that its CPU is not
 * the generator's): Mosquitto ({@link MqttMosquitto}) or the edgesync agent ({@link MqttAgent}).
 * One instance per run; used by the runner thread only.
 */
interface MqttTarget extends AutoCloseable {
  /** Clock ticks per second of /proc/<pid>/stat's times (USER_HZ: 100 on Linux). */
  long USER_HZ = 100;

  String name();

  int port();

  Process process();

  /**
   * After the load ended and drained: what the broker holds compared with the PUBACKs the load
   * counted, as a sentence; {@code ok} false when they disagree.
   */
  Check check(MqttLoad.Result load) throws Exception;

  record Check(boolean ok, String text) {}

  /** Anything else worth printing with the run (the agent: its GC pauses), or "". */
  default String details() {
    return "";
  }

  /**
   * CPU time the process used so far (all threads, user + system), in nanoseconds; -1 if unknown.
   */
  default long cpuNanos() {
    try {
      String stat = Files.readString(Path.of("/proc/" + process().pid() + "/stat"));
      // The command name (field 2) may hold spaces; the fields after it follow the last ')'.
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime (fields 14, 15)
      return ticks * (1_000_000_000L / USER_HZ);
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /** Resident set size of the process now, in bytes; -1 if unknown. */
  default long rssBytes() {
    long kb = FleetServerProcess.procStatus(process().pid(), "VmRSS:");
    return kb < 0 ? -1 : kb * 1024;
  }

  /** A TCP port free on loopback just now. */
  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  /** Waits until {@code port} on loopback accepts a connection, or fails naming the log. */
  static void awaitListening(Process p, int port, double timeoutS, Path log, String what)
      throws Exception {
    long deadline = System.nanoTime() + (long) (timeoutS * 1e9);
    while (System.nanoTime() < deadline) {
      if (!p.isAlive()) {
        throw new IllegalStateException(
            what
                + " exited with "
                + p.exitValue()
                + " before listening; its log "
                + log
                + ":\n"
                + tail(log, 15));
      }
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", port), 200);
        return;
      } catch (IOException e) {
        Thread.sleep(50);
      }
    }
    p.destroyForcibly();
    throw new IllegalStateException(
        what
            + " did not listen on port "
            + port
            + " within "
            + timeoutS
            + " s; its log "
            + log
            + ":\n"
            + tail(log, 15));
  }

  /** SIGTERM, then SIGKILL if the process is still there after {@code graceS}. */
  static void stop(Process p, double graceS) throws InterruptedException {
    p.destroy();
    if (!p.waitFor((long) (graceS * 1000), TimeUnit.MILLISECONDS)) {
      p.destroyForcibly();
      p.waitFor(30, TimeUnit.SECONDS);
    }
  }

  static String tail(Path file, int lines) {
    try {
      List<String> all = Files.readAllLines(file);
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException e) {
      return "(unreadable: " + e + ")";
    }
  }
}
