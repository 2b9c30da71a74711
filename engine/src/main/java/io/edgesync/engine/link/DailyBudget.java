package io.edgesync.engine.link;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A device's daily byte budget: every frame the engine sends is counted against the UTC day of the
 * engine's {@code nowMs}; the count starts over at 00:00 UTC.
 *
 * <p>Spent on the highest priorities first: a stream may use only what is left after a reserve for
 * the streams more important than it — their queued backlog (its estimated wire size) plus, pro
 * rata for the rest of the day, what they sent on the previous day. So a low-priority backlog
 * cannot use up in the morning what a high-priority trickle will need in the evening, and when the
 * budget is short the most important data goes first. Streams of the same priority share equally
 * (first come, first served in send order).
 *
 * <p>Not thread safe: owned by the engine's thread.
 *
 * <p>Public for {@code io.edgesync.engine.edge}: the edge engine owns one.
 */
public final class DailyBudget {
  static final long DAY_MS = 86_400_000L;

  /** What a more important stream is expected to need: its priority and queued wire bytes. */
  public record Need(String stream, int priority, long queuedWireBytes) {}

  private final long budgetBytes;
  private long day = Long.MIN_VALUE;
  private long spent;
  private final Map<String, Long> spentToday = new HashMap<>();
  private Map<String, Long> spentYesterday = Map.of();

  public DailyBudget(long budgetBytes) {
    this.budgetBytes = budgetBytes;
  }

  public boolean enabled() {
    return budgetBytes > 0;
  }

  public long budgetBytes() {
    return budgetBytes;
  }

  /** Restores what was spent on {@code savedDay} (from the outbox), if that is still today. */
  public void restore(long nowMs, long savedDay, long savedSpent) {
    roll(nowMs);
    if (savedDay == day) {
      spent = Math.max(spent, savedSpent);
    }
  }

  /** Counts {@code bytes} sent now; {@code stream} is null for frames of no stream. */
  public void onSent(long nowMs, String stream, long bytes) {
    roll(nowMs);
    spent += bytes;
    if (stream != null) {
      spentToday.merge(stream, bytes, Long::sum);
    }
  }

  /** Bytes spent today. */
  public long spent(long nowMs) {
    roll(nowMs);
    return spent;
  }

  /** The UTC day number of {@code nowMs}. */
  static long dayOf(long nowMs) {
    return Math.floorDiv(nowMs, DAY_MS);
  }

  /** When the count starts over. */
  public long nextResetMs(long nowMs) {
    return (dayOf(nowMs) + 1) * DAY_MS;
  }

  /**
   * Bytes a stream of {@code priority} may still send today: the budget left minus the reserve for
   * the streams in {@code needs} that are more important (a lower priority number). Negative or
   * zero: nothing.
   */
  public long allowance(long nowMs, int priority, List<Need> needs) {
    return budgetBytes - spent(nowMs) - reserve(nowMs, priority, needs);
  }

  /** What {@link #allowance} keeps back for streams more important than {@code priority}. */
  public long reserve(long nowMs, int priority, List<Need> needs) {
    roll(nowMs);
    long leftOfDayMs = nextResetMs(nowMs) - nowMs;
    long reserve = 0;
    for (Need n : needs) {
      if (n.priority() < priority) {
        long yesterday = spentYesterday.getOrDefault(n.stream(), 0L);
        reserve +=
            Math.max(0, n.queuedWireBytes()) + (long) ((double) yesterday * leftOfDayMs / DAY_MS);
      }
    }
    return reserve;
  }

  private void roll(long nowMs) {
    long d = dayOf(nowMs);
    if (d == day) {
      return;
    }
    spentYesterday = d == day + 1 ? Map.copyOf(spentToday) : Map.of();
    spentToday.clear();
    spent = 0;
    day = d;
  }

  /** Today's day number (after a roll). */
  public long day(long nowMs) {
    roll(nowMs);
    return day;
  }
}
