package io.edgesync.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintStream;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code edgesync sync}: asks an agent to sync now and waits until its backlog is sent and
 * acknowledged, drawing a progress bar of the catch-up (records acknowledged of those queued when
 * it started, and of any appended meanwhile) on stderr when run in a terminal or with {@code
 * --progress}. Exits 0 once nothing is queued, 1 if something still is after {@code --timeout-ms}.
 */
@Command(
    name = "sync",
    description = {
      "Ask an agent to sync now and wait until its backlog is sent (a catch-up progress bar",
      "on stderr in a terminal or with --progress)."
    })
final class SyncCommand implements Callable<Integer> {
  @Mixin AgentApiOptions agent;

  @Option(
      names = "--timeout-ms",
      description = "Give up waiting after this long (default: ${DEFAULT-VALUE})",
      defaultValue = "600000")
  long timeoutMs;

  @Option(
      names = "--interval-ms",
      description = "How often to look (default: ${DEFAULT-VALUE})",
      defaultValue = "500")
  long intervalMs;

  @Option(names = "--progress", description = "Draw the bar even when not in a terminal")
  boolean progress;

  /** What the agent's streams add up to at one moment. */
  record Backlog(long lastSequences, long acked, long queued) {
    static Backlog of(JsonNode status) {
      long last = 0;
      long acked = 0;
      long queued = 0;
      for (JsonNode s : status.path("streams")) {
        last += s.path("lastSequence").asLong();
        acked += s.path("ackedSequence").asLong();
        queued += s.path("queuedRecords").asLong();
      }
      return new Backlog(last, acked, queued);
    }
  }

  @Override
  public Integer call() throws Exception {
    ServerApi api = agent.api();
    String base = agent.base();
    ServerApi.Reply asked;
    try {
      asked = api.post(base + "/v1/sync", "");
    } catch (ServerApi.Unreachable e) {
      System.err.println("edgesync: " + e.getMessage());
      return 1;
    }
    if (asked.status() == 409) { // on-demand sync is off: the agent syncs on its own triggers
      System.err.println("edgesync: " + RemoteCommand.errorOf(asked.body()) + "; waiting anyway");
    } else if (!asked.ok()) {
      System.err.println(
          "edgesync: HTTP " + asked.status() + ": " + RemoteCommand.errorOf(asked.body()));
      return 1;
    }
    return await(
        api, base + "/v1/status", progress || System.console() != null ? System.err : null);
  }

  private int await(ServerApi api, String url, PrintStream bar) throws Exception {
    long startNanos = System.nanoTime();
    Backlog first = null;
    while (true) {
      JsonNode status = RemoteCommand.request(() -> api.get(url));
      if (status == null) {
        return 1;
      }
      Backlog now = Backlog.of(status);
      if (first == null) {
        first = now;
      }
      long elapsedMs = (System.nanoTime() - startNanos) / 1_000_000;
      long done = now.acked() - first.acked();
      long total = done + now.queued();
      if (bar != null) {
        bar.print("\r" + ProgressBar.line(done, total, elapsedMs, "records"));
        bar.flush();
      }
      if (now.queued() == 0) {
        if (bar != null) {
          bar.println();
        }
        System.out.printf(
            "backlog sent: %d records acknowledged in %s%n", done, StatusView.duration(elapsedMs));
        return 0;
      }
      if (elapsedMs >= timeoutMs) {
        if (bar != null) {
          bar.println();
        }
        System.err.printf(
            "edgesync: %d records still queued after %s (%d acknowledged meanwhile)%n",
            now.queued(), StatusView.duration(elapsedMs), done);
        return 1;
      }
      Thread.sleep(intervalMs);
    }
  }
}
