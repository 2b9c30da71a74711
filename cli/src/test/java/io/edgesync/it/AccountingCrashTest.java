package io.edgesync.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgesync.agent.EdgeAgent;
import io.edgesync.agent.internal.AgentMetricsText;
import io.edgesync.agent.internal.outbox.SqliteOutbox;
import io.edgesync.agent.internal.outbox.SqliteOutbox.Accounts;
import io.edgesync.protocol.Clock;
import io.edgesync.server.SyncServer;
import io.edgesync.support.jdbc.Jdbc;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent's accounts after SIGKILL: an agent whose small queue drops the oldest records runs as a
 * child JVM, appending without pause, alternately with the server down (the queue overflows) and up
 * (records are acknowledged), and is killed at seeded random moments. After each kill its outbox,
 * opened here as a restarted agent opens it, must account for every record to the record: appended
 * = acknowledged + queued + dropped; nothing the agent reported durable is missing; and "dropped"
 * is exactly the records its gaps report (what the cloud will be told was lost). After a final
 * drain, every record is in the cloud or in one of its gaps, and the cloud's gaps are at most what
 * the agent counted dropped (a record committed just before a kill took its ack is in the cloud,
 * though the agent, which dropped it from its queue later, counts it dropped).
 */
class AccountingCrashTest {
  private static final int ROUNDS = Integer.getInteger("accounting.rounds", 6);
  private static final Duration START = Duration.ofSeconds(60);

  @TempDir Path dir;
  private SyncServer server;

  /** Per stream, the highest sequence the killed agents reported as durable. */
  private final Map<String, Long> durable = new ConcurrentHashMap<>();

  @AfterEach
  void stop() throws Exception {
    Testbed.closeAll(server);
  }

  @Test
  void afterEachSigkill_appendedEqualsAcknowledgedPlusQueuedPlusDropped_toTheRecord()
      throws Exception {
    int port = Testbed.freePort();
    Path edge = dir.resolve("edge");
    SplittableRandom random = new SplittableRandom(1515);
    long droppedSeen = 0;
    for (int round = 0; round < ROUNDS; round++) {
      boolean online = round % 2 == 1;
      if (online) {
        server = startServer(port);
      }
      ChildJvm agent =
          ChildJvm.start(
              "agent-" + round,
              dir.resolve("agent-" + round + ".log"),
              this::noteDurable,
              OverflowAgentChild.class,
              Testbed.syncUrl(port).toString(),
              edge.toString());
      agent.awaitReady(START);
      Thread.sleep(random.nextLong(400, 1500));
      agent.sigkill();
      if (server != null) {
        server.close();
        server = null;
      }
      droppedSeen = checkAccounts(edge, "after the SIGKILL of round " + round);
    }
    assertThat(droppedSeen).as("the offline rounds overflowed the queue").isPositive();

    server = startServer(port);
    List<Accounts> drained = drain(port, edge);
    JsonNode device =
        new Rest(server).ok(new Rest(server).get("/api/v1/devices/" + OverflowAgentChild.DEVICE));
    for (Accounts a : drained) {
      JsonNode cloud = stream(device, a.stream());
      long gapRecords = 0;
      for (JsonNode g : cloud.get("gaps")) {
        gapRecords += g.get("records").asLong();
      }
      assertThat(cloud.get("lastSequence").asLong()).as(a.stream()).isEqualTo(a.appended());
      assertThat(cloud.get("records").asLong() + gapRecords)
          .as(a.stream() + ": every record is in the cloud or in a gap")
          .isEqualTo(a.appended());
      // The agent may count as dropped a record the cloud committed just before a kill took its
      // ack: the agent cannot know, the cloud's gaps can. Never the other way round.
      assertThat(gapRecords).as(a.stream() + ": the cloud's gaps").isLessThanOrEqualTo(a.dropped());
      assertThat(cloud.get("droppedRecords").asLong()).as(a.stream()).isEqualTo(gapRecords);
    }
  }

  private SyncServer startServer(int port) {
    return SyncServer.start(
        io.edgesync.server.ServerConfig.fromYaml(
            "server: {port: " + port + ", data_dir: \"" + dir.resolve("cloud") + "\"}\n"));
  }

  private void noteDurable(String line) {
    String[] p = line.split(" ");
    if (p.length == 3 && p[0].equals("D")) {
      durable.merge(p[1], Long.parseLong(p[2]), Math::max);
    }
  }

  /**
   * Opens the outbox as a restarted agent would and checks its accounts; returns the records
   * dropped so far, all streams.
   */
  private long checkAccounts(Path edge, String when) throws Exception {
    Path file = edge.resolve("edgesync-agent.db");
    List<Accounts> accounts;
    try (SqliteOutbox outbox =
        new SqliteOutbox(
            file,
            OverflowAgentChild.config("ws://127.0.0.1:1/v1/sync", edge).outbox(),
            Map.of(),
            5,
            Clock.SYSTEM)) {
      accounts = outbox.accounts();
    }
    long dropped = 0;
    try (Connection db = DriverManager.getConnection("jdbc:sqlite:" + file)) {
      for (Accounts a : accounts) {
        assertThat(a.balanced()).as(when + ": " + a).isTrue();
        assertThat(a.appended())
            .as(when + ": " + a.stream() + " holds every append reported durable")
            .isGreaterThanOrEqualTo(durable.getOrDefault(a.stream(), 0L));
        long inGaps =
            new Jdbc(db, file.toString())
                .queryLong(
                    "SELECT coalesce(sum(last_seq - first_seq + 1), 0) FROM gaps WHERE stream=?"
                        + " AND reason=1",
                    0,
                    a.stream());
        assertThat(a.dropped())
            .as(when + ": " + a.stream() + " dropped = its gaps")
            .isEqualTo(inGaps);
        dropped += a.dropped();
      }
    }
    assertThat(accounts).as(when).isNotEmpty();
    return dropped;
  }

  /** An agent in this JVM sends what is queued; returns its accounts once nothing is queued. */
  private List<Accounts> drain(int port, Path edge) throws Exception {
    try (EdgeAgent agent =
        EdgeAgent.open(OverflowAgentChild.config(Testbed.syncUrl(port).toString(), edge))) {
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> agent.status().streams().stream().allMatch(s -> s.queuedRecords() == 0));
      assertThat(agent.status().lastSyncAt()).as("the drain was acknowledged").isNotNull();
      assertThat(AgentMetricsText.render(agent.status()))
          .containsPattern("(?m)^edgesync_agent_last_sync_timestamp_seconds [1-9][0-9.]+$");
    }
    return checkAccountsAndReturn(edge);
  }

  private List<Accounts> checkAccountsAndReturn(Path edge) throws Exception {
    checkAccounts(edge, "after the drain");
    try (SqliteOutbox outbox =
        new SqliteOutbox(
            edge.resolve("edgesync-agent.db"),
            OverflowAgentChild.config("ws://127.0.0.1:1/v1/sync", edge).outbox(),
            Map.of(),
            5,
            Clock.SYSTEM)) {
      List<Accounts> accounts = outbox.accounts();
      for (Accounts a : accounts) {
        assertThat(a.queued()).as(a.stream()).isZero();
        assertThat(a.acknowledged() + a.dropped()).as(a.stream()).isEqualTo(a.appended());
      }
      return accounts;
    }
  }

  private static JsonNode stream(JsonNode device, String name) {
    for (JsonNode s : device.get("streams")) {
      if (s.get("stream").asText().equals(name)) {
        return s;
      }
    }
    throw new AssertionError("the cloud has no stream " + name + ": " + device);
  }
}
