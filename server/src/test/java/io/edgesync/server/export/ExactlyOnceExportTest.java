package io.edgesync.server.export;

import static io.edgesync.server.export.CommittedReader.header;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.edgesync.engine.cloud.CloudStore.CommittedRecord;
import io.edgesync.engine.cloud.CloudStore.StreamHead;
import io.edgesync.protocol.Record;
import io.edgesync.protocol.wire.GapReason;
import io.edgesync.server.SqliteCloudStore;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * THE export test: records keep being committed while the exporter, in a child JVM, is killed with
 * SIGKILL several times mid-stream (inside a transaction, most of the time: it commits every 40
 * records) and the broker restarts once under it; then a read_committed consumer must see, per
 * device and stream, exactly the records the store holds: in order, no gap, no duplicate.
 */
@Tag("slow") // about 40 s: five child JVMs and a broker restart
class ExactlyOnceExportTest {
  private static final String TOPIC = "eo.data";
  private static final String POSITIONS = "eo.positions";
  private static final int KILLS = 4;
  private static final int BROKER_RESTART_ROUND = 2;

  private static KafkaBroker broker;

  @TempDir Path dir;

  @BeforeAll
  static void startBroker() throws Exception {
    broker = KafkaBroker.start();
    CommittedReader.createTopics(broker.bootstrapServers(), Map.of(TOPIC, 3));
  }

  @AfterAll
  static void stopBroker() throws Exception {
    broker.close();
  }

  @Test
  void exporterKilledMidStream_andBrokerRestarted_consumerSeesEveryRecordOnce_inOrder()
      throws Exception {
    Path db = dir.resolve("cloud.db");
    try (SqliteCloudStore store = new SqliteCloudStore(db)) {
      AtomicBoolean stop = new AtomicBoolean();
      Thread writer = new Thread(() -> writeUntil(store, stop), "writer");
      writer.start();
      for (int round = 0; round < KILLS; round++) {
        Child child = Child.start(db, dir.resolve("child-" + round + ".log"));
        child.awaitTransactions(child.transactions() + 3);
        if (round == BROKER_RESTART_ROUND) {
          broker.restartBroker();
          long after = child.transactions();
          child.awaitTransactions(after + 3); // it recovered by itself
        }
        Thread.sleep(new Random(round).nextInt(200));
        child.sigkill();
      }
      stop.set(true);
      writer.join();
      Map<String, List<Record>> expected = storedRecords(store);
      long total = expected.values().stream().mapToLong(List::size).sum();
      Child last = Child.start(db, dir.resolve("child-last.log"));
      Map<String, List<ConsumerRecord<byte[], byte[]>>> seen;
      try (CommittedReader reader =
          new CommittedReader(broker.bootstrapServers(), List.of(TOPIC))) {
        reader.pollUntil(s -> s.size() >= total, Duration.ofSeconds(60));
        seen = byStream(reader.pollUntil(s -> false, Duration.ofSeconds(1)));
      } finally {
        last.sigkill();
      }
      assertThat(total).as("records committed during the test").isGreaterThan(1_000);
      assertThat(seen.keySet()).isEqualTo(expected.keySet());
      for (Map.Entry<String, List<Record>> e : expected.entrySet()) {
        List<ConsumerRecord<byte[], byte[]>> got = seen.get(e.getKey());
        assertThat(got)
            .as(e.getKey() + ": sequences (0 gaps, 0 duplicates, in order)")
            .extracting(r -> Long.parseLong(header(r, "sequence")))
            .isEqualTo(e.getValue().stream().map(Record::sequence).toList());
        for (int i = 0; i < got.size(); i++) {
          assertThat(got.get(i).value()).isEqualTo(e.getValue().get(i).payload());
        }
      }
    }
  }

  /** Commits batches of 1..40 records (and now and then a gap) to 4 devices × 2 streams. */
  private static void writeUntil(SqliteCloudStore store, AtomicBoolean stop) {
    Random random = new Random(7);
    Map<String, Long> last = new HashMap<>();
    try {
      while (!stop.get()) {
        String device = "dev-" + random.nextInt(4);
        String stream = "s" + (1 + random.nextInt(2));
        long next = last.getOrDefault(device + "/" + stream, 0L) + 1;
        if (random.nextInt(30) == 0) {
          long gapEnd = next + random.nextInt(5);
          store.commitGap(device, stream, next, gapEnd, GapReason.GAP_REASON_EXPIRED, 1, 2);
          last.put(device + "/" + stream, gapEnd);
          continue;
        }
        int count = 1 + random.nextInt(40);
        List<Record> batch = new ArrayList<>();
        for (int i = 0; i < count; i++) {
          long seq = next + i;
          batch.add(new Record(seq, seq * 10, (device + "/" + stream + "#" + seq).getBytes(UTF_8)));
        }
        store.commitRecords(device, stream, batch, System.currentTimeMillis());
        last.put(device + "/" + stream, next + count - 1);
        Thread.sleep(2);
      }
    } catch (Exception e) {
      throw new AssertionError("the writer failed", e);
    }
  }

  private static Map<String, List<Record>> storedRecords(SqliteCloudStore store) {
    Map<String, List<Record>> out = new HashMap<>();
    for (StreamHead h : store.streamHeads()) {
      List<Record> records = new ArrayList<>();
      for (CommittedRecord r : store.readCommitted(h.deviceId(), h.stream(), 0, 1_000_000)) {
        records.add(r.record());
      }
      out.put(h.deviceId() + "/" + h.stream(), records);
    }
    return out;
  }

  private static Map<String, List<ConsumerRecord<byte[], byte[]>>> byStream(
      List<ConsumerRecord<byte[], byte[]>> records) {
    Map<String, List<ConsumerRecord<byte[], byte[]>>> out = new HashMap<>();
    for (ConsumerRecord<byte[], byte[]> r : records) {
      out.computeIfAbsent(header(r, "device") + "/" + header(r, "stream"), k -> new ArrayList<>())
          .add(r);
    }
    return out;
  }

  /** {@link ExportChild} in its own JVM; its output goes to a log file, its TX lines counted. */
  private static final class Child {
    private final Process process;
    private final Thread reader;
    private final AtomicLong transactions = new AtomicLong(-1);

    private Child(Process process, Path log) {
      this.process = process;
      this.reader = new Thread(() -> read(log), "child-reader");
      reader.setDaemon(true);
      reader.start();
    }

    static Child start(Path db, Path log) throws IOException {
      List<String> cmd =
          List.of(
              Path.of(System.getProperty("java.home"), "bin", "java").toString(),
              "-Xmx256m",
              "-XX:+UseSerialGC",
              "-XX:TieredStopAtLevel=1",
              "-cp",
              System.getProperty("java.class.path"),
              ExportChild.class.getName(),
              db.toString(),
              broker.bootstrapServers(),
              "eo-export",
              POSITIONS,
              TOPIC);
      return new Child(new ProcessBuilder(cmd).redirectErrorStream(true).start(), log);
    }

    private void read(Path log) {
      try (BufferedReader in =
              new BufferedReader(new InputStreamReader(process.getInputStream(), UTF_8));
          PrintWriter out = new PrintWriter(Files.newBufferedWriter(log), true)) {
        for (String line; (line = in.readLine()) != null; ) {
          out.println(line);
          if (line.matches("TX \\d+")) {
            transactions.set(Long.parseLong(line.substring(3)));
          }
        }
      } catch (IOException e) {
        // the child is gone
      }
    }

    long transactions() {
      return Math.max(0, transactions.get());
    }

    void awaitTransactions(long atLeast) throws InterruptedException {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (transactions.get() < atLeast) {
        assertThat(process.isAlive()).as("the exporter child runs").isTrue();
        assertThat(System.nanoTime()).as("the child commits transactions").isLessThan(deadline);
        Thread.sleep(10);
      }
    }

    void sigkill() throws InterruptedException {
      process.toHandle().destroyForcibly();
      assertThat(process.waitFor(20, TimeUnit.SECONDS)).isTrue();
      assertThat(process.exitValue()).as("died of SIGKILL (128 + 9)").isEqualTo(137);
      reader.join(5_000);
    }
  }
}
