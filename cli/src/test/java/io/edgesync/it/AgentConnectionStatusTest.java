package io.edgesync.it;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgesync.agent.AgentConfig;
import io.edgesync.agent.EdgeAgent;
import io.edgesync.server.SyncServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Regression test (issue 10, item 3): the agent's {@code GET /v1/status} kept {@code lastError:
 * "cannot connect … ClosedChannelException"} after the connection succeeded and called a connected,
 * quiet agent {@code IDLE} under the name {@code connection}. A real agent starts while its server
 * is down, then a real server comes up on that port (WebSocket over a socket; status read over the
 * local API's socket).
 */
class AgentConnectionStatusTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration WAIT = Duration.ofSeconds(15);

  @TempDir Path dir;
  private SyncServer server;

  @AfterEach
  void stopServer() {
    if (server != null) {
      server.close();
    }
  }

  @Test
  void serverDownAtStartThenUp_statusSaysConnectedSince_andTheConnectErrorIsPast()
      throws Exception {
    int port = Testbed.freePort();
    URI url = Testbed.syncUrl(port);
    Instant started = Instant.now();
    AgentConfig config =
        Testbed.fastSync(AgentConfig.simple("dev-conn", url, dir.resolve("edge")))
            .withLocalApiPort(0);
    try (EdgeAgent agent = EdgeAgent.open(config)) {
      await().atMost(WAIT).until(() -> !status(agent).get("lastError").isNull());
      JsonNode down = status(agent);
      assertThat(down.get("connection").get("state").asText()).isIn("disconnected", "connecting");
      assertThat(down.get("connection").get("server").asText()).isEqualTo(url.toString());
      assertThat(instant(down.get("connection"), "since"))
          .as("never connected: since the agent started")
          .isBetween(started.minusSeconds(1), Instant.now());
      assertThat(down.get("lastError").get("message").asText())
          .startsWith("cannot connect to " + url);
      assertThat(down.get("lastError").get("past").asBoolean()).isFalse();
      Instant firstErrorAt = instant(down.get("lastError"), "at");

      Instant serverStarting = Instant.now();
      server = SyncServer.start(Testbed.serverConfig(dir, port));
      await()
          .atMost(WAIT)
          .until(() -> status(agent).get("connection").get("state").asText().equals("connected"));
      await().atMost(WAIT).until(() -> status(agent).get("activity").asText().equals("IDLE"));
      JsonNode up = status(agent);

      Instant since = instant(up.get("connection"), "since");
      assertThat(since).isBetween(serverStarting, Instant.now());
      JsonNode error = up.get("lastError");
      assertThat(error.get("message").asText()).startsWith("cannot connect to " + url);
      assertThat(error.get("past").asBoolean()).as("a session was established after it").isTrue();
      assertThat(instant(error, "at")).isBetween(firstErrorAt, since);
      assertThat(agent.status().connection().state()).isEqualTo("connected");
      assertThat(agent.status().lastError().past()).isTrue();

      server.close(); // the session ends: its error is current again, since when it was lost
      await()
          .atMost(WAIT)
          .until(() -> !status(agent).get("connection").get("state").asText().equals("connected"));
      JsonNode lost = status(agent);
      assertThat(lost.get("lastError").get("past").asBoolean()).isFalse();
      assertThat(instant(lost.get("lastError"), "at")).isAfterOrEqualTo(since);
      assertThat(instant(lost.get("connection"), "since")).isAfterOrEqualTo(since);
    }
  }

  private static Instant instant(JsonNode node, String field) {
    return Instant.parse(node.get(field).asText());
  }

  private static JsonNode status(EdgeAgent agent) throws Exception {
    HttpResponse<String> r =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + agent.localApiPort() + "/v1/status"))
                    .timeout(Duration.ofSeconds(10))
                    .build(),
                HttpResponse.BodyHandlers.ofString(UTF_8));
    assertThat(r.statusCode()).isEqualTo(200);
    return JSON.readTree(r.body());
  }
}
