package io.edgesync.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgesync.agent.Document;
import io.edgesync.agent.EdgeAgent;
import io.edgesync.cli.internal.TcpRelay;
import io.edgesync.protocol.Clock;
import io.edgesync.server.AuditKeys;
import io.edgesync.server.AuditSettings;
import io.edgesync.server.ServerConfig;
import io.edgesync.server.SyncServer;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The audit trail of a real server: conflicts decided automatically and resolved over REST, across
 * a server restart, form one chain that {@code edgesync audit verify} accepts (on the store and on
 * an export), that {@code GET /api/v1/audit/verify} accepts, and in which each conflict resolution
 * has its record with the resolver as actor.
 */
class AuditTrailTest {
  private static final String BASE = "{\"a\":0}";

  @TempDir Path dir;
  private SyncServer server;
  private Rest rest;
  private EdgeAgent agent;
  private TcpRelay relay;

  @AfterEach
  void stop() throws Exception {
    Testbed.closeAll(agent, relay, server);
  }

  private void startServer() throws Exception {
    ServerConfig c =
        ServerConfig.fromYaml(
            "server: {port: 0, data_dir: \""
                + dir.resolve("cloud")
                + "\"}\n"
                + "documents:\n  collections:\n    mn: {strategy: manual}\n"
                + "    cw: {strategy: cloud_wins}\n"
                + "  device_writable: [fleet/mn, fleet/cw]\n");
    server = SyncServer.start(c, new AuditSettings(3, 60_000));
    rest = new Rest(server);
    relay = new TcpRelay(server.port());
    agent = Testbed.documentAgent("dev-a", relay.port(), Clock.SYSTEM, dir);
  }

  private void stopServer() throws Exception {
    Testbed.closeAll(agent, relay, server);
    agent = null;
    relay = null;
    server = null;
  }

  @Test
  void conflictsResolvedOverRest_acrossARestart_formAChainThatVerifies() throws Exception {
    startServer();
    long manual = conflictOn("mn", "k1");
    rest.ok(rest.post("/api/v1/conflicts/" + manual + "/resolve", "{\"take\":\"edge\"}"));
    conflictOn("cw", "k2"); // decided by cloud_wins at once
    stopServer();
    String dataDir = dir.resolve("cloud").toString();
    assertThat(CliRun.exit(0, "audit", "verify", "--data-dir", dataDir)).startsWith("OK: ");

    startServer();
    long again = conflictOn("mn", "k3");
    rest.ok(rest.post("/api/v1/conflicts/" + again + "/resolve", "{\"take\":\"cloud\"}"));

    JsonNode records = rest.ok(rest.get("/api/v1/audit/log?limit=1000")).get("records");
    List<String> resolutions = new ArrayList<>();
    for (JsonNode r : records) {
      if (r.get("action").asText().equals("conflict.resolve")) {
        resolutions.add(r.get("actor").asText() + " " + r.get("target").asText());
      }
    }
    assertThat(resolutions)
        .containsExactly("admin fleet/mn/k1", "auto fleet/cw/k2", "admin fleet/mn/k3");
    assertThat(records).anyMatch(r -> r.get("action").asText().equals("audit.checkpoint"));
    JsonNode verified = rest.ok(rest.get("/api/v1/audit/verify"));
    assertThat(verified.get("ok").asBoolean()).as("%s", verified).isTrue();
    assertThat(verified.get("records").asLong()).isEqualTo(records.size());

    // Offline, while the server runs: the store, and an export of it.
    assertThat(CliRun.exit(0, "audit", "verify", "--data-dir", dataDir)).startsWith("OK: ");
    Path export = dir.resolve("audit.jsonl");
    CliRun.exit(0, "audit", "export", "--data-dir", dataDir, "--out", export.toString());
    String publicKey = dir.resolve("cloud").resolve(AuditKeys.PUBLIC_FILE).toString();
    assertThat(
            CliRun.exit(
                0, "audit", "verify", "--file", export.toString(), "--public-key", publicKey))
        .startsWith("OK: " + records.size() + " records")
        .contains("anchored through record " + records.size());

    // One byte changed in the export: exit code 1 and the record named.
    try (RandomAccessFile f = new RandomAccessFile(export.toFile(), "rw")) {
      byte[] all = Files.readAllBytes(export);
      int at = new String(all, StandardCharsets.UTF_8).indexOf("fleet/mn/k3");
      f.seek(at);
      f.write('F');
    }
    assertThat(
            CliRun.exit(
                1, "audit", "verify", "--file", export.toString(), "--public-key", publicKey))
        .startsWith("FAILED at record ");
  }

  @Test
  void everyKeyMadeOrRevoked_andEveryWriteAKeyMade_isInTheChain_refusalsAreNot() throws Exception {
    startServer();
    String opsKey =
        rest.ok(rest.post("/api/v1/keys", "{\"name\":\"ops\",\"role\":\"operator\"}"))
            .get("key")
            .asText();
    Rest ops = rest.withKey(opsKey);
    ops.ok(ops.put("/api/v1/fleet/docs/cw/k", "{\"a\":1}"));
    ops.ok(ops.post("/api/v1/devices/dev-a/commands", "{\"name\":\"reboot\"}"));
    Rest.assertError(ops.put("/api/v1/devices/dev-a/groups", "[\"g\"]"), 403, "role operator");
    // Refused by the route itself, after authorization: not recorded either.
    assertThat(ops.put("/api/v1/fleet/docs/undeclared/k", "{}").status()).isBetween(400, 499);
    ops.ok(ops.delete("/api/v1/fleet/docs/cw/k"));
    rest.ok(rest.put("/api/v1/devices/dev-a/groups", "[\"g\"]"));
    rest.ok(rest.delete("/api/v1/keys/ops"));
    rest.ok(rest.delete("/api/v1/keys/ops")); // revoked already: no second record
    stopServer();
    String dataDir = dir.resolve("cloud").toString();
    CliRun.exit(0, "keys", "--data-dir", dataDir, "create", "--name", "ci", "--role", "viewer");

    startServer();
    List<String> trail = new ArrayList<>();
    for (JsonNode r : rest.ok(rest.get("/api/v1/audit/log?limit=1000")).get("records")) {
      String action = r.get("action").asText();
      if (!action.equals("audit.checkpoint") && !action.equals("conflict.resolve")) {
        trail.add(r.get("actor").asText() + " " + action + " " + r.get("target").asText());
      }
    }
    String user = "cli:" + System.getProperty("user.name");
    assertThat(trail)
        .containsExactly(
            "$server key.created admin",
            "admin key.created ops",
            "ops document.put /api/v1/fleet/docs/cw/k",
            "ops command.queue /api/v1/devices/dev-a/commands",
            "ops document.delete /api/v1/fleet/docs/cw/k",
            "admin groups.set /api/v1/devices/dev-a/groups",
            "admin key.revoked ops",
            user + " key.created ci");
    assertThat(rest.ok(rest.get("/api/v1/audit/verify")).get("ok").asBoolean()).isTrue();
  }

  @Test
  void recordsTheOfflineCliAppendsWhileTheServerRuns_areChainedNotForked() throws Exception {
    startServer();
    String dataDir = dir.resolve("cloud").toString();
    rest.ok(rest.put("/api/v1/fleet/docs/cw/a", "{\"a\":1}"));
    CliRun.exit(0, "keys", "--data-dir", dataDir, "create", "--name", "ci", "--role", "viewer");
    CliRun.exit(0, "enroll", "token", "--data-dir", dataDir, "--device", "gw-9", "--ttl", "1h");
    rest.ok(rest.put("/api/v1/fleet/docs/cw/b", "{\"a\":2}"));
    CliRun.exit(0, "keys", "--data-dir", dataDir, "revoke", "ci");
    rest.ok(rest.put("/api/v1/fleet/docs/cw/c", "{\"a\":3}"));

    List<String> trail = new ArrayList<>();
    for (JsonNode r : rest.ok(rest.get("/api/v1/audit/log?limit=1000")).get("records")) {
      trail.add(r.get("action").asText() + " " + r.get("target").asText());
    }
    assertThat(trail)
        .containsSubsequence(
            "document.put /api/v1/fleet/docs/cw/a",
            "key.created ci",
            "enrollment_token.create gw-9",
            "document.put /api/v1/fleet/docs/cw/b",
            "key.revoked ci",
            "document.put /api/v1/fleet/docs/cw/c");
    JsonNode verified = rest.ok(rest.get("/api/v1/audit/verify"));
    assertThat(verified.get("ok").asBoolean()).as("%s", verified).isTrue();
    stopServer();
    assertThat(CliRun.exit(0, "audit", "verify", "--data-dir", dataDir)).startsWith("OK: ");
  }

  /**
   * A conflict on fleet/{collection}/{key}: the device edits while cut off, the cloud edits, the
   * device syncs. Returns the conflict's id.
   */
  private long conflictOn(String collection, String key) throws Exception {
    String path = "/api/v1/fleet/docs/" + collection + "/" + key;
    long v1 = rest.ok(rest.put(path, BASE)).get("version").asLong();
    await().atMost(Duration.ofSeconds(20)).until(() -> version(collection, key) == v1);
    relay.cut();
    rest.ok(rest.put(path, "{\"a\":2}"));
    agent.documents().put("fleet", collection, key, Rest.json("{\"a\":1}"));
    relay.heal();
    agent.syncNow();
    JsonNode[] found = new JsonNode[1];
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () -> {
              for (JsonNode c :
                  rest.ok(rest.get("/api/v1/conflicts?collection=" + collection))
                      .get("conflicts")) {
                if (c.get("key").asText().equals(key)) {
                  found[0] = c;
                }
              }
              return found[0] != null;
            });
    return found[0].get("id").asLong();
  }

  private long version(String collection, String key) {
    return agent.documents().get("fleet", collection, key).map(Document::version).orElse(-1L);
  }
}
