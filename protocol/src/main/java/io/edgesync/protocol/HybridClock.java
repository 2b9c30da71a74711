package io.edgesync.protocol;

/**
 * A hybrid logical clock (Kulkarni et al., 2014) for one node. {@link #now()} stamps a local event;
 * {@link #observe} merges a timestamp received from another node, so that anything stamped
 * afterwards sorts after it even when this node's wall clock is behind. The result never goes
 * backwards, whatever the wall clock does.
 *
 * <p>A remote timestamp more than {@code maxDriftMs} ahead of the local wall clock is suspect (a
 * device whose clock is far in the future would win every last-write-wins decision). {@link
 * #observe} reports it; the caller chooses to accept it anyway ({@link #merge}) or not.
 *
 * <p>Thread safe.
 */
public final class HybridClock {
  private final String node;
  private final Clock wall;
  private final long maxDriftMs;
  private long lastWallMs;
  private int lastLogical;
  private long driftsSeen;

  /** Where the clock resumes from after a restart (its last persisted timestamp), or ZERO. */
  public HybridClock(String node, Clock wall, long maxDriftMs, Hlc resumeFrom) {
    if (node == null || node.isEmpty()) {
      throw new IllegalArgumentException("an HLC needs a node id");
    }
    if (maxDriftMs < 1) {
      throw new IllegalArgumentException("maxDriftMs must be positive, was " + maxDriftMs);
    }
    this.node = node;
    this.wall = wall;
    this.maxDriftMs = maxDriftMs;
    this.lastWallMs = resumeFrom.wallMs();
    this.lastLogical = resumeFrom.logical();
  }

  public String node() {
    return node;
  }

  public long maxDriftMs() {
    return maxDriftMs;
  }

  /** A timestamp for a local event, after every timestamp this clock issued or merged. */
  public synchronized Hlc now() {
    long physical = Math.max(0, wall.nowMs());
    if (physical > lastWallMs) {
      lastWallMs = physical;
      lastLogical = 0;
    } else {
      lastLogical = increment(lastLogical);
    }
    return new Hlc(lastWallMs, lastLogical, node);
  }

  /**
   * Checks a remote timestamp against the maximum drift and merges it if it is within.
   *
   * @return true if merged; false if it is more than {@code maxDriftMs} ahead of the local wall
   *     clock (not merged: call {@link #merge} to accept it anyway)
   */
  public synchronized boolean observe(Hlc remote) {
    if (remote.wallMs() - Math.max(0, wall.nowMs()) > maxDriftMs) {
      driftsSeen++;
      return false;
    }
    merge(remote);
    return true;
  }

  /** Merges a remote timestamp unconditionally: later local events sort after it. */
  public synchronized void merge(Hlc remote) {
    long physical = Math.max(0, wall.nowMs());
    long max = Math.max(physical, Math.max(lastWallMs, remote.wallMs()));
    int logical;
    if (max == lastWallMs && max == remote.wallMs()) {
      logical = Math.max(lastLogical, remote.logical());
    } else if (max == lastWallMs) {
      logical = lastLogical;
    } else if (max == remote.wallMs()) {
      logical = remote.logical();
    } else {
      logical = -1; // the wall clock is ahead of both: the next event starts at counter 0
    }
    lastWallMs = max;
    lastLogical = logical;
  }

  /** The latest timestamp issued or merged (to persist, and resume from after a restart). */
  public synchronized Hlc last() {
    return new Hlc(lastWallMs, Math.max(0, lastLogical), node);
  }

  /** Remote timestamps refused by {@link #observe} for being too far ahead. */
  public synchronized long driftsSeen() {
    return driftsSeen;
  }

  private static int increment(int logical) {
    if (logical == Integer.MAX_VALUE) {
      throw new IllegalStateException("HLC logical counter overflow");
    }
    return logical + 1;
  }
}
