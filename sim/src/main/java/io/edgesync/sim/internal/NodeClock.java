package io.edgesync.sim.internal;

/**
 * A node's clocks as functions of the simulation's true time: an oscillator that runs fast or slow
 * by {@code driftPpm} (its elapsed time drives the node's timers), and a wall clock on top of it
 * that starts with an offset and may be stepped forwards or backwards, as NTP or an operator would.
 * Not thread safe; changed only by the simulation thread, read by the outbox writer thread while
 * the simulation thread waits for it.
 */
public final class NodeClock {
  private static final long PPM = 1_000_000;

  private final long ratePpm;
  private final long startTrueMs;
  private volatile long baseTrueMs;
  private volatile long baseWallMs;

  /**
   * @param startTrueMs the true time at which the node's clock is set up
   * @param wallAtStartMs what the node's wall clock reads then (true time plus the node's skew)
   * @param driftPpm how much faster (positive) or slower its oscillator runs, in parts per million
   */
  public NodeClock(long startTrueMs, long wallAtStartMs, long driftPpm) {
    if (driftPpm <= -PPM / 2 || driftPpm >= PPM / 2) {
      throw new IllegalArgumentException("drift of " + driftPpm + " ppm is out of range");
    }
    this.ratePpm = PPM + driftPpm;
    this.startTrueMs = startTrueMs;
    this.baseTrueMs = startTrueMs;
    this.baseWallMs = wallAtStartMs;
  }

  /** The node's wall clock at true time {@code trueMs} (not before the last step). */
  public long wallMs(long trueMs) {
    return baseWallMs + Math.floorDiv((trueMs - baseTrueMs) * ratePpm, PPM);
  }

  /** The node's monotonic clock (System.nanoTime in ms): its oscillator, never stepped. */
  public long monotonicMs(long trueMs) {
    return Math.floorDiv((trueMs - startTrueMs) * ratePpm, PPM);
  }

  /** Steps the wall clock by {@code deltaMs} (negative: backwards) at true time {@code trueMs}. */
  public void step(long trueMs, long deltaMs) {
    long wall = wallMs(trueMs);
    baseTrueMs = trueMs;
    baseWallMs = wall + deltaMs;
  }

  /** The true time that passes while this node's oscillator counts {@code localMs}. */
  public long trueDurationMs(long localMs) {
    if (localMs <= 0) {
      return 0;
    }
    return (localMs * PPM + ratePpm - 1) / ratePpm;
  }

  public long driftPpm() {
    return ratePpm - PPM;
  }
}
