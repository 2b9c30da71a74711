package io.edgesync.it;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.edgesync.agent.AgentConfig;
import io.edgesync.agent.AppendResult;
import io.edgesync.agent.EdgeAgent;
import io.edgesync.agent.OperationStatus;
import io.edgesync.protocol.Record;
import io.edgesync.server.ServerConfig;
import io.edgesync.server.SyncServer;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A real server and a real agent over loopback WebSocket, real SQLite files on both ends. */
class LoopbackSyncTest {
  @TempDir Path dir;

  @Test
  void appendedRecordsReachTheCloudInOrder_andOperationsBecomeSynced() {
    try (SyncServer server =
            SyncServer.start(ServerConfig.defaults(dir.resolve("cloud")).withPort(0));
        EdgeAgent agent =
            EdgeAgent.open(
                Testbed.fastSync(
                    AgentConfig.simple(
                        "dev-1", URI.create(server.syncUrl()), dir.resolve("edge"))))) {
      AppendResult last = null;
      for (int i = 1; i <= 500; i++) {
        last = agent.append("sensor_data", ("{\"i\":" + i + "}").getBytes(UTF_8));
      }
      assertThat(last.lastSequence()).isEqualTo(500);
      String opId = last.operationId();
      await()
          .atMost(Duration.ofSeconds(20))
          .until(() -> agent.operationStatus(opId).state() == OperationStatus.State.SYNCED);
      List<Record> stored = server.store().read("dev-1", "sensor_data", 0, 1000);
      assertThat(stored).hasSize(500);
      for (int i = 0; i < 500; i++) {
        assertThat(stored.get(i).sequence()).isEqualTo(i + 1);
        assertThat(new String(stored.get(i).payload(), UTF_8)).isEqualTo("{\"i\":" + (i + 1) + "}");
      }
      assertThat(agent.metrics().synced()).isEqualTo(500);
      assertThat(agent.metrics().pending()).isZero();
    }
  }
}
