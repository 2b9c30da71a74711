package io.edgesync.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Runs {@link FleetScenario} and reports it: rows of the Markdown table and one machine-readable
 * line {@code FLEET_RESULT {json}} on stdout (figures in milliseconds, bytes and seconds).
 */
final class FleetReport {
  private FleetReport() {}

  /** Runs the fleet; true when every phase reached every device without a protocol error. */
  static boolean report(Path dir, Opts o, PrintStream out, List<String[]> rows) throws Exception {
    FleetScenario.Result r = FleetScenario.run(dir, o);
    FleetScenario.Settings s = r.settings();
    String settings = s.describe();
    String mode = s.tls() ? "mTLS" : "plain";
    rows.add(
        new String[] {
          "fleet (" + mode + "): connect + idle memory",
          "10,000 sessions, heap ≤ 1 GiB; report per idle session",
          String.format(
              Locale.ROOT,
              "%s; %,d RETRY_LATER; %s; client: %s MiB heap, %d threads",
              r.connectSeconds() < 0
                  ? "NOT all welcomed (timeout)"
                  : String.format(
                      Locale.ROOT, "all %,d welcomed in %.1f s", s.devices(), r.connectSeconds()),
              r.connectRetryLater(),
              memory(r),
              FleetScenario.mib(r.clientHeapBytes()),
              r.clientThreads()),
          settings
        });
    if (r.ackLatency() != null) {
      rows.add(
          new String[] {
            "fleet (" + mode + "): steady batches",
            "acks p99 ≤ 500 ms",
            String.format(
                Locale.ROOT,
                "**ack p50 %s ms, p99 %s ms, max %s ms**; %,d batches sent, %,d acked, %,d ticks"
                    + " skipped (previous batch unacked); server after: %s",
                Stats.num(r.ackLatency().p50Ms()),
                Stats.num(r.ackLatency().p99Ms()),
                Stats.num(r.ackLatency().maxMs()),
                r.batchesSent(),
                r.ackLatency().count(),
                r.batchesSkipped(),
                r.loadedMemory() == null ? "-" : heapRss(r.loadedMemory())),
            String.format(Locale.ROOT, "%.0f s measured; ", s.steadySeconds()) + settings
          });
    }
    if (r.fanout() != null) {
      rows.add(
          new String[] {
            "fleet (" + mode + "): document fan-out",
            "all devices, p99 ≤ 2 s",
            delivery(r.fanout()),
            "from the start of the REST write to the device holding it; " + settings
          });
    }
    if (r.restart() != null) {
      rows.add(
          new String[] {
            "fleet (" + mode + "): restart storm",
            "all back and caught up ≤ 60 s",
            String.format(
                Locale.ROOT,
                "%s; %s after the server listened again; **%,d RETRY_LATER**; document %s",
                r.restart().seconds() < 0
                    ? String.format(
                        Locale.ROOT,
                        "**%,d of %,d caught up (timeout)**",
                        r.restart().reached(),
                        r.restart().devices())
                    : String.format(
                        Locale.ROOT,
                        "**all %,d caught up %.1f s after the kill**",
                        r.restart().devices(),
                        r.restart().seconds()),
                r.restartFromReadySeconds() < 0
                    ? "-"
                    : String.format(Locale.ROOT, "%.1f s", r.restartFromReadySeconds()),
                r.restartRetryLater(),
                r.restart().latency()),
            "SIGKILL, same data dir and port; caught up = Welcome + its first batch acked + the"
                + " document written after the restart; "
                + settings
          });
    }
    if (r.ceiling() != null) {
      FleetCeiling.Result c = r.ceiling();
      FleetCeiling.Step last = c.steps().isEmpty() ? null : c.steps().get(c.steps().size() - 1);
      rows.add(
          new String[] {
            "fleet (" + mode + "): ceiling (idle sessions on one node)",
            "how far from 100,000",
            String.format(
                Locale.ROOT,
                "**%,d sessions held**; bound: %s; at the last step: %s, %,d open files",
                c.held(),
                c.bound(),
                last == null || last.memory() == null ? "server gone" : heapRss(last.memory()),
                last == null ? -1 : last.openFiles()),
            settings
          });
    }
    if (r.errors() > 0) {
      rows.add(
          new String[] {
            "fleet (" + mode + "): protocol errors", "none", r.errors() + ": " + r.firstError(), ""
          });
    }
    out.println("FLEET_RESULT " + new ObjectMapper().writeValueAsString(json(r)));
    out.println();
    return r.connectSeconds() >= 0
        && r.errors() == 0
        && (r.fanout() == null || r.fanout().seconds() >= 0)
        && (r.restart() == null || r.restart().seconds() >= 0);
  }

  private static String delivery(FleetScenario.Delivery d) {
    return String.format(
        Locale.ROOT,
        "%s; **p50 %s ms, p99 %s ms, max %s ms** (the REST PUT itself: %.0f ms)",
        d.seconds() < 0
            ? String.format(Locale.ROOT, "%,d of %,d reached (timeout)", d.reached(), d.devices())
            : String.format(Locale.ROOT, "all %,d reached in %.1f s", d.devices(), d.seconds()),
        Stats.num(d.latency().p50Ms()),
        Stats.num(d.latency().p99Ms()),
        Stats.num(d.latency().maxMs()),
        d.restWriteMs());
  }

  private static String memory(FleetScenario.Result r) {
    if (r.idleMemory() == null) {
      return "server memory not measured (external server)";
    }
    return String.format(
        Locale.ROOT,
        "server idle: %s (with none: %s) = **%.1f KiB heap, %.1f KiB RSS per idle session**",
        heapRss(r.idleMemory()),
        heapRss(r.baseMemory()),
        r.heapPerSession() / 1024,
        r.rssPerSession() / 1024);
  }

  private static String heapRss(FleetServerProcess.Memory m) {
    return String.format(
        Locale.ROOT,
        "heap %s MiB after GC, RSS %s MiB, %d threads",
        FleetScenario.mib(m.heapUsed()),
        FleetScenario.mib(m.rss()),
        m.threads());
  }

  private static Map<String, Object> json(FleetScenario.Result r) {
    FleetScenario.Settings s = r.settings();
    Map<String, Object> j = new LinkedHashMap<>();
    j.put("scenario", "fleet");
    j.put("mode", s.tls() ? "mtls" : "plain");
    j.put("devices", s.devices());
    j.put("external", s.external().stream().map(Object::toString).toList());
    j.put("serverHeap", s.serverHeap());
    j.put("store", s.store());
    j.put("nodes", s.nodes());
    j.put("steadySeconds", s.steadySeconds());
    j.put("batchEveryMs", s.batchPeriodMs());
    j.put("connectSeconds", r.connectSeconds());
    j.put("connectRetryLater", r.connectRetryLater());
    j.put("memoryNone", r.baseMemory());
    j.put("memoryIdle", r.idleMemory());
    j.put("memoryLoaded", r.loadedMemory());
    if (r.idleMemory() != null) {
      j.put("heapBytesPerIdleSession", Math.round(r.heapPerSession()));
      j.put("rssBytesPerIdleSession", Math.round(r.rssPerSession()));
    }
    j.put("ackLatencyMs", r.ackLatency());
    j.put("batchesSent", r.batchesSent());
    j.put("batchesSkipped", r.batchesSkipped());
    j.put("fanout", r.fanout());
    j.put("restart", r.restart());
    j.put("restartFromReadySeconds", r.restartFromReadySeconds());
    j.put("restartRetryLater", r.restartRetryLater());
    j.put("errors", r.errors());
    j.put("firstError", r.firstError());
    j.put("clientHeapBytes", r.clientHeapBytes());
    j.put("clientThreads", r.clientThreads());
    j.put("ceiling", r.ceiling());
    return j;
  }
}
