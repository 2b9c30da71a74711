package io.edgesync.engine.edge;

/**
 * A mutable builder of {@link SyncPolicy} with test-friendly defaults: event-driven with a 1 s
 * debounce, no schedule, thresholds out of the way, batches of 10 records, a window of 2 batches, 1
 * s initial backoff.
 *
 * <p>Public for {@code io.edgesync.engine.EngineLoopbackSimulationTest}.
 */
public final class TestPolicy {
  boolean eventDriven = true;
  public long debounceMs = 1_000;
  public boolean scheduled = false;
  public long intervalMs = 60_000;
  public long batchMinRecords = 1_000;
  long batchMinBytes = 1L << 20;
  public long batchMaxAgeMs = 5_000;
  public int maxBatchRecords = 10;
  long maxBatchBytes = 1L << 20;
  public int maxInFlightBatches = 2;
  long maxInFlightBytes = 1L << 30;
  long heartbeatIntervalMs = 15_000;
  long heartbeatTimeoutMs = 45_000;
  long connectTimeoutMs = 10_000;
  long handshakeTimeoutMs = 10_000;
  public long backoffInitialMs = 1_000;
  public long backoffMaxMs = 60_000;
  double backoffMultiplier = 2.0;

  public SyncPolicy build() {
    return new SyncPolicy(
        "dev-1",
        "test-agent/1",
        eventDriven,
        debounceMs,
        scheduled,
        intervalMs,
        batchMinRecords,
        batchMinBytes,
        batchMaxAgeMs,
        maxBatchRecords,
        maxBatchBytes,
        maxInFlightBatches,
        maxInFlightBytes,
        heartbeatIntervalMs,
        heartbeatTimeoutMs,
        connectTimeoutMs,
        handshakeTimeoutMs,
        backoffInitialMs,
        backoffMaxMs,
        backoffMultiplier);
  }
}
