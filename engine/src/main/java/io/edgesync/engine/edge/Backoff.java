package io.edgesync.engine.edge;

import java.util.random.RandomGenerator;

/**
 * Capped exponential backoff with jitter for reconnects. The n-th consecutive failure waits a
 * random time in [cap/2, cap] where cap = min(maxMs, initialMs * multiplier^n) ("equal jitter":
 * never hammers the server in lockstep, never waits less than half the nominal delay). Not thread
 * safe; owned by the engine's thread.
 */
final class Backoff {
  private final long initialMs;
  private final long maxMs;
  private final double multiplier;
  private final RandomGenerator random;
  private int failures;

  public Backoff(long initialMs, long maxMs, double multiplier, RandomGenerator random) {
    if (initialMs < 1 || maxMs < initialMs || multiplier < 1.0) {
      throw new IllegalArgumentException(
          "backoff needs 1 <= initialMs <= maxMs and multiplier >= 1, got initialMs="
              + initialMs
              + " maxMs="
              + maxMs
              + " multiplier="
              + multiplier);
    }
    this.initialMs = initialMs;
    this.maxMs = maxMs;
    this.multiplier = multiplier;
    this.random = random;
  }

  /** Records a failure and returns how long to wait before the next attempt. */
  public long nextDelayMs() {
    double nominal = initialMs * Math.pow(multiplier, Math.min(failures, 62));
    long cap = (long) Math.min(maxMs, nominal);
    failures++;
    long half = cap / 2;
    return half + random.nextLong(cap - half + 1);
  }

  /** A session got established: the next failure starts from the initial delay again. */
  public void reset() {
    failures = 0;
  }

  public int failures() {
    return failures;
  }
}
