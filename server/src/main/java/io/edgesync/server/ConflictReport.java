package io.edgesync.server;

import io.edgesync.engine.docs.DocumentStore.ConflictRecord;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * A conflict report over one period: counts of the conflicts opened in {@code [fromMs, toMs)}, by
 * strategy, outcome, collection, device and who resolved them, a rate per hour and how long people
 * took over the ones left to them. Built from the store's conflict rows ({@code conflicts}: every
 * conflict, automatic resolutions included, with {@code resolved_by = "auto"} for those).
 *
 * <p>Not thread safe: one report per request.
 */
final class ConflictReport {
  /** Who resolved a conflict its strategy decided (EdgeChangeWriter writes it). */
  static final String AUTOMATIC = "auto";

  private final long fromMs;
  private final long toMs;
  private long conflicts;
  private long open;
  private long automatic;
  private long manual;
  private long flagged;
  private long manualResolveMsTotal;
  private long manualResolveMsMax;
  private long firstMs = Long.MAX_VALUE;
  private final Map<String, Long> byStrategy = new TreeMap<>();
  private final Map<String, Long> byOutcome = new TreeMap<>();
  private final Map<String, Long> byCollection = new TreeMap<>();
  private final Map<String, Long> byDevice = new TreeMap<>();
  private final Map<String, Long> resolvedBy = new TreeMap<>();

  /** {@code fromMs} 0: since the first conflict; {@code toMs}: exclusive. */
  ConflictReport(long fromMs, long toMs) {
    this.fromMs = fromMs;
    this.toMs = toMs;
  }

  /** Counts {@code c} if it was opened in the period. */
  void add(ConflictRecord c) {
    if (c.createdMs() < fromMs || c.createdMs() >= toMs) {
      return;
    }
    conflicts++;
    firstMs = Math.min(firstMs, c.createdMs());
    if (c.flagged()) {
      flagged++;
    }
    byStrategy.merge(c.strategy(), 1L, Long::sum);
    byCollection.merge(c.collection(), 1L, Long::sum);
    byDevice.merge(c.deviceId(), 1L, Long::sum);
    if (c.status().equals(ConflictRecord.OPEN)) {
      open++;
      byOutcome.merge("open", 1L, Long::sum);
      return;
    }
    byOutcome.merge(c.outcome(), 1L, Long::sum);
    resolvedBy.merge(c.resolvedBy(), 1L, Long::sum);
    if (AUTOMATIC.equals(c.resolvedBy())) {
      automatic++;
    } else {
      manual++;
      long took = Math.max(0, c.resolvedMs() - c.createdMs());
      manualResolveMsTotal += took;
      manualResolveMsMax = Math.max(manualResolveMsMax, took);
    }
  }

  /** The report as JSON fields (docs/api.md, "Conflict reports"). */
  Map<String, Object> json() {
    Map<String, Object> m = new LinkedHashMap<>();
    long start = fromMs > 0 ? fromMs : (conflicts == 0 ? toMs : firstMs);
    m.put("fromMs", start);
    m.put("toMs", toMs);
    m.put("conflicts", conflicts);
    m.put("open", open);
    m.put("resolved", conflicts - open);
    m.put("automatic", automatic);
    m.put("manual", manual);
    m.put("flagged", flagged);
    double hours = Math.max(toMs - start, 1) / 3_600_000.0;
    m.put("perHour", round(conflicts / hours));
    m.put("automaticShare", conflicts == 0 ? 0.0 : round((double) automatic / conflicts));
    m.put("manualResolveMsMean", manual == 0 ? null : manualResolveMsTotal / manual);
    m.put("manualResolveMsMax", manual == 0 ? null : manualResolveMsMax);
    m.put("byStrategy", byStrategy);
    m.put("byOutcome", byOutcome);
    m.put("byCollection", byCollection);
    m.put("byDevice", byDevice);
    m.put("resolvedBy", resolvedBy);
    return m;
  }

  private static double round(double v) {
    return Math.round(v * 10_000) / 10_000.0;
  }
}
