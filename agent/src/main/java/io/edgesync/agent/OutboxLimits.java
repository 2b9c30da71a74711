package io.edgesync.agent;

/**
 * Bounds of the edge outbox. Queued means appended and not yet acknowledged by the cloud.
 *
 * @param maxQueueRecords the brief's {@code queue_max_size}, all streams together
 * @param maxQueueBytes payload bytes, all streams together ({@code queue.max_bytes})
 * @param maxRecordAgeMs records older than this are dropped as expired (the brief's {@code
 *     max_offline_hours}); checked every {@code expiryCheckIntervalMs}
 * @param blockTimeoutMs how long {@link OverflowPolicy#BLOCK} waits before refusing
 * @param maxGroupRecords records committed together at most in one group commit
 * @param maxPendingAppends append requests waiting for the writer; more make callers wait
 * @param fullSync fsync on every commit (power-loss safe); false syncs at checkpoints only
 */
public record OutboxLimits(
    long maxQueueRecords,
    long maxQueueBytes,
    long maxRecordAgeMs,
    OverflowPolicy overflowPolicy,
    long blockTimeoutMs,
    long expiryCheckIntervalMs,
    int maxGroupRecords,
    int maxPendingAppends,
    boolean fullSync) {

  /**
   * {@code queue_max_size} when it is not set: high enough that the byte bound, not the count,
   * decides at typical record sizes (it binds first only below ~107 bytes per record, and then at
   * 10 records/s after 11 days). docs/configuration.md, "How much the queue holds", gives the
   * reasoning. A value the user sets is taken as written.
   */
  public static final long DEFAULT_MAX_QUEUE_RECORDS = 10_000_000;

  /**
   * {@code queue.max_bytes} when it is not set: payload bytes; 1 GiB holds a week of 150-byte
   * records at 11 records/s, 1.1-1.5 GiB on disk (docs/configuration.md).
   */
  public static final long DEFAULT_MAX_QUEUE_BYTES = 1L << 30;

  public static OutboxLimits defaults() {
    return new OutboxLimits(
        DEFAULT_MAX_QUEUE_RECORDS,
        DEFAULT_MAX_QUEUE_BYTES,
        168L * 3600_000,
        OverflowPolicy.DROP_OLDEST,
        30_000,
        60_000,
        16_384,
        65_536,
        true);
  }

  public OutboxLimits withQueue(long records, long bytes, OverflowPolicy policy) {
    return new OutboxLimits(
        records,
        bytes,
        maxRecordAgeMs,
        policy,
        blockTimeoutMs,
        expiryCheckIntervalMs,
        maxGroupRecords,
        maxPendingAppends,
        fullSync);
  }

  public OutboxLimits withAge(long maxAgeMs, long checkIntervalMs) {
    return new OutboxLimits(
        maxQueueRecords,
        maxQueueBytes,
        maxAgeMs,
        overflowPolicy,
        blockTimeoutMs,
        checkIntervalMs,
        maxGroupRecords,
        maxPendingAppends,
        fullSync);
  }

  public OutboxLimits withBlockTimeout(long ms) {
    return new OutboxLimits(
        maxQueueRecords,
        maxQueueBytes,
        maxRecordAgeMs,
        overflowPolicy,
        ms,
        expiryCheckIntervalMs,
        maxGroupRecords,
        maxPendingAppends,
        fullSync);
  }
}
