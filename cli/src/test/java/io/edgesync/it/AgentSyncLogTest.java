package io.edgesync.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgesync.agent.EdgeAgent;
import io.edgesync.cli.internal.TcpRelay;
import io.edgesync.server.SyncServer;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent's sync log over its real local API, with a real server behind a relay that can be cut:
 * every batch it sent shows when its records were queued, when it went out and when the cloud
 * acknowledged it; records appended during an outage show as queued, not sent, until the link
 * heals. And {@code edgesync synclog --stream} prints the same.
 */
class AgentSyncLogTest {
  @TempDir Path dir;
  private SyncServer server;
  private TcpRelay relay;
  private EdgeAgent agent;
  private Rest local;

  @BeforeEach
  void start() throws Exception {
    server = Testbed.startServer(dir, "");
    relay = new TcpRelay(server.port());
    agent = EdgeAgent.open(Testbed.reliableAgent("gw-log", relay.port(), dir).withLocalApiPort(0));
    local = new Rest(agent.localApiPort());
  }

  @AfterEach
  void stop() throws Exception {
    Testbed.closeAll(agent, relay, server);
  }

  @Test
  void log_showsQueuedSentAndAcknowledgedTimes_andAnOutageLeavesRecordsQueuedUntilItHeals()
      throws Exception {
    long before = System.currentTimeMillis();
    append(5);
    awaitAcked(5);
    JsonNode first = local.ok(local.get("/v1/streams/temp/log"));
    assertThat(first.get("acknowledgedSequence").asLong()).isEqualTo(5);
    assertCovers(first.get("entries"), 1, 5, before);

    relay.cut();
    long cutAt = System.currentTimeMillis();
    append(3);
    Thread.sleep(300); // the agent would have sent by now, were it connected
    JsonNode during = local.ok(local.get("/v1/streams/temp/log?after=5"));
    assertThat(during.get("queuedRecords").asLong()).isEqualTo(3);
    for (JsonNode e : during.get("entries")) {
      assertThat(e.get("state").asText()).as("%s during the outage", e).isEqualTo("sent");
    }

    relay.heal();
    awaitAcked(8);
    JsonNode after = local.ok(local.get("/v1/streams/temp/log?after=5"));
    assertCovers(after.get("entries"), 6, 8, cutAt);
    assertThat(after.get("entries").get(0).get("firstSequence").asLong()).isEqualTo(6);

    String table =
        CliRun.stdout(
            "synclog", "--stream", "temp", "--agent", "http://127.0.0.1:" + agent.localApiPort());
    assertThat(table).contains("stream temp: last 8, acknowledged 8, queued 0").contains("6..");
    JsonNode json =
        Rest.json(
            CliRun.stdout(
                "synclog",
                "--stream",
                "temp",
                "--agent",
                "http://127.0.0.1:" + agent.localApiPort(),
                "--json"));
    assertThat(json.get("entries"))
        .isEqualTo(local.ok(local.get("/v1/streams/temp/log")).get("entries"));
  }

  @Test
  void badParameters_areRefusedNamingThem() {
    Rest.assertError(local.get("/v1/streams/temp/log?limit=0"), 400, "limit 1..1000");
    Rest.assertError(local.get("/v1/streams/te%20mp/log"), 400, "invalid stream name");
    Rest.assertError(local.post("/v1/streams/temp/log", "{}"), 405, "");
  }

  /**
   * The entries hold exactly sequences {@code first..last}, each batch queued, sent, acked in
   * order.
   */
  private static void assertCovers(JsonNode entries, long first, long last, long notBeforeMs) {
    long next = first;
    for (JsonNode e : entries) {
      assertThat(e.get("firstSequence").asLong()).as("%s", e).isEqualTo(next);
      assertThat(e.get("records").asLong()).isEqualTo(e.get("lastSequence").asLong() - next + 1);
      assertThat(e.get("state").asText()).isEqualTo("acknowledged");
      long queued = e.get("queuedAtMs").asLong();
      long sent = e.get("sentAtMs").asLong();
      long acked = e.get("acknowledgedAtMs").asLong();
      assertThat(queued).as("queued of %s", e).isGreaterThanOrEqualTo(notBeforeMs);
      assertThat(sent).as("sent of %s", e).isGreaterThanOrEqualTo(queued);
      assertThat(acked).as("acknowledged of %s", e).isGreaterThanOrEqualTo(sent);
      next = e.get("lastSequence").asLong() + 1;
    }
    assertThat(next - 1).as("last sequence logged").isEqualTo(last);
  }

  private void append(int n) {
    StringBuilder ndjson = new StringBuilder();
    for (int i = 0; i < n; i++) {
      ndjson.append("{\"t\":").append(i).append("}\n");
    }
    local.ok(local.post("/v1/streams/temp", ndjson.toString()));
  }

  private void awaitAcked(long sequence) {
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () ->
                agent.status().streams().stream()
                    .anyMatch(s -> s.name().equals("temp") && s.ackedSequence() == sequence));
  }
}
