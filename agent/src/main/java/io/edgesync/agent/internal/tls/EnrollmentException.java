package io.edgesync.agent.internal.tls;

/**
 * Enrollment did not give this device a certificate. {@link #permanent} failures (the server
 * refused the token or the CSR) repeat until the token changes, so they are not retried with the
 * same token; the others (server unreachable, no CA yet) are retried with the connection backoff.
 */
public final class EnrollmentException extends Exception {
  private final boolean permanent;

  EnrollmentException(String message, boolean permanent, Throwable cause) {
    super(message, cause);
    this.permanent = permanent;
  }

  public boolean permanent() {
    return permanent;
  }
}
