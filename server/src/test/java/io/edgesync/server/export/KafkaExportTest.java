package io.edgesync.server.export;

import static io.edgesync.server.export.CommittedReader.header;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.edgesync.protocol.Record;
import io.edgesync.protocol.wire.GapReason;
import io.edgesync.server.ServerConfig;
import io.edgesync.server.SqliteCloudStore;
import io.edgesync.server.SyncServer;
import io.edgesync.testing.FakeClock;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The exporter against a real in-JVM broker: mapping, keys, order, headers, gaps, lag. */
class KafkaExportTest {
  private static KafkaBroker broker;

  @TempDir Path dir;

  @BeforeAll
  static void startBroker() throws Exception {
    broker = KafkaBroker.start();
    CommittedReader.createTopics(
        broker.bootstrapServers(), Map.of("telemetry", 3, "logs", 1, "rest", 1));
  }

  @AfterAll
  static void stopBroker() throws Exception {
    broker.close();
  }

  private static List<Record> records(String tag, long first, int count, long originMs) {
    List<Record> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      long seq = first + i;
      out.add(new Record(seq, originMs + seq, (tag + "#" + seq).getBytes(UTF_8)));
    }
    return out;
  }

  @Test
  void recordsGoToTheirMappedTopic_keyedByDevice_inOrder_withHeaders_gapsSkipped()
      throws Exception {
    FakeClock clock = new FakeClock(5_000);
    try (SqliteCloudStore store = new SqliteCloudStore(dir.resolve("cloud.db"))) {
      store.commitRecords("dev-a", "sensors.temp", records("a/t", 1, 30, 100), 1_111);
      store.commitRecords("dev-b", "sensors.temp", records("b/t", 1, 20, 200), 2_222);
      // A gap at the end: no record will ever fill 21..25, yet the lag must come down to 0.
      store.commitGap("dev-b", "sensors.temp", 21, 25, GapReason.GAP_REASON_QUEUE_FULL, 1, 2_223);
      store.commitRecords("dev-a", "logs", records("a/l", 1, 5, 300), 3_333);
      store.commitGap("dev-a", "logs", 6, 9, GapReason.GAP_REASON_EXPIRED, 1, 3_334);
      store.commitRecords("dev-a", "logs", records("a/l", 10, 3, 300), 3_335);
      store.commitRecords("dev-a", "other", records("a/o", 1, 4, 400), 4_444); // not mapped
      KafkaExportSettings settings =
          KafkaExportSettings.of(
                  broker.bootstrapServers(),
                  orderedMap("sensors.*", "telemetry", "logs", "logs"),
                  null)
              .withTransactionalId("mapping-test")
              .withPositionsTopic("positions.mapping")
              .withBatch(7, 20); // several transactions
      try (KafkaExporter exporter = KafkaExporter.start(settings, store, clock)) {
        Awaitility.await()
            .atMost(Duration.ofSeconds(30))
            .until(() -> Long.valueOf(0).equals(exporter.status().lagRecords()));
        KafkaExporter.Status status = exporter.status();
        assertThat(status.exportedRecords()).isEqualTo(30 + 20 + 5 + 3);
        assertThat(status.state()).isEqualTo(KafkaExporter.State.EXPORTING);
        assertThat(status.lastExportAtMs()).isEqualTo(5_000);
      }
      List<ConsumerRecord<byte[], byte[]>> seen;
      try (CommittedReader reader =
          new CommittedReader(broker.bootstrapServers(), List.of("telemetry", "logs"))) {
        seen = reader.pollUntil(s -> s.size() >= 58, Duration.ofSeconds(30));
        reader.pollUntil(s -> false, Duration.ofMillis(500)); // and nothing more
      }
      assertThat(seen)
          .extracting(r -> header(r, "device") + "/" + header(r, "stream"))
          .doesNotContain("dev-a/other")
          .hasSize(58);
      Map<String, List<ConsumerRecord<byte[], byte[]>>> byStream = new LinkedHashMap<>();
      Map<String, Set<Integer>> partitionsOfDevice = new HashMap<>();
      for (ConsumerRecord<byte[], byte[]> r : seen) {
        String device = header(r, "device");
        assertThat(new String(r.key(), UTF_8)).isEqualTo(device);
        byStream.computeIfAbsent(device + "/" + header(r, "stream"), k -> new ArrayList<>()).add(r);
        partitionsOfDevice
            .computeIfAbsent(r.topic() + "/" + device, k -> new java.util.HashSet<>())
            .add(r.partition());
      }
      assertThat(byStream.keySet())
          .containsExactlyInAnyOrder("dev-a/sensors.temp", "dev-b/sensors.temp", "dev-a/logs");
      assertThat(partitionsOfDevice.values()).allSatisfy(p -> assertThat(p).hasSize(1));
      assertStream(
          byStream.get("dev-a/sensors.temp"), "telemetry", "a/t", 100, 1_111, range(1, 30));
      assertStream(
          byStream.get("dev-b/sensors.temp"), "telemetry", "b/t", 200, 2_222, range(1, 20));
      List<Long> logSeqs = new ArrayList<>(range(1, 5));
      logSeqs.addAll(range(10, 12)); // 6..9 were a gap
      assertStream(byStream.get("dev-a/logs"), "logs", "a/l", 300, -1, logSeqs);
      assertThat(byStream.get("dev-a/logs").get(0).headers().lastHeader("receive_time_ms").value())
          .isEqualTo("3333".getBytes(UTF_8));
      assertThat(header(byStream.get("dev-a/logs").get(5), "receive_time_ms")).isEqualTo("3335");
    }
  }

  private static void assertStream(
      List<ConsumerRecord<byte[], byte[]>> got,
      String topic,
      String tag,
      long originBase,
      long receivedMs,
      List<Long> sequences) {
    assertThat(got).extracting(r -> Long.parseLong(header(r, "sequence"))).isEqualTo(sequences);
    for (ConsumerRecord<byte[], byte[]> r : got) {
      long seq = Long.parseLong(header(r, "sequence"));
      assertThat(r.topic()).isEqualTo(topic);
      assertThat(new String(r.value(), UTF_8)).isEqualTo(tag + "#" + seq);
      assertThat(header(r, "origin_time_ms")).isEqualTo(Long.toString(originBase + seq));
      if (receivedMs >= 0) {
        assertThat(header(r, "receive_time_ms")).isEqualTo(Long.toString(receivedMs));
      }
    }
  }

  @Test
  void unmappedStreams_goToTheDefaultTopic_andARestartedExporterResumesWithoutRepeats()
      throws Exception {
    FakeClock clock = new FakeClock(1);
    try (SqliteCloudStore store = new SqliteCloudStore(dir.resolve("cloud.db"))) {
      KafkaExportSettings settings =
          KafkaExportSettings.of(broker.bootstrapServers(), Map.of("logs", "logs"), "rest")
              .withTransactionalId("default-test")
              .withPositionsTopic("positions.default");
      store.commitRecords("dev-c", "misc", records("c/m", 1, 10, 0), 7);
      try (KafkaExporter exporter = KafkaExporter.start(settings, store, clock)) {
        Awaitility.await()
            .atMost(Duration.ofSeconds(30))
            .until(() -> Long.valueOf(0).equals(exporter.status().lagRecords()));
      }
      store.commitRecords("dev-c", "misc", records("c/m", 11, 5, 0), 8);
      try (KafkaExporter exporter = KafkaExporter.start(settings, store, clock)) {
        Awaitility.await()
            .atMost(Duration.ofSeconds(30))
            .until(() -> Long.valueOf(0).equals(exporter.status().lagRecords()));
        assertThat(exporter.status().exportedRecords()).as("only the new ones").isEqualTo(5);
      }
      try (CommittedReader reader =
          new CommittedReader(broker.bootstrapServers(), List.of("rest"))) {
        List<ConsumerRecord<byte[], byte[]>> seen =
            reader.pollUntil(s -> s.size() >= 15, Duration.ofSeconds(30));
        reader.pollUntil(s -> false, Duration.ofMillis(500));
        assertThat(seen)
            .extracting(r -> Long.parseLong(header(r, "sequence")))
            .isEqualTo(range(1, 15));
      }
    }
  }

  @Test
  void exportEndpoint_showsStateAndLag_withTheServersExporter() throws Exception {
    ServerConfig config =
        ServerConfig.defaults(dir.resolve("cloud"))
            .withAddress("127.0.0.1", 0)
            .withExport(
                KafkaExportSettings.of(broker.bootstrapServers(), Map.of(), "rest.api")
                    .withTransactionalId("api-test")
                    .withPositionsTopic("positions.api"));
    try (SyncServer server = SyncServer.start(config)) {
      String key = Files.readString(server.adminKeyFile()).trim();
      server.store().commitRecords("dev-r", "s", records("r/s", 1, 12, 0), 1);
      Awaitility.await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> getExport(server.port(), key).contains("\"lagRecords\":0"));
      String body = getExport(server.port(), key);
      assertThat(body)
          .contains("\"enabled\":true")
          .contains("\"state\":\"exporting\"")
          .contains("\"exportedRecords\":12");
    }
    try (SyncServer plain =
        SyncServer.start(ServerConfig.defaults(dir.resolve("plain")).withAddress("127.0.0.1", 0))) {
      String key = Files.readString(plain.adminKeyFile()).trim();
      assertThat(getExport(plain.port(), key)).isEqualTo("{\"enabled\":false}");
    }
  }

  private static String getExport(int port, String key) throws Exception {
    HttpResponse<String> r =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/v1/export"))
                    .header("Authorization", "Bearer " + key)
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    return r.body();
  }

  private static List<Long> range(long first, long last) {
    List<Long> out = new ArrayList<>();
    for (long s = first; s <= last; s++) {
      out.add(s);
    }
    return out;
  }

  private static Map<String, String> orderedMap(String... kv) {
    Map<String, String> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put(kv[i], kv[i + 1]);
    }
    return m;
  }
}
