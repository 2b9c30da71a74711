package io.edgesync.protocol.codec.internal;

import io.edgesync.protocol.ProtocolException;
import io.edgesync.protocol.wire.ErrorCode;

/** Builds the one kind of error every decoder raises: INVALID_BATCH with an exact message. */
public final class Corrupt {
  private Corrupt() {}

  public static ProtocolException invalid(String codec, String detail) {
    return new ProtocolException(
        ErrorCode.INVALID_BATCH, "invalid " + codec + " payload: " + detail);
  }
}
