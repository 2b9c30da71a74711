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
  @Mixin AgentApiOptions agent;

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
      url = agent.base() + "/v1/status";
      api = agent.api();
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
}
