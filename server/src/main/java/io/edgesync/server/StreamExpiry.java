package io.edgesync.server;

import io.edgesync.protocol.Clock;
import io.edgesync.server.ExpirySql.StoredBatch;
import io.edgesync.server.ExpirySql.StreamKey;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Retention in the cloud: deletes the stored batches of each device's stream that its {@link
 * RetentionRules.Policy} expires — committed longer ago than {@code maxAgeMs}, and the oldest while
 * the stream stores more than {@code maxBytes} — but never a record above the {@link ExpiryHold}.
 *
 * <p>Only a prefix expires: the oldest batches in sequence order, up to the first one that must
 * stay, so what is left is one contiguous range above {@code expired_through_seq} (a wall clock
 * stepping back cannot punch holes in the middle). The checkpoint ({@code streams.last_seq}) is
 * untouched, so devices never resend what expired; what expired is counted per device and stream
 * ({@link io.edgesync.engine.cloud.CloudStore.StreamSummary#expired}).
 *
 * <p>Deletes at most {@link #MAX_BATCHES_PER_TRANSACTION} batches per transaction and releases the
 * store between them, so that a large expiry does not hold commits back for long.
 *
 * <p>Thread safety: {@link #runOnce} may be called from any thread, one call at a time (the
 * scheduler's thread after {@link #start}, or a test); {@link #start} and {@link #close} from the
 * owner. Totals are read by any thread.
 */
public final class StreamExpiry implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(StreamExpiry.class);

  /** Batches one transaction deletes at most (a commit waits at most this long for one). */
  public static final int MAX_BATCHES_PER_TRANSACTION = 1_000;

  /** What one run expired. */
  public record Run(long streams, long batches, long records, long bytes) {}

  private final ExpirySql sql;
  private final RetentionRules rules;
  private volatile ExpiryHold hold;
  private final Clock clock;
  private final int maxBatchesPerTransaction;
  private ScheduledExecutorService timer; // guarded by this
  private volatile Runnable afterTransaction = () -> {};

  StreamExpiry(
      ExpirySql sql,
      RetentionRules rules,
      ExpiryHold hold,
      Clock clock,
      int maxBatchesPerTransaction) {
    if (maxBatchesPerTransaction < 1 || maxBatchesPerTransaction > MAX_BATCHES_PER_TRANSACTION) {
      throw new IllegalArgumentException(
          "maxBatchesPerTransaction must be in 1.."
              + MAX_BATCHES_PER_TRANSACTION
              + ", not "
              + maxBatchesPerTransaction);
    }
    this.sql = sql;
    this.rules = rules;
    this.hold = java.util.Objects.requireNonNull(hold, "hold");
    this.clock = clock;
    this.maxBatchesPerTransaction = maxBatchesPerTransaction;
  }

  /**
   * From the next stream on, expires nothing above {@code newHold} (an exporter sets its position
   * here, before it starts; {@link ExpiryHold#NONE} lifts the hold).
   */
  public void hold(ExpiryHold newHold) {
    this.hold = java.util.Objects.requireNonNull(newHold, "hold");
  }

  /** Runs expiry every {@code rules.intervalMs()} on a thread of its own. Idempotent. */
  public synchronized void start() {
    if (timer != null || rules.keepsEverythingForever()) {
      return;
    }
    timer =
        Executors.newSingleThreadScheduledExecutor(DaemonThreads.lowPriority("edgesync-expiry"));
    timer.scheduleWithFixedDelay(
        this::runLogged, rules.intervalMs(), rules.intervalMs(), TimeUnit.MILLISECONDS);
  }

  /** Stops the schedule; a run in progress ends after its current transaction. */
  @Override
  public synchronized void close() {
    if (timer != null) {
      timer.shutdownNow();
      try {
        timer.awaitTermination(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      timer = null;
    }
  }

  private void runLogged() {
    try {
      Run r = runOnce(clock.nowMs());
      if (r.batches() > 0) {
        log.info(
            "retention expired {} records ({} bytes, {} batches) of {} streams",
            r.records(),
            r.bytes(),
            r.batches(),
            r.streams());
      }
    } catch (RuntimeException e) {
      // The next run tries again; a failing store must not end the schedule.
      log.warn("retention run failed: {}", e.toString(), e);
    }
  }

  /** Expires what the rules expire at {@code nowMs}, stream by stream. */
  public Run runOnce(long nowMs) {
    long streams = 0;
    long batches = 0;
    long records = 0;
    long bytes = 0;
    for (StreamKey key : sql.streams()) {
      if (Thread.currentThread().isInterrupted()) {
        break; // closing
      }
      RetentionRules.Policy policy = rules.policyFor(key.stream());
      if (policy.keepsForever()) {
        continue;
      }
      Run r = expire(key, policy, nowMs);
      if (r.batches() > 0) {
        streams++;
        batches += r.batches();
        records += r.records();
        bytes += r.bytes();
      }
    }
    return new Run(streams, batches, records, bytes);
  }

  /** One stream: transactions of at most the bound each, until the first batch that stays. */
  private Run expire(StreamKey key, RetentionRules.Policy policy, long nowMs) {
    long cutoffMs = policy.maxAgeMs() == 0 ? Long.MIN_VALUE : nowMs - policy.maxAgeMs();
    long maxSeq = hold.mayExpireThrough(key.device(), key.stream());
    long[] stored = {policy.maxBytes() == 0 ? 0 : sql.storedBytes(key)};
    long batches = 0;
    long records = 0;
    long bytes = 0;
    while (!Thread.currentThread().isInterrupted()) {
      List<StoredBatch> expired =
          sql.expireOldest(
              key,
              maxBatchesPerTransaction,
              oldest -> prefix(oldest, cutoffMs, policy.maxBytes(), stored[0], maxSeq));
      for (StoredBatch b : expired) {
        stored[0] -= b.bytes();
        batches++;
        records += b.records();
        bytes += b.bytes();
      }
      afterTransaction.run();
      if (expired.size() < maxBatchesPerTransaction) {
        break; // stopped at a batch that stays, or the stream is empty
      }
    }
    return new Run(1, batches, records, bytes);
  }

  /**
   * How many of {@code oldest} expire: each while it is older than the cutoff or the stream is over
   * its bytes, and not above the hold; the first that stays ends the prefix.
   */
  static int prefix(
      List<StoredBatch> oldest, long cutoffMs, long maxBytes, long storedBytes, long maxSeq) {
    long left = storedBytes;
    int n = 0;
    for (StoredBatch b : oldest) {
      boolean tooOld = b.committedAtMs() < cutoffMs;
      boolean overBytes = maxBytes > 0 && left > maxBytes;
      if (b.lastSeq() > maxSeq || !(tooOld || overBytes)) {
        break;
      }
      left -= b.bytes();
      n++;
    }
    return n;
  }

  /** For tests: runs after each transaction of a run, on the run's thread. */
  void afterEachTransaction(Runnable hook) {
    this.afterTransaction = hook;
  }
}
