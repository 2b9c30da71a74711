package io.edgesync.engine.cloud;

import io.edgesync.protocol.ProtocolLimits;
import io.edgesync.protocol.codec.Codec;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

/**
 * The cloud's session rules. Immutable.
 *
 * @param autoRegister accept unknown devices by registering them; if false they are refused
 * @param maxFrameBytes frames above this are rejected (offered to devices in Welcome); also the
 *     bound on the record payload bytes one batch may decode to, so that a compressed batch never
 *     carries more than an uncompressed one could
 * @param maxRecordsPerBatch batches with more records are rejected
 * @param heartbeatIntervalMs how often a device should send a heartbeat (told to it in Welcome)
 * @param heartbeatTimeoutMs the server closes a session it received nothing from for longer than
 *     this; at least twice {@code heartbeatIntervalMs}, so that one late heartbeat does not end a
 *     session (docs/protocol.md, "Heartbeats")
 * @param codecs the batch codecs this server accepts (NONE always); a device uses the ones it
 *     offered and the server accepted
 * @param compactBatches accept the compact RecordBatch envelope when a device asks for it
 */
public record ServerPolicy(
    String serverVersion,
    boolean autoRegister,
    int maxFrameBytes,
    int maxRecordsPerBatch,
    long heartbeatIntervalMs,
    long heartbeatTimeoutMs,
    Set<Codec> codecs,
    boolean compactBatches) {

  /** The default heartbeat timeout, in heartbeat intervals. */
  public static final int DEFAULT_HEARTBEAT_TIMEOUT_INTERVALS = 3;

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
    if (heartbeatIntervalMs < 1) {
      throw new IllegalArgumentException(
          "heartbeatIntervalMs must be >= 1, was " + heartbeatIntervalMs);
    }
    if (heartbeatTimeoutMs < 2 * heartbeatIntervalMs) {
      throw new IllegalArgumentException(
          "heartbeatTimeoutMs ("
              + heartbeatTimeoutMs
              + ") must be at least twice heartbeatIntervalMs ("
              + heartbeatIntervalMs
              + "): a device heartbeats once an interval, and one late heartbeat must not end"
              + " its session");
    }
    EnumSet<Codec> c = EnumSet.of(Codec.NONE);
    c.addAll(Objects.requireNonNull(codecs, "codecs"));
    codecs = java.util.Collections.unmodifiableSet(c);
  }

  /**
   * Every codec and the compact envelope accepted, and a heartbeat timeout of {@link
   * #DEFAULT_HEARTBEAT_TIMEOUT_INTERVALS} intervals (the constructor before issue 5).
   */
  public ServerPolicy(
      String serverVersion,
      boolean autoRegister,
      int maxFrameBytes,
      int maxRecordsPerBatch,
      long heartbeatIntervalMs) {
    this(
        serverVersion,
        autoRegister,
        maxFrameBytes,
        maxRecordsPerBatch,
        heartbeatIntervalMs,
        DEFAULT_HEARTBEAT_TIMEOUT_INTERVALS * heartbeatIntervalMs,
        EnumSet.allOf(Codec.class),
        true);
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

  /**
   * The most record payload bytes one batch may decode to: the frame limit. A device keeps each
   * batch's records within its frame budget whatever the codec, and the COLUMNAR decoder needs up
   * to about 16 bytes of memory per decoded byte, so this bounds a session's decoding memory.
   */
  public long maxDecodedBytesPerBatch() {
    return maxFrameBytes;
  }

  public ServerPolicy withCodecs(Set<Codec> accepted, boolean compact) {
    return new ServerPolicy(
        serverVersion,
        autoRegister,
        maxFrameBytes,
        maxRecordsPerBatch,
        heartbeatIntervalMs,
        heartbeatTimeoutMs,
        accepted,
        compact);
  }

  /** The same policy with other heartbeat timing. */
  public ServerPolicy withHeartbeat(long intervalMs, long timeoutMs) {
    return new ServerPolicy(
        serverVersion,
        autoRegister,
        maxFrameBytes,
        maxRecordsPerBatch,
        intervalMs,
        timeoutMs,
        codecs,
        compactBatches);
  }
}
