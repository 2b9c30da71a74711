package io.edgesync.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgesync.agent.AgentConfig;
import io.edgesync.agent.EdgeAgent;
import io.edgesync.protocol.Clock;
import io.edgesync.security.ReleaseKey;
import io.edgesync.server.ServerConfig;
import io.edgesync.server.SyncServer;
import io.edgesync.server.files.CloudFiles;
import io.edgesync.server.files.FileStore;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two server nodes on one real PostgreSQL, in this JVM: what is written through one node reaches
 * devices connected to the other (documents, commands, a rollout's file, whose chunks the other
 * node reads from the database, not from a shared volume), and a device's session that moved to the
 * other node ends on the first at once, told over the cluster bus.
 */
class SeveralNodesTest {
  @TempDir Path dir;
  @RegisterExtension final TestDatabase db = new TestDatabase();
  private final List<AutoCloseable> closing = new ArrayList<>();

  @AfterEach
  void close() throws Exception {
    for (int i = closing.size() - 1; i >= 0; i--) {
      closing.get(i).close();
    }
  }

  private SyncServer node(String id) {
    return node(id, "");
  }

  /** A node; {@code serverYaml}: more keys of its server section, each line indented by two. */
  private SyncServer node(String id, String serverYaml) {
    SyncServer s =
        SyncServer.start(
            ServerConfig.fromYaml(
                "server:\n"
                    + "  host: 127.0.0.1\n"
                    + "  port: 0\n"
                    + "  data_dir: \""
                    + dir.resolve("cloud")
                    + "\"\n"
                    + db.storeYaml()
                    + "  cluster: {node_id: "
                    + id
                    + ", lease_ms: 1500}\n"
                    + serverYaml
                    + "documents:\n"
                    + "  collections:\n"
                    + "    lww: {strategy: last_write_wins}\n"));
    closing.add(s);
    return s;
  }

  private EdgeAgent agent(String device, SyncServer node) {
    EdgeAgent a = Testbed.documentAgent(device, node.port(), Clock.SYSTEM, dir);
    closing.add(a);
    return a;
  }

  @Test
  void aDocumentAndACommandWrittenThroughOneNode_reachADeviceOnTheOther() throws Exception {
    SyncServer n1 = node("n1");
    SyncServer n2 = node("n2");
    EdgeAgent device = agent("dev-1", n2);
    await().atMost(Duration.ofSeconds(10)).until(() -> n2.isConnected("dev-1"));
    Rest rest1 = Rest.admin(n1.port(), dir.resolve("cloud"));

    long t0 = System.nanoTime();
    rest1.ok(rest1.put("/api/v1/devices/dev-1/docs/lww/k", "{\"v\":1}"));
    await()
        .atMost(Duration.ofSeconds(5))
        .pollInterval(Duration.ofMillis(5))
        .until(() -> device.documents().get("lww", "k").isPresent());
    long deliveredMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    assertThat(deliveredMs).as("pushed at once, not at the next reconnect").isLessThan(3_000);

    String id =
        rest1
            .ok(rest1.post("/api/v1/devices/dev-1/commands", "{\"name\":\"probe\"}"))
            .get("id")
            .asText();
    await().atMost(Duration.ofSeconds(5)).until(() -> device.commands().state(id) != null);

    // Work that runs once has one holder among the nodes, which both nodes show.
    Rest rest2 = Rest.admin(n2.port(), dir.resolve("cloud"));
    JsonNode view1 = rest1.ok(rest1.get("/api/v1/cluster"));
    JsonNode view2 = rest2.ok(rest2.get("/api/v1/cluster"));
    assertThat(view1.get("node").asText()).isEqualTo("n1");
    assertThat(view2.get("devicesConnected").asInt()).isEqualTo(1);
    assertThat(holders(view1)).isEqualTo(holders(view2)); // (renewals move only the expiry)
    assertThat(holders(view1)).containsOnlyKeys("dictionaries", "rollouts");
    assertThat(holders(view1).values()).allMatch(h -> h.equals("n1") || h.equals("n2"));
  }

  @Test
  void aRolloutPublishedThroughOneNode_installsOnADeviceOfTheOther_withoutASharedFilesDir()
      throws Exception {
    KeyPair release = ReleaseKey.generate();
    Path key = dir.resolve("release.key");
    ReleaseKey.writePrivateKey(key, release.getPrivate());
    Path trusted = dir.resolve("release.pub");
    ReleaseKey.writePublicKey(trusted, release.getPublic());
    SyncServer n1 = node("n1", filesIn(dir.resolve("files-n1"), key));
    SyncServer n2 = node("n2", filesIn(dir.resolve("files-n2"), key));
    AgentConfig c =
        Testbed.fastSync(
            AgentConfig.simple("gw-1", Testbed.syncUrl(n2.port()), dir.resolve("gw-1")));
    EdgeAgent device =
        EdgeAgent.open(
            c.withFiles(
                AgentConfig.FileSettings.defaults(
                    dir.resolve("gw-1").resolve("installed"), trusted)));
    closing.add(device);
    await().atMost(Duration.ofSeconds(10)).until(() -> n2.isConnected("gw-1"));

    byte[] firmware = new byte[2 << 20]; // dozens of chunks
    new java.util.SplittableRandom(7).nextBytes(firmware);
    long now = System.currentTimeMillis();
    long version =
        n1.files()
            .publish(
                new CloudFiles.PublishRequest("fw/gw.img", Map.of(), null, null, null, "test"),
                new ByteArrayInputStream(firmware),
                now)
            .header()
            .getVersion();
    n1.files()
        .createRollout(
            new CloudFiles.RolloutRequest(
                "fw/gw.img", version, FileStore.TargetKind.FLEET, null, 1_000, 0.5, 1),
            "test",
            now);

    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> device.files().installed("fw/gw.img").isPresent());
    assertThat(Files.readAllBytes(device.files().installed("fw/gw.img").orElseThrow().file()))
        .isEqualTo(firmware);
    assertThat(dir.resolve("files-n1").resolve("chunks")).doesNotExist();
    assertThat(dir.resolve("files-n2").resolve("chunks")).doesNotExist();
  }

  private static String filesIn(Path filesDir, Path releaseKey) {
    return "  files: {dir: \"" + filesDir + "\", release_key_file: \"" + releaseKey + "\"}\n";
  }

  private static java.util.Map<String, String> holders(JsonNode view) {
    java.util.Map<String, String> out = new java.util.TreeMap<>();
    for (JsonNode l : view.get("leases")) {
      out.put(l.get("name").asText(), l.get("holder").asText());
    }
    return out;
  }

  @Test
  void aSessionThatMovedToAnotherNode_endsOnTheFirstAtOnce_toldOverTheBus() throws Exception {
    SyncServer n1 = node("n1");
    SyncServer n2 = node("n2");
    RawClient old = RawClient.welcomed(n1.syncUrl(), RawClient.hello("dev-2"));

    RawClient.welcomed(n2.syncUrl(), RawClient.hello("dev-2"));

    // Nothing is sent on the old session: the first node hears of the claim and ends it.
    assertThat(old.closeStatus.get(5, TimeUnit.SECONDS))
        .startsWith("1000 ")
        .contains("replaced by a newer session of the device on node n2");
    await().atMost(Duration.ofSeconds(5)).until(() -> !n1.isConnected("dev-2"));
    assertThat(n2.isConnected("dev-2")).isTrue();
    assertThat(n1.sessionsReplaced()).isEqualTo(1);
  }
}
