package io.edgesync.agent.internal;

import java.util.HashMap;
import java.util.Map;

/**
 * How fast each stream's queue drains, for the drain estimate in the metrics: the rate at which the
 * cloud acknowledges records ({@link AppendRate} over the acknowledged counts, sampled whenever the
 * agent's status is read), and from it, with the append rate, when the queue will be empty.
 *
 * <p>Thread safe (status is read from the local API's threads).
 */
public final class DrainWatch {
  private final Map<String, AppendRate> acked = new HashMap<>();
  private final Map<String, Long> lastAcked = new HashMap<>();

  /**
   * The stream's acknowledged count at {@code nowMs}; returns the acknowledgement rate in records
   * per second, -1 until a minute of samples.
   */
  public synchronized double sample(String stream, long nowMs, long acknowledged) {
    AppendRate rate = acked.computeIfAbsent(stream, s -> new AppendRate());
    Long before = lastAcked.get(stream);
    // Status is read from several threads: a sample may carry an older count than the last one;
    // it adds nothing, and the baseline stays at the highest count seen.
    lastAcked.put(stream, before == null ? acknowledged : Math.max(before, acknowledged));
    // The first sample only sets the baseline: what was acknowledged before is not a rate.
    rate.record(nowMs, before == null ? 0 : Math.max(0, acknowledged - before), 0);
    return rate.recordsPerSec(nowMs);
  }

  /**
   * Seconds until {@code queued} records are acknowledged at the measured rates: the queue shrinks
   * by what is acknowledged minus what is appended. 0 when nothing is queued; -1 when unknown (a
   * rate not measured yet), while not connected (the measured rate only fades then, it never
   * reaches 0), or when the queue does not shrink (appends outpace sends).
   */
  public static double etaSeconds(
      long queued, double ackPerSec, double appendPerSec, boolean connected) {
    if (queued == 0) {
      return 0;
    }
    if (ackPerSec < 0 || !connected) {
      return -1;
    }
    double net = ackPerSec - Math.max(0, appendPerSec);
    return net <= 0 ? -1 : queued / net;
  }
}
