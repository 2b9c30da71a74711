package io.edgesync.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgesync.agent.EdgeAgent;
import io.edgesync.cli.internal.TcpRelay;
import io.edgesync.server.SyncServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CLI's views of a real agent and server: {@code status} as tables and as {@code --json},
 * {@code status --watch} redrawing a set number of frames, and {@code sync} waiting for an agent's
 * backlog to drain after an outage, with its progress bar.
 */
class CliLiveViewTest {
  @TempDir Path dir;
  private SyncServer server;
  private TcpRelay relay;
  private EdgeAgent agent;
  private String agentUrl;

  @BeforeEach
  void start() throws Exception {
    server = Testbed.startServer(dir, "");
    relay = new TcpRelay(server.port());
    agent = EdgeAgent.open(Testbed.reliableAgent("gw-cli", relay.port(), dir).withLocalApiPort(0));
    agentUrl = "http://127.0.0.1:" + agent.localApiPort();
    new Rest(agent.localApiPort())
        .ok(new Rest(agent.localApiPort()).post("/v1/streams/temp", "{\"t\":1}"));
    await().atMost(Duration.ofSeconds(20)).until(() -> acked() == 1);
  }

  @AfterEach
  void stop() throws Exception {
    Testbed.closeAll(agent, relay, server);
  }

  @Test
  void status_printsTables_andTheApisJsonWithJson() {
    String table = CliRun.stdout("status", "--agent", agentUrl);
    assertThat(table)
        .contains("device gw-cli  connected since")
        .contains("STREAM")
        .contains("temp");
    JsonNode json = Rest.json(CliRun.stdout("status", "--agent", agentUrl, "--json"));
    assertThat(json.get("deviceId").asText()).isEqualTo("gw-cli");

    String[] server = {
      "--server",
      "http://127.0.0.1:" + server().port(),
      "--data-dir",
      dir.resolve("cloud").toString()
    };
    String devices = CliRun.stdout(concat(new String[] {"status"}, server));
    assertThat(devices).contains("DEVICE").containsPattern("gw-cli +yes");
    String device = CliRun.stdout(concat(new String[] {"status", "--device", "gw-cli"}, server));
    assertThat(device).containsPattern("temp +1 +1 ");
    JsonNode list = Rest.json(CliRun.stdout(concat(new String[] {"status", "--json"}, server)));
    assertThat(list.get("devices").get(0).get("id").asText()).isEqualTo("gw-cli");
  }

  @Test
  void statusWatch_redrawsEveryInterval_forTheGivenIterations() {
    long t0 = System.nanoTime();
    String out =
        CliRun.stdout(
            "status", "--agent", agentUrl, "--watch", "--interval-ms", "200", "--iterations", "3");
    long tookMs = (System.nanoTime() - t0) / 1_000_000;
    assertThat(out.split("(?m)^--- ", -1)).as(out).hasSize(4); // three frames, each after a header
    assertThat(out.split("device gw-cli", -1)).hasSize(4);
    assertThat(tookMs).as("two intervals between three frames").isGreaterThanOrEqualTo(400);
    String json =
        CliRun.stdout(
            "status",
            "--agent",
            agentUrl,
            "--watch",
            "--json",
            "--interval-ms",
            "100",
            "--iterations",
            "2");
    assertThat(json.lines())
        .hasSize(2)
        .allSatisfy(l -> assertThat(Rest.json(l).has("streams")).isTrue());
    assertThat(CliRun.exit(2, "status", "--agent", agentUrl, "--watch", "--interval-ms", "5"))
        .contains("--interval-ms must be at least 100, was 5");
  }

  @Test
  void sync_waitsForTheBacklogToDrainAfterAnOutage_drawingItsProgress() throws Exception {
    relay.cut();
    StringBuilder ndjson = new StringBuilder();
    for (int i = 0; i < 500; i++) {
      ndjson.append("{\"t\":").append(i).append("}\n");
    }
    new Rest(agent.localApiPort())
        .ok(new Rest(agent.localApiPort()).post("/v1/streams/temp", ndjson.toString()));
    CompletableFuture<Void> heal =
        CompletableFuture.runAsync(
            () -> {
              try {
                Thread.sleep(500);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
              relay.heal();
            });
    String out = CliRun.exit(0, "sync", "--agent", agentUrl, "--progress", "--interval-ms", "100");
    heal.join();
    assertThat(acked()).isEqualTo(501);
    assertThat(out).contains("/ 500 records").contains("500 / 500 records 100%");
    assertThat(out).contains("backlog sent: 500 records acknowledged in");
  }

  @Test
  void sync_givesUpAfterItsTimeout_namingWhatIsStillQueued() {
    relay.cut();
    new Rest(agent.localApiPort())
        .ok(new Rest(agent.localApiPort()).post("/v1/streams/temp", "{\"t\":2}"));
    String out =
        CliRun.exit(1, "sync", "--agent", agentUrl, "--timeout-ms", "300", "--interval-ms", "100");
    assertThat(out).contains("1 records still queued after");
  }

  private SyncServer server() {
    return server;
  }

  private long acked() {
    return agent.status().streams().stream()
        .filter(s -> s.name().equals("temp"))
        .mapToLong(s -> s.ackedSequence())
        .findFirst()
        .orElse(0);
  }

  private static String[] concat(String[] a, String[] b) {
    String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, all, a.length, b.length);
    return all;
  }
}
