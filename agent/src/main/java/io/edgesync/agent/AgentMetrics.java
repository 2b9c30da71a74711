package io.edgesync.agent;

/**
 * The brief's metrics snapshot: records by status (all time for synced and dropped, current for
 * pending and in flight), bytes and batches sent since the agent started, and queue depth; then the
 * bytes on the wire of the record batches, all time (kept in the outbox across restarts; raw = the
 * records uncompressed, in the record layout; encoded = the batch payloads; frames = whole frames;
 * {@code compressionRatio} = raw / frames), the daily budget spent today (-1 without a budget),
 * records waiting in deferred streams, and records a dedup window left out since start.
 */
public record AgentMetrics(
    long pending,
    long inFlight,
    long synced,
    long dropped,
    long rejected,
    long bytesSent,
    long batchesSent,
    long recordsSent,
    long queueDepthRecords,
    long queueDepthBytes,
    long rawBytes,
    long encodedBytes,
    long batchFrameBytes,
    double compressionRatio,
    long budgetSpentBytes,
    long deferredRecords,
    long duplicateRecords) {}
