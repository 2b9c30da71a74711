package io.edgesync.engine.files;

/**
 * How many requested file bytes a receiver lets be on their way at once: about half a second of
 * what the link delivered, between {@link #MIN_BYTES} and {@link #MAX_BYTES}. A receiver that asks
 * for little at a time keeps a slow link's queues short, so a file transfer never sits for seconds
 * in front of the frames of more important data; on a fast link the window opens to keep it busy.
 *
 * <p>Not thread safe: owned by the engine's thread.
 */
final class ReceiveWindow {
  static final int MIN_BYTES = 32 << 10;
  static final int MAX_BYTES = 4 << 20;
  static final int INITIAL_BYTES = 128 << 10;

  private long rateBytesPerS = -1;
  private long outstandingBytes;
  private long busySinceMs = -1;
  private long deliveredSinceBusy;

  /** Bytes that may be requested now. */
  long room() {
    return Math.max(0, windowBytes() - outstandingBytes);
  }

  /** Whether enough arrived to ask for more: half the window is free. */
  boolean wantsMore() {
    return outstandingBytes <= windowBytes() / 2;
  }

  long windowBytes() {
    if (rateBytesPerS < 0) {
      return INITIAL_BYTES;
    }
    return Math.max(MIN_BYTES, Math.min(MAX_BYTES, rateBytesPerS / 2));
  }

  void requested(long nowMs, long bytes) {
    if (outstandingBytes == 0) {
      busySinceMs = nowMs;
      deliveredSinceBusy = 0;
    }
    outstandingBytes += bytes;
  }

  /**
   * {@code bytes} of what was requested arrived (decoded size), in {@code frameBytes} on the wire.
   */
  void delivered(long nowMs, long bytes, long frameBytes) {
    outstandingBytes = Math.max(0, outstandingBytes - bytes);
    deliveredSinceBusy += frameBytes;
    long elapsedMs = nowMs - busySinceMs;
    if (busySinceMs >= 0 && elapsedMs >= 200) {
      long measured = deliveredSinceBusy * 1000 / elapsedMs;
      rateBytesPerS = rateBytesPerS < 0 ? measured : (rateBytesPerS * 3 + measured) / 4;
      busySinceMs = nowMs;
      deliveredSinceBusy = 0;
    }
    if (outstandingBytes == 0) {
      busySinceMs = -1;
    }
  }

  /** Requested bytes that will not be delivered (their transfer ended or was cancelled). */
  void released(long bytes) {
    outstandingBytes = Math.max(0, outstandingBytes - bytes);
    if (outstandingBytes == 0) {
      busySinceMs = -1;
    }
  }

  /** The connection ended: nothing is on its way any more. */
  void reset() {
    outstandingBytes = 0;
    busySinceMs = -1;
    deliveredSinceBusy = 0;
  }
}
