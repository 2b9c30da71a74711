package io.edgesync.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgesync.security.ReleaseKey;
import io.edgesync.server.ServerConfig;
import io.edgesync.server.SyncServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Files over real sockets on a real SQLite store, with real key files, driven by the real CLI where
 * a user would use it: publish → versions → download byte-identical (the server signing, or the
 * CLI's own key verified by the server), refusals that store nothing (a wrong signature, an
 * unsigned publish with no key to sign, a bad path, a viewer key), the audit record, and rollouts
 * paused, resumed and cancelled over REST.
 */
class FilesRestTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;
  private SyncServer server;

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
  }

  private SyncServer start(String key, Path file) {
    return SyncServer.start(
        ServerConfig.fromYaml(
            "server:\n  port: 0\n  data_dir: \""
                + dir.resolve("cloud")
                + "\"\n  files: {"
                + key
                + ": \""
                + file
                + "\"}\n"));
  }

  private String base() {
    return "http://127.0.0.1:" + server.port();
  }

  private String[] cli(String... args) {
    String[] all = new String[args.length + 4];
    System.arraycopy(args, 0, all, 0, args.length);
    all[args.length] = "--server";
    all[args.length + 1] = base();
    all[args.length + 2] = "--data-dir";
    all[args.length + 3] = dir.resolve("cloud").toString();
    return all;
  }

  private Path randomFile(String name, int bytes, long seed) throws Exception {
    byte[] d = new byte[bytes];
    new Random(seed).nextBytes(d);
    Path f = dir.resolve(name);
    Files.write(f, d);
    return f;
  }

  private Path releaseKey(String name) {
    Path out = dir.resolve(name);
    CliRun.stdout("release-key", "init", "--out", out.toString());
    return out;
  }

  private long chunkFiles() throws Exception {
    Path chunks = dir.resolve("cloud").resolve("files").resolve("chunks");
    try (Stream<Path> all = Files.walk(chunks)) {
      return all.filter(Files::isRegularFile).count();
    }
  }

  @Test
  void publish_versions_download_roundTrip_isByteIdentical_andAudited_whenTheServerSigns()
      throws Exception {
    Path keys = releaseKey("keys");
    server = start("release_key_file", keys.resolve("release.key"));
    Path file = randomFile("gw.img", 6 << 20, 1);

    String out =
        CliRun.stdout(
            cli(
                "files",
                "publish",
                file.toString(),
                "--path",
                "firmware/gw.img",
                "--meta",
                "build=42"));
    assertThat(out).contains("published firmware/gw.img version 1: " + (6 << 20) + " bytes");

    Rest admin = new Rest(server);
    JsonNode v = admin.ok(admin.get("/api/v1/files/versions?path=firmware/gw.img"));
    JsonNode v1 = v.get("versions").get(0);
    assertThat(v1.get("version").asLong()).isEqualTo(1);
    assertThat(v1.get("metadata").get("build").asText()).isEqualTo("42");
    String pubId = ReleaseKey.keyId(ReleaseKey.readPublicKeys(keys.resolve("release.pub")).get(0));
    assertThat(v1.get("keyId").asText()).isEqualTo(pubId);
    assertThat(CliRun.stdout(cli("files", "versions"))).contains("firmware/gw.img");

    Path back = dir.resolve("back.img");
    CliRun.stdout(cli("files", "download", "--path", "firmware/gw.img", "--out", back.toString()));
    assertThat(Files.readAllBytes(back)).isEqualTo(Files.readAllBytes(file));

    JsonNode audit = admin.ok(admin.get("/api/v1/audit/log?limit=1000"));
    JsonNode publish = null;
    for (JsonNode e : audit.get("records")) {
      if (e.get("action").asText().equals("file.publish")) {
        publish = e;
      }
    }
    assertThat(publish).as("a file.publish record").isNotNull();
    assertThat(publish.get("actor").asText()).isEqualTo("admin");
    assertThat(publish.get("target").asText()).isEqualTo("firmware/gw.img");
    assertThat(publish.get("details").get("sha256").asText()).isEqualTo(v1.get("sha256").asText());
    assertThat(publish.get("details").get("size").asLong()).isEqualTo(6 << 20);
  }

  @Test
  void cliSignature_isVerifiedByTheServer_aWrongKeyIsRefused_andNothingIsStored() throws Exception {
    Path trusted = releaseKey("trusted");
    Path other = releaseKey("other");
    server = start("release_public_keys_file", trusted.resolve("release.pub"));
    Path file = randomFile("model.onnx", 2 << 20, 2);
    CliRun.stdout(
        cli(
            "files",
            "publish",
            file.toString(),
            "--path",
            "models/det.onnx",
            "--sign-key",
            trusted.resolve("release.key").toString()));
    long chunksBefore = chunkFiles();

    Path file2 = randomFile("model2.onnx", 1 << 20, 3);
    String refused =
        CliRun.exit(
            1,
            cli(
                "files",
                "publish",
                file2.toString(),
                "--path",
                "models/det.onnx",
                "--sign-key",
                other.resolve("release.key").toString()));
    assertThat(refused).contains("HTTP 400").contains("bad_signature");
    String unsigned =
        CliRun.exit(1, cli("files", "publish", file2.toString(), "--path", "models/det.onnx"));
    assertThat(unsigned).contains("HTTP 400").contains("unsigned");

    Rest admin = new Rest(server);
    JsonNode versions = admin.ok(admin.get("/api/v1/files/versions?path=models/det.onnx"));
    assertThat(versions.get("versions")).hasSize(1);
    assertThat(chunkFiles()).as("chunks of the refused publish").isEqualTo(chunksBefore);
    try (Stream<Path> staging = Files.list(dir.resolve("cloud/files/staging"))) {
      assertThat(staging).isEmpty();
    }
  }

  @Test
  void badInput_isRefused400NamingTheProblem_andAViewerKeyCannotPublish_403() throws Exception {
    Path keys = releaseKey("keys");
    server = start("release_key_file", keys.resolve("release.key"));
    Rest admin = new Rest(server);
    HttpClient http = HttpClient.newHttpClient();
    HttpResponse<String> bad =
        http.send(
            HttpRequest.newBuilder(URI.create(base() + "/api/v1/files?path=../etc/passwd"))
                .header("Authorization", "Bearer " + Rest.adminKey(server.adminKeyFile()))
                .POST(HttpRequest.BodyPublishers.ofByteArray(new byte[1000]))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(bad.body()).contains("bad file path");

    String viewer =
        admin
            .ok(admin.post("/api/v1/keys", "{\"name\": \"watcher\", \"role\": \"viewer\"}"))
            .get("key")
            .asText();
    HttpResponse<String> refused =
        http.send(
            HttpRequest.newBuilder(URI.create(base() + "/api/v1/files?path=firmware/x.bin"))
                .header("Authorization", "Bearer " + viewer)
                .POST(HttpRequest.BodyPublishers.ofByteArray(new byte[1000]))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(refused.statusCode()).isEqualTo(403);
    assertThat(refused.body()).contains("needs role operator");
    assertThat(admin.ok(admin.get("/api/v1/files")).get("files")).isEmpty();
    assertThat(admin.withKey(viewer).get("/api/v1/files").status()).isEqualTo(200);
  }

  @Test
  void rollout_startedPausedResumedCancelled_overRestAndTheCli() throws Exception {
    Path keys = releaseKey("keys");
    server = start("release_key_file", keys.resolve("release.key"));
    for (String d : List.of("gw-1", "gw-2", "gw-3")) {
      server.store().registerDevice(d, 0);
    }
    Path file = randomFile("gw.img", 200_000, 4);
    CliRun.stdout(cli("files", "publish", file.toString(), "--path", "firmware/gw.img"));
    Rest admin = new Rest(server);
    Rest.assertError(
        admin.post("/api/v1/rollouts", "{\"path\": \"firmware/gw.img\", \"version\": 1}"),
        400,
        "exactly one target");
    Rest.assertError(
        admin.post(
            "/api/v1/rollouts",
            "{\"path\": \"firmware/gw.img\", \"version\": 1, \"fleet\": true, \"ratePerMinute\":"
                + " 0}"),
        400,
        "ratePerMinute");
    assertThat(admin.ok(admin.get("/api/v1/rollouts")).get("rollouts")).isEmpty();

    String started =
        CliRun.stdout(
            cli(
                "rollout",
                "start",
                "--path",
                "firmware/gw.img",
                "--version",
                "1",
                "--fleet",
                "--rate",
                "1",
                "--max-failure-share",
                "0.5"));
    assertThat(started).contains("rollout 1: firmware/gw.img version 1 to fleet");
    JsonNode status = admin.ok(admin.get("/api/v1/rollouts/1"));
    assertThat(status.get("state").asText()).isEqualTo("running");
    assertThat(status.get("counts").get("offered").asLong()).isEqualTo(1);
    assertThat(status.get("counts").get("pending").asLong()).isEqualTo(2);
    assertThat(status.get("devices").get(0).get("bytesTotal").asLong()).isEqualTo(200_000);

    assertThat(CliRun.stdout(cli("rollout", "pause", "1", "--reason", "hold")))
        .contains("rollout 1 is paused");
    assertThat(admin.ok(admin.get("/api/v1/rollouts/1")).get("reason").asText()).isEqualTo("hold");
    assertThat(CliRun.stdout(cli("rollout", "resume", "1"))).contains("is running");
    assertThat(CliRun.stdout(cli("rollout", "status", "1")))
        .contains("gw-1")
        .contains("offered")
        .contains("pending");
    assertThat(CliRun.stdout(cli("rollout", "cancel", "1"))).contains("is cancelled");
    Rest.assertError(admin.post("/api/v1/rollouts/1/resume", ""), 409, "is cancelled");
    Rest.assertError(admin.post("/api/v1/rollouts/7/pause", ""), 404, "no rollout 7");
  }
}
