package io.edgesync.engine.edge;

import io.edgesync.engine.link.BandwidthPolicy;

/**
 * {@link SyncPolicy} with test-friendly settings: event-driven with a 1 s debounce, no schedule,
 * thresholds out of the way, batches of 10 records, a window of 2 batches, 1 s initial backoff.
 * Tests change what they need on the builder.
 *
 * <p>Public for {@code io.edgesync.engine.EngineLoopbackSimulationTest}.
 */
public final class TestPolicy {
  private TestPolicy() {}

  /** A builder holding the test settings (every one set here, whatever the product defaults). */
  public static SyncPolicy.Builder builder() {
    return SyncPolicy.builder("dev-1")
        .agentVersion("test-agent/1")
        .eventDriven(true)
        .debounceMs(1_000)
        .scheduled(false)
        .intervalMs(60_000)
        .batchMinRecords(1_000)
        .batchMinBytes(1L << 20)
        .batchMaxAgeMs(5_000)
        .maxBatchRecords(10)
        .maxBatchBytes(1L << 20)
        .maxInFlightBatches(2)
        .maxInFlightBytes(1L << 30)
        .heartbeatIntervalMs(15_000)
        .heartbeatTimeoutMs(45_000)
        .connectTimeoutMs(10_000)
        .handshakeTimeoutMs(10_000)
        .backoffInitialMs(1_000)
        .backoffMaxMs(60_000)
        .backoffMultiplier(2.0);
  }

  /** An engine with {@code policy}, its backoff jitter seeded with 1. */
  static EdgeSyncEngine engine(SyncPolicy.Builder policy, Outbox outbox, EdgeSyncEngine.Io io) {
    return new EdgeSyncEngine(policy.build(), outbox, io, new java.util.SplittableRandom(1));
  }

  /** An engine with {@code policy} and {@code bandwidth}, its backoff jitter seeded with 1. */
  static EdgeSyncEngine engine(
      SyncPolicy.Builder policy, BandwidthPolicy bandwidth, Outbox outbox, EdgeSyncEngine.Io io) {
    return new EdgeSyncEngine(
        policy.build().withBandwidth(bandwidth), outbox, io, new java.util.SplittableRandom(1));
  }
}
