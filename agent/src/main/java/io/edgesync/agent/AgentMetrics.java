package io.edgesync.agent;

/**
 * The brief's metrics snapshot: records by status (all time for synced and dropped, current for
 * pending and in flight), bytes and batches sent since the agent started, and queue depth.
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
    long queueDepthBytes) {}
