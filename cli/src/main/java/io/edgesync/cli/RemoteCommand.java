package io.edgesync.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * The options of a command group that calls a server's REST API ({@code files}, {@code rollout},
 * {@code uploads}), inherited by its subcommands, and the one way they print a refusal.
 */
abstract class RemoteCommand {
  static final ObjectMapper JSON = new ObjectMapper();

  @Option(
      names = "--server",
      description = "Server base URL (default: ${DEFAULT-VALUE})",
      defaultValue = "http://127.0.0.1:8470",
      scope = ScopeType.INHERIT)
  String server;

  @Option(
      names = "--ca-file",
      description = ServerApi.CA_FILE_DESCRIPTION,
      scope = ScopeType.INHERIT)
  Path caFile;

  @Option(
      names = "--api-key-file",
      description = ApiKeySource.FILE_DESCRIPTION,
      scope = ScopeType.INHERIT)
  Path apiKeyFile;

  @Option(
      names = "--data-dir",
      description = ApiKeySource.DATA_DIR_DESCRIPTION,
      scope = ScopeType.INHERIT)
  Path dataDir;

  /** A client of the server with the key the options name. */
  ServerApi api() throws java.io.IOException {
    return ServerApi.toServer(ApiKeySource.key(apiKeyFile, dataDir), caFile);
  }

  String url(String pathAndQuery) {
    return server.replaceAll("/+$", "") + pathAndQuery;
  }

  interface Call {
    ServerApi.Reply run() throws Exception;
  }

  /** The reply's JSON, or null after printing the error (status and the server's message). */
  static JsonNode request(Call call) throws Exception {
    ServerApi.Reply reply;
    try {
      reply = call.run();
    } catch (ServerApi.Unreachable e) {
      System.err.println("edgesync: " + e.getMessage());
      return null;
    }
    if (!reply.ok()) {
      System.err.println("edgesync: HTTP " + reply.status() + ": " + errorOf(reply.body()));
      return null;
    }
    return reply.body().isEmpty() ? JSON.createObjectNode() : JSON.readTree(reply.body());
  }

  static String errorOf(String body) {
    try {
      JsonNode b = JSON.readTree(body);
      return b != null && b.has("error") ? b.get("error").asText() : body;
    } catch (java.io.IOException e) {
      return body;
    }
  }

  /**
   * Downloads {@code pathAndQuery} to {@code out} and says so: 0, or 1 after printing the error.
   */
  int download(String pathAndQuery, Path out) throws Exception {
    String url = url(pathAndQuery);
    ServerApi api = api();
    // A bar of the bytes received on stderr when run in a terminal.
    java.io.PrintStream bar = System.console() != null ? System.err : null;
    if (request(() -> api.download(url, out, bar)) == null) {
      return 1;
    }
    System.out.println("wrote " + out + " (" + bytes(java.nio.file.Files.size(out)) + ")");
    return 0;
  }

  static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  /** Bytes in a short human form: 512 B, 1.5 KiB, 64.0 MiB. */
  static String bytes(long n) {
    if (n < 1024) {
      return n + " B";
    }
    String[] units = {"KiB", "MiB", "GiB", "TiB"};
    double v = n;
    int u = -1;
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return String.format("%.1f %s", v, units[u]);
  }
}
