package io.edgesync.protocol.codec;

import java.util.Locale;
import java.util.Objects;

/**
 * What a {@link BatchEncoder} does, as a user configures it: {@code none}, {@code gzip[:1-9]},
 * {@code lzma[:0-9]}, {@code zstd[:level]} or {@code auto[:level]} ({@link #parse}), plus an
 * optional trained dictionary and compression context takeover. {@code auto} picks per batch:
 * COLUMNAR for batches of at least {@code columnarMinRecords} JSON records, otherwise
 * TEMPLATE_STREAM (JSON) or ZSTD_STREAM with context takeover, ZSTD without. Immutable.
 *
 * <p>On the telemetry benchmark (docs/benchmarks.md) COLUMNAR beats TEMPLATE_STREAM from about 300
 * records per batch, and beats stateless ZSTD from fewer than 10; hence the defaults.
 *
 * @param level gzip 1..9, lzma preset 0..9, zstd -7..22
 * @param dictionary a trained zstd dictionary for ZSTD, ZSTD_STREAM and TEMPLATE_STREAM, or null
 * @param contextTakeover keep one compression context per session (zstd and auto)
 * @param windowLog log2 of the history kept by a session's zstd stream, 10..23; the cloud keeps
 *     about this much memory per session
 * @param columnarMinRecords smallest batch {@code auto} encodes as COLUMNAR; 0 = the default for
 *     the context mode: {@value #COLUMNAR_MIN_RECORDS_WITH_CONTEXT} with context takeover, {@value
 *     #COLUMNAR_MIN_RECORDS_WITHOUT_CONTEXT} without
 * @param columnarSeries COLUMNAR codes each sensor's readings against each other (key columns,
 *     docs/codecs.md "Series"). In configured settings: the edge may offer it ({@code auto} does);
 *     in a session's settings: the peer accepted {@link CodecCapabilities#COLUMNAR_SERIES} too,
 *     since an older decoder refuses such batches ({@link
 *     CodecCapabilities#negotiate(CodecSettings, java.util.Collection)} turns it off otherwise).
 */
public record CodecSettings(
    Choice choice,
    int level,
    Dictionary dictionary,
    boolean contextTakeover,
    int windowLog,
    int columnarMinRecords,
    boolean columnarSeries) {

  /** The codec family a user names. */
  public enum Choice {
    NONE,
    GZIP,
    LZMA,
    ZSTD,
    AUTO
  }

  public static final int DEFAULT_ZSTD_LEVEL = 3;
  public static final int DEFAULT_WINDOW_LOG = 17;
  public static final int COLUMNAR_MIN_RECORDS_WITH_CONTEXT = 300;
  public static final int COLUMNAR_MIN_RECORDS_WITHOUT_CONTEXT = 8;

  /** Settings without series coding (the format every COLUMNAR decoder reads). */
  public CodecSettings(
      Choice choice,
      int level,
      Dictionary dictionary,
      boolean contextTakeover,
      int windowLog,
      int columnarMinRecords) {
    this(choice, level, dictionary, contextTakeover, windowLog, columnarMinRecords, false);
  }

  public CodecSettings {
    Objects.requireNonNull(choice, "choice");
    switch (choice) {
      case NONE -> {}
      case GZIP -> check(level, 1, 9, "gzip level");
      case LZMA -> check(level, 0, 9, "lzma preset");
      case ZSTD, AUTO -> check(level, -7, 22, "zstd level");
    }
    check(windowLog, 10, 23, "window log");
    check(columnarMinRecords, 0, Integer.MAX_VALUE, "columnar minimum records");
    if (dictionary != null
        && (choice == Choice.NONE || choice == Choice.GZIP || choice == Choice.LZMA)) {
      throw new IllegalArgumentException(
          "a dictionary needs codec zstd or auto, not " + choice.name().toLowerCase(Locale.ROOT));
    }
  }

  /** {@code auto}: zstd level 3, context takeover, no dictionary, series allowed. */
  public static CodecSettings auto() {
    return new CodecSettings(
        Choice.AUTO, DEFAULT_ZSTD_LEVEL, null, true, DEFAULT_WINDOW_LOG, 0, true);
  }

  /**
   * Parses {@code none | gzip[:level] | lzma[:preset] | zstd[:level] | auto[:level]}. {@code zstd}
   * and {@code auto} keep a context per session; the rest do not. {@code auto} allows COLUMNAR's
   * series coding (used only where the peer accepts it).
   */
  public static CodecSettings parse(String spec) {
    Objects.requireNonNull(spec, "codec");
    String s = spec.trim().toLowerCase(Locale.ROOT);
    String name = s;
    Integer level = null;
    int colon = s.indexOf(':');
    if (colon >= 0) {
      name = s.substring(0, colon);
      try {
        level = Integer.parseInt(s.substring(colon + 1));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("codec '" + spec + "': level is not a number");
      }
    }
    Choice choice;
    int defaultLevel;
    switch (name) {
      case "none" -> {
        choice = Choice.NONE;
        defaultLevel = 0;
        if (level != null) {
          throw new IllegalArgumentException("codec 'none' takes no level");
        }
      }
      case "gzip" -> {
        choice = Choice.GZIP;
        defaultLevel = 6;
      }
      case "lzma" -> {
        choice = Choice.LZMA;
        defaultLevel = 6;
      }
      case "zstd" -> {
        choice = Choice.ZSTD;
        defaultLevel = DEFAULT_ZSTD_LEVEL;
      }
      case "auto" -> {
        choice = Choice.AUTO;
        defaultLevel = DEFAULT_ZSTD_LEVEL;
      }
      default ->
          throw new IllegalArgumentException(
              "unknown codec '" + spec + "': expected none, gzip, lzma, zstd or auto");
    }
    boolean takeover = choice == Choice.ZSTD || choice == Choice.AUTO;
    return new CodecSettings(
        choice,
        level == null ? defaultLevel : level,
        null,
        takeover,
        DEFAULT_WINDOW_LOG,
        0,
        choice == Choice.AUTO);
  }

  /** The batch size from which {@code auto} chooses COLUMNAR. */
  public int effectiveColumnarMinRecords() {
    if (columnarMinRecords > 0) {
      return columnarMinRecords;
    }
    return contextTakeover
        ? COLUMNAR_MIN_RECORDS_WITH_CONTEXT
        : COLUMNAR_MIN_RECORDS_WITHOUT_CONTEXT;
  }

  public CodecSettings withDictionary(Dictionary d) {
    return new CodecSettings(
        choice, level, d, contextTakeover, windowLog, columnarMinRecords, columnarSeries);
  }

  public CodecSettings withContextTakeover(boolean on) {
    return new CodecSettings(
        choice, level, dictionary, on, windowLog, columnarMinRecords, columnarSeries);
  }

  public CodecSettings withWindowLog(int log) {
    return new CodecSettings(
        choice, level, dictionary, contextTakeover, log, columnarMinRecords, columnarSeries);
  }

  public CodecSettings withColumnarMinRecords(int n) {
    return new CodecSettings(
        choice, level, dictionary, contextTakeover, windowLog, n, columnarSeries);
  }

  /** The same settings with series coding in COLUMNAR on or off (see {@code columnarSeries}). */
  public CodecSettings withColumnarSeries(boolean on) {
    return new CodecSettings(
        choice, level, dictionary, contextTakeover, windowLog, columnarMinRecords, on);
  }

  private static void check(int v, int min, int max, String what) {
    if (v < min || v > max) {
      throw new IllegalArgumentException(what + " must be " + min + ".." + max + ", was " + v);
    }
  }
}
