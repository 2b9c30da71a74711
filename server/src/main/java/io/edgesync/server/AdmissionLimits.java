package io.edgesync.server;

/**
 * How fast the server admits device sessions ({@code server.admission}, docs/configuration.md): at
 * most {@code maxPendingSessions} Hellos handled at once, and at most {@code maxSessionsPerS}
 * sessions admitted per second (with a burst of one second's worth). A Hello over either limit is
 * refused with {@code RETRY_LATER} ({@link AdmissionControl}).
 *
 * @param maxPendingSessions Hellos being handled (store work up to the Welcome) at the same time
 * @param maxSessionsPerS sessions admitted per second, on average
 * @param maxRetryAfterMs the longest wait a refused device is told; a storm larger than the rate
 *     fills up to this horizon and the devices beyond it are all told this
 */
public record AdmissionLimits(int maxPendingSessions, int maxSessionsPerS, long maxRetryAfterMs) {
  /**
   * Hellos handled at once. Under a storm a Hello waits for CPU behind the TLS handshakes, so many
   * are in progress at once without the store being the bottleneck; measured (docs/benchmarks.md
   * "Reconnect storm"), 64 refused thousands of devices that the server then admitted later at a
   * cost of one more handshake each, while 512 refused none of a 2,000-device storm.
   */
  public static final int DEFAULT_MAX_PENDING_SESSIONS = 512;

  /**
   * Above what a 2-core server sustains in full mTLS handshakes (about 75/s with the clients on the
   * same machine), so that the rate paces only a storm of resumed sessions on a larger server.
   */
  public static final int DEFAULT_MAX_SESSIONS_PER_S = 500;

  /** A minute: long enough for 30,000 devices at the default rate, short for a device to wait. */
  public static final long DEFAULT_MAX_RETRY_AFTER_MS = 60_000;

  public AdmissionLimits {
    if (maxPendingSessions < 1 || maxPendingSessions > 100_000) {
      throw new IllegalArgumentException(
          "max_pending_sessions must be in 1..100000 sessions, not " + maxPendingSessions);
    }
    if (maxSessionsPerS < 1 || maxSessionsPerS > 1_000_000) {
      throw new IllegalArgumentException(
          "max_sessions_per_s must be in 1..1000000 sessions per second, not " + maxSessionsPerS);
    }
    if (maxRetryAfterMs < 100 || maxRetryAfterMs > 300_000) {
      throw new IllegalArgumentException(
          "max_retry_after_ms must be in 100..300000 ms, not " + maxRetryAfterMs);
    }
  }

  public static AdmissionLimits defaults() {
    return new AdmissionLimits(
        DEFAULT_MAX_PENDING_SESSIONS, DEFAULT_MAX_SESSIONS_PER_S, DEFAULT_MAX_RETRY_AFTER_MS);
  }
}
