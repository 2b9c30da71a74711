package io.edgesync.agent;

/**
 * Bounds of the edge outbox. Queued means appended and not yet acknowledged by the cloud.
 *
 * @param maxQueueRecords the brief's {@code queue_max_size}
 * @param maxQueueBytes payload bytes
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

  public static OutboxLimits defaults() {
    return new OutboxLimits(
        10_000_000,
        1024L * 1024 * 1024,
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
