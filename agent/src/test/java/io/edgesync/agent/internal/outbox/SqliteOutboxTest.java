package io.edgesync.agent.internal.outbox;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgesync.agent.EdgeSyncException;
import io.edgesync.agent.OutboxLimits;
import io.edgesync.agent.OverflowPolicy;
import io.edgesync.agent.QueueFullException;
import io.edgesync.engine.edge.EdgeSyncEngine;
import io.edgesync.engine.edge.Outbox.Item;
import io.edgesync.engine.edge.Outbox.StreamState;
import io.edgesync.protocol.ProtocolLimits;
import io.edgesync.protocol.Record;
import io.edgesync.protocol.wire.GapReason;
import io.edgesync.testing.FakeClock;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The SQLite outbox against a real database file. */
class SqliteOutboxTest {
  private static final long T0 = 1_700_000_000_000L;
  private static final long ALL_BYTES = Long.MAX_VALUE;

  @TempDir Path dir;

  private final FakeClock clock = new FakeClock(T0);
  private final List<SqliteOutbox> opened = new ArrayList<>();

  @AfterEach
  void closeAll() {
    for (SqliteOutbox o : opened) {
      o.close();
    }
  }

  // ---------------------------------------------------------------- append and durability

  @Test
  void append_assignsConsecutiveSequencesPerStream() throws Exception {
    SqliteOutbox outbox = open(OutboxLimits.defaults());

    assertThat(append(outbox, "sensor_data", "a", "b")).isEqualTo(1);
    assertThat(append(outbox, "sensor_data", "c")).isEqualTo(3);
    assertThat(append(outbox, "logs", "x")).isEqualTo(1);
    assertThat(append(outbox, "sensor_data", "d", "e", "f")).isEqualTo(4);

    assertThat(state(outbox, "sensor_data").lastSequence()).isEqualTo(6);
    assertThat(state(outbox, "logs").lastSequence()).isEqualTo(1);
    assertThat(payloads(outbox.read("sensor_data", 1, 100, ALL_BYTES)))
        .containsExactly("a", "b", "c", "d", "e", "f");
  }

  @Test
  void committedRecords_surviveCloseAndReopen() throws Exception {
    SqliteOutbox first = open(OutboxLimits.defaults());
    append(first, "sensor_data", "r1", "r2");
    clock.advance(5);
    append(first, "sensor_data", "r3");
    append(first, "logs", "l1");
    closeOne(first);

    SqliteOutbox reopened = open(OutboxLimits.defaults());
    Item.Records records = (Item.Records) reopened.read("sensor_data", 1, 100, ALL_BYTES);
    assertThat(records.records())
        .containsExactly(
            new Record(1, T0, bytes("r1")),
            new Record(2, T0, bytes("r2")),
            new Record(3, T0 + 5, bytes("r3")));
    assertThat(payloads(reopened.read("logs", 1, 100, ALL_BYTES))).containsExactly("l1");
    assertThat(state(reopened, "sensor_data"))
        .isEqualTo(new StreamState("sensor_data", 10, 3, 0, 3, 6));
    // Sequences continue after the reopen; nothing is reused.
    assertThat(append(reopened, "sensor_data", "r4")).isEqualTo(4);
  }

  @Test
  void concurrentAppendersFrom8Threads_getUniqueGapFreeSequences_groupCommitted() throws Exception {
    SqliteOutbox outbox = open(OutboxLimits.defaults());
    int threads = 8;
    int perThread = 150;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    CountDownLatch start = new CountDownLatch(1);
    List<Future<List<Long>>> results = new ArrayList<>();
    try {
      for (int t = 0; t < threads; t++) {
        int thread = t;
        results.add(
            pool.submit(
                () -> {
                  start.await();
                  List<CompletableFuture<Long>> futures = new ArrayList<>();
                  for (int i = 0; i < perThread; i++) {
                    futures.add(
                        outbox.appendAsync("sensor_data", List.of(bytes(thread + ":" + i))));
                  }
                  List<Long> seqs = new ArrayList<>();
                  for (CompletableFuture<Long> f : futures) {
                    seqs.add(f.get(20, TimeUnit.SECONDS));
                  }
                  return seqs;
                }));
      }
      start.countDown();
      List<Long> all = new ArrayList<>();
      for (Future<List<Long>> f : results) {
        List<Long> mine = f.get(30, TimeUnit.SECONDS);
        // One thread's appends keep their order.
        assertThat(mine).isSorted();
        all.addAll(mine);
      }
      Collections.sort(all);
      List<Long> expected = new ArrayList<>();
      for (long s = 1; s <= threads * perThread; s++) {
        expected.add(s);
      }
      assertThat(all).isEqualTo(expected);
    } finally {
      pool.shutdownNow();
    }

    Item.Records records =
        (Item.Records) outbox.read("sensor_data", 1, threads * perThread, ALL_BYTES);
    assertThat(records.records()).hasSize(threads * perThread);
    assertThat(payloads(records)).doesNotHaveDuplicates();
    // Group commit: appends waiting together share a commit, so there are fewer chunks than
    // appends.
    assertThat(countRows("chunks")).isLessThan(threads * perThread);
  }

  // ---------------------------------------------------------------- read

  @Test
  void read_honoursMaxRecordsAndMaxBytes_andAlwaysReturnsAtLeastOneRecord() throws Exception {
    SqliteOutbox outbox = open(OutboxLimits.defaults());
    append(outbox, "s", "0000000001", "0000000002", "0000000003"); // one chunk, 10 bytes each
    append(outbox, "s", "0000000004");
    append(outbox, "s", "0000000005", "0000000006");

    Item.Records byCount = (Item.Records) outbox.read("s", 1, 2, ALL_BYTES);
    assertThat(sequences(byCount)).containsExactly(1L, 2L);
    assertThat(byCount.payloadBytes()).isEqualTo(20);

    // Across chunk boundaries, starting mid-chunk.
    Item.Records byBytes = (Item.Records) outbox.read("s", 2, 100, 35);
    assertThat(sequences(byBytes)).containsExactly(2L, 3L, 4L);
    assertThat(byBytes.payloadBytes()).isEqualTo(30);

    Item.Records tooSmall = (Item.Records) outbox.read("s", 5, 100, 1);
    assertThat(sequences(tooSmall)).containsExactly(5L);
    assertThat(tooSmall.payloadBytes()).isEqualTo(10);

    assertThat(sequences((Item.Records) outbox.read("s", 3, 100, ALL_BYTES)))
        .containsExactly(3L, 4L, 5L, 6L);
    assertThat(outbox.read("s", 7, 100, ALL_BYTES)).isNull();
    assertThat(outbox.read("unknown", 1, 100, ALL_BYTES)).isNull();
  }

  // ---------------------------------------------------------------- acknowledge

  @Test
  void acknowledge_deletesRecordsAndUpdatesCounters_durablyAcrossReopen() throws Exception {
    SqliteOutbox outbox = open(OutboxLimits.defaults());
    append(outbox, "s", "aa", "bb", "cc");
    append(outbox, "s", "ddd", "eee");
    assertThat(countRows("chunks")).isEqualTo(2);

    outbox.acknowledge("s", 3);

    assertThat(countRows("chunks")).isEqualTo(1);
    assertThat(state(outbox, "s")).isEqualTo(new StreamState("s", 10, 5, 3, 2, 6));
    SqliteOutbox.StreamStatus status = status(outbox, "s");
    assertThat(status.syncedRecords()).isEqualTo(3);
    assertThat(status.droppedRecords()).isZero();
    assertThat(outbox.read("s", 1, 100, ALL_BYTES)).isNull();
    assertThat(payloads(outbox.read("s", 4, 100, ALL_BYTES))).containsExactly("ddd", "eee");
    assertThat(outbox.operationState("s", 2, -1)).isEqualTo(SqliteOutbox.OperationState.SYNCED);
    assertThat(outbox.operationState("s", 4, -1)).isEqualTo(SqliteOutbox.OperationState.PENDING);
    assertThat(outbox.operationState("s", 4, 5)).isEqualTo(SqliteOutbox.OperationState.IN_FLIGHT);

    // A repeated or older ack changes nothing.
    outbox.acknowledge("s", 2);
    assertThat(status(outbox, "s").syncedRecords()).isEqualTo(3);

    closeOne(outbox);
    SqliteOutbox reopened = open(OutboxLimits.defaults());
    assertThat(state(reopened, "s")).isEqualTo(new StreamState("s", 10, 5, 3, 2, 6));
    assertThat(status(reopened, "s").syncedRecords()).isEqualTo(3);
    assertThat(reopened.read("s", 1, 100, ALL_BYTES)).isNull();
  }

  @Test
  void wireTotals_savedWithTheAckAndAtStop_surviveAReopen() throws Exception {
    SqliteOutbox outbox = open(OutboxLimits.defaults());
    append(outbox, "s", "aa", "bb", "cc");
    append(outbox, "t", "x");
    assertThat(outbox.savedWireStats()).isEmpty();
    EdgeSyncEngine.WireStats s1 = new EdgeSyncEngine.WireStats(1, 3, 6, 9, 5, 40);

    outbox.acknowledge("s", 3, s1);
    assertThat(outbox.savedWireStats()).containsExactly(Map.entry("s", s1));

    // An ack that does not advance still saves newer totals (a batch resent after a reconnect).
    EdgeSyncEngine.WireStats s2 = new EdgeSyncEngine.WireStats(2, 6, 12, 18, 10, 80);
    outbox.acknowledge("s", 3, s2);
    // At stop, the streams whose totals changed since their last ack.
    EdgeSyncEngine.WireStats t1 = new EdgeSyncEngine.WireStats(1, 1, 1, 3, 3, 30);
    outbox.saveWireStats(Map.of("t", t1));

    closeOne(outbox);
    SqliteOutbox reopened = open(OutboxLimits.defaults());
    assertThat(reopened.savedWireStats()).containsExactly(Map.entry("s", s2), Map.entry("t", t1));
    assertThat(state(reopened, "s").ackedSequence()).isEqualTo(3);
  }

  @Test
  void acknowledgeInsideAChunk_keepsQueuedBytesExact_regressionProRataShare() throws Exception {
    SqliteOutbox outbox = open(OutboxLimits.defaults());
    // One chunk whose records differ in size: the acked part is 1 byte, the rest 99.
    append(outbox, "s", "x", "y".repeat(99));

    outbox.acknowledge("s", 1);

    assertThat(state(outbox, "s").queuedRecords()).isEqualTo(1);
    assertThat(state(outbox, "s").queuedBytes()).isEqualTo(99);
    closeOne(outbox);
    SqliteOutbox reopened = open(OutboxLimits.defaults());
    assertThat(state(reopened, "s").queuedBytes()).isEqualTo(99);
    reopened.acknowledge("s", 2);
    assertThat(state(reopened, "s").queuedBytes()).isZero();
    assertThat(state(reopened, "s").queuedRecords()).isZero();
  }

  @Test
  void acknowledgeBeyondLastSequence_isRefused() throws Exception {
    SqliteOutbox outbox = open(OutboxLimits.defaults());
    append(outbox, "s", "a");

    assertThatThrownBy(() -> outbox.acknowledge("s", 2))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("beyond last sequence 1");
    assertThat(state(outbox, "s").ackedSequence()).isZero();
  }

  // ---------------------------------------------------------------- overflow

  @Test
  void dropOldest_dropsLowestPriorityStreamsOldestRecordsFirst_andRecordsExactGaps()
      throws Exception {
    OutboxLimits limits = OutboxLimits.defaults().withQueue(6, 1 << 20, OverflowPolicy.DROP_OLDEST);
    SqliteOutbox outbox = open(limits, Map.of("critical", 1, "bulk", 5));
    append(outbox, "critical", "c1", "c2", "c3");
    append(outbox, "bulk", "b1");
    append(outbox, "bulk", "b2");
    append(outbox, "bulk", "b3");
    clock.advance(1000);

    assertThat(append(outbox, "critical", "c4", "c5")).isEqualTo(4);

    assertThat(outbox.read("bulk", 1, 100, ALL_BYTES))
        .isEqualTo(new Item.Gap(1, 2, GapReason.GAP_REASON_QUEUE_FULL, T0 + 1000));
    assertThat(payloads(outbox.read("bulk", 3, 100, ALL_BYTES))).containsExactly("b3");
    assertThat(payloads(outbox.read("critical", 1, 100, ALL_BYTES)))
        .containsExactly("c1", "c2", "c3", "c4", "c5");
    assertThat(status(outbox, "bulk").droppedRecords()).isEqualTo(2);
    assertThat(status(outbox, "bulk").queuedRecords()).isEqualTo(1);
    assertThat(status(outbox, "critical").droppedRecords()).isZero();
    assertThat(outbox.operationState("bulk", 1, -1)).isEqualTo(SqliteOutbox.OperationState.DROPPED);
    assertThat(outbox.operationState("bulk", 2, -1)).isEqualTo(SqliteOutbox.OperationState.DROPPED);
    assertThat(outbox.operationState("bulk", 3, -1)).isEqualTo(SqliteOutbox.OperationState.PENDING);
    assertThat(outbox.droppedRange("bulk", 2))
        .isEqualTo(new Item.Gap(2, 2, GapReason.GAP_REASON_QUEUE_FULL, T0 + 1000));

    // The next drop extends the same gap; then the higher-priority stream is next in line.
    append(outbox, "critical", "c6", "c7");
    assertThat(outbox.read("bulk", 1, 100, ALL_BYTES))
        .isEqualTo(new Item.Gap(1, 3, GapReason.GAP_REASON_QUEUE_FULL, T0 + 1000));
    assertThat(outbox.read("critical", 1, 100, ALL_BYTES))
        .isEqualTo(new Item.Gap(1, 1, GapReason.GAP_REASON_QUEUE_FULL, T0 + 1000));
    assertThat(state(outbox, "bulk").queuedRecords() + state(outbox, "critical").queuedRecords())
        .isEqualTo(6);

    closeOne(outbox);
    SqliteOutbox reopened = open(limits, Map.of("critical", 1, "bulk", 5));
    assertThat(reopened.read("bulk", 1, 100, ALL_BYTES))
        .isEqualTo(new Item.Gap(1, 3, GapReason.GAP_REASON_QUEUE_FULL, T0 + 1000));
    assertThat(status(reopened, "bulk").droppedRecords()).isEqualTo(3);
    assertThat(status(reopened, "critical").droppedRecords()).isEqualTo(1);
  }

  @Test
  void dropOldest_burstLargerThanTheQueueInOneGroupCommit_isNeverRefused_regression()
      throws Exception {
    // Appends waiting together share one group commit; they must be able to push each other out.
    OutboxLimits limits = OutboxLimits.defaults().withQueue(5, 1 << 20, OverflowPolicy.DROP_OLDEST);
    SqliteOutbox outbox = open(limits);
    List<CompletableFuture<Long>> futures = new ArrayList<>();
    for (int i = 1; i <= 200; i++) {
      futures.add(outbox.appendAsync("s", List.of(bytes("r" + i))));
    }

    List<Long> sequences = new ArrayList<>();
    for (CompletableFuture<Long> f : futures) {
      sequences.add(unwrap(f));
    }

    assertThat(sequences).isSorted().doesNotHaveDuplicates().hasSize(200);
    assertThat(outbox.rejectedRecords()).isZero();
    assertThat(state(outbox, "s").queuedRecords()).isEqualTo(5);
    assertThat(status(outbox, "s").droppedRecords()).isEqualTo(195);
    assertThat(outbox.read("s", 1, 1000, ALL_BYTES))
        .isEqualTo(new Item.Gap(1, 195, GapReason.GAP_REASON_QUEUE_FULL, T0));
    assertThat(payloads(outbox.read("s", 196, 1000, ALL_BYTES)))
        .containsExactly("r196", "r197", "r198", "r199", "r200");
  }

  @Test
  void dropOldestInsideAChunk_keepsTheRestOfTheChunkReadable() throws Exception {
    OutboxLimits limits =
        OutboxLimits.defaults().withQueue(10, 1 << 20, OverflowPolicy.DROP_OLDEST);
    SqliteOutbox outbox = open(limits);
    List<String> ten = new ArrayList<>();
    for (int i = 1; i <= 10; i++) {
      ten.add("r" + i);
    }
    append(outbox, "s", ten.toArray(String[]::new)); // one chunk 1..10

    assertThat(append(outbox, "s", "r11", "r12", "r13")).isEqualTo(11);

    assertThat(outbox.read("s", 1, 100, ALL_BYTES))
        .isEqualTo(new Item.Gap(1, 3, GapReason.GAP_REASON_QUEUE_FULL, T0));
    Item.Records rest = (Item.Records) outbox.read("s", 4, 100, ALL_BYTES);
    assertThat(sequences(rest)).containsExactly(4L, 5L, 6L, 7L, 8L, 9L, 10L, 11L, 12L, 13L);
    assertThat(payloads(rest))
        .containsExactly("r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "r12", "r13");
    assertThat(state(outbox, "s").queuedRecords()).isEqualTo(10);
    assertThat(state(outbox, "s").queuedBytes()).isEqualTo(rest.payloadBytes());
    // Reading from inside the kept part of the chunk works too.
    assertThat(payloads(outbox.read("s", 6, 2, ALL_BYTES))).containsExactly("r6", "r7");
  }

  @Test
  void dropOldest_onTheByteLimit_dropsUntilTheBytesFit() throws Exception {
    OutboxLimits limits = OutboxLimits.defaults().withQueue(1000, 100, OverflowPolicy.DROP_OLDEST);
    SqliteOutbox outbox = open(limits);
    append(outbox, "s", "a".repeat(40));
    append(outbox, "s", "b".repeat(40));

    append(outbox, "s", "c".repeat(30)); // 110 > 100: the 40-byte oldest record goes

    assertThat(outbox.read("s", 1, 100, ALL_BYTES))
        .isEqualTo(new Item.Gap(1, 1, GapReason.GAP_REASON_QUEUE_FULL, T0));
    assertThat(state(outbox, "s").queuedBytes()).isEqualTo(70);
    assertThat(state(outbox, "s").queuedRecords()).isEqualTo(2);
  }

  @Test
  void reject_refusesWithQueueFullException_namingTheLimit_andStoresNothing() throws Exception {
    OutboxLimits limits = OutboxLimits.defaults().withQueue(3, 1 << 20, OverflowPolicy.REJECT);
    SqliteOutbox outbox = open(limits);
    append(outbox, "s", "a", "b");
    append(outbox, "s", "c");

    assertThatThrownBy(() -> append(outbox, "s", "d"))
        .isInstanceOf(QueueFullException.class)
        .hasMessageContaining("3 records")
        .hasMessageContaining("reject");

    assertThat(state(outbox, "s").lastSequence()).isEqualTo(3);
    assertThat(state(outbox, "s").queuedRecords()).isEqualTo(3);
    assertThat(payloads(outbox.read("s", 1, 100, ALL_BYTES))).containsExactly("a", "b", "c");
    assertThat(outbox.rejectedRecords()).isEqualTo(1);
    assertThat(status(outbox, "s").droppedRecords()).isZero();
  }

  @Test
  void reject_onTheByteLimit_namesTheByteLimit() throws Exception {
    OutboxLimits limits = OutboxLimits.defaults().withQueue(1000, 100, OverflowPolicy.REJECT);
    SqliteOutbox outbox = open(limits);
    append(outbox, "s", "a".repeat(90));

    assertThatThrownBy(() -> append(outbox, "s", "b".repeat(20)))
        .isInstanceOf(QueueFullException.class)
        .hasMessageContaining("100 bytes")
        .hasMessageContaining("reject");

    assertThat(state(outbox, "s").lastSequence()).isEqualTo(1);
    assertThat(state(outbox, "s").queuedBytes()).isEqualTo(90);
  }

  @Test
  void appendLargerThanTheWholeQueue_isRefusedWhateverThePolicy() throws Exception {
    OutboxLimits limits = OutboxLimits.defaults().withQueue(2, 1 << 20, OverflowPolicy.DROP_OLDEST);
    SqliteOutbox outbox = open(limits);
    append(outbox, "s", "a");

    assertThatThrownBy(() -> append(outbox, "s", "b", "c", "d"))
        .isInstanceOf(QueueFullException.class)
        .hasMessageContaining("larger than the whole queue (2 records");
    assertThat(state(outbox, "s").lastSequence()).isEqualTo(1);
    assertThat(status(outbox, "s").droppedRecords()).isZero();
  }

  @Test
  void queueLimitLoweredBetweenRuns_rejectDropsNothing_dropOldestShrinksToTheLimit()
      throws Exception {
    SqliteOutbox big = open(OutboxLimits.defaults());
    append(big, "s", "a", "b", "c", "d", "e");
    closeOne(big);

    SqliteOutbox rejecting =
        open(OutboxLimits.defaults().withQueue(3, 1 << 20, OverflowPolicy.REJECT));
    assertThatThrownBy(() -> append(rejecting, "s", "f")).isInstanceOf(QueueFullException.class);
    assertThat(payloads(rejecting.read("s", 1, 100, ALL_BYTES)))
        .containsExactly("a", "b", "c", "d", "e");
    assertThat(status(rejecting, "s").droppedRecords()).isZero();
    closeOne(rejecting);

    SqliteOutbox dropping =
        open(OutboxLimits.defaults().withQueue(3, 1 << 20, OverflowPolicy.DROP_OLDEST));
    assertThat(append(dropping, "s", "f")).isEqualTo(6);
    assertThat(dropping.read("s", 1, 100, ALL_BYTES))
        .isEqualTo(new Item.Gap(1, 3, GapReason.GAP_REASON_QUEUE_FULL, T0));
    assertThat(payloads(dropping.read("s", 4, 100, ALL_BYTES))).containsExactly("d", "e", "f");
  }

  @Test
  void block_waitsForAnAckToFreeSpace_thenSucceeds() throws Exception {
    OutboxLimits limits =
        OutboxLimits.defaults()
            .withQueue(2, 1 << 20, OverflowPolicy.BLOCK)
            .withBlockTimeout(20_000);
    SqliteOutbox outbox = open(limits);
    append(outbox, "s", "a");
    append(outbox, "s", "b");

    CompletableFuture<Long> blocked = outbox.appendAsync("s", List.of(bytes("c")));
    Thread.sleep(300);
    assertThat(blocked).isNotDone();
    assertThat(state(outbox, "s").lastSequence()).isEqualTo(2);

    outbox.acknowledge("s", 1);

    assertThat(blocked.get(5, TimeUnit.SECONDS)).isEqualTo(3);
    assertThat(payloads(outbox.read("s", 2, 100, ALL_BYTES))).containsExactly("b", "c");
    assertThat(outbox.rejectedRecords()).isZero();
    assertThat(status(outbox, "s").droppedRecords()).isZero();
  }

  @Test
  void block_failsAfterBlockTimeout_whenNothingFreesSpace() throws Exception {
    OutboxLimits limits =
        OutboxLimits.defaults().withQueue(2, 1 << 20, OverflowPolicy.BLOCK).withBlockTimeout(300);
    SqliteOutbox outbox = open(limits);
    append(outbox, "s", "a", "b");

    long startNanos = System.nanoTime();
    CompletableFuture<Long> blocked = outbox.appendAsync("s", List.of(bytes("c")));
    assertThatThrownBy(() -> blocked.get(5, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class)
        .cause()
        .isInstanceOf(QueueFullException.class)
        .hasMessageContaining("300 ms")
        .hasMessageContaining("block");
    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos))
        .isGreaterThanOrEqualTo(300);

    assertThat(state(outbox, "s").lastSequence()).isEqualTo(2);
    assertThat(outbox.rejectedRecords()).isEqualTo(1);
    // Space freed later is usable again: the refused append left nothing parked behind.
    outbox.acknowledge("s", 2);
    assertThat(append(outbox, "s", "d")).isEqualTo(3);
  }

  // ---------------------------------------------------------------- age and cloud loss

  @Test
  void recordsOlderThanMaxAge_expireIntoAnExpiredGap() throws Exception {
    OutboxLimits limits = OutboxLimits.defaults().withAge(60_000, 10);
    SqliteOutbox outbox = open(limits);
    append(outbox, "s", "old1", "old2");
    clock.advance(30_000);
    append(outbox, "s", "mid");
    clock.advance(40_000); // old1/old2 are 70 s old, mid 40 s

    long expiredAt = clock.nowMs();
    awaitTrue(() -> outbox.read("s", 1, 100, ALL_BYTES) instanceof Item.Gap);

    assertThat(outbox.read("s", 1, 100, ALL_BYTES))
        .isEqualTo(new Item.Gap(1, 2, GapReason.GAP_REASON_EXPIRED, expiredAt));
    assertThat(payloads(outbox.read("s", 3, 100, ALL_BYTES))).containsExactly("mid");
    assertThat(status(outbox, "s").droppedRecords()).isEqualTo(2);
    assertThat(state(outbox, "s").queuedRecords()).isEqualTo(1);
    assertThat(state(outbox, "s").queuedBytes()).isEqualTo(3);
    assertThat(outbox.operationState("s", 1, -1)).isEqualTo(SqliteOutbox.OperationState.DROPPED);
  }

  @Test
  void expiringAPartlyAcknowledgedChunk_leavesExactlyZeroQueued() throws Exception {
    OutboxLimits limits = OutboxLimits.defaults().withAge(60_000, 10);
    SqliteOutbox outbox = open(limits);
    // One chunk of 110 bytes whose records differ in size: no pro-rata share is exact.
    append(outbox, "s", "x", "y".repeat(99), "z".repeat(10));
    outbox.acknowledge("s", 1);
    assertThat(state(outbox, "s").queuedBytes()).isEqualTo(109);
    clock.advance(61_000);

    awaitTrue(() -> outbox.read("s", 2, 100, ALL_BYTES) instanceof Item.Gap);

    assertThat(outbox.read("s", 2, 100, ALL_BYTES))
        .isEqualTo(new Item.Gap(2, 3, GapReason.GAP_REASON_EXPIRED, T0 + 61_000));
    assertThat(state(outbox, "s").queuedRecords()).isZero();
    assertThat(state(outbox, "s").queuedBytes()).isZero();
    assertThat(status(outbox, "s").droppedRecords()).isEqualTo(2);
    assertThat(status(outbox, "s").syncedRecords()).isEqualTo(1);
  }

  @Test
  void recordsYoungerThanMaxAge_doNotExpire() throws Exception {
    OutboxLimits limits = OutboxLimits.defaults().withAge(60_000, 10);
    SqliteOutbox outbox = open(limits);
    append(outbox, "s", "a");
    clock.advance(59_000);
    append(outbox, "s", "b"); // runs the writer loop, and with it the expiry check
    Thread.sleep(300);

    assertThat(payloads(outbox.read("s", 1, 100, ALL_BYTES))).containsExactly("a", "b");
    assertThat(status(outbox, "s").droppedRecords()).isZero();
  }

  @Test
  void markNotRetained_turnsTheRangeTheCloudLostIntoAGap() throws Exception {
    SqliteOutbox outbox = open(OutboxLimits.defaults());
    append(outbox, "s", "a", "b", "c", "d", "e");
    outbox.acknowledge("s", 5);
    clock.advance(7);

    Item.Gap gap = outbox.markNotRetained("s", 2);

    Item.Gap expected = new Item.Gap(3, 5, GapReason.GAP_REASON_NOT_RETAINED, T0 + 7);
    assertThat(gap).isEqualTo(expected);
    assertThat(outbox.read("s", 3, 100, ALL_BYTES)).isEqualTo(expected);
    assertThat(outbox.operationState("s", 4, -1)).isEqualTo(SqliteOutbox.OperationState.DROPPED);
    assertThat(outbox.operationState("s", 2, -1)).isEqualTo(SqliteOutbox.OperationState.SYNCED);
    // The cloud is not behind: nothing to mark.
    assertThat(outbox.markNotRetained("s", 5)).isNull();
    assertThat(outbox.markNotRetained("never_appended", 0)).isNull();
  }

  @Test
  void markNotRetainedTwiceWithTheSameCheckpoint_returnsTheSameGap_regressionDuplicateKey()
      throws Exception {
    // The session can drop before the cloud acks the gap; the next handshake repeats the call.
    SqliteOutbox outbox = open(OutboxLimits.defaults());
    append(outbox, "s", "a", "b", "c");
    outbox.acknowledge("s", 3);
    Item.Gap first = outbox.markNotRetained("s", 1);

    Item.Gap again = outbox.markNotRetained("s", 1);

    assertThat(again).isEqualTo(first);
    assertThat(outbox.read("s", 2, 100, ALL_BYTES)).isEqualTo(first);
    assertThat(countRows("gaps")).isEqualTo(1);
  }

  @Test
  void markNotRetainedOverAnEarlierDropGap_keepsTheDropAndFillsOnlyTheRest() throws Exception {
    OutboxLimits limits = OutboxLimits.defaults().withQueue(3, 1 << 20, OverflowPolicy.DROP_OLDEST);
    SqliteOutbox outbox = open(limits);
    append(outbox, "s", "a");
    append(outbox, "s", "b");
    append(outbox, "s", "c");
    append(outbox, "s", "d"); // drops 1
    outbox.acknowledge("s", 4);
    clock.advance(9);

    Item.Gap gap = outbox.markNotRetained("s", 0);

    Item.Gap queueFull = new Item.Gap(1, 1, GapReason.GAP_REASON_QUEUE_FULL, T0);
    assertThat(gap).isEqualTo(queueFull);
    assertThat(outbox.read("s", 1, 100, ALL_BYTES)).isEqualTo(queueFull);
    assertThat(outbox.read("s", 2, 100, ALL_BYTES))
        .isEqualTo(new Item.Gap(2, 4, GapReason.GAP_REASON_NOT_RETAINED, T0 + 9));
  }

  // ---------------------------------------------------------------- bad input

  @Test
  void invalidStreamNames_areRejectedWithThePattern_andNothingIsStored() throws Exception {
    SqliteOutbox outbox = open(OutboxLimits.defaults());
    for (String bad : List.of("", "has space", "_leading", "x".repeat(65), "a/b")) {
      assertThatThrownBy(() -> append(outbox, bad, "v"))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("invalid stream name '" + bad + "'")
          .hasMessageContaining(ProtocolLimits.STREAM_NAME_PATTERN);
    }
    assertThat(outbox.streams()).isEmpty();
    assertThat(countRows("chunks")).isZero();
  }

  @Test
  void oversizedRecords_andEmptyAppends_areRejectedWithClearMessages() throws Exception {
    SqliteOutbox outbox = open(OutboxLimits.defaults());
    byte[] tooBig = new byte[ProtocolLimits.MAX_RECORD_BYTES + 1];

    assertThatThrownBy(
            () -> outbox.appendAsync("s", List.of(bytes("ok"), tooBig)).get(5, TimeUnit.SECONDS))
        .cause()
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "record of "
                + (ProtocolLimits.MAX_RECORD_BYTES + 1)
                + " bytes exceeds the limit of "
                + ProtocolLimits.MAX_RECORD_BYTES
                + " bytes");
    assertThatThrownBy(() -> outbox.appendAsync("s", List.of()).get(5, TimeUnit.SECONDS))
        .cause()
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("nothing to append");
    // A record exactly at the limit is fine.
    assertThat(append(outbox, "s", new byte[ProtocolLimits.MAX_RECORD_BYTES])).isEqualTo(1);
    assertThat(state(outbox, "s").lastSequence()).isEqualTo(1);
  }

  @Test
  void appendAfterClose_failsInsteadOfHanging() throws Exception {
    SqliteOutbox outbox = open(OutboxLimits.defaults());
    closeOne(outbox);

    assertThatThrownBy(() -> outbox.appendAsync("s", List.of(bytes("a"))).get(5, TimeUnit.SECONDS))
        .cause()
        .isInstanceOf(EdgeSyncException.class)
        .hasMessageContaining("closed")
        .extracting(e -> ((EdgeSyncException) e).code())
        .isEqualTo(EdgeSyncException.Code.CLOSED);
  }

  // ---------------------------------------------------------------- helpers

  private SqliteOutbox open(OutboxLimits limits) throws SQLException {
    return open(limits, Map.of());
  }

  private SqliteOutbox open(OutboxLimits limits, Map<String, Integer> priorities)
      throws SQLException {
    SqliteOutbox outbox = new SqliteOutbox(dbFile(), limits, priorities, 10, clock);
    opened.add(outbox);
    return outbox;
  }

  private void closeOne(SqliteOutbox outbox) {
    outbox.close();
    opened.remove(outbox);
  }

  private Path dbFile() {
    return dir.resolve("outbox.db");
  }

  private static long append(SqliteOutbox outbox, String stream, String... payloads)
      throws Exception {
    List<byte[]> list = new ArrayList<>();
    for (String p : payloads) {
      list.add(bytes(p));
    }
    return unwrap(outbox.appendAsync(stream, list));
  }

  private static long append(SqliteOutbox outbox, String stream, byte[] payload) throws Exception {
    return unwrap(outbox.appendAsync(stream, List.of(payload)));
  }

  private static long unwrap(CompletableFuture<Long> future) throws Exception {
    try {
      return future.get(10, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw e.getCause() instanceof Exception cause ? cause : e;
    }
  }

  private static byte[] bytes(String s) {
    return s.getBytes(UTF_8);
  }

  private static List<String> payloads(Item item) {
    assertThat(item).isInstanceOf(Item.Records.class);
    List<String> out = new ArrayList<>();
    for (Record r : ((Item.Records) item).records()) {
      out.add(new String(r.payload(), UTF_8));
    }
    return out;
  }

  private static List<Long> sequences(Item.Records records) {
    return records.records().stream().map(Record::sequence).toList();
  }

  private static StreamState state(SqliteOutbox outbox, String stream) {
    return outbox.streams().stream()
        .filter(s -> s.name().equals(stream))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no stream " + stream + " in " + outbox.streams()));
  }

  private static SqliteOutbox.StreamStatus status(SqliteOutbox outbox, String stream) {
    return outbox.streamStatus().stream()
        .filter(s -> s.name().equals(stream))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no stream " + stream));
  }

  /** Counts rows through a second connection, as another process would see the file. */
  private long countRows(String table) throws SQLException {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dbFile());
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT count(*) FROM " + table)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static void awaitTrue(BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("condition not met within 5 s");
      }
      Thread.sleep(20);
    }
  }

  @Test
  void dictionaries_theNewestPerStreamSurvivesAReopen() throws Exception {
    SqliteOutbox outbox = open(OutboxLimits.defaults());
    assertThat(outbox.savedDictionaries()).isEmpty();
    outbox.saveDictionary("a", 3, new byte[] {1, 2, 3});
    outbox.saveDictionary("a", 5, new byte[] {5, 5});
    outbox.saveDictionary("b", 4, new byte[] {4});
    outbox.close();

    SqliteOutbox again = open(OutboxLimits.defaults());
    List<io.edgesync.engine.edge.Outbox.SavedDictionary> saved = again.savedDictionaries();
    assertThat(saved).extracting(d -> d.stream() + ":" + d.id()).containsExactly("a:5", "b:4");
    assertThat(saved.get(0).bytes()).containsExactly(5, 5);
    again.close();
  }
}
