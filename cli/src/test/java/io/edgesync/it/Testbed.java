package io.edgesync.it;

import io.edgesync.agent.AgentConfig;
import io.edgesync.engine.SyncPolicy;

/** Shared settings for end-to-end tests. */
final class Testbed {
  private Testbed() {}

  /** Sync quickly: 20 ms debounce and age, fast reconnects. */
  static AgentConfig fastSync(AgentConfig c) {
    SyncPolicy d = c.sync();
    return c.withSync(
        new SyncPolicy(
            d.deviceId(),
            d.agentVersion(),
            true,
            20,
            false,
            d.intervalMs(),
            1_000,
            256 * 1024,
            50,
            d.maxBatchRecords(),
            d.maxBatchBytes(),
            d.maxInFlightBatches(),
            d.maxInFlightBytes(),
            1_000,
            5_000,
            2_000,
            2_000,
            50,
            500,
            2.0));
  }
}
