package io.edgesync.bench;

import io.edgesync.protocol.Clock;
import io.edgesync.protocol.Record;
import io.edgesync.server.SqliteCloudStore;
import io.edgesync.server.export.KafkaExportSettings;
import io.edgesync.server.export.KafkaExporter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;

/**
 * Kafka export throughput: a SQLite cloud store filled with {@code devices} × {@code records} small
 * records (committed in batches of 100, as devices would send them), then the {@link KafkaExporter}
 * (transactions of {@code max_batch_records}, positions with each) drains them into a real KRaft
 * broker running in this JVM (so broker and exporter share the machine's cores). Reports exported
 * records per second over the whole drain and after the first 10 % (JIT warm-up).
 */
final class ExportScenario {
  private static final String TOPIC = "edgesync.bench";

  record Result(
      long records,
      int devices,
      int recordBytes,
      int partitions,
      int maxBatchRecords,
      double fillSeconds,
      double seconds,
      double recordsPerSecond,
      double steadyRecordsPerSecond,
      long transactions) {}

  private ExportScenario() {}

  static Result run(Path dir, Opts o) throws Exception {
    int devices = o.integer("devices", 1_000);
    int perDevice = o.integer("export-records", 1_000);
    int recordBytes = o.integer("record-bytes", 64);
    int partitions = o.integer("export-partitions", 6);
    int maxBatch = o.integer("export-batch", KafkaExportSettings.DEFAULT_MAX_BATCH_RECORDS);
    double timeoutS = o.seconds("export-timeout", 600);
    try (SqliteCloudStore store = new SqliteCloudStore(dir.resolve("cloud.db"));
        KafkaClusterTestKit broker = startBroker(dir.resolve("kafka"))) {
      long t0 = System.nanoTime();
      fill(store, devices, perDevice, recordBytes);
      double fillS = (System.nanoTime() - t0) / 1e9;
      long total = (long) devices * perDevice;
      Bench.logf("export: %,d records in the store after %.1f s; broker up", total, fillS);
      try (Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrapServers()))) {
        admin.createTopics(List.of(new NewTopic(TOPIC, partitions, (short) 1))).all().get();
      }
      KafkaExportSettings settings =
          KafkaExportSettings.of(broker.bootstrapServers(), Map.of(), TOPIC)
              .withBatch(maxBatch, 10);
      return drain(store, settings, total, timeoutS, devices, recordBytes, partitions, fillS);
    }
  }

  private static Result drain(
      SqliteCloudStore store,
      KafkaExportSettings settings,
      long total,
      double timeoutS,
      int devices,
      int recordBytes,
      int partitions,
      double fillS)
      throws InterruptedException {
    long start = System.nanoTime();
    long steadyStart = 0;
    long steadyFrom = 0;
    long deadline = start + (long) (timeoutS * 1e9);
    try (KafkaExporter exporter = KafkaExporter.start(settings, store, Clock.SYSTEM)) {
      long done;
      while ((done = exporter.status().exportedRecords()) < total) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(
              "export: only " + done + " of " + total + " records exported in " + timeoutS + " s");
        }
        if (steadyStart == 0 && done >= total / 10) {
          steadyStart = System.nanoTime();
          steadyFrom = done;
        }
        Thread.sleep(100); // status() reads every stream head: not too often
      }
      long end = System.nanoTime();
      double seconds = (end - start) / 1e9;
      double steadyS = (end - steadyStart) / 1e9;
      return new Result(
          total,
          devices,
          recordBytes,
          partitions,
          settings.maxBatchRecords(),
          fillS,
          seconds,
          total / seconds,
          steadyStart == 0 ? total / seconds : (total - steadyFrom) / steadyS,
          exporter.status().transactions());
    }
  }

  /** Batches of 100 records per device, round robin, as a fleet sending at once would. */
  private static void fill(SqliteCloudStore store, int devices, int perDevice, int recordBytes)
      throws Exception {
    byte[] pad = "x".repeat(Math.max(0, recordBytes - 40)).getBytes(StandardCharsets.UTF_8);
    for (int first = 1; first <= perDevice; first += 100) {
      int count = Math.min(100, perDevice - first + 1);
      for (int d = 0; d < devices; d++) {
        List<Record> batch = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
          long seq = first + i;
          String json = "{\"seq\":" + seq + ",\"t\":21.5,\"p\":\"";
          byte[] head = json.getBytes(StandardCharsets.UTF_8);
          byte[] payload = new byte[head.length + pad.length + 2];
          System.arraycopy(head, 0, payload, 0, head.length);
          System.arraycopy(pad, 0, payload, head.length, pad.length);
          payload[payload.length - 2] = '"';
          payload[payload.length - 1] = '}';
          batch.add(new Record(seq, 1_000L * seq, payload));
        }
        store.commitRecords("device-" + d, "telemetry", batch, System.currentTimeMillis());
      }
    }
  }

  private static KafkaClusterTestKit startBroker(Path baseDir) throws Exception {
    KafkaClusterTestKit cluster =
        new KafkaClusterTestKit.Builder(
                new TestKitNodes.Builder()
                    .setCombined(true)
                    .setNumBrokerNodes(1)
                    .setNumControllerNodes(1)
                    .setBaseDirectory(baseDir)
                    .build())
            .setConfigProp("offsets.topic.replication.factor", "1")
            .setConfigProp("transaction.state.log.replication.factor", "1")
            .setConfigProp("transaction.state.log.min.isr", "1")
            .build();
    java.io.PrintStream stdout = System.out;
    try {
      System.setOut(System.err); // the format step prints to stdout, which holds the results
      cluster.format();
      System.setOut(stdout);
      cluster.startup();
      cluster.waitForReadyBrokers();
      return cluster;
    } catch (Exception e) {
      cluster.close();
      throw e;
    } finally {
      System.setOut(stdout);
    }
  }
}
