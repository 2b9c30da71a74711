package io.edgesync.engine.edge;

import java.util.function.LongSupplier;

/**
 * When a flush starts ({@link SyncPolicy}'s triggers): enough records or bytes unsent, the oldest
 * unsent write old enough, writes gone quiet for the debounce, the schedule, or a request (a
 * reconnect with a backlog, on-demand sync, a stream released from a deferral). A flush then drains
 * everything queued, within the in-flight window, until the engine runs dry.
 *
 * <p>Not thread safe: owned by the engine's thread.
 */
final class FlushTriggers {
  private static final long NONE = Long.MIN_VALUE;

  private final SyncPolicy policy;
  private boolean requested;
  private long lastWriteMs = NONE;
  private long firstUnflushedMs = NONE;
  private long nextScheduledMs = NONE;

  FlushTriggers(SyncPolicy policy) {
    this.policy = policy;
  }

  /** The engine starts; {@code hasUnsent}: records from before the start wait to be sent. */
  void start(long nowMs, boolean hasUnsent) {
    if (policy.scheduled()) {
      nextScheduledMs = nowMs + policy.intervalMs();
    }
    if (hasUnsent) {
      firstUnflushedMs = nowMs;
    }
  }

  boolean requested() {
    return requested;
  }

  void request() {
    requested = true;
  }

  /** Whether the schedule fired (the next tick is then set). */
  boolean scheduleDue(long nowMs) {
    if (nextScheduledMs != NONE && nowMs >= nextScheduledMs) {
      nextScheduledMs = nowMs + policy.intervalMs();
      return true;
    }
    return false;
  }

  void onAppended(long nowMs) {
    lastWriteMs = nowMs;
    if (firstUnflushedMs == NONE) {
      firstUnflushedMs = nowMs;
    }
  }

  /** The flush sent everything it could: the next one waits for a trigger. */
  void ranDry() {
    requested = false;
    firstUnflushedMs = NONE;
  }

  /** Requests a flush if a trigger fired. */
  void evaluate(long nowMs, LongSupplier unsentRecords, LongSupplier unsentBytes) {
    if (requested) {
      return;
    }
    long unsent = unsentRecords.getAsLong();
    if (unsent == 0) {
      firstUnflushedMs = NONE;
      return;
    }
    if (unsent >= policy.batchMinRecords() || unsentBytes.getAsLong() >= policy.batchMinBytes()) {
      requested = true;
    } else if (firstUnflushedMs != NONE && nowMs - firstUnflushedMs >= policy.batchMaxAgeMs()) {
      requested = true;
    } else if (policy.eventDriven()
        && lastWriteMs != NONE
        && nowMs - lastWriteMs >= policy.debounceMs()) {
      requested = true;
    }
  }

  /** {@code t}, or earlier if a trigger fires before it ({@code active}: a session is open). */
  long wakeupMs(long t, boolean active, LongSupplier unsentRecords) {
    if (nextScheduledMs != NONE) {
      t = Math.min(t, nextScheduledMs);
    }
    if (active && !requested && unsentRecords.getAsLong() > 0) {
      if (firstUnflushedMs != NONE) {
        t = Math.min(t, firstUnflushedMs + policy.batchMaxAgeMs());
      }
      if (policy.eventDriven() && lastWriteMs != NONE) {
        t = Math.min(t, lastWriteMs + policy.debounceMs());
      }
    }
    return t;
  }
}
