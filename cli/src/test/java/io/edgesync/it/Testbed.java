package io.edgesync.it;

import io.edgesync.agent.AgentConfig;

/** Shared settings for end-to-end tests. */
final class Testbed {
  private Testbed() {}

  /** Sync quickly: 20 ms debounce and age, fast reconnects. */
  static AgentConfig fastSync(AgentConfig c) {
    return c.withSync(
        c.sync()
            .withTriggers(true, 20, false, c.sync().intervalMs(), 1_000, 256 * 1024, 50)
            .withLiveness(1_000, 5_000, 2_000, 2_000, 50, 500));
  }
}
