package io.edgesync.bench;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;
import javax.net.ssl.SSLContext;

/**
 * The fleet's ceiling phase ({@code --phases=ceiling}, not in the default run): keeps adding idle
 * sessions, {@code --ceiling-step} at a time, until a step is not all welcomed within the phase
 * timeout, the server dies, or {@code --ceiling-max} is reached; reports how many it held and what
 * bounded it. Clients bind to loopback source addresses 127.0.0.1, .2, ... ({@value
 * #SESSIONS_PER_SOURCE} each) to get past the ~28,000 ephemeral ports of one address. Runner thread
 * only.
 */
final class FleetCeiling {
  /** Below the 28,232 ports of Linux's default ephemeral range (32768–60999). */
  static final int SESSIONS_PER_SOURCE = 25_000;

  record Step(int sessions, double seconds, FleetServerProcess.Memory memory, long openFiles) {}

  record Result(int held, String bound, List<Step> steps) {}

  private FleetCeiling() {}

  static Result run(
      Path dir,
      FleetScenario.Settings s,
      FleetClients clients,
      FleetServerProcess server,
      IntFunction<SSLContext> ssl)
      throws Exception {
    List<Step> steps = new ArrayList<>();
    int held = clients.size();
    while (held < s.ceilingMax()) {
      int to = Math.min(s.ceilingMax(), held + s.ceilingStep());
      clients.add(held, to, ssl, FleetCeiling::source);
      long t0 = System.nanoTime();
      clients.start(held, to);
      int welcomed = awaitWelcomed(clients, to, s.timeoutSeconds(), server);
      double seconds = (System.nanoTime() - t0) / 1e9;
      FleetServerProcess.Memory m = server != null && server.isAlive() ? server.memory() : null;
      long fds = server != null && server.isAlive() ? server.openFiles() : -1;
      steps.add(new Step(welcomed, seconds, m, fds));
      Bench.logf(
          "fleet: ceiling: %,d of %,d sessions welcomed (%.0f s); server %s, %,d open files",
          welcomed, to, seconds, m == null ? "gone" : describe(m), fds);
      if (welcomed < to) {
        return new Result(welcomed, bound(dir, clients, server, welcomed, to), steps);
      }
      held = to;
    }
    return new Result(held, "--ceiling-max reached", steps);
  }

  /** Loopback source address of device {@code i}: 127.0.0.1 for the first 25,000, then .2, ... */
  static InetAddress source(int i) {
    int n = 1 + i / SESSIONS_PER_SOURCE;
    try {
      return InetAddress.getByAddress(new byte[] {127, 0, (byte) (n >> 8), (byte) n});
    } catch (UnknownHostException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Waits until {@code target} devices hold a session, or progress stalls past the timeout. */
  private static int awaitWelcomed(
      FleetClients clients, int target, double timeoutSeconds, FleetServerProcess server)
      throws InterruptedException {
    long stallDeadline = System.nanoTime() + (long) (timeoutSeconds * 1e9);
    int best = clients.welcomed();
    while (best < target && System.nanoTime() < stallDeadline) {
      if (server != null && !server.isAlive()) {
        break;
      }
      Thread.sleep(2_000);
      int now = clients.welcomed();
      if (now > best) {
        best = now;
        stallDeadline = System.nanoTime() + (long) (timeoutSeconds * 1e9); // still moving
      }
    }
    return clients.welcomed();
  }

  /** What stopped the climb, from what the server's log and the clients say. */
  private static String bound(
      Path dir, FleetClients clients, FleetServerProcess server, int welcomed, int target)
      throws Exception {
    String log = "";
    Path file = dir.resolve("server.log");
    if (Files.exists(file)) {
      log = Files.readString(file);
    }
    StringBuilder b = new StringBuilder();
    if (server != null && !server.isAlive()) {
      b.append("the server died; ");
    }
    if (log.contains("OutOfMemoryError")) {
      b.append("the server's heap (OutOfMemoryError in its log); ");
    }
    if (log.contains("Too many open files")) {
      b.append("the server's open-file limit (EMFILE in its log); ");
    }
    String client = clients.shared.lastCloseReason.get();
    b.append(String.format("%,d of %,d welcomed; last client close: %s", welcomed, target, client));
    return b.toString();
  }

  private static String describe(FleetServerProcess.Memory m) {
    return "heap "
        + FleetScenario.mib(m.heapUsed())
        + " of "
        + FleetScenario.mib(m.heapCommitted())
        + " MiB committed, RSS "
        + FleetScenario.mib(m.rss())
        + " MiB, "
        + m.threads()
        + " threads";
  }
}
