package io.edgesync.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgesync.cli.Main;
import io.edgesync.server.SyncServer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The REST API's keys over real sockets on a real SQLite store: every refusal (no key, a malformed
 * header, an unknown key, a revoked key, each role short of what a route needs) answers 401 or 403
 * naming what is missing, and leaves nothing stored: no document, no command, no key, no group.
 */
class ApiKeyAuthTest {
  private static final String DOC = "/api/v1/fleet/docs/settings/site";
  private static final String DEVICE_DOC = "/api/v1/devices/dev-1/docs/settings/site";
  private static final String COMMANDS = "/api/v1/devices/dev-1/commands";
  private static final String GROUPS = "/api/v1/devices/dev-1/groups";

  @TempDir Path dir;
  private SyncServer server;
  private Rest admin;

  @BeforeEach
  void start() {
    server =
        Testbed.startServer(
            dir, "documents:\n  collections:\n    settings: {strategy: last_write_wins}\n");
    admin = new Rest(server);
    server.store().registerDevice("dev-1", 0);
  }

  @AfterEach
  void stop() {
    server.close();
  }

  @Test
  void firstStart_writesAnAdminKeyFileOnlyItsOwnerReads_andALaterStartKeepsTheKey()
      throws Exception {
    Path file = server.adminKeyFile();
    assertThat(file).isEqualTo(dir.resolve("cloud").resolve("admin.key"));
    String key = Rest.adminKey(file);
    assertThat(key).matches("esk_[A-Za-z0-9_-]{43}");
    if (file.getFileSystem().supportedFileAttributeViews().contains("posix")) {
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
          .isEqualTo("rw-------");
    }
    assertThat(listedKeys(admin)).containsExactly("admin:admin");

    server.close();
    server = Testbed.startServer(dir, "");
    assertThat(Rest.adminKey(file)).as("the key file after a second start").isEqualTo(key);
    assertThat(listedKeys(new Rest(server))).containsExactly("admin:admin");
  }

  @Test
  void health_answersWithoutAKey() {
    assertThat(admin.withKey(null).get("/api/v1/health").status()).isEqualTo(200);
  }

  @Test
  void noKey_isRefused401NamingTheMissingHeader_andNothingIsStored() {
    Rest none = admin.withKey(null);
    Rest.assertError(none.put(DOC, "{\"a\":1}"), 401, "missing API key");
    Rest.assertError(none.post(COMMANDS, "{\"name\":\"reboot\"}"), 401, "missing API key");
    Rest.assertError(none.post("/api/v1/keys", "{\"name\":\"x\",\"role\":\"admin\"}"), 401, "");
    Rest.assertError(none.get("/api/v1/devices"), 401, "Authorization: Bearer");
    assertNothingStored();
  }

  @Test
  void aNonBearerAuthorizationHeader_isRefused401() throws Exception {
    java.net.http.HttpResponse<String> r =
        java.net.http.HttpClient.newHttpClient()
            .send(
                java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create("http://127.0.0.1:" + server.port() + DOC))
                    .header("Authorization", "Basic YWRtaW46YWRtaW4=")
                    .PUT(java.net.http.HttpRequest.BodyPublishers.ofString("{\"a\":1}"))
                    .build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(401);
    assertThat(r.body()).contains("must be 'Bearer <key>'");
    assertThat(r.headers().firstValue("WWW-Authenticate"))
        .hasValueSatisfying(v -> v.startsWith("Bearer"));
    assertNothingStored();
  }

  @Test
  void unknownKey_isRefused401_andNothingIsStored() {
    Rest stranger = admin.withKey("esk_" + "A".repeat(43));
    Rest.assertError(stranger.put(DOC, "{\"a\":1}"), 401, "unknown API key");
    Rest.assertError(stranger.post(COMMANDS, "{\"name\":\"reboot\"}"), 401, "unknown API key");
    Rest.assertError(stranger.get("/api/v1/conflicts"), 401, "unknown API key");
    assertNothingStored();
  }

  @Test
  void revokedKey_isRefused401NamingTheRevocation_fromItsNextRequest_andNothingIsStored() {
    Rest ops = admin.withKey(create("ops", "operator"));
    admin.ok(ops.put("/api/v1/fleet/docs/settings/before", "{\"a\":1}"));

    JsonNode revoked = admin.ok(admin.delete("/api/v1/keys/ops"));
    assertThat(revoked.get("revokedAtMs").isNumber()).isTrue();

    Rest.assertError(ops.put(DOC, "{\"a\":2}"), 401, "API key 'ops' was revoked at");
    Rest.assertError(ops.get("/api/v1/devices"), 401, "revoked");
    assertNothingStored();
    assertThat(listedKeys(admin)).containsExactly("admin:admin", "ops:operator(revoked)");
  }

  @Test
  void viewer_readsEverything_butEveryWriteIs403NamingTheRoleNeeded_andNothingIsStored() {
    Rest viewer = admin.withKey(create("dash", "viewer"));
    assertThat(viewer.get("/api/v1/devices").status()).isEqualTo(200);
    assertThat(viewer.get("/api/v1/devices/dev-1").status()).isEqualTo(200);
    assertThat(viewer.get("/api/v1/conflicts").status()).isEqualTo(200);
    assertThat(viewer.get("/api/v1/audit").status()).isEqualTo(200);

    Rest.assertError(viewer.put(DOC, "{\"a\":1}"), 403, "has role viewer");
    Rest.assertError(viewer.put(DEVICE_DOC, "{\"a\":1}"), 403, "needs role operator");
    Rest.assertError(viewer.delete(DOC), 403, "needs role operator");
    Rest.assertError(
        viewer.put("/api/v1/groups/north/docs/settings/site", "{\"a\":1}"),
        403,
        "needs role operator");
    Rest.assertError(viewer.post(COMMANDS, "{\"name\":\"reboot\"}"), 403, "needs role operator");
    Rest.assertError(
        viewer.post("/api/v1/conflicts/1/resolve", "{\"take\":\"edge\"}"),
        403,
        "needs role operator");
    Rest.assertError(viewer.put(GROUPS, "[\"north\"]"), 403, "needs role admin");
    Rest.assertError(viewer.get("/api/v1/keys"), 403, "needs role admin");
    assertNothingStored();
    assertThat(admin.ok(admin.get("/api/v1/groups/north/docs/settings")).get("documents"))
        .isEmpty();
  }

  @Test
  void operator_writesDocumentsAndCommands_butKeysAndDevicesAre403NamingAdmin() {
    Rest ops = admin.withKey(create("ops", "operator"));
    admin.ok(ops.put(DOC, "{\"a\":1}"));
    admin.ok(ops.post(COMMANDS, "{\"name\":\"reboot\"}"));

    Rest.assertError(
        ops.post("/api/v1/keys", "{\"name\":\"mine\",\"role\":\"admin\"}"),
        403,
        "needs role admin");
    Rest.assertError(ops.delete("/api/v1/keys/admin"), 403, "has role operator");
    Rest.assertError(ops.get("/api/v1/keys"), 403, "needs role admin");
    Rest.assertError(ops.put(GROUPS, "[\"north\"]"), 403, "needs role admin");

    assertThat(listedKeys(admin)).containsExactly("admin:admin", "ops:operator");
    assertThat(admin.ok(admin.get(GROUPS)).get("groups")).isEmpty();
    assertThat(Rest.adminKey(server.adminKeyFile())).isNotEmpty();
    assertThat(admin.get("/api/v1/devices").status()).as("admin still valid").isEqualTo(200);
  }

  @Test
  void
      groupLimitedKey_actsOnlyOnItsGroupsDevicesAndScopes_andIsRefused403NamingTheLimitElsewhere() {
    server.store().registerDevice("dev-2", 0);
    admin.ok(admin.put(GROUPS, "[\"north\"]"));
    admin.ok(admin.put("/api/v1/devices/dev-2/groups", "[\"south\"]"));
    Rest.Reply made =
        admin.post(
            "/api/v1/keys",
            "{\"name\":\"north-ops\",\"role\":\"operator\",\"groups\":[\"north\"]}");
    assertThat(made.status()).isEqualTo(201);
    assertThat(made.body().get("groups").toString()).isEqualTo("[\"north\"]");
    Rest north = admin.withKey(made.body().get("key").asText());

    admin.ok(north.put(DEVICE_DOC, "{\"a\":1}"));
    admin.ok(north.put("/api/v1/groups/north/docs/settings/site", "{\"a\":1}"));
    admin.ok(north.post(COMMANDS, "{\"name\":\"reboot\"}"));
    assertThat(north.get("/api/v1/devices/dev-1").status()).isEqualTo(200);

    String other = "/api/v1/devices/dev-2/docs/settings/site";
    Rest.assertError(north.put(other, "{\"a\":1}"), 403, "device 'dev-2' is in none of them");
    Rest.assertError(
        north.post("/api/v1/devices/dev-2/commands", "{\"name\":\"reboot\"}"),
        403,
        "limited to groups [north]");
    Rest.assertError(
        north.put("/api/v1/groups/south/docs/settings/site", "{\"a\":1}"),
        403,
        "group 'south' is not one of them");
    Rest.assertError(north.put(DOC, "{\"a\":1}"), 403, "reaches beyond one device or group");
    Rest.assertError(north.get("/api/v1/devices"), 403, "reaches beyond");
    Rest.assertError(north.get("/api/v1/audit"), 403, "reaches beyond");
    // the KPIs of its own group and its devices, not the fleet's or another group's
    assertThat(north.ok(north.get("/api/v1/kpis?group=north")).get("scope").asText())
        .isEqualTo("group");
    assertThat(north.get("/api/v1/kpis?device=dev-1").status()).isEqualTo(200);
    Rest.assertError(north.get("/api/v1/kpis"), 403, "not the fleet's");
    Rest.assertError(north.get("/api/v1/kpis?group=south"), 403, "limited to groups [north]");
    Rest.assertError(north.get("/api/v1/kpis?device=dev-2"), 403, "limited to groups [north]");

    assertThat(admin.get(other).status()).as("dev-2's document").isEqualTo(404);
    assertThat(admin.get(DOC).status()).as("the fleet document").isEqualTo(404);
    assertThat(admin.get("/api/v1/groups/south/docs/settings/site").status()).isEqualTo(404);
    assertThat(admin.ok(admin.get("/api/v1/devices/dev-2/commands")).get("commands")).isEmpty();
  }

  @Test
  void theOldUserHeader_isRefused400_andNothingIsStored() throws Exception {
    java.net.http.HttpResponse<String> r =
        java.net.http.HttpClient.newHttpClient()
            .send(
                java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create("http://127.0.0.1:" + server.port() + DOC))
                    .header("Authorization", "Bearer " + Rest.adminKey(server.adminKeyFile()))
                    .header("X-Edgesync-User", "mallory")
                    .PUT(java.net.http.HttpRequest.BodyPublishers.ofString("{\"a\":1}"))
                    .build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.body()).contains("X-Edgesync-User is not accepted");
    assertNothingStored();
  }

  @Test
  void keyCreation_showsTheKeyOnce_storesOnlyItsSha256_andListsNeitherKeyNorHash()
      throws Exception {
    Rest.Reply made = admin.post("/api/v1/keys", "{\"name\":\"ci\",\"role\":\"operator\"}");
    assertThat(made.status()).isEqualTo(201);
    String key = made.body().get("key").asText();
    assertThat(key).matches("esk_[A-Za-z0-9_-]{43}");

    JsonNode listed = admin.ok(admin.get("/api/v1/keys"));
    assertThat(listed.toString()).doesNotContain(key).doesNotContain("sha");
    assertThat(listed.get("keys").get(1).get("name").asText()).isEqualTo("ci");

    byte[] hash = MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
    try (Connection c =
            DriverManager.getConnection(
                "jdbc:sqlite:" + dir.resolve("cloud").resolve("edgesync-cloud.db"));
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT * FROM api_keys WHERE name='ci'")) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getBytes("sha256")).isEqualTo(hash);
      for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
        assertThat(String.valueOf(rs.getObject(i))).as("column %d", i).doesNotContain(key);
      }
    }
  }

  @Test
  void keyCreation_refusesATakenNameABadNameAndAnUnknownRole_namingEach() {
    create("ci", "viewer");
    Rest.assertError(
        admin.post("/api/v1/keys", "{\"name\":\"ci\",\"role\":\"admin\"}"), 409, "exists already");
    Rest.assertError(
        admin.post("/api/v1/keys", "{\"name\":\"a b\",\"role\":\"admin\"}"),
        400,
        "API key name must be");
    Rest.assertError(
        admin.post("/api/v1/keys", "{\"name\":\"x\",\"role\":\"root\"}"),
        400,
        "unknown role 'root'; the roles are viewer, operator and admin");
    Rest.assertError(admin.delete("/api/v1/keys/nobody"), 404, "no API key named 'nobody'");
    assertThat(listedKeys(admin)).containsExactly("admin:admin", "ci:viewer");
  }

  @Test
  void cliKeys_createListRevoke_onTheDataDirectory_whileTheServerRuns() {
    String data = dir.resolve("cloud").toString();
    String key =
        CliRun.stdout(
                "keys", "create", "--name", "night-job", "--role", "viewer", "--data-dir", data)
            .trim();
    assertThat(key).startsWith("esk_");
    Rest job = admin.withKey(key);
    assertThat(job.ok(job.get("/api/v1/devices")).get("devices")).hasSize(1);

    assertThat(CliRun.stdout("keys", "list", "--data-dir", data))
        .contains("night-job")
        .contains("viewer")
        .doesNotContain(key);
    assertThat(CliRun.stdout("keys", "revoke", "night-job", "--data-dir", data))
        .contains("revoked API key 'night-job'");

    Rest.assertError(job.get("/api/v1/devices"), 401, "API key 'night-job' was revoked");
  }

  @Test
  void cliStatus_sendsTheDataDirsAdminKey_andWithoutOneShowsTheRefusal() {
    String url = "http://127.0.0.1:" + server.port();
    assertThat(
            CliRun.stdout("status", "--server", url, "--data-dir", dir.resolve("cloud").toString()))
        .contains("dev-1");
    assertThat(
            CliRun.stdout(
                "status",
                "--server",
                url,
                "--api-key-file",
                server.adminKeyFile().toString(),
                "--device",
                "dev-1",
                "--json"))
        .contains("streams");

    PrintStream saved = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int code;
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      code = Main.run("status", "--server", url);
    } finally {
      System.setOut(saved);
    }
    assertThat(code).as("exit code without a key").isEqualTo(1);
    assertThat(out.toString(StandardCharsets.UTF_8)).contains("missing API key");
  }

  // ---------------------------------------------------------------- helpers

  /** Makes a key through REST as admin; returns the key. */
  private String create(String name, String role) {
    Rest.Reply r =
        admin.post("/api/v1/keys", "{\"name\":\"" + name + "\",\"role\":\"" + role + "\"}");
    return admin.ok(r).get("key").asText();
  }

  /** name:role for each key, with (revoked) after a revoked one. */
  private static List<String> listedKeys(Rest admin) {
    List<String> out = new ArrayList<>();
    for (JsonNode k : admin.ok(admin.get("/api/v1/keys")).get("keys")) {
      out.add(
          k.get("name").asText()
              + ":"
              + k.get("role").asText()
              + (k.get("revokedAtMs").isNull() ? "" : "(revoked)"));
    }
    return out;
  }

  /** No refused request left a trace: the refused document, commands, groups, extra keys. */
  private void assertNothingStored() {
    assertThat(admin.get(DOC).status()).as("the refused document").isEqualTo(404);
    assertThat(admin.get(DEVICE_DOC).status()).as("the refused device document").isEqualTo(404);
    assertThat(admin.ok(admin.get(COMMANDS)).get("commands")).as("queued commands").isEmpty();
    assertThat(admin.ok(admin.get(GROUPS)).get("groups")).as("groups").isEmpty();
    assertThat(admin.ok(admin.get("/api/v1/audit")).get("audit")).as("audit").isEmpty();
    assertThat(listedKeys(admin)).as("keys").doesNotContain("x:admin", "mine:admin");
  }
}
