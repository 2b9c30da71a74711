package io.edgesync.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "status",
    description = "Show an agent's status (its local API) or a server's devices (its REST API).")
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

  @Override
  public Integer call() throws Exception {
    String url;
    ServerApi api;
    if (server != null) {
      url = server + (device == null ? "/api/v1/devices" : "/api/v1/devices/" + device);
      api = ServerApi.toServer(ApiKeySource.key(apiKeyFile, dataDir), caFile);
    } else {
      url = agent + "/v1/status";
      api = new ServerApi(agentToken());
    }
    try {
      ServerApi.Reply reply = api.get(url);
      System.out.println(reply.body());
      return reply.status() == 200 ? 0 : 1;
    } catch (ServerApi.Unreachable e) {
      System.err.println("edgesync: " + e.getMessage());
      return 1;
    }
  }

  /** The local API token from --agent-token-file or EDGESYNC_AGENT_TOKEN, or null. */
  private String agentToken() throws java.io.IOException {
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
