package io.edgesync.engine.edge;

import io.edgesync.engine.edge.EdgeSyncEngine.BudgetStatus;
import io.edgesync.engine.link.BandwidthPolicy;
import io.edgesync.engine.link.DailyBudget;
import io.edgesync.engine.link.LinkEstimator;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Which streams policy holds back now and why ({@link Deferral}): below {@code minBandwidthKbps}
 * the streams less important than {@code lowBandwidthMaxPriority} (with a probe of the link now and
 * then), and with a daily byte budget the streams whose share is spent. Also keeps the budget's
 * count, saved to the outbox now and then, and when the engine must look again.
 *
 * <p>Not thread safe: owned by the engine's thread.
 */
final class Deferrals {
  private static final long NONE = Long.MIN_VALUE;

  /** What the engine knows about each stream's backlog. */
  interface Backlog {
    /** The stream must not be sent at all (see {@link EdgeSyncEngine#blockedStreams()}). */
    boolean blocked(String stream);

    /** Records of the stream not yet sent in this session. */
    long unsentRecords(Outbox.StreamState s);

    /** Payload bytes of the stream queued and not in flight. */
    long unsentPayloadBytes(Outbox.StreamState s);
  }

  private final BandwidthPolicy bandwidth;
  private final LinkEstimator link;
  private final DailyBudget budget;
  private final Outbox outbox;
  private final WireAccounting wire;
  private final Backlog backlog;

  /** Streams with something to send that policy holds back now. */
  private final Map<String, Deferral> deferred = new LinkedHashMap<>();

  private long wakeMs = NONE;
  private boolean lowBandwidth;
  private long nextProbeAtMs = NONE;
  private boolean probing;
  private long budgetSavedDay = NONE;
  private long budgetSavedSpent;

  Deferrals(
      BandwidthPolicy bandwidth,
      LinkEstimator link,
      Outbox outbox,
      WireAccounting wire,
      Backlog backlog) {
    this.bandwidth = bandwidth;
    this.link = link;
    this.budget = new DailyBudget(bandwidth.dailyBudgetBytes());
    this.outbox = outbox;
    this.wire = wire;
    this.backlog = backlog;
  }

  boolean budgetEnabled() {
    return budget.enabled();
  }

  /**
   * How many bytes data of {@code priority} that is not a stream (file transfers) may put on the
   * link now: none while a slow link holds back that priority, what the budget leaves it, or {@link
   * Long#MAX_VALUE} without a budget.
   */
  long allowance(long nowMs, int priority) {
    if (lowBandwidth && priority > bandwidth.lowBandwidthMaxPriority()) {
      return 0;
    }
    return budget.enabled() ? budget.allowance(nowMs, priority, needs()) : Long.MAX_VALUE;
  }

  boolean isDeferred(String stream) {
    return deferred.containsKey(stream);
  }

  /**
   * Whether the stream is deferred for low bandwidth and may send one batch as the link's probe.
   */
  boolean mayProbe(String stream) {
    Deferral d = deferred.get(stream);
    return probing && d != null && d.reason() == Deferral.Reason.LOW_BANDWIDTH;
  }

  /** The deferred streams with the reason shown to users. */
  Map<String, String> texts() {
    Map<String, String> m = new LinkedHashMap<>();
    for (Map.Entry<String, Deferral> d : deferred.entrySet()) {
      m.put(d.getKey(), d.getValue().text());
    }
    return Map.copyOf(m);
  }

  /** When to look again (a probe of a slow link, the budget's reset), or Long.MIN_VALUE. */
  long wakeMs() {
    return wakeMs;
  }

  boolean lowBandwidth() {
    return lowBandwidth;
  }

  /** On-demand sync on a slow link: probe it at once. */
  void probeNow(long nowMs) {
    if (lowBandwidth) {
      nextProbeAtMs = nowMs;
    }
  }

  /** Starts a probe if one is due: one batch of a deferred stream measures the link again. */
  boolean startProbeIfDue(long nowMs) {
    if (!lowBandwidth || nextProbeAtMs == NONE || nowMs < nextProbeAtMs) {
      return false;
    }
    for (Deferral d : deferred.values()) {
      if (d.reason() == Deferral.Reason.LOW_BANDWIDTH) {
        nextProbeAtMs = nowMs + bandwidth.probeIntervalMs();
        probing = true;
        return true;
      }
    }
    return false;
  }

  /** The probe sent its batch, or the pump ended. */
  void endProbe() {
    probing = false;
  }

  /**
   * Recomputes which streams are held back and why, and when to look again.
   *
   * @return whether a stream held back before is released (its backlog should be sent now)
   */
  boolean refresh(long nowMs) {
    updateLowBandwidth(nowMs);
    Map<String, Deferral> before = deferred.isEmpty() ? Map.of() : Map.copyOf(deferred);
    deferred.clear();
    wakeMs = NONE;
    List<DailyBudget.Need> needs = budget.enabled() ? needs() : List.of();
    boolean released = false;
    for (Outbox.StreamState s : outbox.streams()) {
      if (backlog.blocked(s.name()) || backlog.unsentRecords(s) == 0) {
        continue;
      }
      Deferral why = null;
      if (lowBandwidth && s.priority() > bandwidth.lowBandwidthMaxPriority()) {
        why = lowBandwidthDeferral(s, nowMs);
        if (nextProbeAtMs != NONE) {
          wakeMs = min(wakeMs, nextProbeAtMs);
        }
      } else if (budget.enabled()) {
        why = budgetDeferral(s, nowMs, needs);
        if (why != null) {
          wakeMs = min(wakeMs, budget.nextResetMs(nowMs));
        }
      }
      if (why != null) {
        deferred.put(s.name(), why);
      } else if (before.containsKey(s.name())) {
        released = true;
      }
    }
    return released;
  }

  /**
   * The payload bytes the stream's next batch may carry under the budget (at most {@code
   * maxBytes}), or -1 when the budget was spent within this pump already: then the stream waits
   * like any other deferral.
   */
  long budgetCap(long nowMs, Outbox.StreamState s, long maxBytes) {
    if (!budget.enabled()) {
      return maxBytes;
    }
    List<DailyBudget.Need> needs = needs();
    Deferral spent = budgetDeferral(s, nowMs, needs);
    if (spent != null) {
      deferred.put(s.name(), spent);
      wakeMs = min(wakeMs, budget.nextResetMs(nowMs));
      return -1;
    }
    long allowance = budget.allowance(nowMs, s.priority(), needs);
    return Math.max(
        1, Math.min(maxBytes, (long) (allowance / wire.frameBytesPerPayloadByte(s.name()))));
  }

  private Deferral lowBandwidthDeferral(Outbox.StreamState s, long nowMs) {
    return new Deferral(
        Deferral.Reason.LOW_BANDWIDTH,
        String.format(
            Locale.ROOT,
            "%s: the link measured %d kbit/s, below min_bandwidth_kbps %d; only priority"
                + " <= %d is sent (priority %d); the link is probed every %d s",
            Deferral.Reason.LOW_BANDWIDTH.label,
            link.bandwidthKbps(nowMs),
            bandwidth.minBandwidthKbps(),
            bandwidth.lowBandwidthMaxPriority(),
            s.priority(),
            bandwidth.probeIntervalMs() / 1000));
  }

  /** Why the budget holds the stream back now, or null if it may send a batch. */
  private Deferral budgetDeferral(Outbox.StreamState s, long nowMs, List<DailyBudget.Need> needs) {
    long allowance = budget.allowance(nowMs, s.priority(), needs);
    if (allowance >= minimumBatchWireBytes(s)) {
      return null;
    }
    long reserve = budget.reserve(nowMs, s.priority(), needs);
    return new Deferral(
        Deferral.Reason.DAILY_BUDGET,
        String.format(
            Locale.ROOT,
            "%s: %d of %d bytes spent today%s; resets at %s",
            Deferral.Reason.DAILY_BUDGET.label,
            budget.spent(nowMs),
            budget.budgetBytes(),
            reserve > 0 ? ", " + reserve + " bytes reserved for more important streams" : "",
            java.time.Instant.ofEpochMilli(budget.nextResetMs(nowMs))));
  }

  private static long min(long a, long b) {
    return a == NONE ? b : Math.min(a, b);
  }

  /** Enters or leaves low-bandwidth mode (leaving needs 25% above the minimum: no flapping). */
  private void updateLowBandwidth(long nowMs) {
    if (!bandwidth.adaptive() || bandwidth.minBandwidthKbps() <= 0) {
      lowBandwidth = false;
      nextProbeAtMs = NONE;
      return;
    }
    long kbps = link.bandwidthKbps(nowMs);
    if (kbps < 0) {
      return;
    }
    long min = bandwidth.minBandwidthKbps();
    boolean low = lowBandwidth ? kbps * 4 < min * 5 : kbps < min;
    if (low && !lowBandwidth) {
      nextProbeAtMs = nowMs + bandwidth.probeIntervalMs();
    } else if (!low) {
      nextProbeAtMs = NONE;
    }
    lowBandwidth = low;
  }

  /** What each stream with queued records is expected to cost on the wire (for the budget). */
  private List<DailyBudget.Need> needs() {
    List<DailyBudget.Need> needs = new ArrayList<>();
    for (Outbox.StreamState s : outbox.streams()) {
      if (!backlog.blocked(s.name())) {
        needs.add(
            new DailyBudget.Need(
                s.name(),
                s.priority(),
                (long) (backlog.unsentPayloadBytes(s) * wire.frameBytesPerPayloadByte(s.name()))));
      }
    }
    return needs;
  }

  /** The wire bytes of the smallest batch the stream can send: one average record. */
  private long minimumBatchWireBytes(Outbox.StreamState s) {
    long avg = s.queuedRecords() == 0 ? 0 : s.queuedBytes() / s.queuedRecords();
    return Math.max(1, (long) (avg * wire.frameBytesPerPayloadByte(s.name())) + 16);
  }

  // ---------------------------------------------------------------- the budget's count

  /** At start: takes over the budget's count as the outbox saved it. */
  void restoreBudget(long nowMs) {
    if (!budget.enabled()) {
      return;
    }
    Outbox.SavedBudget saved = outbox.savedBudget();
    if (saved != null) {
      budget.restore(nowMs, saved.utcDay(), saved.spentBytes());
    }
    budgetSavedDay = budget.day(nowMs);
    budgetSavedSpent = budget.spent(nowMs);
  }

  /** A frame of {@code frameBytes} (on the wire) was sent for {@code stream} (null: no stream). */
  void onSent(long nowMs, String stream, long frameBytes) {
    if (budget.enabled()) {
      budget.onSent(nowMs, stream, frameBytes);
      saveBudget(nowMs, false);
    }
  }

  /** At stop: persists the budget's count. */
  void saveBudgetNow(long nowMs) {
    if (budget.enabled()) {
      saveBudget(nowMs, true);
    }
  }

  /** The daily byte budget, or null when none is configured. */
  BudgetStatus budgetStatus(long nowMs) {
    if (!budget.enabled()) {
      return null;
    }
    return new BudgetStatus(budget.budgetBytes(), budget.spent(nowMs), budget.nextResetMs(nowMs));
  }

  /** Persists the budget's count when the day changed or about 1/64 of it was spent since. */
  private void saveBudget(long nowMs, boolean force) {
    long day = budget.day(nowMs);
    long spent = budget.spent(nowMs);
    if (force
        || day != budgetSavedDay
        || spent - budgetSavedSpent >= Math.max(1, budget.budgetBytes() / 64)) {
      outbox.saveBudget(day, spent);
      budgetSavedDay = day;
      budgetSavedSpent = spent;
    }
  }
}
