package io.edgesync.server.export;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.edgesync.protocol.Record;
import io.edgesync.server.SqliteCloudStore;
import io.edgesync.testing.FakeClock;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExportUnreachableTest {
  @TempDir Path dir;

  @Test
  void unreachableKafka_backsOffWithTheErrorShown_andLeavesTheStoreAsItWas() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort(); // closed again: nothing listens there
    }
    try (SqliteCloudStore store = new SqliteCloudStore(dir.resolve("cloud.db"))) {
      store.commitRecords("d", "s", List.of(new Record(1, 1, "x".getBytes(UTF_8))), 1);
      KafkaExportSettings settings =
          KafkaExportSettings.of("127.0.0.1:" + port, Map.of(), "t")
              .withProperties(Map.of("max.block.ms", "300"));
      try (KafkaExporter exporter = KafkaExporter.start(settings, store, new FakeClock(0))) {
        Awaitility.await()
            .atMost(Duration.ofSeconds(20))
            .until(() -> exporter.status().restarts() >= 2);
        KafkaExporter.Status s = exporter.status();
        assertThat(s.lastError()).contains("Timeout");
        assertThat(s.lagRecords()).as("positions unknown").isNull();
        assertThat(s.exportedRecords()).isZero();
      }
      assertThat(store.streamHeads())
          .containsExactly(new io.edgesync.engine.cloud.CloudStore.StreamHead("d", "s", 1));
      assertThat(store.read("d", "s", 0, 10)).hasSize(1);
    }
  }
}
