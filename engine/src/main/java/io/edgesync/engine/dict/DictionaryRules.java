package io.edgesync.engine.dict;

import io.edgesync.protocol.codec.Dictionary;

/**
 * When the cloud trains zstd dictionaries for streams, and how many it keeps (docs/codecs.md,
 * "Dictionaries"; keys under {@code server.dictionaries}). Immutable.
 *
 * @param enabled train and ship dictionaries at all
 * @param sampleBytes a stream is trained once the cloud received this many record payload bytes of
 *     it in ZSTD or ZSTD_STREAM batches (from all devices) since its last training (or since the
 *     server started), and the training uses the newest this many bytes of the stream's stored
 *     records
 * @param dictionaryBytes the largest dictionary trained (zstd's {@code maxDictSize})
 * @param minIntervalMs at least this long between two trainings of one stream (also after a failed
 *     one)
 * @param keepPerStream dictionaries kept per stream, newest first: batches still in flight (or a
 *     device's session stream) that name an older one decode as long as it is kept
 * @param maxStreams streams the cloud counts bytes for and trains; further streams get none
 */
public record DictionaryRules(
    boolean enabled,
    long sampleBytes,
    int dictionaryBytes,
    long minIntervalMs,
    int keepPerStream,
    int maxStreams) {

  public static final long DEFAULT_SAMPLE_BYTES = 1L << 20;
  public static final int DEFAULT_DICTIONARY_BYTES = 16 * 1024;
  public static final long DEFAULT_MIN_INTERVAL_MS = 3_600_000;
  public static final int DEFAULT_KEEP_PER_STREAM = 3;
  public static final int DEFAULT_MAX_STREAMS = 256;

  /** Most sample bytes one training may read: zstd's trainer takes an int-sized buffer. */
  public static final long MAX_SAMPLE_BYTES = 256L << 20;

  public DictionaryRules {
    check(sampleBytes, 1024, MAX_SAMPLE_BYTES, "sampleBytes");
    check(dictionaryBytes, 256, Dictionary.MAX_DICTIONARY_BYTES, "dictionaryBytes");
    check(minIntervalMs, 0, Long.MAX_VALUE / 4, "minIntervalMs");
    check(keepPerStream, 2, 64, "keepPerStream");
    check(maxStreams, 1, 1 << 20, "maxStreams");
  }

  public static DictionaryRules defaults() {
    return new DictionaryRules(
        true,
        DEFAULT_SAMPLE_BYTES,
        DEFAULT_DICTIONARY_BYTES,
        DEFAULT_MIN_INTERVAL_MS,
        DEFAULT_KEEP_PER_STREAM,
        DEFAULT_MAX_STREAMS);
  }

  public static DictionaryRules disabled() {
    DictionaryRules d = defaults();
    return new DictionaryRules(
        false, d.sampleBytes, d.dictionaryBytes, d.minIntervalMs, d.keepPerStream, d.maxStreams);
  }

  private static void check(long v, long min, long max, String what) {
    if (v < min || v > max) {
      throw new IllegalArgumentException(what + " must be " + min + ".." + max + ", was " + v);
    }
  }
}
