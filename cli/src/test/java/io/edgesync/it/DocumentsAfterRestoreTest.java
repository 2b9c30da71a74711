package io.edgesync.it;

import static org.awaitility.Awaitility.await;

import io.edgesync.agent.EdgeAgent;
import io.edgesync.protocol.Clock;
import io.edgesync.server.ServerConfig;
import io.edgesync.server.SyncServer;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Documents of a device that saw versions newer than the backup the cloud was restored from. */
class DocumentsAfterRestoreTest {
  @TempDir Path dir;

  private static ServerConfig config(int port, Path data) {
    return ServerConfig.fromYaml(
        "server: {host: 127.0.0.1, port: "
            + port
            + ", data_dir: \""
            + data
            + "\"}\n"
            + "documents: {collections: {lww: {strategy: last_write_wins}}}\n");
  }

  @Test
  void cloudWritesAfterARestore_reachADeviceThatSawVersionsTheLostStoreWroteAfterTheBackup()
      throws Exception {
    int port = Testbed.freePort();
    Path cloud = dir.resolve("cloud");
    Path backup = dir.resolve("backup");
    Path restored = dir.resolve("restored");
    SyncServer server = SyncServer.start(config(port, cloud));
    try (EdgeAgent agent = Testbed.documentAgent("dev-d", port, Clock.SYSTEM, dir)) {
      Rest rest = new Rest(server);
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> rest.get("/api/v1/devices/dev-d").status() == 200);
      rest.ok(rest.put("/api/v1/devices/dev-d/docs/lww/a", "{\"v\":1}"));
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> agent.documents().get("lww", "a").isPresent());
      CliRun.stdout("server", "backup", "--data-dir", cloud.toString(), "--to", backup.toString());
      for (int i = 2; i <= 5; i++) {
        rest.ok(rest.put("/api/v1/devices/dev-d/docs/lww/a", "{\"v\":" + i + "}"));
      }
      rest.ok(rest.put("/api/v1/devices/dev-d/docs/lww/b", "{\"v\":1}"));
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> agent.documents().get("lww", "b").isPresent());
      server.close();

      CliRun.stdout(
          "server", "restore", "--from", backup.toString(), "--data-dir", restored.toString());
      server = SyncServer.start(config(port, restored));
      Rest after = Rest.admin(port, restored);
      // Regression: numbered on from the snapshot, these versions fell at or below the device's
      // cursor and never reached it.
      after.ok(after.put("/api/v1/devices/dev-d/docs/lww/c", "{\"v\":1}"));
      after.ok(after.put("/api/v1/devices/dev-d/docs/lww/a", "{\"v\":\"after\"}"));
      await()
          .atMost(Duration.ofSeconds(15))
          .until(() -> agent.documents().get("lww", "c").isPresent());
      await()
          .atMost(Duration.ofSeconds(15))
          .until(
              () ->
                  agent
                      .documents()
                      .get("lww", "a")
                      .orElseThrow()
                      .value()
                      .equals(Rest.json("{\"v\":\"after\"}")));
      // A device edit after the restore reaches the cloud too.
      agent.documents().put("lww", "d", "{\"from\":\"device\"}");
      await()
          .atMost(Duration.ofSeconds(15))
          .until(() -> after.get("/api/v1/devices/dev-d/docs/lww/d").status() == 200);
    } finally {
      server.close();
    }
  }
}
