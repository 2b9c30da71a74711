package io.edgesync.engine.link;

import io.edgesync.protocol.codec.CodecSettings;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * How the edge engine spends the link: the batch codec family, the compact envelope, adaptive sync
 * and the daily byte budget. Immutable. The brief's {@code bandwidth:} block and edgesync's own
 * keys map onto it (docs/configuration.md); the rules are in docs/protocol.md ("Adaptive sync").
 *
 * @param compression the codec family ({@code none|gzip|lzma|zstd|auto}); the handshake may narrow
 *     it to what the cloud accepts
 * @param compactEnvelope ask the cloud for the compact RecordBatch envelope ({@code batch:compact})
 * @param adaptive measure throughput and RTT and adapt batch size, compression level and, below
 *     {@code minBandwidthKbps}, which streams are sent
 * @param minBandwidthKbps below this measured throughput (kbit/s) only streams with priority ≤
 *     {@code lowBandwidthMaxPriority} are sent; 0 = never
 * @param lowBandwidthMaxPriority the least important priority number still sent on a slow link
 *     (priorities are numbers, lower = more important)
 * @param dailyBudgetBytes bytes the device may send per UTC day, every frame counted; 0 = no budget
 * @param probeIntervalMs on a slow link, how often the deferred streams are let through once to
 *     measure the link again
 * @param batchTargetMs adaptive batch size: about this much link time per batch
 * @param dictionaryMaxBatchRecords stateless ZSTD batches of at most this many records are
 *     compressed with the stream's trained dictionary (the cloud ships them); 0 = never use one.
 *     Measured (docs/benchmarks.md): a dictionary helps small batches and hurts from about 100
 */
public record BandwidthPolicy(
    CodecSettings compression,
    boolean compactEnvelope,
    boolean adaptive,
    long minBandwidthKbps,
    int lowBandwidthMaxPriority,
    long dailyBudgetBytes,
    long probeIntervalMs,
    long batchTargetMs,
    int dictionaryMaxBatchRecords) {

  public static final int DEFAULT_DICTIONARY_MAX_BATCH_RECORDS = 32;

  /** Without a dictionary setting: the default ({@value #DEFAULT_DICTIONARY_MAX_BATCH_RECORDS}). */
  public BandwidthPolicy(
      CodecSettings compression,
      boolean compactEnvelope,
      boolean adaptive,
      long minBandwidthKbps,
      int lowBandwidthMaxPriority,
      long dailyBudgetBytes,
      long probeIntervalMs,
      long batchTargetMs) {
    this(
        compression,
        compactEnvelope,
        adaptive,
        minBandwidthKbps,
        lowBandwidthMaxPriority,
        dailyBudgetBytes,
        probeIntervalMs,
        batchTargetMs,
        DEFAULT_DICTIONARY_MAX_BATCH_RECORDS);
  }

  public BandwidthPolicy withDictionaryMaxBatchRecords(int records) {
    return with(c -> c.dictionaryMaxBatchRecords = records);
  }

  public static final long DEFAULT_PROBE_INTERVAL_MS = 30_000;
  public static final long DEFAULT_BATCH_TARGET_MS = 5_000;

  public BandwidthPolicy {
    Objects.requireNonNull(compression, "compression");
    if (minBandwidthKbps < 0) {
      throw new IllegalArgumentException("minBandwidthKbps must be >= 0, was " + minBandwidthKbps);
    }
    if (dailyBudgetBytes < 0) {
      throw new IllegalArgumentException("dailyBudgetBytes must be >= 0, was " + dailyBudgetBytes);
    }
    if (dictionaryMaxBatchRecords < 0) {
      throw new IllegalArgumentException(
          "dictionaryMaxBatchRecords must be >= 0, was " + dictionaryMaxBatchRecords);
    }
    if (probeIntervalMs <= 0 || batchTargetMs <= 0) {
      throw new IllegalArgumentException(
          "probeIntervalMs and batchTargetMs must be > 0, were "
              + probeIntervalMs
              + " and "
              + batchTargetMs);
    }
  }

  /** {@code auto} codecs, compact envelope, adaptive sync on, no minimum, no budget. */
  public static BandwidthPolicy defaults() {
    return new BandwidthPolicy(
        CodecSettings.auto(),
        true,
        true,
        0,
        1,
        0,
        DEFAULT_PROBE_INTERVAL_MS,
        DEFAULT_BATCH_TARGET_MS);
  }

  /**
   * Uncompressed CODEC_NONE batches with the full envelope, nothing adaptive: protocol v1 as is.
   */
  public static BandwidthPolicy plain() {
    return new BandwidthPolicy(
        CodecSettings.parse("none"),
        false,
        false,
        0,
        1,
        0,
        DEFAULT_PROBE_INTERVAL_MS,
        DEFAULT_BATCH_TARGET_MS);
  }

  public BandwidthPolicy withCompression(CodecSettings codec) {
    return with(c -> c.compression = codec);
  }

  public BandwidthPolicy withCompactEnvelope(boolean on) {
    return with(c -> c.compactEnvelope = on);
  }

  /** Adaptive sync on or off, with its low-bandwidth rule. */
  public BandwidthPolicy withAdaptive(boolean on, long minKbps, int lowMaxPriority) {
    return with(
        c -> {
          c.adaptive = on;
          c.minBandwidthKbps = minKbps;
          c.lowBandwidthMaxPriority = lowMaxPriority;
        });
  }

  public BandwidthPolicy withDailyBudget(long bytes) {
    return with(c -> c.dailyBudgetBytes = bytes);
  }

  public BandwidthPolicy withTiming(long probeMs, long batchMs) {
    return with(
        c -> {
          c.probeIntervalMs = probeMs;
          c.batchTargetMs = batchMs;
        });
  }

  /** A copy with {@code change} made to it (and checked by the canonical constructor). */
  private BandwidthPolicy with(Consumer<Copy> change) {
    Copy c = new Copy(this);
    change.accept(c);
    return c.build();
  }

  /** The settings of a policy while a copy of it is changed: the one place that lists them all. */
  private static final class Copy {
    CodecSettings compression;
    boolean compactEnvelope;
    boolean adaptive;
    long minBandwidthKbps;
    int lowBandwidthMaxPriority;
    long dailyBudgetBytes;
    long probeIntervalMs;
    long batchTargetMs;
    int dictionaryMaxBatchRecords;

    Copy(BandwidthPolicy p) {
      compression = p.compression;
      compactEnvelope = p.compactEnvelope;
      adaptive = p.adaptive;
      minBandwidthKbps = p.minBandwidthKbps;
      lowBandwidthMaxPriority = p.lowBandwidthMaxPriority;
      dailyBudgetBytes = p.dailyBudgetBytes;
      probeIntervalMs = p.probeIntervalMs;
      batchTargetMs = p.batchTargetMs;
      dictionaryMaxBatchRecords = p.dictionaryMaxBatchRecords;
    }

    BandwidthPolicy build() {
      return new BandwidthPolicy(
          compression,
          compactEnvelope,
          adaptive,
          minBandwidthKbps,
          lowBandwidthMaxPriority,
          dailyBudgetBytes,
          probeIntervalMs,
          batchTargetMs,
          dictionaryMaxBatchRecords);
    }
  }
}
