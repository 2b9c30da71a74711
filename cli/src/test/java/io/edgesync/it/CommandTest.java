package io.edgesync.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.edgesync.agent.AgentConfig;
import io.edgesync.agent.CommandHandler;
import io.edgesync.agent.EdgeAgent;
import io.edgesync.protocol.Clock;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Cloud → edge commands over real sockets: delivery, results, TTL, deduplication, long-poll. */
class CommandTest extends RelayedServerTest {
  @Test
  void aCommandWhoseTtlExpiresWhileTheDeviceIsOffline_isNeverRun() throws Exception {
    AtomicInteger runs = new AtomicInteger();
    try (EdgeAgent agent = Testbed.documentAgent("dev-c", relay.port(), Clock.SYSTEM, dir);
        AutoCloseable h =
            agent.commands().onCommand("reboot", counted(runs, (id, payload) -> null))) {
      awaitConnected("dev-c");
      relay.cut();
      await().atMost(Duration.ofSeconds(10)).until(() -> !server.isConnected("dev-c"));
      String id = queue("dev-c", "{\"name\":\"reboot\",\"ttlSeconds\":1}");
      assertThat(command(id).get("state").asText()).isEqualTo("queued");
      Thread.sleep(1_200);
      relay.heal();
      agent.syncNow();
      awaitConnected("dev-c");
      Thread.sleep(300);
      JsonNode c = command(id);
      assertThat(c.get("state").asText()).isEqualTo("expired");
      assertThat(c.get("deliveries").asInt()).isZero();
      assertThat(runs).hasValue(0);
      assertThat(agent.commands().state(id)).isNull();
    }
  }

  @Test
  void aCommandDeliveredTwice_runsOnce_andItsResultReachesTheCloud() throws Exception {
    AtomicInteger runs = new AtomicInteger();
    try (EdgeAgent agent = Testbed.documentAgent("dev-d", relay.port(), Clock.SYSTEM, dir);
        AutoCloseable h =
            agent
                .commands()
                .onCommand(
                    "rotate-key",
                    counted(
                        runs,
                        (id, payload) ->
                            JsonNodeFactory.instance
                                .objectNode()
                                .put("rotated", payload.get("slot").asInt())))) {
      awaitConnected("dev-d");
      String id =
          queue("dev-d", "{\"name\":\"rotate-key\",\"payload\":{\"slot\":2},\"ttlSeconds\":600}");
      rest.awaitField("/api/v1/commands/" + id, "state", "succeeded");
      assertThat(command(id).get("result")).isEqualTo(Rest.json("{\"rotated\":2}"));

      // The device's confirmation is lost (as if the link died before it arrived): the cloud
      // still believes the command queued and delivers it again in the next session.
      relay.cut();
      try (Connection db =
              DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("cloud/edgesync-cloud.db"));
          Statement st = db.createStatement()) {
        st.execute("PRAGMA busy_timeout=5000");
        st.executeUpdate("UPDATE commands SET state='queued', result=NULL WHERE id='" + id + "'");
      }
      relay.heal();
      agent.syncNow();
      rest.awaitField("/api/v1/commands/" + id, "state", "succeeded");
      JsonNode c = command(id);
      assertThat(c.get("deliveries").asInt()).isEqualTo(2);
      assertThat(c.get("result")).isEqualTo(Rest.json("{\"rotated\":2}"));
      assertThat(runs).hasValue(1);
    }
  }

  @Test
  void aProgramInAnotherLanguage_longPollsTheLocalApi_andPostsTheResult() throws Exception {
    try (EdgeAgent agent =
        EdgeAgent.open(
            Testbed.fastSync(
                AgentConfig.simple("dev-e", Testbed.syncUrl(relay.port()), dir.resolve("dev-e"))
                    .withLocalApiPort(0)))) {
      awaitConnected("dev-e");
      Rest local = new Rest(agent.localApiPort());
      assertThat(local.get("/v1/commands/next?waitMs=100").status()).isEqualTo(204);
      String id = queue("dev-e", "{\"name\":\"probe\",\"payload\":{\"n\":1}}");
      Rest.Reply next = local.get("/v1/commands/next?waitMs=10000");
      assertThat(next.status()).isEqualTo(200);
      JsonNode cmd = next.body();
      assertThat(cmd.get("id").asText()).isEqualTo(id);
      assertThat(cmd.get("payload")).isEqualTo(Rest.json("{\"n\":1}"));
      String result = "/v1/commands/" + id + "/result";
      assertThat(local.post(result, "{\"status\":\"done\"}").status()).isEqualTo(400);
      assertThat(
              local.post(result, "{\"status\":\"failed\",\"error\":\"sensor offline\"}").status())
          .isEqualTo(200);
      rest.awaitField("/api/v1/commands/" + id, "state", "failed");
      assertThat(command(id).get("error").asText()).isEqualTo("sensor offline");
      assertThat(local.post(result, "{\"status\":\"succeeded\"}").status()).isEqualTo(409);
    }
  }

  /** {@code handler}, counting its runs in {@code runs}. */
  private static CommandHandler counted(AtomicInteger runs, CommandHandler handler) {
    return (id, payload) -> {
      runs.incrementAndGet();
      return handler.handle(id, payload);
    };
  }

  /** Queues a command for {@code device} through the REST API; returns its id. */
  private String queue(String device, String json) {
    return rest.ok(rest.post("/api/v1/devices/" + device + "/commands", json)).get("id").asText();
  }

  /** The command as the REST API shows it. */
  private JsonNode command(String id) {
    return rest.ok(rest.get("/api/v1/commands/" + id));
  }
}
