package io.edgesync.agent.internal;

import io.edgesync.agent.OutboxLimits;
import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Measures the append rate, per stream and for the whole agent, and watches the queue's capacity in
 * time ({@link QueueCapacity}): once the agent's rate is measured it logs the capacity, at WARN
 * when the queue fills before {@code max_offline_hours}. The WARN is logged when the mismatch
 * appears, not on every check or status read; it may appear again only after the capacity was back
 * above {@link #CLEAR_FACTOR} times {@code max_offline_hours} (a rate hovering at the threshold
 * does not log every {@link #CHECK_INTERVAL_MS}).
 *
 * <p>Time is passed in. Thread safe: appenders report from their threads, status is read from the
 * local API's; every method is synchronized (a few multiplications per append request).
 */
public final class CapacityWatch {
  private static final Logger log = LoggerFactory.getLogger(CapacityWatch.class);

  /** How often appends re-check the capacity at most. */
  static final long CHECK_INTERVAL_MS = 10_000;

  /** A warning clears once the queue holds this multiple of {@code max_offline_hours}. */
  static final double CLEAR_FACTOR = 1.25;

  private static final long NONE = Long.MIN_VALUE;

  private final String deviceId;
  private final OutboxLimits limits;
  private final AppendRate total = new AppendRate();
  private final Map<String, AppendRate> byStream = new HashMap<>(); // streams of the outbox
  private long lastCheckMs = NONE;
  private boolean logged;
  private boolean warned;

  public CapacityWatch(String deviceId, OutboxLimits limits) {
    this.deviceId = deviceId;
    this.limits = limits;
  }

  /** Per stream: records and payload bytes per second, -1 while not measured. */
  public record Rate(double recordsPerSec, double bytesPerSec) {
    static final Rate UNKNOWN = new Rate(-1, -1);
  }

  /**
   * Records appended to {@code stream} (or offered and refused because the queue was full: the rate
   * is what the application appends, whether or not it fits).
   */
  public synchronized void onAppended(long nowMs, String stream, long records, long bytes) {
    total.record(nowMs, records, bytes);
    byStream.computeIfAbsent(stream, s -> new AppendRate()).record(nowMs, records, bytes);
    if (lastCheckMs == NONE || nowMs - lastCheckMs >= CHECK_INTERVAL_MS || nowMs < lastCheckMs) {
      lastCheckMs = nowMs;
      check(nowMs);
    }
  }

  /** The capacity at the agent's current rate, with what is queued now. */
  public synchronized QueueCapacity.Estimate estimate(
      long nowMs, long queuedRecords, long queuedBytes) {
    return QueueCapacity.estimate(
        limits,
        rounded(total.recordsPerSec(nowMs)),
        rounded(total.bytesPerSec(nowMs)),
        queuedRecords,
        queuedBytes);
  }

  public synchronized Rate rate(long nowMs, String stream) {
    AppendRate r = byStream.get(stream);
    return r == null
        ? Rate.UNKNOWN
        : new Rate(rounded(r.recordsPerSec(nowMs)), rounded(r.bytesPerSec(nowMs)));
  }

  /** Four significant digits: an estimate shown as 9.983342592590725 claims a false precision. */
  static double rounded(double rate) {
    if (rate <= 0 || Double.isNaN(rate) || Double.isInfinite(rate)) {
      return rate;
    }
    return new java.math.BigDecimal(rate).round(new java.math.MathContext(4)).doubleValue();
  }

  private void check(long nowMs) {
    if (!total.measured(nowMs)) {
      return;
    }
    QueueCapacity.Estimate e = estimate(nowMs, 0, 0);
    if (e.warning() != null) {
      if (!warned) {
        log.warn("{}: {}", deviceId, e.warning());
        warned = true;
        logged = true;
      }
    } else if (warned) {
      if (e.view().holdsMs() >= CLEAR_FACTOR * limits.maxRecordAgeMs()) {
        log.info("{}: the queue is large enough again: {}", deviceId, e.view().summary());
        warned = false;
      }
    } else if (!logged) {
      log.info("{}: {}", deviceId, e.view().summary());
      logged = true;
    }
  }
}
