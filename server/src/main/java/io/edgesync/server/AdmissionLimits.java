package io.edgesync.server;

/**
 * How fast the server admits device sessions ({@code server.admission}, docs/configuration.md): at
 * most {@code maxPendingSessions} Hellos handled at once, and at most {@code maxSessionsPerS}
 * sessions admitted per second (with a burst of one second's worth). A Hello over either limit is
 * refused with {@code RETRY_LATER} ({@link AdmissionControl}). Before any Hello, on a TLS server:
 * at most {@code maxPendingHandshakes} TLS handshakes in progress, each given at most {@code
 * handshakeTimeoutMs} ({@link HandshakeLimit}). A Hello that waited longer than {@code
 * maxHelloWaitMs} for a thread since its connection opened is refused with {@code RETRY_LATER} too,
 * before any store work.
 *
 * @param maxPendingSessions Hellos being handled (store work up to the Welcome) at the same time
 * @param maxSessionsPerS sessions admitted per second, on average
 * @param maxRetryAfterMs the longest wait a refused device is told; a storm larger than the rate
 *     fills up to this horizon and the devices beyond it are all told this
 * @param maxPendingHandshakes TLS handshakes in progress at once; a connection beyond it is closed
 *     at once, before any cryptography, and its device retries after its backoff
 * @param handshakeTimeoutMs a TLS connection whose handshake has not finished this long after it
 *     was accepted is closed (its slot must not be held by a client that stalls)
 * @param maxHelloWaitMs the longest a Hello may have waited for a thread (from its connection's
 *     upgrade) and still be handled; beyond it the server is saturated and store work for it would
 *     likely finish after the device gave up
 */
public record AdmissionLimits(
    int maxPendingSessions,
    int maxSessionsPerS,
    long maxRetryAfterMs,
    int maxPendingHandshakes,
    long handshakeTimeoutMs,
    long maxHelloWaitMs) {
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

  /**
   * Handshakes in progress. On loopback a 2-core server finishes about 75 full mutual-TLS
   * handshakes per second, so 256 in progress finish within about 3.5 s, well inside a device's
   * handshake timeout (10 s); over slow links most of a handshake is waiting for round trips, which
   * the bound must leave room for. Without any bound, 10,000 devices reconnecting at once all
   * waited past their timeout and none got through (docs/benchmarks.md, "Fleet", finding 6).
   */
  public static final int DEFAULT_MAX_PENDING_HANDSHAKES = 256;

  /** The agent's own handshake timeout: a handshake that takes longer is given up by the device. */
  public static final long DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

  /**
   * Half the agent's handshake timeout (10 s): a Hello handled after waiting this long still gets
   * its Welcome before the device gives up, if the store work takes less than the other half.
   * Without the bound, a restart storm on PostgreSQL queued Hellos for a thread past the devices'
   * timeouts, and the server spent its store work on devices that had given up (docs/benchmarks.md,
   * "Fleet", finding 9).
   */
  public static final long DEFAULT_MAX_HELLO_WAIT_MS = 5_000;

  /** With the handshake and Hello-wait limits at their defaults. */
  public AdmissionLimits(int maxPendingSessions, int maxSessionsPerS, long maxRetryAfterMs) {
    this(
        maxPendingSessions,
        maxSessionsPerS,
        maxRetryAfterMs,
        DEFAULT_MAX_PENDING_HANDSHAKES,
        DEFAULT_HANDSHAKE_TIMEOUT_MS,
        DEFAULT_MAX_HELLO_WAIT_MS);
  }

  public AdmissionLimits {
    requireIn("max_pending_sessions", maxPendingSessions, 1, 100_000, "sessions");
    requireIn("max_sessions_per_s", maxSessionsPerS, 1, 1_000_000, "sessions per second");
    requireIn("max_retry_after_ms", maxRetryAfterMs, 100, 300_000, "ms");
    requireIn("max_pending_handshakes", maxPendingHandshakes, 1, 100_000, "handshakes");
    requireIn("handshake_timeout_ms", handshakeTimeoutMs, 100, 300_000, "ms");
    requireIn("max_hello_wait_ms", maxHelloWaitMs, 100, 300_000, "ms");
  }

  private static void requireIn(String key, long value, long min, long max, String unit) {
    if (value < min || value > max) {
      throw new IllegalArgumentException(
          key + " must be in " + min + ".." + max + " " + unit + ", not " + value);
    }
  }

  public static AdmissionLimits defaults() {
    return new AdmissionLimits(
        DEFAULT_MAX_PENDING_SESSIONS, DEFAULT_MAX_SESSIONS_PER_S, DEFAULT_MAX_RETRY_AFTER_MS);
  }
}
