package io.edgesync.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code edgesync conflicts list|show|resolve}: the conflict inbox of a server. */
@Command(
    name = "conflicts",
    description = "List, show and resolve document conflicts on a server.",
    subcommands = {
      ConflictsCommand.ListConflicts.class,
      ConflictsCommand.ShowConflict.class,
      ConflictsCommand.ResolveConflict.class,
      ConflictReportCommand.class
    })
final class ConflictsCommand {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Option(
      names = "--server",
      description = "Server base URL (default: ${DEFAULT-VALUE})",
      defaultValue = "http://127.0.0.1:8470",
      scope = picocli.CommandLine.ScopeType.INHERIT)
  String server;

  @Option(
      names = "--ca-file",
      description = ServerApi.CA_FILE_DESCRIPTION,
      scope = picocli.CommandLine.ScopeType.INHERIT)
  java.nio.file.Path caFile;

  @Option(
      names = "--api-key-file",
      description = ApiKeySource.FILE_DESCRIPTION,
      scope = picocli.CommandLine.ScopeType.INHERIT)
  java.nio.file.Path apiKeyFile;

  @Option(
      names = "--data-dir",
      description = ApiKeySource.DATA_DIR_DESCRIPTION,
      scope = picocli.CommandLine.ScopeType.INHERIT)
  java.nio.file.Path dataDir;

  /** A client of the server with the key the options name. */
  ServerApi api() throws java.io.IOException {
    return ServerApi.toServer(ApiKeySource.key(apiKeyFile, dataDir), caFile);
  }

  @Command(name = "list", description = "List conflicts (open ones by default).")
  static final class ListConflicts implements Callable<Integer> {
    @ParentCommand ConflictsCommand parent;

    @Option(
        names = "--status",
        description = "open | resolved | all (default: ${DEFAULT-VALUE})",
        defaultValue = "open")
    String status;

    @Option(names = "--device", description = "Only this device's")
    String device;

    @Option(names = "--collection", description = "Only this collection's")
    String collection;

    @picocli.CommandLine.Mixin JsonOutput output;

    @Override
    public Integer call() throws Exception {
      StringBuilder url = new StringBuilder(parent.server + "/api/v1/conflicts?limit=1000");
      if (!status.equals("all")) {
        url.append("&status=").append(enc(status));
      }
      if (device != null) {
        url.append("&device=").append(enc(device));
      }
      if (collection != null) {
        url.append("&collection=").append(enc(collection));
      }
      JsonNode body = request(() -> parent.api().get(url.toString()));
      if (body == null) {
        return 1;
      }
      if (output.printed(body)) {
        return 0;
      }
      System.out.printf(
          "%-6s %-9s %-16s %-32s %-16s %s%n",
          "ID", "STATUS", "DEVICE", "DOCUMENT", "STRATEGY", "OUTCOME");
      for (JsonNode c : body.get("conflicts")) {
        System.out.printf(
            "%-6d %-9s %-16s %-32s %-16s %s%n",
            c.get("id").asLong(),
            c.get("status").asText(),
            c.get("device").asText(),
            c.get("scope").asText()
                + " "
                + c.get("collection").asText()
                + "/"
                + c.get("key").asText(),
            c.get("strategy").asText(),
            c.get("outcome").isNull() ? "-" : c.get("outcome").asText());
      }
      return 0;
    }
  }

  @Command(
      name = "show",
      description = "Show one conflict: base, cloud and edge values with their HLCs.")
  static final class ShowConflict extends OneConflict {
    @picocli.CommandLine.Mixin JsonOutput output;

    @Override
    public Integer call() throws Exception {
      JsonNode body = request(() -> parent.api().get(url()));
      if (body == null) {
        return 1;
      }
      if (output.printed(body)) {
        return 0;
      }
      System.out.println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(body));
      return 0;
    }
  }

  @Command(
      name = "resolve",
      description = "Resolve an open conflict; the result syncs to every device.")
  static final class ResolveConflict extends OneConflict {
    @Option(names = "--take", description = "edge | cloud")
    String take;

    @Option(names = "--value", description = "The resolved document, as JSON")
    String value;

    @Override
    public Integer call() throws Exception {
      if ((take == null) == (value == null)) {
        System.err.println("edgesync: give exactly one of --take edge|cloud and --value JSON");
        return 2;
      }
      ObjectNode request = JSON.createObjectNode();
      if (take != null) {
        request.put("take", take);
      } else {
        try {
          request.set("value", JSON.readTree(value));
        } catch (java.io.IOException e) {
          System.err.println("edgesync: --value is not valid JSON: " + e.getMessage());
          return 2;
        }
      }
      JsonNode body = request(() -> parent.api().post(url() + "/resolve", request.toString()));
      if (body == null) {
        return 1;
      }
      JsonNode doc = body.get("document");
      System.out.println(
          "resolved conflict "
              + id
              + ": "
              + doc.get("collection").asText()
              + "/"
              + doc.get("key").asText()
              + " is now version "
              + doc.get("version").asLong()
              + " = "
              + doc.get("value"));
      return 0;
    }
  }

  /** A subcommand on one conflict, named by its id. */
  abstract static class OneConflict implements Callable<Integer> {
    @ParentCommand ConflictsCommand parent;

    @Parameters(index = "0", description = "Conflict id")
    long id;

    /** The conflict's URL on the server. */
    String url() {
      return parent.server + "/api/v1/conflicts/" + id;
    }
  }

  private interface Call {
    ServerApi.Reply run() throws Exception;
  }

  /** The reply's JSON, or null after printing the error. */
  private static JsonNode request(Call call) throws Exception {
    ServerApi.Reply reply;
    try {
      reply = call.run();
    } catch (ServerApi.Unreachable e) {
      System.err.println("edgesync: " + e.getMessage());
      return null;
    }
    JsonNode body = reply.body().isEmpty() ? null : JSON.readTree(reply.body());
    if (!reply.ok()) {
      System.err.println(
          "edgesync: HTTP "
              + reply.status()
              + ": "
              + (body != null && body.has("error") ? body.get("error").asText() : reply.body()));
      return null;
    }
    return body;
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }
}
