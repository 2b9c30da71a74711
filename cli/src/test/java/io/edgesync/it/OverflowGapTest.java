package io.edgesync.it;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgesync.agent.AgentConfig;
import io.edgesync.agent.EdgeAgent;
import io.edgesync.agent.OperationStatus;
import io.edgesync.agent.OverflowPolicy;
import io.edgesync.server.SyncServer;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A full outbox drops the oldest records and the cloud shows the explicit gap. */
class OverflowGapTest {
  @TempDir Path dir;

  @Test
  void overflowWhileOffline_gapIsReportedAndVisibleThroughRest() throws Exception {
    int port = Testbed.freePort();
    AgentConfig base =
        Testbed.fastSync(
            AgentConfig.simple("dev-overflow", Testbed.syncUrl(port), dir.resolve("edge")));
    AgentConfig config =
        base.withOutbox(base.outbox().withQueue(100, 1L << 30, OverflowPolicy.DROP_OLDEST));
    try (EdgeAgent agent = EdgeAgent.open(config)) {
      for (int i = 1; i <= 250; i++) {
        agent.append("sensor_data", ("{\"i\":" + i + "}").getBytes(UTF_8));
      }
      assertThat(agent.metrics().dropped()).isEqualTo(150);
      assertThat(agent.metrics().queueDepthRecords()).isEqualTo(100);
      OperationStatus dropped = agent.operationStatus("sensor_data/1");
      assertThat(dropped.state()).isEqualTo(OperationStatus.State.DROPPED);
      assertThat(dropped.reason()).contains("queue was full");

      try (SyncServer server = SyncServer.start(Testbed.serverConfig(dir, port))) {
        agent.syncNow();
        await()
            .atMost(Duration.ofSeconds(20))
            .until(
                () ->
                    agent.operationStatus("sensor_data/250").state()
                        == OperationStatus.State.SYNCED);

        Rest rest = new Rest(server);
        JsonNode device = get(rest, "/api/v1/devices/dev-overflow");
        JsonNode stream = device.get("streams").get(0);
        assertThat(stream.get("stream").asText()).isEqualTo("sensor_data");
        assertThat(stream.get("lastSequence").asLong()).isEqualTo(250);
        assertThat(stream.get("records").asLong()).isEqualTo(100);
        assertThat(stream.get("droppedRecords").asLong()).isEqualTo(150);
        JsonNode gap = stream.get("gaps").get(0);
        assertThat(gap.get("firstSequence").asLong()).isEqualTo(1);
        assertThat(gap.get("lastSequence").asLong()).isEqualTo(150);
        assertThat(gap.get("reason").asText()).isEqualTo("queue_full");

        JsonNode records =
            get(rest, "/api/v1/devices/dev-overflow/streams/sensor_data?after=0&limit=5");
        assertThat(records.get("records").get(0).get("sequence").asLong()).isEqualTo(151);
        assertThat(records.get("records").get(0).get("payload").get("i").asInt()).isEqualTo(151);
        assertThat(records.get("records")).hasSize(5);
        assertThat(records.get("nextAfter").asLong()).isEqualTo(155);
      }
    }
  }

  private static JsonNode get(Rest rest, String path) {
    Rest.Reply r = rest.get(path);
    assertThat(r.status()).as("%s", r.body()).isEqualTo(200);
    return r.body();
  }
}
