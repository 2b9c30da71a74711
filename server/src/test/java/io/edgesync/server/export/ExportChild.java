package io.edgesync.server.export;

import io.edgesync.protocol.Clock;
import io.edgesync.server.SqliteCloudStore;
import java.nio.file.Path;
import java.util.Map;

/**
 * The exporter alone in a JVM of its own, on a cloud store file another process writes, for the
 * crash test ({@link ExactlyOnceExportTest}), which kills it with SIGKILL. Args: store file,
 * bootstrap servers, transactional id, positions topic, data topic. Reports on stdout {@code
 * READY}, then {@code TX <n>} each time the count of committed transactions changes.
 */
public final class ExportChild {
  private ExportChild() {}

  public static void main(String[] args) throws Exception {
    KafkaExportSettings settings =
        KafkaExportSettings.of(args[1], Map.of("s*", args[4]), null)
            .withTransactionalId(args[2])
            .withPositionsTopic(args[3])
            .withBatch(40, 10) // small transactions: a kill lands inside one most of the time
            .withProperties(
                Map.of(
                    "max.block.ms", "10000",
                    "request.timeout.ms", "5000",
                    "delivery.timeout.ms", "10000",
                    "transaction.timeout.ms", "10000"));
    SqliteCloudStore store = new SqliteCloudStore(Path.of(args[0]));
    KafkaExporter exporter = KafkaExporter.start(settings, store, Clock.SYSTEM);
    System.out.println("READY");
    long reported = -1;
    while (true) {
      long tx = exporter.status().transactions();
      if (tx != reported) {
        System.out.println("TX " + tx);
        reported = tx;
      }
      Thread.sleep(20);
    }
  }
}
