package io.edgesync.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgesync.agent.EdgeAgent;
import io.edgesync.cli.internal.TcpRelay;
import io.edgesync.protocol.Clock;
import io.edgesync.server.SyncServer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Conflict reports and the cloud's sync log of a device, over real HTTP with a real agent: a device
 * edits two of its documents while cut off and the cloud edits them too; one collection's strategy
 * decides (last write wins), the other's waits for a person, who resolves it with the admin key.
 * The report counts both by strategy, outcome, collection, device and who resolved; its filters and
 * period narrow it; bad parameters are refused naming them. The sync log lists the device's
 * commands and documents with their states and times. The CLI prints both, and the same JSON.
 */
class ConflictReportTest {
  @TempDir Path dir;
  private SyncServer server;
  private TcpRelay relay;
  private EdgeAgent agent;
  private Rest rest;

  @BeforeEach
  void start() throws Exception {
    server =
        Testbed.startServer(
            dir,
            "documents:\n  collections:\n    lww: {strategy: last_write_wins}\n"
                + "    mn: {strategy: manual}\n");
    rest = new Rest(server);
    relay = new TcpRelay(server.port());
    agent = Testbed.documentAgent("dev-a", relay.port(), Clock.SYSTEM, dir);
    await().atMost(Duration.ofSeconds(20)).until(() -> agent.status().sessionsEstablished() > 0);
  }

  @AfterEach
  void stop() throws Exception {
    Testbed.closeAll(agent, relay, server);
  }

  @Test
  void report_countsConflictsByStrategyOutcomeAndResolver_andFiltersByCollectionDeviceAndPeriod()
      throws Exception {
    long start = System.currentTimeMillis();
    editWhileCut("lww");
    editWhileCut("mn");
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> conflicts("?collection=mn&status=open").size() == 1);
    long manual = conflicts("?collection=mn&status=open").get(0).get("id").asLong();
    rest.ok(rest.post("/api/v1/conflicts/" + manual + "/resolve", "{\"take\":\"edge\"}"));

    JsonNode all = rest.ok(rest.get("/api/v1/reports/conflicts"));
    assertThat(all.get("conflicts").asLong()).isEqualTo(2);
    assertThat(all.get("open").asLong()).isZero();
    assertThat(all.get("automatic").asLong()).isEqualTo(1);
    assertThat(all.get("manual").asLong()).isEqualTo(1);
    assertThat(all.get("byStrategy")).isEqualTo(Rest.json("{\"last_write_wins\":1,\"manual\":1}"));
    assertThat(all.get("byCollection")).isEqualTo(Rest.json("{\"lww\":1,\"mn\":1}"));
    assertThat(all.get("byDevice")).isEqualTo(Rest.json("{\"dev-a\":2}"));
    assertThat(all.get("resolvedBy")).isEqualTo(Rest.json("{\"admin\":1,\"auto\":1}"));
    assertThat(all.get("byOutcome").get("edge").asLong()).isPositive();
    assertThat(all.get("perHour").asDouble()).isPositive();
    assertThat(all.get("manualResolveMsMean").asLong()).isNotNegative();

    JsonNode lww = rest.ok(rest.get("/api/v1/reports/conflicts?collection=lww&device=dev-a"));
    assertThat(lww.get("conflicts").asLong()).isEqualTo(1);
    assertThat(lww.get("resolvedBy")).isEqualTo(Rest.json("{\"auto\":1}"));
    String hourAgo = Instant.ofEpochMilli(start - 3_600_000).toString();
    JsonNode none =
        rest.ok(
            rest.get(
                "/api/v1/reports/conflicts?from="
                    + hourAgo
                    + "&to="
                    + Instant.ofEpochMilli(start)));
    assertThat(none.get("conflicts").asLong()).isZero();
    JsonNode before = rest.ok(rest.get("/api/v1/reports/conflicts?to=" + (start - 1)));
    assertThat(before.get("conflicts").asLong()).isZero();
    JsonNode since = rest.ok(rest.get("/api/v1/reports/conflicts?from=" + start));
    assertThat(since.get("conflicts").asLong()).isEqualTo(2);

    JsonNode listed =
        Rest.json(CliRun.stdout(cli("conflicts", "list", "--status", "all", "--json")));
    assertThat(listed.get("conflicts")).hasSize(2);
    JsonNode shown =
        Rest.json(CliRun.stdout(cli("conflicts", "show", String.valueOf(manual), "--json")));
    assertThat(shown.get("resolvedBy").asText()).isEqualTo("admin");

    String text = CliRun.stdout(cli("conflicts", "report"));
    assertThat(text)
        .contains("conflicts 2")
        .contains("1 automatically, 1 by people")
        .contains("byStrategy    last_write_wins=1 manual=1")
        .contains("resolvedBy    admin=1 auto=1");
    JsonNode json =
        Rest.json(CliRun.stdout(cli("conflicts", "report", "--collection", "mn", "--json")));
    assertThat(json.get("conflicts").asLong()).isEqualTo(1);
    assertThat(json.get("resolvedBy")).isEqualTo(Rest.json("{\"admin\":1}"));
  }

  @Test
  void report_refusesBadParameters_namingThem() {
    Rest.assertError(rest.get("/api/v1/reports/conflicts?from=yesterday"), 400, "'from' must be");
    Rest.assertError(rest.get("/api/v1/reports/conflicts?from=10&to=5"), 400, "must be before");
    Rest.assertError(
        rest.get("/api/v1/reports/conflicts?device=ghost"), 404, "unknown device 'ghost'");
    Rest.assertError(rest.get("/api/v1/devices/ghost/synclog"), 404, "unknown device 'ghost'");
    Rest.assertError(rest.get("/api/v1/devices/dev-a/synclog?limit=0"), 400, "'limit'");
  }

  @Test
  void syncLog_listsTheDevicesCommandsAndDocuments_withStatesAndTimes() throws Exception {
    long start = System.currentTimeMillis();
    JsonNode cmd =
        rest.ok(
            rest.post("/api/v1/devices/dev-a/commands", "{\"name\":\"reboot\",\"payload\":{}}"));
    agent.documents().put("lww", "mine", Rest.json("{\"x\":1}"));
    rest.ok(rest.put("/api/v1/devices/dev-a/docs/lww/theirs", "{\"y\":2}"));
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> rest.get("/api/v1/devices/dev-a/docs/lww/mine").status() == 200);
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () ->
                rest.ok(rest.get("/api/v1/commands/" + cmd.get("id").asText()))
                    .get("state")
                    .asText()
                    .equals("delivered"));

    JsonNode log = rest.ok(rest.get("/api/v1/devices/dev-a/synclog")).get("entries");
    JsonNode command = find(log, "command", cmd.get("id").asText());
    assertThat(command.get("state").asText()).isEqualTo("delivered");
    assertThat(command.get("acknowledged").asBoolean()).isTrue();
    assertThat(command.get("sent").asInt()).isPositive();
    assertThat(command.get("queuedAtMs").asLong()).isGreaterThanOrEqualTo(start);
    assertThat(command.get("stateAtMs").asLong())
        .isGreaterThanOrEqualTo(command.get("queuedAtMs").asLong());
    JsonNode mine = find(log, "document", "mine");
    assertThat(mine.get("direction").asText()).isEqualTo("from_device");
    assertThat(mine.get("changeSeq").asLong()).isPositive();
    assertThat(mine.get("committedAtMs").asLong()).isGreaterThanOrEqualTo(start);
    JsonNode theirs = find(log, "document", "theirs");
    assertThat(theirs.get("direction").asText()).isEqualTo("to_device");
    assertThat(theirs.get("writer").asText()).isEqualTo("$cloud");
    for (int i = 1; i < log.size(); i++) {
      assertThat(log.get(i).get("atMs").asLong())
          .isLessThanOrEqualTo(log.get(i - 1).get("atMs").asLong());
    }
    assertThat(rest.ok(rest.get("/api/v1/devices/dev-a/synclog?limit=1")).get("entries"))
        .hasSize(1);

    String text = CliRun.stdout(cli("synclog", "--device", "dev-a"));
    assertThat(text)
        .contains("reboot " + cmd.get("id").asText())
        .contains("delivered")
        .contains("lww/mine");
    JsonNode json = Rest.json(CliRun.stdout(cli("synclog", "--device", "dev-a", "--json")));
    assertThat(json.get("entries").size()).isEqualTo(log.size());
  }

  private static JsonNode find(JsonNode log, String kind, String idOrKey) {
    for (JsonNode e : log) {
      if (e.get("kind").asText().equals(kind)
          && idOrKey.equals(e.path(kind.equals("command") ? "id" : "key").asText())) {
        return e;
      }
    }
    throw new AssertionError("no " + kind + " " + idOrKey + " in " + log);
  }

  /** The device and the cloud both change dev-a's document {@code collection/k} while cut off. */
  private void editWhileCut(String collection) throws Exception {
    String path = "/api/v1/devices/dev-a/docs/" + collection + "/k";
    long v1 = rest.ok(rest.put(path, "{\"v\":0}")).get("version").asLong();
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () -> agent.documents().get(collection, "k").map(d -> d.version()).orElse(-1L) == v1);
    relay.cut();
    rest.ok(rest.put(path, "{\"v\":\"cloud\"}"));
    Thread.sleep(5);
    agent.documents().put(collection, "k", Rest.json("{\"v\":\"edge\"}"));
    relay.heal();
    agent.syncNow();
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> !agent.documents().get(collection, "k").orElseThrow().pending());
  }

  private JsonNode conflicts(String query) {
    return rest.ok(rest.get("/api/v1/conflicts" + query)).get("conflicts");
  }

  private String[] cli(String... args) {
    String[] all = java.util.Arrays.copyOf(args, args.length + 4);
    all[args.length] = "--server";
    all[args.length + 1] = "http://127.0.0.1:" + server.port();
    all[args.length + 2] = "--data-dir";
    all[args.length + 3] = dir.resolve("cloud").toString();
    return all;
  }
}
