package io.edgesync.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgesync.agent.Document;
import io.edgesync.agent.EdgeAgent;
import io.edgesync.engine.docs.DocumentStore;
import io.edgesync.protocol.Clock;
import io.edgesync.protocol.Hlc;
import io.edgesync.server.SyncServer;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Device documents over real sockets: pushes, catch-up from the checkpoint, deletes, clock skew,
 * bad input.
 */
class DocumentSyncTest extends RelayedServerTest {
  @Override
  SyncServer startServer() {
    return Testbed.startServer(
        dir,
        "documents:\n"
            + "  max_document_bytes: 4096\n"
            + "  collections:\n"
            + "    lww: {strategy: last_write_wins}\n");
  }

  @Test
  void cloudWritesArePushedAtOnce_andAnOfflineDeviceCatchesUpFromItsCheckpointNotFromZero()
      throws Exception {
    try (EdgeAgent agent = Testbed.documentAgent("dev-1", relay.port(), Clock.SYSTEM, dir)) {
      awaitConnected("dev-1");
      java.util.concurrent.atomic.AtomicInteger watched =
          new java.util.concurrent.atomic.AtomicInteger();
      AutoCloseable watch =
          agent.documents().watch("device", "lww", d -> watched.incrementAndGet());
      for (int i = 0; i < 50; i++) {
        rest.ok(rest.put("/api/v1/devices/dev-1/docs/lww/k" + i, "{\"i\":" + i + "}"));
      }
      // Connected: pushed as written.
      await()
          .atMost(Duration.ofSeconds(5))
          .until(() -> agent.documents().list("device", "lww", "", 100).size() == 50);
      long pushedBefore = server.docUpdatesSent();
      await().atMost(Duration.ofSeconds(5)).until(() -> watched.get() == 50);
      watch.close();
      // The cloud lists in pages.
      JsonNode page1 = rest.ok(rest.get("/api/v1/devices/dev-1/docs/lww?limit=30"));
      assertThat(page1.get("documents")).hasSize(30);
      JsonNode page2 =
          rest.ok(
              rest.get(
                  "/api/v1/devices/dev-1/docs/lww?limit=30&after="
                      + page1.get("nextAfter").asText()));
      assertThat(page2.get("documents")).hasSize(20);
      assertThat(page2.get("nextAfter").isNull()).isTrue();

      relay.cut();
      rest.ok(rest.put("/api/v1/devices/dev-1/docs/lww/k1", "{\"i\":\"changed\"}"));
      rest.ok(rest.delete("/api/v1/devices/dev-1/docs/lww/k2"));
      rest.ok(rest.put("/api/v1/devices/dev-1/docs/lww/new", "{\"fresh\":true}"));
      Thread.sleep(100);
      assertThat(agent.documents().get("lww", "k1").orElseThrow().value())
          .isEqualTo(Rest.json("{\"i\":1}"));
      relay.heal();
      agent.syncNow();
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> agent.documents().get("lww", "new").isPresent());
      assertThat(agent.documents().get("lww", "k1").orElseThrow().value())
          .isEqualTo(Rest.json("{\"i\":\"changed\"}"));
      assertThat(agent.documents().get("lww", "k2")).isEmpty();
      // Only the three versions written while offline travelled, not the 50 from before.
      assertThat(server.docUpdatesSent() - pushedBefore).isEqualTo(3);
      for (Document d : agent.documents().list("device", "lww", "", 100)) {
        JsonNode cloud = rest.ok(rest.get("/api/v1/devices/dev-1/docs/lww/" + d.key()));
        assertThat(d.version()).isEqualTo(cloud.get("version").asLong());
        assertThat(d.value()).isEqualTo(cloud.get("value"));
      }

      // The tombstone of k2 is collected once the device has told (in its next Hello) that it
      // saw it.
      assertThat(tombstones("device:dev-1")).containsExactly("k2");
      relay.cut();
      relay.heal();
      agent.syncNow();
      await().atMost(Duration.ofSeconds(10)).until(() -> tombstones("device:dev-1").isEmpty());
    }
  }

  @Test
  void deviceEditsSyncUp_andDeletesAreTombstonesThatReachTheCloud() {
    try (EdgeAgent agent = Testbed.documentAgent("dev-2", relay.port(), Clock.SYSTEM, dir)) {
      agent.documents().put("lww", "settings", "{\"mode\":\"eco\",\"level\":3}");
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> rest.get("/api/v1/devices/dev-2/docs/lww/settings").status() == 200);
      JsonNode cloud = rest.ok(rest.get("/api/v1/devices/dev-2/docs/lww/settings"));
      assertThat(cloud.get("value")).isEqualTo(Rest.json("{\"mode\":\"eco\",\"level\":3}"));
      assertThat(cloud.get("writer").asText()).isEqualTo("dev-2");
      // A second edit travels as a merge patch against the first (delta_sync is on by default),
      // once the device holds the first's acknowledgement: before it, there is no base to patch.
      await().atMost(Duration.ofSeconds(10)).until(() -> agent.documents().pendingCount() == 0);
      agent.documents().put("lww", "settings", "{\"mode\":\"eco\",\"level\":4}");
      rest.awaitField(
          "/api/v1/devices/dev-2/docs/lww/settings",
          "value",
          Rest.json("{\"mode\":\"eco\",\"level\":4}"));
      assertThat(server.documents().patchesApplied()).isEqualTo(1);
      assertThat(agent.documents().delete("lww", "settings")).isTrue();
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> rest.get("/api/v1/devices/dev-2/docs/lww/settings").status() == 404);
      assertThat(agent.documents().get("lww", "settings")).isEmpty();
      await().atMost(Duration.ofSeconds(10)).until(() -> agent.documents().pendingCount() == 0);
    }
  }

  @Test
  void aDeviceAnHourBehind_ordersItsEditAfterTheCloudVersionItSaw() {
    Clock hourBehind = () -> System.currentTimeMillis() - 3_600_000;
    try (EdgeAgent agent = Testbed.documentAgent("dev-skew", relay.port(), hourBehind, dir)) {
      awaitConnected("dev-skew");
      JsonNode v1 = rest.ok(rest.put("/api/v1/devices/dev-skew/docs/lww/cfg", "{\"x\":1}"));
      Hlc cloudHlc = Hlc.parse(v1.get("hlc").asText());
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> agent.documents().get("lww", "cfg").isPresent());
      Document edit = agent.documents().put("lww", "cfg", Rest.json("{\"x\":2}"));
      // The device's wall clock says an hour earlier; its HLC still sorts after what it saw.
      assertThat(hourBehind.nowMs()).isLessThan(cloudHlc.wallMs());
      assertThat(edit.hlc()).isGreaterThan(cloudHlc);
      rest.awaitField("/api/v1/devices/dev-skew/docs/lww/cfg", "value", Rest.json("{\"x\":2}"));
      JsonNode v2 = rest.ok(rest.get("/api/v1/devices/dev-skew/docs/lww/cfg"));
      assertThat(Hlc.parse(v2.get("hlc").asText())).isGreaterThan(cloudHlc);
      assertThat(v2.get("version").asLong()).isGreaterThan(v1.get("version").asLong());
    }
  }

  @Test
  void badDocumentInput_getsAClearError_andStoresNothing() throws Exception {
    try (EdgeAgent agent = Testbed.documentAgent("dev-3", relay.port(), Clock.SYSTEM, dir)) {
      awaitConnected("dev-3");
      rest.ok(rest.put("/api/v1/devices/dev-3/docs/lww/a", "{\"ok\":1}"));
      List<DocumentStore.StoredDoc> before =
          server.documents().store().changesAfter("device:dev-3", 0, 100);

      Rest.assertError(
          rest.put("/api/v1/devices/dev-3/docs/lww/a", "{\"ok\": tru"), 400, "not valid JSON");
      Rest.assertError(
          rest.put("/api/v1/devices/dev-3/docs/nope/a", "{}"), 404, "unknown collection 'nope'");
      Rest.assertError(
          rest.put("/api/v1/devices/dev-3/docs/lww/a", "{\"x\":\"" + "y".repeat(5000) + "\"}"),
          413,
          "limit is 4096");
      Rest.Reply badKey = rest.put("/api/v1/devices/dev-3/docs/lww/-bad", "{}");
      assertThat(badKey.status()).isEqualTo(400);
      assertThat(rest.put("/api/v1/devices/nobody/docs/lww/a", "{}").status()).isEqualTo(404);
      Rest.Reply stale = rest.put("/api/v1/devices/dev-3/docs/lww/a", "{}");
      assertThat(stale.status()).isEqualTo(200);
      before = server.documents().store().changesAfter("device:dev-3", 0, 100);
      Rest.assertError(
          rest.post(
              "/api/v1/devices/dev-3/commands", "{\"name\":\"reboot\",\"ttlSeconds\":\"soon\"}"),
          400,
          "ttlSeconds");
      assertThat(rest.post("/api/v1/devices/dev-3/commands", "{\"name\":42}").status())
          .isEqualTo(400);
      assertThat(rest.post("/api/v1/conflicts/1/resolve", "{\"take\":\"both\"}").status())
          .isIn(400, 404);
      assertThat(rest.get("/api/v1/conflicts?status=maybe").status()).isEqualTo(400);
      assertThat(server.documents().store().changesAfter("device:dev-3", 0, 100))
          .usingRecursiveComparison()
          .isEqualTo(before);
      assertThat(rest.ok(rest.get("/api/v1/devices/dev-3/commands")).get("commands")).isEmpty();

      // On the device: the same refusals, nothing written locally.
      assertThatThrownBy(() -> agent.documents().put("nope", "a", "{}"))
          .hasMessageContaining("unknown collection 'nope'");
      assertThatThrownBy(() -> agent.documents().put("lww", "a", "{\"x\": }"))
          .hasMessageContaining("not valid JSON");
      assertThatThrownBy(
              () -> agent.documents().put("lww", "a", "{\"x\":\"" + "y".repeat(300_000) + "\"}"))
          .hasMessageContaining("the limit is");
      assertThat(agent.documents().pendingCount()).isZero();
    }
  }

  private List<String> tombstones(String scope) {
    return server.documents().store().changesAfter(scope, 0, 1000).stream()
        .filter(DocumentStore.StoredDoc::deleted)
        .map(DocumentStore.StoredDoc::key)
        .toList();
  }
}
