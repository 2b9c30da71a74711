package io.edgesync.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgesync.agent.Document;
import io.edgesync.agent.EdgeAgent;
import io.edgesync.cli.internal.TcpRelay;
import io.edgesync.protocol.Clock;
import io.edgesync.server.SyncServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Every conflict strategy over real sockets: two devices and the cloud edit the same shared
 * document while the devices are partitioned, then the partition heals; the outcome is the one the
 * strategy defines, and every replica ends equal to the cloud (value and version).
 */
class DocumentConflictTest {
  private static final String BASE = "{\"a\":0,\"b\":0,\"c\":0}";
  private static final String CLOUD = "{\"a\":0,\"b\":0,\"c\":3}";
  private static final String EDGE_A = "{\"a\":1,\"b\":0,\"c\":0}";
  private static final String EDGE_B = "{\"a\":0,\"b\":2,\"c\":0}";

  @TempDir Path dir;
  private SyncServer server;
  private Rest rest;
  private TcpRelay relayA;
  private TcpRelay relayB;
  private EdgeAgent a;
  private EdgeAgent b;

  @BeforeEach
  void start() throws Exception {
    server =
        Testbed.startServer(
            dir,
            "documents:\n"
                + "  collections:\n"
                + "    lww: {strategy: last_write_wins}\n"
                + "    cw: {strategy: cloud_wins}\n"
                + "    ew: {strategy: edge_wins}\n"
                + "    mg: {strategy: merge}\n"
                + "    mn: {strategy: manual}\n"
                + "    cu: {strategy: custom, resolver: io.edgesync.it.MaxFieldResolver}\n"
                // The devices edit the fleet's documents: that must be allowed (issue 12).
                + "  device_writable: [\"fleet/*\"]\n");
    rest = new Rest(server);
    relayA = new TcpRelay(server.port());
    relayB = new TcpRelay(server.port());
    a = Testbed.documentAgent("dev-a", relayA.port(), Clock.SYSTEM, dir);
    b = Testbed.documentAgent("dev-b", relayB.port(), Clock.SYSTEM, dir);
  }

  @AfterEach
  void stop() throws Exception {
    Testbed.closeAll(a, b, relayA, relayB, server);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "lww | {\"a\":0,\"b\":2,\"c\":0}",
        "cw  | {\"a\":0,\"b\":0,\"c\":3}",
        "ew  | {\"a\":0,\"b\":2,\"c\":0}",
        "mg  | {\"a\":1,\"b\":2,\"c\":3}",
        "cu  | {\"a\":1,\"b\":2,\"c\":3,\"resolvedBy\":\"max\"}"
      })
  void partitionedEditsOfTwoDevicesAndTheCloud_convergeToTheStrategysOutcome(
      String collection, String expected) throws Exception {
    editWhilePartitioned(collection);

    JsonNode cloud = awaitConverged(collection);
    assertThat(cloud.get("value")).isEqualTo(Rest.json(expected));
    assertThat(cloud.get("conflicted").asBoolean()).isFalse();
    // Both devices' edits were concurrent with a version they had not seen: two conflicts, both
    // decided automatically, each with exactly one audit record.
    JsonNode conflicts =
        rest.ok(rest.get("/api/v1/conflicts?collection=" + collection)).get("conflicts");
    assertThat(conflicts).hasSize(2);
    for (JsonNode c : conflicts) {
      assertThat(c.get("status").asText()).isEqualTo("resolved");
      assertThat(c.get("resolvedBy").asText()).isEqualTo("auto");
    }
    JsonNode audit = rest.ok(rest.get("/api/v1/audit?collection=" + collection)).get("audit");
    assertThat(audit).hasSize(2);
    assertThat(audit.get(0).get("conflictId").asLong())
        .isEqualTo(conflicts.get(0).get("id").asLong());
    assertThat(audit.get(1).get("conflictId").asLong())
        .isEqualTo(conflicts.get(1).get("id").asLong());
  }

  @Test
  void manualConflicts_waitInTheInbox_andTheirResolutionSyncsToBothDevices() throws Exception {
    editWhilePartitioned("mn");
    // The cloud value stays; each device's value waits in its own open conflict.
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () ->
                rest.ok(rest.get("/api/v1/conflicts?status=open&collection=mn"))
                        .get("conflicts")
                        .size()
                    == 2);
    JsonNode cloud = awaitConverged("mn");
    assertThat(cloud.get("value")).isEqualTo(Rest.json(CLOUD));
    assertThat(cloud.get("conflicted").asBoolean()).isTrue();
    assertThat(doc(a, "mn").orElseThrow().conflicted()).isTrue();
    assertThat(doc(b, "mn").orElseThrow().conflicted()).isTrue();
    assertThat(a.status().documents().conflicted()).isEqualTo(1);
    assertThat(a.status().documents().pending()).isZero();
    JsonNode open =
        rest.ok(rest.get("/api/v1/conflicts?status=open&collection=mn")).get("conflicts");
    JsonNode fromA = open.get(0).get("device").asText().equals("dev-a") ? open.get(0) : open.get(1);
    JsonNode fromB = fromA == open.get(0) ? open.get(1) : open.get(0);
    JsonNode detail = rest.ok(rest.get("/api/v1/conflicts/" + fromA.get("id").asLong()));
    assertThat(detail.get("edge").get("value")).isEqualTo(Rest.json(EDGE_A));
    assertThat(detail.get("cloud").get("value")).isEqualTo(Rest.json(CLOUD));
    assertThat(detail.get("base").get("value")).isEqualTo(Rest.json(BASE));
    assertThat(detail.get("edge").get("hlc").asText()).endsWith("@dev-a");
    assertThat(rest.ok(rest.get("/api/v1/audit?collection=mn")).get("audit")).isEmpty();

    // Take the edge value of A's conflict: B's is still open, so the document stays conflicted.
    rest.ok(
        rest.post(
            "/api/v1/conflicts/" + fromA.get("id").asLong() + "/resolve", "{\"take\":\"edge\"}"));
    cloud = awaitConverged("mn");
    assertThat(cloud.get("value")).isEqualTo(Rest.json(EDGE_A));
    assertThat(cloud.get("conflicted").asBoolean()).isTrue();

    // Resolve B's through the CLI with a value of our own: every replica holds it, unconflicted.
    String serverUrl = "http://127.0.0.1:" + server.port();
    String keyFile = server.adminKeyFile().toString();
    String listed =
        CliRun.stdout("conflicts", "list", "--server", serverUrl, "--api-key-file", keyFile);
    assertThat(listed).contains("dev-b").contains("fleet mn/k").doesNotContain("dev-a");
    assertThat(
            CliRun.stdout(
                "conflicts",
                "show",
                fromB.get("id").asText(),
                "--server",
                serverUrl,
                "--api-key-file",
                keyFile))
        .contains("\"b\" : 2");
    assertThat(
            CliRun.stdout(
                "conflicts",
                "resolve",
                fromB.get("id").asText(),
                "--value",
                "{\"a\":7}",
                "--server",
                serverUrl,
                "--api-key-file",
                keyFile))
        .contains("resolved conflict " + fromB.get("id").asText());

    cloud = awaitConverged("mn");
    assertThat(cloud.get("value")).isEqualTo(Rest.json("{\"a\":7}"));
    assertThat(cloud.get("conflicted").asBoolean()).isFalse();
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                !doc(a, "mn").orElseThrow().conflicted()
                    && !doc(b, "mn").orElseThrow().conflicted());

    JsonNode audit = rest.ok(rest.get("/api/v1/audit?collection=mn")).get("audit");
    assertThat(audit).hasSize(2);
    assertThat(audit.get(0).get("outcome").asText()).isEqualTo("edge");
    assertThat(audit.get(0).get("resolvedBy").asText())
        .as("the audit's who: the name of the key that resolved it")
        .isEqualTo("admin");
    assertThat(audit.get(1).get("outcome").asText()).isEqualTo("value");
    assertThat(audit.get(1).get("edge").get("value")).isEqualTo(Rest.json(EDGE_B));

    // Resolving again is refused and changes nothing.
    Rest.assertError(
        rest.post(
            "/api/v1/conflicts/" + fromB.get("id").asLong() + "/resolve", "{\"take\":\"cloud\"}"),
        409,
        "already resolved");
    assertThat(rest.post("/api/v1/conflicts/99999/resolve", "{\"take\":\"cloud\"}").status())
        .isEqualTo(404);
    assertThat(rest.ok(rest.get("/api/v1/fleet/docs/mn/k")).get("version").asLong())
        .isEqualTo(cloud.get("version").asLong());
  }

  /** v1 everywhere; partition; the cloud, then A, then B edit; heal A, then B. */
  private void editWhilePartitioned(String collection) throws Exception {
    long v1 =
        rest.ok(rest.put("/api/v1/fleet/docs/" + collection + "/k", BASE)).get("version").asLong();
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> version(a, collection) == v1 && version(b, collection) == v1);
    relayA.cut();
    relayB.cut();
    rest.ok(rest.put("/api/v1/fleet/docs/" + collection + "/k", CLOUD));
    Thread.sleep(5);
    a.documents().put("fleet", collection, "k", Rest.json(EDGE_A));
    Thread.sleep(5);
    b.documents().put("fleet", collection, "k", Rest.json(EDGE_B));
    assertThat(doc(a, collection).orElseThrow().pending()).as("%s", doc(a, collection)).isTrue();
    relayA.heal();
    a.syncNow();
    await().atMost(Duration.ofSeconds(20)).until(() -> !doc(a, collection).orElseThrow().pending());
    relayB.heal();
    b.syncNow();
    await().atMost(Duration.ofSeconds(20)).until(() -> !doc(b, collection).orElseThrow().pending());
  }

  /** Waits until both devices hold exactly the cloud's version; returns the cloud's document. */
  private JsonNode awaitConverged(String collection) {
    JsonNode[] cloud = new JsonNode[1];
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () -> {
              cloud[0] = rest.ok(rest.get("/api/v1/fleet/docs/" + collection + "/k"));
              long v = cloud[0].get("version").asLong();
              JsonNode value = cloud[0].get("value");
              return same(a, collection, v, value) && same(b, collection, v, value);
            });
    return cloud[0];
  }

  private static boolean same(EdgeAgent agent, String collection, long version, JsonNode value) {
    Optional<Document> d = doc(agent, collection);
    return d.isPresent()
        && d.get().version() == version
        && d.get().value().equals(value)
        && !d.get().pending();
  }

  private static Optional<Document> doc(EdgeAgent agent, String collection) {
    return agent.documents().get("fleet", collection, "k");
  }

  private static long version(EdgeAgent agent, String collection) {
    return doc(agent, collection).map(Document::version).orElse(-1L);
  }
}
