package io.edgesync.engine.files;

import java.io.IOException;

/** A chunk pack that does not decode to the bytes it must hold; the message names the problem. */
public final class InvalidPackException extends IOException {
  public InvalidPackException(String message) {
    super(message);
  }
}
