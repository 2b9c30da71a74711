package io.edgesync.engine.edge;

import io.edgesync.engine.link.BandwidthPolicy;
import io.edgesync.engine.link.LinkEstimator;
import io.edgesync.protocol.codec.CodecSettings;
import java.util.HashMap;
import java.util.Map;

/**
 * How large the next record batch of a stream may be, in records and payload bytes, and how hard it
 * is compressed: the configured limits, the cloud's limits from Welcome, the measured link
 * (adaptive sync), a cap after a liveness timeout and a cap per stream after a batch that encoded
 * above the frame limit.
 *
 * <p>Not thread safe: owned by the engine's thread.
 */
final class BatchSizing {
  private static final long NONE = Long.MIN_VALUE;

  /**
   * Adaptive batches never shrink below this many records: from about here COLUMNAR beats the
   * session codecs (docs/codecs.md), and smaller batches cost more bytes than they save in latency.
   */
  static final int MIN_ADAPTIVE_BATCH_RECORDS = 300;

  /** Frame bytes kept free of records: the envelope, and the record layout's per-record bytes. */
  private static final int FRAME_RESERVE_BYTES = 1024;

  private static final int FRAME_RESERVE_BYTES_PER_RECORD = 8;

  /** The smallest cap {@link #timeoutCapBytes} shrinks to. */
  static final long MIN_TIMEOUT_CAP_BYTES = 16 * 1024;

  /** Adaptive batches take at most this share of the liveness timeout at the measured rate. */
  static final int BATCH_TIMEOUT_DIVISOR = 4;

  private final SyncPolicy policy;
  private final BandwidthPolicy bandwidth;
  private final LinkEstimator link;
  private final WireAccounting wire;

  /** This session's records per batch: the policy's, or the cloud's if that is smaller. */
  private int maxBatchRecords;

  /**
   * Payload bytes a batch may carry after a liveness timeout hit batches in flight: half of the
   * largest of them, doubled again by each ack ({@link #NONE} = no cap). Keeps a link that became
   * much slower than its estimate (or a transport that reports no send progress) from resending the
   * same too-large batch forever.
   */
  private long timeoutCapBytes = NONE;

  /**
   * Per stream, a smaller batch size after a batch encoded above the frame limit (it could not be
   * sent; the next session tries half as many records, down to one, which always fits).
   */
  private final Map<String, Integer> batchCaps = new HashMap<>();

  BatchSizing(SyncPolicy policy, LinkEstimator link, WireAccounting wire) {
    this.policy = policy;
    this.bandwidth = policy.bandwidth();
    this.link = link;
    this.wire = wire;
    this.maxBatchRecords = policy.maxBatchRecords();
  }

  /** The cloud's {@code Welcome.max_records_per_batch} (0: none) for this session. */
  void onWelcome(int cloudMaxRecordsPerBatch) {
    maxBatchRecords =
        cloudMaxRecordsPerBatch > 0
            ? Math.min(policy.maxBatchRecords(), cloudMaxRecordsPerBatch)
            : policy.maxBatchRecords();
  }

  /**
   * Records per batch for the stream: the configured maximum, or less on a slow link. With adaptive
   * sync a batch is sized to take about {@code batchTargetMs} of link time at the measured rate,
   * and never more than a quarter of {@code heartbeatTimeoutMs}, so its ack arrives well within the
   * liveness timeout. Before the link (or the stream's bytes per record) is measured, batches start
   * at the floor: a few small batches measure the link within a round trip or two.
   */
  int records(String stream, long nowMs) {
    int max = Math.min(maxBatchRecords, batchCaps.getOrDefault(stream, Integer.MAX_VALUE));
    if (!bandwidth.adaptive()) {
      return max;
    }
    int floor = Math.min(MIN_ADAPTIVE_BATCH_RECORDS, max);
    long bytesPerSecond = link.bandwidthBytesPerSecond(nowMs);
    double perRecord = wire.frameBytesPerRecord(stream);
    if (bytesPerSecond <= 0 || perRecord < 0) {
      return floor;
    }
    long targetMs =
        Math.min(bandwidth.batchTargetMs(), policy.heartbeatTimeoutMs() / BATCH_TIMEOUT_DIVISOR);
    long fit = (long) (bytesPerSecond * (targetMs / 1000.0) / perRecord);
    return (int) Math.max(floor, Math.min(max, fit));
  }

  /** Payload bytes a batch of {@code records} may carry: frame room, policy and timeout cap. */
  long maxPayloadBytes(int records, int maxFrameBytes) {
    long room =
        Math.max(
            1,
            maxFrameBytes - FRAME_RESERVE_BYTES - (long) FRAME_RESERVE_BYTES_PER_RECORD * records);
    long maxBytes = Math.min(policy.maxBatchBytes(), room);
    return timeoutCapBytes == NONE ? maxBytes : Math.min(maxBytes, timeoutCapBytes);
  }

  /** A batch of {@code records} encoded above the frame limit: the stream tries half as many. */
  void onAboveFrameLimit(String stream, int records) {
    batchCaps.put(stream, Math.max(1, records / 2));
  }

  /**
   * The session timed out with batches in flight, the largest {@code largestInFlightBytes}: the
   * link is slower than they were sized for (or dead). Halve what the next batches may carry, so
   * that a live but slow link gets a batch through instead of resending the same one in every
   * session.
   */
  void onLivenessTimeout(long largestInFlightBytes) {
    if (largestInFlightBytes > 0) {
      long base =
          timeoutCapBytes == NONE
              ? largestInFlightBytes
              : Math.min(timeoutCapBytes, largestInFlightBytes);
      timeoutCapBytes = Math.max(MIN_TIMEOUT_CAP_BYTES, base / 2);
    }
  }

  /** An ack: the timeout cap grows back (doubling) to the configured batch size. */
  void onAck() {
    if (timeoutCapBytes != NONE) {
      timeoutCapBytes = timeoutCapBytes * 2 >= policy.maxBatchBytes() ? NONE : timeoutCapBytes * 2;
    }
  }

  /** After acks, with adaptive sync: the compression level for the measured link. */
  void adaptLevel(long nowMs, OutgoingBatches out) {
    if (!bandwidth.adaptive()) {
      return;
    }
    long kbps = link.bandwidthKbps(nowMs);
    if (kbps >= 0) {
      out.setLevel(levelFor(bandwidth.compression(), kbps));
    }
  }

  /**
   * The compression level for a link of {@code kbps}: on slower links, spend CPU to save bytes.
   * Thresholds from the codec benchmark (docs/benchmarks.md): zstd -19 encodes telemetry at about
   * 11,000-16,000 records/s (1 Mbit/s of output) on one core here, -12 at about 235,000, -9 at
   * 360,000; a level is used where the encoder stays several times faster than the link. Never
   * below the configured level. COLUMNAR barely gains from higher levels (about 1%); ZSTD does
   * (11.3 → 7.8 bytes/record at batch 1,000).
   */
  static int levelFor(CodecSettings configured, long kbps) {
    int level = configured.level();
    return switch (configured.choice()) {
      case ZSTD, AUTO -> {
        if (kbps < 256) {
          yield Math.max(level, 19);
        } else if (kbps < 4_000) {
          yield Math.max(level, 12);
        } else if (kbps < 16_000) {
          yield Math.max(level, 9);
        }
        yield level;
      }
      case GZIP -> kbps < 16_000 ? 9 : level;
      default -> level;
    };
  }
}
