package io.edgesync.server.files;

/**
 * How fast a rollout admits devices and when it pauses itself; pure functions of the rollout's
 * numbers and the time given, so tests need no clock.
 *
 * <p>Admission: the first device at once, then {@code ratePerMin} devices per minute of
 * <em>running</em> time (time paused does not count, so a resumed rollout continues at its rate
 * instead of admitting a burst for the time it stood still). Failure: once at least {@code
 * minReports} devices reported an end (installed or failed), more than {@code maxFailureShare} of
 * them failing pauses the rollout.
 */
public final class RolloutPacing {
  private static final long MINUTE_MS = 60_000;

  private RolloutPacing() {}

  /** Running time: what was banked before, plus the time since it last started if running. */
  public static long activeMs(long activeMsBefore, Long activeSinceMs, long nowMs) {
    return activeSinceMs == null
        ? activeMsBefore
        : activeMsBefore + Math.max(0, nowMs - activeSinceMs);
  }

  /**
   * How many of the {@code pending} devices to admit now, after {@code activeMs} of running time in
   * which {@code admitted} were admitted already.
   */
  public static int due(int ratePerMin, long activeMs, long admitted, long pending) {
    if (ratePerMin < 1 || activeMs < 0 || admitted < 0 || pending < 0) {
      throw new IllegalArgumentException(
          "pacing needs rate >= 1 and counts >= 0: rate "
              + ratePerMin
              + ", activeMs "
              + activeMs
              + ", admitted "
              + admitted
              + ", pending "
              + pending);
    }
    long allowed;
    try {
      allowed = 1 + Math.multiplyExact((long) ratePerMin, activeMs) / MINUTE_MS;
    } catch (ArithmeticException e) {
      allowed = Long.MAX_VALUE; // running for longer than any fleet needs
    }
    return (int) Math.min(Integer.MAX_VALUE, Math.max(0, Math.min(pending, allowed - admitted)));
  }

  /** Whether the failures so far trip the rollout's failure limit. */
  public static boolean tooManyFailures(
      long failed, long reported, double maxFailureShare, int minReports) {
    return reported >= minReports && reported > 0 && failed > maxFailureShare * reported;
  }
}
