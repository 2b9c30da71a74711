package io.edgesync.agent.internal;

/**
 * An exponentially weighted rate of appended records and bytes. Time is passed in ({@code nowMs}),
 * so tests drive it with exact times. Appends fade with the time constant {@link #TAU_MS}: at a
 * steady rate the estimate is that rate, and after a change it moves 63 % of the way in {@code
 * TAU_MS}.
 *
 * <p>The counts and the observed time decay alike, and the rate is their quotient. Until {@code
 * TAU_MS} has passed it is therefore the plain average since the first append, not a value still
 * dragged towards an arbitrary start (an EWMA of per-tick rates started at 0 needs several time
 * constants to get close). The first append counts in full, so a young estimate errs high: capacity
 * derived from it errs short, the safe side for a warning.
 *
 * <p>A clock that steps back is ignored until it passes the last time seen again.
 *
 * <p>Not thread safe: the owner serializes calls ({@link CapacityWatch}).
 */
public final class AppendRate {
  /** How long appends keep their weight: after this long, 1/e of it. */
  public static final long TAU_MS = 5 * 60_000;

  /** How long after the first append a rate is reported; before, it is unknown (-1). */
  public static final long MIN_OBSERVED_MS = 60_000;

  private static final long NONE = Long.MIN_VALUE;

  private double records;
  private double bytes;
  private double observedMs;
  private long firstMs = NONE;
  private long lastMs = NONE;

  /** {@code records} records of {@code bytes} payload bytes were appended at {@code nowMs}. */
  public void record(long nowMs, long records, long bytes) {
    if (records < 0 || bytes < 0) {
      throw new IllegalArgumentException(
          "negative append: " + records + " records, " + bytes + " bytes");
    }
    if (firstMs == NONE) {
      firstMs = nowMs;
      lastMs = nowMs;
    } else {
      decayTo(nowMs);
    }
    this.records += records;
    this.bytes += bytes;
  }

  /** Whether {@link #MIN_OBSERVED_MS} have passed since the first append. */
  public boolean measured(long nowMs) {
    return firstMs != NONE && nowMs - firstMs >= MIN_OBSERVED_MS;
  }

  /** Records per second, or -1 while not {@link #measured}. */
  public double recordsPerSec(long nowMs) {
    return rate(nowMs, true);
  }

  /** Payload bytes per second, or -1 while not {@link #measured}. */
  public double bytesPerSec(long nowMs) {
    return rate(nowMs, false);
  }

  private double rate(long nowMs, boolean ofRecords) {
    if (!measured(nowMs)) {
      return -1;
    }
    decayTo(nowMs);
    if (observedMs <= 0) {
      return -1; // the clock stepped back to before the first append
    }
    return (ofRecords ? records : bytes) * 1000.0 / observedMs;
  }

  private void decayTo(long nowMs) {
    long dt = nowMs - lastMs;
    if (dt <= 0) {
      return;
    }
    double keep = Math.exp(-(double) dt / TAU_MS);
    records *= keep;
    bytes *= keep;
    // The observed time decays like the counts, and the new interval enters with the weight its
    // appends would have had: at a steady rate r, records / observedMs stays r.
    observedMs = observedMs * keep + TAU_MS * (1 - keep);
    lastMs = nowMs;
  }
}
