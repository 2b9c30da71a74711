package io.edgesync.protocol;

import io.edgesync.protocol.wire.ErrorCode;

/**
 * A peer sent something the protocol does not allow. Carries the wire error code that is sent back
 * in an {@code Error} frame, and an exact message naming the problem.
 */
public final class ProtocolException extends Exception {
  private final ErrorCode code;

  public ProtocolException(ErrorCode code, String message) {
    super(message);
    this.code = code;
  }

  public ErrorCode code() {
    return code;
  }
}
