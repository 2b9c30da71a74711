package io.edgesync.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.edgesync.agent.EdgeAgent;
import io.edgesync.protocol.Clock;
import io.edgesync.server.CloudStores;
import io.edgesync.server.ServerConfig;
import io.edgesync.server.SqliteCloudStore;
import io.edgesync.testing.TcpBalancer;
import io.edgesync.testing.TestPostgres;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three server nodes, each in its own JVM, on one real PostgreSQL behind a layer-4 balancer ({@link
 * TcpBalancer}): agents append records and write documents, documents are written through the
 * nodes' REST API too, while nodes are killed with SIGKILL and restarted. Afterwards every
 * acknowledged record is in the cloud exactly once and in order, and every device's documents equal
 * the cloud's.
 */
@Tag("slow")
class ClusterKillTest {
  private static final int NODES = 3;
  private static final int DEVICES = 3;
  private static final int KILLS = Integer.getInteger("cluster.kills", 4);

  @TempDir Path dir;
  private String database;
  private final ChildJvm[] nodes = new ChildJvm[NODES];
  private final int[] ports = new int[NODES];
  private final List<AutoCloseable> closing = new ArrayList<>();

  @BeforeEach
  void database() throws Exception {
    assumeTrue(
        TestPostgres.available(),
        () -> "skipped: no embedded PostgreSQL here: " + TestPostgres.unavailableReason());
    database = TestPostgres.newDatabase();
    for (int i = 0; i < NODES; i++) {
      ports[i] = Testbed.freePort();
    }
  }

  @AfterEach
  void close() throws Exception {
    for (int i = closing.size() - 1; i >= 0; i--) {
      closing.get(i).close();
    }
    for (ChildJvm n : nodes) {
      if (n != null && n.isAlive()) {
        n.sigkill();
      }
    }
    if (database != null) {
      TestPostgres.dropDatabase(database);
    }
  }

  private void startNode(int i) throws Exception {
    nodes[i] =
        ChildJvm.start(
            "node-" + i,
            dir.resolve("node-" + i + ".log"),
            line -> {},
            NodeChild.class,
            String.valueOf(ports[i]),
            dir.resolve("cloud").toString(),
            TestPostgres.jdbcUrl(database),
            TestPostgres.USER,
            "node-" + i);
    nodes[i].awaitReady(Duration.ofSeconds(60));
  }

  @Test
  void nodesKilledAndRestarted_loseNothingAcknowledged_andDocumentsConverge() throws Exception {
    startNode(0); // the first node migrates the schema and writes the admin key alone
    for (int i = 1; i < NODES; i++) {
      startNode(i);
    }
    List<InetSocketAddress> backends = new ArrayList<>();
    for (int p : ports) {
      backends.add(new InetSocketAddress(InetAddress.getLoopbackAddress(), p));
    }
    TcpBalancer balancer = TcpBalancer.start(backends);
    closing.add(balancer);
    Rest rest = Rest.admin(balancer.port(), dir.resolve("cloud"));
    List<EdgeAgent> agents = new ArrayList<>();
    List<Testbed.Producer> producers = new ArrayList<>();
    for (int d = 0; d < DEVICES; d++) {
      EdgeAgent a = Testbed.documentAgent("dev-" + d, balancer.port(), Clock.SYSTEM, dir);
      closing.add(a);
      agents.add(a);
      Testbed.Producer p = new Testbed.Producer(a, "telemetry", d);
      closing.add(p);
      producers.add(p);
    }

    SplittableRandom random = new SplittableRandom(14);
    for (int k = 0; k < KILLS; k++) {
      Thread.sleep(1_500);
      for (int d = 0; d < DEVICES; d++) { // both sides write documents, and the same key
        agents.get(d).documents().put("lww", "edge-" + k, Rest.json("{\"k\":" + k + "}"));
        rest.ok(rest.put("/api/v1/devices/dev-" + d + "/docs/lww/cloud-" + k, "{\"k\":" + k + "}"));
        agents.get(d).documents().put("lww", "both", Rest.json("{\"edge\":" + k + "}"));
        rest.put("/api/v1/devices/dev-" + d + "/docs/lww/both", "{\"cloud\":" + k + "}");
      }
      int victim = random.nextInt(NODES);
      nodes[victim].sigkill();
      Thread.sleep(500);
      startNode(victim);
    }

    long connections = 0;
    for (int i = 0; i < NODES; i++) {
      assertThat(balancer.connections(i)).as("connections to node " + i).isPositive();
      connections += balancer.connections(i);
    }
    assertThat(connections).as("devices reconnected after kills").isGreaterThan(DEVICES);
    long[] last = new long[DEVICES];
    for (int d = 0; d < DEVICES; d++) {
      last[d] = producers.get(d).stop();
    }
    try (SqliteCloudStore store =
        CloudStores.open(
            ServerConfig.fromYaml(
                NodeChild.yaml(
                    "0",
                    dir.resolve("cloud").toString(),
                    TestPostgres.jdbcUrl(database),
                    TestPostgres.USER,
                    "checker")))) {
      for (int d = 0; d < DEVICES; d++) {
        String device = "dev-" + d;
        long lastSeq = last[d];
        await()
            .atMost(Duration.ofSeconds(60))
            .until(() -> store.checkpoints(device).getOrDefault("telemetry", 0L) >= lastSeq);
        assertThat(lastSeq).as("records appended by " + device).isGreaterThan(100);
        Testbed.assertExactlyOnceInOrder(store, device, "telemetry", lastSeq);
        EdgeAgent a = agents.get(d);
        for (int k = 0; k < KILLS; k++) {
          String key = "cloud-" + k;
          await()
              .atMost(Duration.ofSeconds(30))
              .until(() -> a.documents().get("lww", key).isPresent());
          String edgeKey = "edge-" + k;
          await()
              .atMost(Duration.ofSeconds(30))
              .until(
                  () ->
                      rest.get("/api/v1/devices/" + device + "/docs/lww/" + edgeKey).status()
                          == 200);
        }
        await() // both sides wrote this key, around kills: one value wins everywhere
            .atMost(Duration.ofSeconds(30))
            .untilAsserted(
                () ->
                    assertThat(a.documents().get("lww", "both").orElseThrow().value())
                        .as(() -> "device " + device + "'s key 'both'; " + history(device, "both"))
                        .isEqualTo(
                            rest.ok(rest.get("/api/v1/devices/" + device + "/docs/lww/both"))
                                .get("value")));
      }
    }
  }

  /** The cloud's versions of a device document, for a failure's message. */
  private String history(String device, String key) {
    StringBuilder b = new StringBuilder("the cloud's log (version, writer, origin change, value):");
    try (java.sql.Connection c = TestPostgres.connect(database);
        java.sql.PreparedStatement ps =
            c.prepareStatement(
                "SELECT version, writer, origin_change_seq, value FROM doc_log WHERE scope=? AND"
                    + " key=? ORDER BY version")) {
      ps.setString(1, "device:" + device);
      ps.setString(2, key);
      try (java.sql.ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          byte[] value = rs.getBytes(4);
          b.append(
              String.format(
                  " [%d %s %d %s]",
                  rs.getLong(1),
                  rs.getString(2),
                  rs.getLong(3),
                  value == null
                      ? "deleted"
                      : new String(value, java.nio.charset.StandardCharsets.UTF_8)));
        }
      }
    } catch (java.sql.SQLException e) {
      b.append(" unreadable: ").append(e);
    }
    return b.toString();
  }
}
