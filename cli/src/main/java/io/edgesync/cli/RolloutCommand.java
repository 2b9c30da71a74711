package io.edgesync.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code edgesync rollout start|status|list|pause|resume|cancel}: rollouts of file versions. */
@Command(
    name = "rollout",
    description = "Roll a published file version out to devices at a rate, and watch it.",
    subcommands = {
      RolloutCommand.Start.class,
      RolloutCommand.Status.class,
      RolloutCommand.ListRollouts.class,
      RolloutCommand.Pause.class,
      RolloutCommand.Resume.class,
      RolloutCommand.Cancel.class
    })
final class RolloutCommand extends RemoteCommand {
  /** Device states that are still moving. */
  private static final Set<String> UNDER_WAY =
      Set.of("pending", "offered", "downloading", "verified");

  static final class Target {
    @Option(names = "--device", description = "One device")
    String device;

    @Option(names = "--group", description = "Every device of a group")
    String group;

    @Option(names = "--fleet", description = "Every device")
    boolean fleet;
  }

  @Command(name = "start", description = "Start a rollout of --path --version to a target.")
  static final class Start implements Callable<Integer> {
    @Option(
        names = {"-h", "--help"},
        usageHelp = true,
        description = "Show this help message and exit.")
    boolean help; // declared here: this command's --version names a file version, not edgesync's

    @ParentCommand RolloutCommand parent;

    @Option(names = "--path", required = true, description = "The file's path")
    String path;

    @Option(names = "--version", required = true, description = "The published version")
    long version;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Target target;

    @Option(
        names = "--rate",
        description = "Devices per minute (default: ${DEFAULT-VALUE})",
        defaultValue = "10")
    int rate;

    @Option(
        names = "--max-failure-share",
        description =
            "Pause when more than this share of reporting devices failed (default: ${DEFAULT-VALUE})",
        defaultValue = "0.2")
    double maxFailureShare;

    @Option(
        names = "--min-reports",
        description = "Reports needed before the failure share counts (default: ${DEFAULT-VALUE})",
        defaultValue = "5")
    int minReports;

    @Override
    public Integer call() throws Exception {
      ObjectNode b = JSON.createObjectNode();
      b.put("path", path);
      b.put("version", version);
      if (target.device != null) {
        b.put("device", target.device);
      } else if (target.group != null) {
        b.put("group", target.group);
      } else {
        b.put("fleet", true);
      }
      b.put("ratePerMinute", rate);
      b.put("maxFailureShare", maxFailureShare);
      b.put("minReports", minReports);
      ServerApi api = parent.api();
      JsonNode r = request(() -> api.post(parent.url("/api/v1/rollouts"), b.toString()));
      if (r == null) {
        return 1;
      }
      System.out.printf(
          "rollout %d: %s version %d to %s, %d devices per minute%n",
          r.get("id").asLong(),
          r.get("path").asText(),
          r.get("version").asLong(),
          r.get("target").asText()
              + (r.has(r.get("target").asText())
                  ? " " + r.get(r.get("target").asText()).asText()
                  : ""),
          r.get("ratePerMinute").asInt());
      return 0;
    }
  }

  @Command(name = "status", description = "A rollout's state, counts and every device's progress.")
  static final class Status implements Callable<Integer> {
    @ParentCommand RolloutCommand parent;

    @Parameters(index = "0", description = "Rollout id")
    long id;

    @Option(names = "--watch", description = "Print again until no device is under way")
    boolean watch;

    @Option(
        names = "--interval-ms",
        description = "With --watch: how often (default: ${DEFAULT-VALUE})",
        defaultValue = "2000")
    long intervalMs;

    @picocli.CommandLine.Mixin JsonOutput output;

    @Override
    public Integer call() throws Exception {
      ServerApi api = parent.api();
      long startNanos = System.nanoTime();
      while (true) {
        JsonNode r = request(() -> api.get(parent.url("/api/v1/rollouts/" + id)));
        if (r == null) {
          return 1;
        }
        if (!output.printed(r)) {
          if (watch && System.console() != null) {
            // In a terminal: how many devices are done, above the table.
            System.out.println(
                ProgressBar.line(
                    finished(r),
                    r.get("devices").size(),
                    (System.nanoTime() - startNanos) / 1_000_000,
                    "devices"));
          }
          print(r);
        }
        if (!watch || !underWay(r)) {
          return 0;
        }
        Thread.sleep(intervalMs);
      }
    }

    /** Devices that reached an end: installed, failed or superseded. */
    static long finished(JsonNode r) {
      long n = 0;
      for (JsonNode d : r.get("devices")) {
        if (!UNDER_WAY.contains(d.get("state").asText())) {
          n++;
        }
      }
      return n;
    }

    private static boolean underWay(JsonNode r) {
      if (!r.get("state").asText().equals("running")) {
        return false;
      }
      for (String s : UNDER_WAY) {
        if (r.get("counts").path(s).asLong() > 0) {
          return true;
        }
      }
      return false;
    }

    private static void print(JsonNode r) {
      StringBuilder counts = new StringBuilder();
      r.get("counts")
          .fields()
          .forEachRemaining(
              e -> {
                if (e.getValue().asLong() > 0) {
                  counts.append(' ').append(e.getKey()).append('=').append(e.getValue().asLong());
                }
              });
      System.out.printf(
          "rollout %d: %s@%d %s%s;%s%n",
          r.get("id").asLong(),
          r.get("path").asText(),
          r.get("version").asLong(),
          r.get("state").asText(),
          r.get("reason").isNull() ? "" : " (" + r.get("reason").asText() + ")",
          counts);
      System.out.printf("%-24s %-12s %-22s %-7s %s%n", "DEVICE", "STATE", "BYTES", "%", "REASON");
      for (JsonNode d : r.get("devices")) {
        System.out.printf(
            "%-24s %-12s %-22s %-7s %s%n",
            d.get("device").asText(),
            d.get("state").asText(),
            bytes(d.get("bytesDone").asLong()) + " / " + bytes(d.get("bytesTotal").asLong()),
            d.get("percent").asText(),
            d.get("reason").isNull() ? "" : d.get("reason").asText());
      }
    }
  }

  @Command(name = "list", description = "List rollouts, newest first.")
  static final class ListRollouts implements Callable<Integer> {
    @ParentCommand RolloutCommand parent;

    @picocli.CommandLine.Mixin JsonOutput output;

    @Override
    public Integer call() throws Exception {
      ServerApi api = parent.api();
      JsonNode body = request(() -> api.get(parent.url("/api/v1/rollouts")));
      if (body == null) {
        return 1;
      }
      if (output.printed(body)) {
        return 0;
      }
      System.out.printf(
          "%-6s %-32s %-8s %-10s %-10s %s%n",
          "ID", "PATH", "VERSION", "TARGET", "STATE", "ADMITTED");
      for (JsonNode r : body.get("rollouts")) {
        System.out.printf(
            "%-6d %-32s %-8d %-10s %-10s %d%n",
            r.get("id").asLong(),
            r.get("path").asText(),
            r.get("version").asLong(),
            r.get("target").asText(),
            r.get("state").asText(),
            r.get("admitted").asLong());
      }
      return 0;
    }
  }

  /** pause, resume, cancel: a change of a rollout's state. */
  abstract static class Control implements Callable<Integer> {
    @ParentCommand RolloutCommand parent;

    @Parameters(index = "0", description = "Rollout id")
    long id;

    @Option(names = "--reason", description = "Why (recorded in the audit log)")
    String reason;

    abstract String action();

    @Override
    public Integer call() throws Exception {
      ObjectNode b = JSON.createObjectNode();
      if (reason != null) {
        b.put("reason", reason);
      }
      ServerApi api = parent.api();
      JsonNode r =
          request(
              () -> api.post(parent.url("/api/v1/rollouts/" + id + "/" + action()), b.toString()));
      if (r == null) {
        return 1;
      }
      System.out.println("rollout " + id + " is " + r.get("state").asText());
      return 0;
    }
  }

  @Command(name = "pause", description = "Pause: admit nobody, offer nothing, until resumed.")
  static final class Pause extends Control {
    @Override
    String action() {
      return "pause";
    }
  }

  @Command(name = "resume", description = "Resume a paused rollout at its rate.")
  static final class Resume extends Control {
    @Override
    String action() {
      return "resume";
    }
  }

  @Command(name = "cancel", description = "Cancel a rollout for good.")
  static final class Cancel extends Control {
    @Override
    String action() {
      return "cancel";
    }
  }
}
