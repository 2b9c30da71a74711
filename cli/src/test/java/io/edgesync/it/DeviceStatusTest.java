package io.edgesync.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgesync.agent.AgentConfig;
import io.edgesync.agent.EdgeAgent;
import io.edgesync.server.SyncServer;
import io.edgesync.testing.FaultProxy;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fleet health without polling devices, over a real socket: a real agent reports its status over
 * its session (every 3 s here), and the real server shows it in {@code GET /api/v1/devices}, in
 * {@code GET /api/v1/kpis} and in its metrics. Records appended while the link is down show as the
 * device's backlog and as outage data in the report of the next session, then drain; a fleet
 * document written during the outage makes the device inconsistent until it has it, and a document
 * both sides edited during it counts as a conflict. An agent that reports nothing (status off, as
 * an older agent) shows {@code "reported": null}.
 */
class DeviceStatusTest {
  private static final String DEVICE = "dev-st";
  private static final String SILENT = "dev-old";
  private static final String STREAM = "temp";
  private static final int OUTAGE_RECORDS = 50;

  @TempDir Path dir;
  private SyncServer server;
  private FaultProxy proxy;
  private EdgeAgent agent;
  private EdgeAgent silent;

  @AfterEach
  void stop() throws Exception {
    Testbed.closeAll(agent, silent, proxy, server);
  }

  private AgentConfig config(String id, int port, long statusIntervalMs) {
    AgentConfig c =
        AgentConfig.fromYaml(
            "device: {id: \""
                + id
                + "\"}\n"
                + "server: {url: \""
                + Testbed.syncUrl(port)
                + "\"}\n"
                + "local_api: {port: -1}\n"
                + "sync: {offline: {local_storage_path: \""
                + dir.resolve(id)
                + "\"}}\n"
                + "documents: {collections: [config]}\n"
                + "tuning: {status_interval_ms: "
                + statusIntervalMs
                + "}\n");
    return Testbed.neverDrop(Testbed.fastSync(c));
  }

  @Test
  void recordsAppendedOffline_showAsReportedBacklogAndOutageData_thenDrain_andTheKpisFollow()
      throws Exception {
    server = Testbed.startServer(dir, "");
    Rest rest = new Rest(server);
    proxy = FaultProxy.start("127.0.0.1", server.port(), 5);
    agent = EdgeAgent.open(config(DEVICE, proxy.port(), 3_000));
    silent = EdgeAgent.open(config(SILENT, server.port(), 0));
    for (int i = 0; i < 10; i++) {
      agent.append(STREAM, ("{\"t\":" + i + "}").getBytes(StandardCharsets.UTF_8));
    }
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () -> {
              JsonNode r = reported(rest, DEVICE);
              return r != null
                  && r.get("backlogRecords").asLong() == 0
                  && stream(rest).path("acknowledged").asLong() == 10;
            });
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> device(rest, SILENT).get("connected").asBoolean());
    assertThat(device(rest, SILENT).get("reported").isNull())
        .as("an agent that reports nothing")
        .isTrue();
    agent.documents().put("config", "k", "{\"v\":1}");
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () -> {
              JsonNode k = rest.ok(rest.get("/api/v1/kpis?device=" + DEVICE));
              return k.get("docChanges").asLong() == 1 && k.get("consistency").asDouble() == 1.0;
            });
    JsonNode before = rest.ok(rest.get("/api/v1/kpis?device=" + DEVICE));
    assertThat(before.get("conflictRate").asDouble()).isZero();
    assertThat(before.get("consistency").asDouble()).isEqualTo(1.0);
    assertThat(before.get("outageDataKept").asDouble()).isEqualTo(1.0);
    long outageBefore = before.get("outageRecords").asLong();

    proxy.partition(600_000);
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> !agent.status().activity().matches("IDLE|BUSY"));
    List<byte[]> offline = new ArrayList<>();
    for (int i = 0; i < OUTAGE_RECORDS; i++) {
      offline.add(("{\"offline\":" + i + "}").getBytes(StandardCharsets.UTF_8));
    }
    agent.appendAll(STREAM, offline);
    rest.ok(rest.put("/api/v1/fleet/docs/config/mode", "{\"m\":\"eco\"}"));
    // Both sides edit the device's document during the outage: a conflict when it reconnects.
    rest.ok(rest.put("/api/v1/devices/" + DEVICE + "/docs/config/k", "{\"v\":\"cloud\"}"));
    agent.documents().put("config", "k", "{\"v\":\"edge\"}");
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> rest.ok(rest.get("/api/v1/kpis")).get("consistency").asDouble() == 0.0);
    assertThat(reported(rest, DEVICE).get("backlogRecords").asLong())
        .as("the cloud cannot know yet")
        .isZero();

    long healedAt = System.currentTimeMillis();
    proxy.heal();
    AtomicReference<JsonNode> seen = new AtomicReference<>();
    await()
        .atMost(Duration.ofSeconds(20))
        .pollInterval(Duration.ofMillis(25))
        .until(
            () -> {
              JsonNode r = reported(rest, DEVICE);
              seen.set(r);
              return r != null && r.get("backlogRecords").asLong() == OUTAGE_RECORDS;
            });
    assertThat(seen.get().get("outageRecords").asLong() - outageBefore).isEqualTo(OUTAGE_RECORDS);
    assertThat(seen.get().get("offlineMs").asLong()).isPositive();
    assertThat(seen.get().get("oldestUnsentAgeMs").asLong()).isPositive();

    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () -> {
              JsonNode r = reported(rest, DEVICE);
              return r.get("backlogRecords").asLong() == 0
                  && r.get("lastSyncAtMs").asLong() >= healedAt - 1_000
                  && rest.ok(rest.get("/api/v1/kpis")).get("consistency").asDouble() == 1.0;
            });
    JsonNode s = stream(rest);
    assertThat(s.get("appended").asLong()).isEqualTo(10 + OUTAGE_RECORDS);
    assertThat(s.get("acknowledged").asLong()).isEqualTo(10 + OUTAGE_RECORDS);
    assertThat(s.get("queued").asLong()).isZero();
    assertThat(s.get("oldestUnsentAgeMs").asLong()).isZero();

    JsonNode kpi = rest.ok(rest.get("/api/v1/kpis?device=" + DEVICE));
    assertThat(kpi.get("scope").asText()).isEqualTo("device");
    assertThat(kpi.get("outageDataKept").asDouble()).as("nothing dropped").isEqualTo(1.0);
    assertThat(kpi.get("outageRecords").asLong() - outageBefore).isEqualTo(OUTAGE_RECORDS);
    assertThat(kpi.get("batchesAcked").asLong()).isPositive();
    assertThat(kpi.get("syncSuccessRate").asDouble()).isBetween(0.0, 1.0).isPositive();
    assertThat(kpi.get("bandwidthReduction").asDouble()).isBetween(0.0, 1.0);
    assertThat(kpi.get("docChanges").asLong()).isEqualTo(2);
    assertThat(kpi.get("conflicts").asLong()).isEqualTo(1);
    assertThat(kpi.get("conflictRate").asDouble()).isEqualTo(0.5);
    JsonNode fleet = rest.ok(rest.get("/api/v1/kpis"));
    assertThat(fleet.get("scope").asText()).isEqualTo("fleet");
    assertThat(fleet.get("devices").asInt()).isEqualTo(2);
    assertThat(fleet.get("devicesReporting").asInt()).isEqualTo(1);

    String metrics = rest.getText("/api/v1/metrics").body();
    assertThat(metrics)
        .contains("edgesync_device_backlog_records{device=\"" + DEVICE + "\"} 0.0")
        .contains("edgesync_fleet_devices_reporting 1.0")
        .contains("edgesync_kpi_consistency_ratio 1.0")
        .contains("edgesync_kpi_outage_data_kept_ratio 1.0")
        .doesNotContain("device=\"" + SILENT + "\"");

    // The device comes back with an agent that does not report: its old view is dropped, not
    // shown (and extrapolated by the alert rules) for ever.
    agent.close();
    agent = EdgeAgent.open(config(DEVICE, server.port(), 0));
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                device(rest, DEVICE).get("connected").asBoolean()
                    && device(rest, DEVICE).get("reported").isNull());
  }

  @Test
  void kpiQueries_thatNameNothing_orTooMuch_areRefusedByName() throws Exception {
    server = Testbed.startServer(dir, "");
    Rest rest = new Rest(server);
    Rest.assertError(rest.get("/api/v1/kpis?device=nope"), 404, "unknown device 'nope'");
    Rest.assertError(rest.get("/api/v1/kpis?group=nobody"), 404, "no device is in group 'nobody'");
    Rest.assertError(rest.get("/api/v1/kpis?group=a%20b"), 400, "invalid group name 'a b'");
    Rest.assertError(rest.get("/api/v1/kpis?group=g&device=d"), 400, "not both");
    JsonNode empty = rest.ok(rest.get("/api/v1/kpis"));
    assertThat(empty.get("devices").asInt()).isZero();
    assertThat(empty.get("syncSuccessRate").asDouble()).isEqualTo(1.0);
  }

  private static JsonNode device(Rest rest, String id) {
    return rest.ok(rest.get("/api/v1/devices/" + id));
  }

  /** The device's {@code reported} object in the device list, or null. */
  private static JsonNode reported(Rest rest, String id) {
    for (JsonNode d : rest.ok(rest.get("/api/v1/devices")).get("devices")) {
      if (d.get("id").asText().equals(id)) {
        JsonNode r = d.get("reported");
        return r == null || r.isNull() ? null : r;
      }
    }
    return null;
  }

  private static JsonNode stream(Rest rest) {
    for (JsonNode s : device(rest, DEVICE).path("reportedStreams")) {
      if (s.get("stream").asText().equals(STREAM)) {
        return s;
      }
    }
    return com.fasterxml.jackson.databind.node.MissingNode.getInstance();
  }
}
