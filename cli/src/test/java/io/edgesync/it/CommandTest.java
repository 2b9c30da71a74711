package io.edgesync.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.edgesync.agent.EdgeAgent;
import io.edgesync.cli.internal.TcpRelay;
import io.edgesync.protocol.Clock;
import io.edgesync.server.ServerConfig;
import io.edgesync.server.SyncServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Cloud → edge commands over real sockets: delivery, results, TTL, deduplication, long-poll. */
class CommandTest {
  @TempDir Path dir;
  private SyncServer server;
  private Rest rest;
  private TcpRelay relay;

  @BeforeEach
  void start() throws Exception {
    server = SyncServer.start(ServerConfig.defaults(dir.resolve("cloud")).withPort(0));
    rest = new Rest(server.port());
    relay = new TcpRelay(server.port());
  }

  @AfterEach
  void stop() {
    relay.close();
    server.close();
  }

  @Test
  void aCommandWhoseTtlExpiresWhileTheDeviceIsOffline_isNeverRun() throws Exception {
    AtomicInteger runs = new AtomicInteger();
    try (EdgeAgent agent = DocumentConflictTest.agent("dev-c", relay.port(), Clock.SYSTEM, dir);
        AutoCloseable h =
            agent
                .commands()
                .onCommand(
                    "reboot",
                    (id, payload) -> {
                      runs.incrementAndGet();
                      return null;
                    })) {
      await().atMost(Duration.ofSeconds(10)).until(() -> server.isConnected("dev-c"));
      relay.cut();
      await().atMost(Duration.ofSeconds(10)).until(() -> !server.isConnected("dev-c"));
      String id =
          rest.ok(
                  rest.post(
                      "/api/v1/devices/dev-c/commands", "{\"name\":\"reboot\",\"ttlSeconds\":1}"))
              .get("id")
              .asText();
      assertThat(rest.ok(rest.get("/api/v1/commands/" + id)).get("state").asText())
          .isEqualTo("queued");
      Thread.sleep(1_200);
      relay.heal();
      agent.syncNow();
      await().atMost(Duration.ofSeconds(10)).until(() -> server.isConnected("dev-c"));
      Thread.sleep(300);
      JsonNode c = rest.ok(rest.get("/api/v1/commands/" + id));
      assertThat(c.get("state").asText()).isEqualTo("expired");
      assertThat(c.get("deliveries").asInt()).isZero();
      assertThat(runs).hasValue(0);
      assertThat(agent.commands().state(id)).isNull();
    }
  }

  @Test
  void aCommandDeliveredTwice_runsOnce_andItsResultReachesTheCloud() throws Exception {
    AtomicInteger runs = new AtomicInteger();
    try (EdgeAgent agent = DocumentConflictTest.agent("dev-d", relay.port(), Clock.SYSTEM, dir);
        AutoCloseable h =
            agent
                .commands()
                .onCommand(
                    "rotate-key",
                    (id, payload) -> {
                      runs.incrementAndGet();
                      return JsonNodeFactory.instance
                          .objectNode()
                          .put("rotated", payload.get("slot").asInt());
                    })) {
      await().atMost(Duration.ofSeconds(10)).until(() -> server.isConnected("dev-d"));
      String id =
          rest.ok(
                  rest.post(
                      "/api/v1/devices/dev-d/commands",
                      "{\"name\":\"rotate-key\",\"payload\":{\"slot\":2},\"ttlSeconds\":600}"))
              .get("id")
              .asText();
      await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () ->
                  rest.ok(rest.get("/api/v1/commands/" + id))
                      .get("state")
                      .asText()
                      .equals("succeeded"));
      assertThat(rest.ok(rest.get("/api/v1/commands/" + id)).get("result"))
          .isEqualTo(Rest.json("{\"rotated\":2}"));

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
      await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () ->
                  rest.ok(rest.get("/api/v1/commands/" + id))
                      .get("state")
                      .asText()
                      .equals("succeeded"));
      JsonNode c = rest.ok(rest.get("/api/v1/commands/" + id));
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
                io.edgesync.agent.AgentConfig.simple(
                        "dev-e",
                        URI.create("ws://127.0.0.1:" + relay.port() + "/v1/sync"),
                        dir.resolve("dev-e"))
                    .withLocalApiPort(0)))) {
      await().atMost(Duration.ofSeconds(10)).until(() -> server.isConnected("dev-e"));
      HttpClient http = HttpClient.newHttpClient();
      String local = "http://127.0.0.1:" + agent.localApiPort();
      HttpResponse<String> empty =
          http.send(
              HttpRequest.newBuilder(URI.create(local + "/v1/commands/next?waitMs=100")).build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(empty.statusCode()).isEqualTo(204);
      String id =
          rest.ok(
                  rest.post(
                      "/api/v1/devices/dev-e/commands",
                      "{\"name\":\"probe\",\"payload\":{\"n\":1}}"))
              .get("id")
              .asText();
      HttpResponse<String> next =
          http.send(
              HttpRequest.newBuilder(URI.create(local + "/v1/commands/next?waitMs=10000")).build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(next.statusCode()).isEqualTo(200);
      JsonNode cmd = Rest.json(next.body());
      assertThat(cmd.get("id").asText()).isEqualTo(id);
      assertThat(cmd.get("payload")).isEqualTo(Rest.json("{\"n\":1}"));
      HttpResponse<String> bad =
          http.send(
              HttpRequest.newBuilder(URI.create(local + "/v1/commands/" + id + "/result"))
                  .POST(HttpRequest.BodyPublishers.ofString("{\"status\":\"done\"}"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(bad.statusCode()).isEqualTo(400);
      HttpResponse<String> done =
          http.send(
              HttpRequest.newBuilder(URI.create(local + "/v1/commands/" + id + "/result"))
                  .POST(
                      HttpRequest.BodyPublishers.ofString(
                          "{\"status\":\"failed\",\"error\":\"sensor offline\"}"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(done.statusCode()).isEqualTo(200);
      await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () ->
                  rest.ok(rest.get("/api/v1/commands/" + id))
                      .get("state")
                      .asText()
                      .equals("failed"));
      assertThat(rest.ok(rest.get("/api/v1/commands/" + id)).get("error").asText())
          .isEqualTo("sensor offline");
      HttpResponse<String> twice =
          http.send(
              HttpRequest.newBuilder(URI.create(local + "/v1/commands/" + id + "/result"))
                  .POST(HttpRequest.BodyPublishers.ofString("{\"status\":\"succeeded\"}"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(twice.statusCode()).isEqualTo(409);
    }
  }
}
