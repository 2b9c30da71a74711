package io.edgesync.engine;

import io.edgesync.protocol.ProtocolLimits;

/**
 * The cloud's session rules. Immutable.
 *
 * @param autoRegister accept unknown devices by registering them; if false they are refused
 * @param maxFrameBytes frames above this are rejected (offered to devices in Welcome)
 * @param maxRecordsPerBatch batches with more records are rejected
 */
public record ServerPolicy(
    String serverVersion,
    boolean autoRegister,
    int maxFrameBytes,
    int maxRecordsPerBatch,
    long heartbeatIntervalMs) {

  public ServerPolicy {
    if (maxFrameBytes < 1024 || maxFrameBytes > ProtocolLimits.MAX_FRAME_BYTES_CEILING) {
      throw new IllegalArgumentException(
          "maxFrameBytes must be within 1024.."
              + ProtocolLimits.MAX_FRAME_BYTES_CEILING
              + ", was "
              + maxFrameBytes);
    }
    if (maxRecordsPerBatch < 1) {
      throw new IllegalArgumentException(
          "maxRecordsPerBatch must be >= 1, was " + maxRecordsPerBatch);
    }
  }

  /** Frames must fit the largest record a device may append, plus framing overhead. */
  public static final int MIN_FRAME_BYTES = ProtocolLimits.MAX_RECORD_BYTES + 64 * 1024;

  public static ServerPolicy defaults() {
    return new ServerPolicy(
        "edgesync-server/0.1.0",
        true,
        ProtocolLimits.DEFAULT_MAX_FRAME_BYTES,
        ProtocolLimits.DEFAULT_MAX_RECORDS_PER_BATCH,
        15_000);
  }
}
