package io.edgesync.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code edgesync synclog}: what happened to each sync operation. With {@code --stream}, from an
 * agent's local API: the batches of a stream it sent, with when their records were queued, when
 * they were sent and when the cloud acknowledged them. With {@code --device}, from the server: the
 * device's commands (queued, sent, acknowledged, finished) and documents (committed when).
 */
@Command(
    name = "synclog",
    description = {
      "Sync log per operation: queued, sent, acknowledged, with times.",
      "--stream S: an agent's batches of stream S (its local API, --agent);",
      "--device D: a device's commands and documents as the server (--server) saw them."
    })
final class SyncLogCommand extends RemoteCommand implements Callable<Integer> {
  @Option(names = "--stream", description = "An agent's stream (asks the agent's local API)")
  String stream;

  @Option(names = "--device", description = "A device (asks the server's REST API)")
  String device;

  @Mixin AgentApiOptions agent;

  @Option(
      names = "--after",
      description = "With --stream: batches holding sequences above this (default: 0)",
      defaultValue = "0")
  long after;

  @Option(
      names = "--limit",
      description = "At most this many entries (default: ${DEFAULT-VALUE})",
      defaultValue = "100")
  int limit;

  @Mixin JsonOutput output;

  @Override
  public Integer call() throws Exception {
    if ((stream == null) == (device == null)) {
      System.err.println("edgesync: give exactly one of --stream (an agent's) and --device");
      return 2;
    }
    JsonNode body;
    if (stream != null) {
      ServerApi api = agent.api();
      String url =
          agent.base() + "/v1/streams/" + enc(stream) + "/log?after=" + after + "&limit=" + limit;
      body = request(() -> api.get(url));
    } else {
      ServerApi api = api();
      String url = url("/api/v1/devices/" + enc(device) + "/synclog?limit=" + limit);
      body = request(() -> api.get(url));
    }
    if (body == null) {
      return 1;
    }
    if (!output.printed(body)) {
      System.out.print(stream != null ? agentText(body) : deviceText(body));
    }
    return 0;
  }

  /** An agent's stream log as a table. */
  static String agentText(JsonNode b) {
    StringBuilder out = new StringBuilder();
    out.append(
        String.format(
            "stream %s: last %s, acknowledged %s, queued %s%n",
            b.path("stream").asText(),
            b.path("lastSequence").asText("-"),
            b.path("acknowledgedSequence").asText("-"),
            b.path("queuedRecords").asText("-")));
    out.append(
        String.format(
            "%-21s %7s %-24s %-24s %5s %-24s%n",
            "SEQUENCES", "RECORDS", "QUEUED", "SENT", "SENDS", "ACKNOWLEDGED"));
    for (JsonNode e : b.path("entries")) {
      boolean gap = e.has("gap");
      out.append(
          String.format(
              "%-21s %7s %-24s %-24s %5d %-24s%n",
              e.get("firstSequence").asLong() + ".." + e.get("lastSequence").asLong(),
              gap ? "gap" : e.get("records").asText(),
              StatusView.time(e.path(gap ? "droppedAtMs" : "queuedAtMs").asLong()),
              StatusView.time(e.get("sentAtMs").asLong()),
              e.get("sends").asInt(),
              StatusView.time(e.path("acknowledgedAtMs").asLong())));
    }
    return out.toString();
  }

  /** A device's log from the server as a table. */
  static String deviceText(JsonNode b) {
    StringBuilder out = new StringBuilder();
    out.append(
        String.format(
            "%-9s %-12s %-36s %-11s %-24s %s%n",
            "KIND", "DIRECTION", "WHAT", "STATE", "AT", "DETAIL"));
    for (JsonNode e : b.path("entries")) {
      boolean command = e.get("kind").asText().equals("command");
      String what =
          command
              ? e.get("name").asText() + " " + e.get("id").asText()
              : e.get("collection").asText() + "/" + e.get("key").asText();
      String state =
          command
              ? e.get("state").asText()
              : (e.get("direction").asText().equals("from_device") ? "committed" : "written");
      String detail =
          command
              ? "queued "
                  + StatusView.time(e.get("queuedAtMs").asLong())
                  + ", sent "
                  + e.get("sent").asInt()
                  + "x"
              : "version " + e.get("version").asLong() + " by " + e.get("writer").asText();
      out.append(
          String.format(
              "%-9s %-12s %-36s %-11s %-24s %s%n",
              e.get("kind").asText(),
              e.get("direction").asText(),
              what,
              state,
              StatusView.time(e.get("atMs").asLong()),
              detail));
    }
    return out.toString();
  }
}
