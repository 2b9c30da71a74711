package io.edgesync.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgesync.security.Pem;
import io.edgesync.server.EnrollmentTokens;
import io.edgesync.server.SqliteCloudStore;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * {@code edgesync enroll token}: one-time enrollment tokens for devices (docs/security.md,
 * "Enrollment"). Offline on the server's data directory, as {@code edgesync keys} (the audit's who
 * is {@code cli:<user>}), or with {@code --server} over the REST API with an admin key (the key's
 * name is the who).
 */
@Command(
    name = "enroll",
    description = "One-time enrollment tokens: a device makes its own key and enrolls with one.",
    subcommands = {EnrollCommand.CreateToken.class})
final class EnrollCommand {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Option(
      names = "--data-dir",
      description =
          "The server's data directory: without --server the token is made there (default:"
              + " ${DEFAULT-VALUE}); with --server its admin.key is the API key",
      defaultValue = "edgesync-data/cloud",
      scope = picocli.CommandLine.ScopeType.INHERIT)
  Path dataDir;

  @Option(
      names = "--config",
      description = OfflineStore.CONFIG_HELP,
      scope = picocli.CommandLine.ScopeType.INHERIT)
  Path config;

  @Option(
      names = "--server",
      description = "Make the token over this server's REST API (e.g. https://cloud:8470)",
      scope = picocli.CommandLine.ScopeType.INHERIT)
  String server;

  @Option(
      names = "--ca-file",
      description = ServerApi.CA_FILE_DESCRIPTION,
      scope = picocli.CommandLine.ScopeType.INHERIT)
  Path caFile;

  @Option(
      names = "--api-key-file",
      description = ApiKeySource.FILE_DESCRIPTION,
      scope = picocli.CommandLine.ScopeType.INHERIT)
  Path apiKeyFile;

  @Command(
      name = "token",
      description = "Make a token that enrolls --device once before --ttl ends; shown only now.")
  static final class CreateToken implements Callable<Integer> {
    @ParentCommand EnrollCommand parent;

    @Option(names = "--device", required = true, description = "The device id it enrolls")
    String device;

    @Option(
        names = "--ttl",
        description =
            "How long it stays valid: 90s, 30m, 24h, 7d (at most 30d; default ${DEFAULT-VALUE})",
        defaultValue = "24h")
    String ttl;

    @Option(
        names = "--out",
        description = "Also write the token to this file (0600), to copy onto the device")
    Path out;

    @Override
    public Integer call() throws Exception {
      long ttlS = parseTtl(ttl).toSeconds();
      Map<String, Object> made = parent.server == null ? offline(ttlS) : overRest(ttlS);
      if (made == null) {
        return 1;
      }
      String token = (String) made.get("token");
      if (out != null) {
        Pem.writeAtomically(out, token + "\n", true);
      }
      System.out.println(token);
      System.err.println(
          "edgesync: made enrollment token "
              + made.get("tokenId")
              + " for device '"
              + device
              + "', valid once until "
              + made.get("expires")
              + (out == null ? "" : " (also written to " + out + ")")
              + "; it is shown only now (the server keeps its SHA-256)");
      return 0;
    }

    private Map<String, Object> offline(long ttlS) throws Exception {
      try (SqliteCloudStore store = OfflineStore.open(parent.config, parent.dataDir)) {
        EnrollmentTokens.Created c =
            store
                .enrollmentTokens()
                .create(device, ttlS, KeysCommand.cliActor(), System.currentTimeMillis());
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("token", c.secret());
        m.put("tokenId", c.token().tokenId());
        m.put("expires", Instant.ofEpochMilli(c.token().expiresAtMs()).toString());
        return m;
      }
    }

    private Map<String, Object> overRest(long ttlS) throws Exception {
      ServerApi api = ServerApi.toServer(ApiKeySource.key(parent.apiKeyFile, null), parent.caFile);
      Map<String, Object> body = new LinkedHashMap<>();
      body.put("device", device);
      body.put("ttl_s", ttlS);
      ServerApi.Reply r =
          api.post(parent.server + "/api/v1/enrollment-tokens", JSON.writeValueAsString(body));
      JsonNode reply = JSON.readTree(r.body());
      if (!r.ok()) {
        System.err.println(
            "edgesync: the server refused (" + r.status() + "): " + reply.path("error").asText());
        return null;
      }
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("token", reply.path("token").asText());
      m.put("tokenId", reply.path("tokenId").asText());
      m.put("expires", reply.path("expires").asText());
      return m;
    }
  }

  /** {@code 90s}, {@code 30m}, {@code 24h}, {@code 7d}: a whole number and one unit. */
  static Duration parseTtl(String text) {
    String t = text.trim().toLowerCase(Locale.ROOT);
    if (!t.matches("[0-9]{1,9}[smhd]")) {
      throw new IllegalArgumentException(
          "--ttl must be a whole number and a unit s, m, h or d (e.g. 24h), was '" + text + "'");
    }
    long n = Long.parseLong(t.substring(0, t.length() - 1));
    return switch (t.charAt(t.length() - 1)) {
      case 's' -> Duration.ofSeconds(n);
      case 'm' -> Duration.ofMinutes(n);
      case 'h' -> Duration.ofHours(n);
      default -> Duration.ofDays(n);
    };
  }
}
