package io.edgesync.engine.edge;

import io.edgesync.protocol.wire.Error;
import io.edgesync.protocol.wire.ErrorCode;
import java.util.random.RandomGenerator;

/**
 * The server's "retry after" (a fatal {@code RETRY_LATER} Error naming {@code retry_after_ms}: it
 * is pacing session admission, docs/protocol.md "Admission"): the next reconnect waits that long
 * plus a random 0–{@value #JITTER_PERCENT} % instead of the normal backoff, so that the devices it
 * spread out do not come back in lockstep, and a paced refusal does not grow the backoff. A
 * RETRY_LATER without a time, or any other error, leaves the backoff in charge.
 *
 * <p>Not thread safe; owned by the engine's thread. Randomness is the engine's injected generator,
 * drawn from only when a retry after is taken.
 */
final class RetryLater {
  /** The jitter added on top of the server's time, at most this share of it. */
  static final int JITTER_PERCENT = 50;

  /** A server asking for longer (by a bug, or a hostile one) is heard as asking for this. */
  static final long MAX_RETRY_AFTER_MS = 300_000;

  private final RandomGenerator random;
  private long askedMs; // 0: nothing asked in this session

  RetryLater(RandomGenerator random) {
    this.random = random;
  }

  /** An Error from the cloud: remembers its retry after if it is a RETRY_LATER naming one. */
  void onError(Error error) {
    if (error.getCode() == ErrorCode.RETRY_LATER && error.getRetryAfterMs() != 0) {
      askedMs = Math.min(Integer.toUnsignedLong(error.getRetryAfterMs()), MAX_RETRY_AFTER_MS);
    }
  }

  /** A new connection starts: an ask of an earlier one no longer holds. */
  void clear() {
    askedMs = 0;
  }

  /**
   * At a disconnect: the wait before the next attempt if the server asked for one in this session
   * (consumed), or -1 when the normal backoff decides.
   */
  long takeDelayMs() {
    if (askedMs == 0) {
      return -1;
    }
    long asked = askedMs;
    askedMs = 0;
    return delayMs(asked, random);
  }

  /** {@code askedMs} plus a uniformly random 0..{@value #JITTER_PERCENT} % of it. */
  static long delayMs(long askedMs, RandomGenerator random) {
    return askedMs + random.nextLong(askedMs * JITTER_PERCENT / 100 + 1);
  }

  /** What the status shows while the agent waits. */
  static String describe(long delayMs, String serverMessage) {
    return "the server is pacing admissions (RETRY_LATER: "
        + serverMessage
        + "); connecting again in "
        + delayMs
        + " ms";
  }
}
