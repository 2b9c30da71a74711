package io.edgesync.engine.files;

import java.io.IOException;

/**
 * A ChunkPack that cannot be decoded into the bytes it should hold: truncated, garbage, of the
 * wrong size, missing its dictionary or of an unknown encoding. The message names the problem; the
 * receiver stores nothing of the pack.
 */
public final class InvalidPackException extends IOException {
  public InvalidPackException(String message) {
    super(message);
  }

  public InvalidPackException(String message, Throwable cause) {
    super(message, cause);
  }
}
