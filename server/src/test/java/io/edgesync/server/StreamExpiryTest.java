package io.edgesync.server;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.edgesync.engine.cloud.CloudStore;
import io.edgesync.protocol.Record;
import io.edgesync.protocol.RecordLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Retention of stream batches in the cloud store ({@link StreamExpiry}), run with given times. */
class StreamExpiryTest {
  private static final long DAY_MS = 86_400_000L;

  @TempDir Path dir;
  private SqliteCloudStore store;

  @BeforeEach
  void open() throws Exception {
    store = new SqliteCloudStore(dir.resolve("c.db"));
  }

  @AfterEach
  void close() {
    store.close();
  }

  /** Ten records from {@code first}, each payload 20 bytes. */
  private static List<Record> batch(long first) {
    List<Record> out = new ArrayList<>();
    for (long s = first; s < first + 10; s++) {
      out.add(new Record(s, 1_000 + s, String.format("{\"n\":%014d}", s).getBytes(UTF_8)));
    }
    return out;
  }

  /** The bytes a batch of {@link #batch} takes as stored. */
  private static long storedBytes(long first) {
    return RecordLayout.encode(batch(first)).length;
  }

  /** Commits batches 1..10, 11..20, ... of {@code device}/{@code stream}, one per time given. */
  private void commit(String device, String stream, long... committedAtMs) throws Exception {
    long next = store.checkpoints(device).getOrDefault(stream, 0L) + 1;
    for (long t : committedAtMs) {
      store.commitRecords(device, stream, batch(next), t);
      next += 10;
    }
  }

  private StreamExpiry expiry(RetentionRules rules, ExpiryHold hold) {
    return store.streamExpiry(rules, hold, () -> 0);
  }

  private static RetentionRules rules(
      RetentionRules.Policy defaults, Map<String, RetentionRules.Policy> streams) {
    return new RetentionRules(60_000, defaults, streams);
  }

  private CloudStore.StreamSummary summary(String device, String stream) {
    return store.streams(device).stream()
        .filter(s -> s.stream().equals(stream))
        .findFirst()
        .orElseThrow();
  }

  private List<Long> sequences(String device, String stream) {
    return store.read(device, stream, 0, 1000).stream().map(Record::sequence).toList();
  }

  @Test
  void maxAge_expiresTheBatchesCommittedBeforeTheCutoff_keepsTheCheckpoint_andCountsThem()
      throws Exception {
    commit("d", "logs", 1 * DAY_MS, 2 * DAY_MS, 3 * DAY_MS);
    StreamExpiry expiry =
        expiry(rules(new RetentionRules.Policy(DAY_MS, 0), Map.of()), ExpiryHold.NONE);

    // At day 3.5 the cutoff is day 2.5: the batches of day 1 and day 2 expire.
    StreamExpiry.Run run = expiry.runOnce(3 * DAY_MS + DAY_MS / 2);

    assertThat(run.batches()).isEqualTo(2);
    assertThat(run.records()).isEqualTo(20);
    assertThat(sequences("d", "logs")).first().isEqualTo(21L);
    assertThat(sequences("d", "logs")).hasSize(10);
    CloudStore.StreamSummary s = summary("d", "logs");
    assertThat(s.lastSequence()).isEqualTo(30); // the device is not asked to resend
    assertThat(s.records()).isEqualTo(30); // committed, expired ones included
    assertThat(s.expired())
        .isEqualTo(new CloudStore.StreamSummary.Expired(20, storedBytes(1) + storedBytes(11), 20));
    // The stream goes on from its checkpoint.
    assertThat(store.commitRecords("d", "logs", batch(31), 4 * DAY_MS)).isEqualTo(40);
    // A second run at the same time finds nothing more.
    assertThat(expiry.runOnce(3 * DAY_MS + DAY_MS / 2).batches()).isZero();
    assertThat(summary("d", "logs").expired().records()).isEqualTo(20);
  }

  @Test
  void maxBytes_expiresTheOldestBatchesWhileTheStreamStoresMoreThanTheLimit() throws Exception {
    commit("d", "sensors", 1, 2, 3, 4, 5);
    long each = storedBytes(1);
    // 5 batches stored; the limit holds two and a half: the oldest three go.
    RetentionRules r = rules(new RetentionRules.Policy(0, each * 5 / 2), Map.of());

    StreamExpiry.Run run = expiry(r, ExpiryHold.NONE).runOnce(10);

    assertThat(run.batches()).isEqualTo(3);
    assertThat(sequences("d", "sensors")).first().isEqualTo(31L);
    assertThat(summary("d", "sensors").expired().throughSequence()).isEqualTo(30);
    assertThat(summary("d", "sensors").expired().bytes()).isEqualTo(3 * each);
  }

  @Test
  void ageAndBytesTogether_aBatchExpiresWhenEitherLimitSaysSo() throws Exception {
    commit("d", "logs", 100, 200, 300, 400, 500);
    long each = storedBytes(1);
    // Age alone expires the batch of time 100; bytes alone (limit: 3 batches) the oldest two.
    StreamExpiry.Run both =
        expiry(rules(new RetentionRules.Policy(850, 3 * each), Map.of()), ExpiryHold.NONE)
            .runOnce(1_000);
    assertThat(both.batches()).isEqualTo(2);
    // Time moves on: now age expires through time 300, more than bytes asks for.
    StreamExpiry.Run later =
        expiry(rules(new RetentionRules.Policy(850, 3 * each), Map.of()), ExpiryHold.NONE)
            .runOnce(1_200);
    assertThat(later.batches()).isEqualTo(1);
    assertThat(sequences("d", "logs")).first().isEqualTo(31L);
  }

  @Test
  void limitsArePerDeviceAndStream_otherStreamsAndDevicesAreNotTouched() throws Exception {
    commit("d1", "logs", 1, 2, 3);
    commit("d2", "logs", 1000, 1001, 1002);
    commit("d1", "events", 1, 2, 3);
    RetentionRules r =
        rules(RetentionRules.Policy.NONE, Map.of("logs", new RetentionRules.Policy(500, 0)));

    expiry(r, ExpiryHold.NONE).runOnce(1_000);

    assertThat(sequences("d1", "logs")).isEmpty();
    assertThat(summary("d1", "logs").expired().records()).isEqualTo(30);
    assertThat(sequences("d2", "logs")).hasSize(30); // committed after the cutoff
    assertThat(summary("d2", "logs").expired()).isEqualTo(CloudStore.StreamSummary.Expired.NONE);
    assertThat(sequences("d1", "events")).hasSize(30); // no policy: kept forever
    assertThat(summary("d1", "events").expired()).isEqualTo(CloudStore.StreamSummary.Expired.NONE);
  }

  @Test
  void streamsMapToTheirExactName_elseTheFirstMatchingGlob_elseTheDefault() throws Exception {
    java.util.LinkedHashMap<String, RetentionRules.Policy> streams =
        new java.util.LinkedHashMap<>();
    streams.put("sensors.*", new RetentionRules.Policy(100, 0));
    streams.put("sensors.keep", RetentionRules.Policy.NONE);
    streams.put("sens*", new RetentionRules.Policy(1, 0));
    RetentionRules r = rules(new RetentionRules.Policy(10_000, 0), streams);
    for (String s : List.of("sensors.a", "sensors.keep", "sensors", "logs")) {
      commit("d", s, 50);
    }

    expiry(r, ExpiryHold.NONE).runOnce(1_000);

    assertThat(sequences("d", "sensors.a")).isEmpty(); // sensors.*: 100 ms
    assertThat(sequences("d", "sensors.keep")).hasSize(10); // exact name: kept forever
    assertThat(sequences("d", "sensors")).isEmpty(); // not sensors.*, but sens*: 1 ms
    assertThat(sequences("d", "logs")).hasSize(10); // default: 10 s
  }

  @Test
  void hold_neverLetsARecordAboveItExpire() throws Exception {
    commit("d", "logs", 1, 2, 3);
    commit("other", "logs", 1, 2, 3);
    // The exporter has handed on d's records through 15: batch 11..20 is held back whole.
    ExpiryHold hold = (device, stream) -> device.equals("d") ? 15 : 0;
    RetentionRules r = rules(new RetentionRules.Policy(1, 0), Map.of());

    StreamExpiry expiry = expiry(r, hold);
    expiry.runOnce(1_000);

    assertThat(sequences("d", "logs")).first().isEqualTo(11L);
    assertThat(summary("d", "logs").expired().throughSequence()).isEqualTo(10);
    assertThat(sequences("other", "logs")).hasSize(30); // held at 0: nothing
    // Once the hold is lifted, the rest may go.
    expiry.hold(ExpiryHold.NONE);
    expiry.runOnce(1_000);
    assertThat(sequences("d", "logs")).isEmpty();
  }

  @Test
  void largeExpiry_deletesInBoundedTransactions_andCommitsGetInBetweenThem() throws Exception {
    for (int i = 0; i < 10; i++) {
      commit("d", "logs", i);
    }
    StreamExpiry expiry =
        store.streamExpiry(
            rules(new RetentionRules.Policy(1, 0), Map.of()), ExpiryHold.NONE, () -> 0, 3);
    AtomicInteger transactions = new AtomicInteger();
    AtomicInteger commitsBetween = new AtomicInteger();
    expiry.afterEachTransaction(
        () -> {
          transactions.incrementAndGet();
          // Another thread commits now: it would wait forever if a run held the store throughout.
          CompletableFuture<Long> commit =
              CompletableFuture.supplyAsync(
                  () -> {
                    try {
                      long next = store.checkpoints("d2").getOrDefault("s", 0L) + 1;
                      return store.commitRecords("d2", "s", batch(next), 0);
                    } catch (CloudStore.SequenceException e) {
                      throw new IllegalStateException(e);
                    }
                  });
          try {
            commit.get(10, TimeUnit.SECONDS);
            commitsBetween.incrementAndGet();
          } catch (Exception e) {
            throw new AssertionError("a commit waited for the expiry run: " + e, e);
          }
        });

    StreamExpiry.Run run = expiry.runOnce(1_000);

    assertThat(run.batches()).isEqualTo(10);
    assertThat(transactions.get()).isEqualTo(4); // 3 + 3 + 3 + 1
    assertThat(commitsBetween.get()).isEqualTo(transactions.get());
    assertThat(sequences("d", "logs")).isEmpty();
    // d2/s was committed at time 0 during the run: older than the cutoff, but it is in the list
    // of streams only from the next run on, when it expires too.
    assertThat(summary("d2", "s").lastSequence()).isEqualTo(10L * transactions.get());
  }

  @Test
  void noRules_keepEverythingForever() throws Exception {
    commit("d", "logs", 1, 2);
    StreamExpiry.Run run =
        expiry(RetentionRules.KEEP_FOREVER, ExpiryHold.NONE).runOnce(DAY_MS * 9999);
    assertThat(run.batches()).isZero();
    assertThat(sequences("d", "logs")).hasSize(20);
  }
}
