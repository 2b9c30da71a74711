package io.edgesync.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "status",
    description = {
      "Show an agent's status (its local API) or a server's devices (its REST API).",
      "With --watch, redraw every --interval-ms until Ctrl-C (or --iterations frames)."
    })
final class StatusCommand implements Callable<Integer> {
  @Option(
      names = "--agent",
      description = "Agent local API base URL (default: ${DEFAULT-VALUE})",
      defaultValue = "http://127.0.0.1:8471")
  String agent;

  @Option(
      names = "--agent-token-file",
      description =
          "The agent's local API token file (its local_api.token_file), when it has one; also"
              + " the environment variable EDGESYNC_AGENT_TOKEN")
  java.nio.file.Path agentTokenFile;

  @Option(names = "--server", description = "Server base URL, e.g. http://localhost:8470")
  String server;

  @Option(names = "--device", description = "With --server: one device's streams and gaps")
  String device;

  @Option(names = "--ca-file", description = ServerApi.CA_FILE_DESCRIPTION)
  java.nio.file.Path caFile;

  @Option(names = "--api-key-file", description = ApiKeySource.FILE_DESCRIPTION)
  java.nio.file.Path apiKeyFile;

  @Option(names = "--data-dir", description = ApiKeySource.DATA_DIR_DESCRIPTION)
  java.nio.file.Path dataDir;

  @Option(names = "--watch", description = "Redraw the view until Ctrl-C (a live view)")
  boolean watch;

  @Option(
      names = "--interval-ms",
      description = "With --watch: how often (default: ${DEFAULT-VALUE})",
      defaultValue = "2000")
  long intervalMs;

  @Option(
      names = "--iterations",
      description = "With --watch: stop after this many frames (default: 0, until Ctrl-C)",
      defaultValue = "0")
  long iterations;

  @Mixin JsonOutput output;

  @Override
  public Integer call() throws Exception {
    String url;
    ServerApi api;
    if (server != null) {
      url = server + (device == null ? "/api/v1/devices" : "/api/v1/devices/" + device);
      api = ServerApi.toServer(ApiKeySource.key(apiKeyFile, dataDir), caFile);
    } else {
      url = agent + "/v1/status";
      api = new ServerApi(agentToken(agentTokenFile));
    }
    if (!watch) {
      StringBuilder text = new StringBuilder();
      boolean ok = frame(api, url, text);
      System.out.print(text);
      return ok ? 0 : 1;
    }
    boolean terminal = !output.json && System.console() != null;
    return new LiveView(System.out, terminal, !output.json, intervalMs, iterations)
        .run(text -> frame(api, url, text));
  }

  /** One view of the status into {@code text}; false after an error (printed on stderr). */
  private boolean frame(ServerApi api, String url, StringBuilder text) throws Exception {
    ServerApi.Reply reply;
    try {
      reply = api.get(url);
    } catch (ServerApi.Unreachable e) {
      System.err.println("edgesync: " + e.getMessage());
      return false;
    }
    if (!reply.ok()) {
      System.out.println(reply.body()); // the error names the problem, e.g. a missing key
      return false;
    }
    JsonNode body = RemoteCommand.JSON.readTree(reply.body());
    if (output.json) {
      text.append(RemoteCommand.JSON.writeValueAsString(body)).append('\n');
    } else if (server == null) {
      text.append(StatusView.agent(body));
    } else {
      long now = System.currentTimeMillis();
      text.append(device == null ? StatusView.devices(body, now) : StatusView.device(body, now));
    }
    return true;
  }

  /** The local API token from --agent-token-file or EDGESYNC_AGENT_TOKEN, or null. */
  static String agentToken(java.nio.file.Path agentTokenFile) throws java.io.IOException {
    if (agentTokenFile != null) {
      String token = java.nio.file.Files.readString(agentTokenFile).strip();
      if (token.isEmpty()) {
        throw new IllegalArgumentException("the agent token file " + agentTokenFile + " is empty");
      }
      return token.lines().findFirst().orElseThrow().strip();
    }
    String env = System.getenv("EDGESYNC_AGENT_TOKEN");
    return env == null || env.isBlank() ? null : env.strip();
  }
}
