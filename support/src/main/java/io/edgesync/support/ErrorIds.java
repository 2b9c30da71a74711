package io.edgesync.support;

import java.util.concurrent.ThreadLocalRandom;

/**
 * Ids for internal errors: an API answers a failure with the id only, and logs the exception under
 * it, so that an operator finds the one failure in the logs without the answer leaking internals.
 * Used by the server's REST API and the agent's local API. Thread safe.
 */
public final class ErrorIds {
  private ErrorIds() {}

  /** 12 hex digits (48 random bits). */
  public static String next() {
    return String.format("%012x", ThreadLocalRandom.current().nextLong() & 0xFFFF_FFFF_FFFFL);
  }
}
