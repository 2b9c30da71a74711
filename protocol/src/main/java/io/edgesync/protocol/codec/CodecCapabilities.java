package io.edgesync.protocol.codec;

import io.edgesync.protocol.ProtocolException;
import io.edgesync.protocol.codec.CodecSettings.Choice;
import io.edgesync.protocol.wire.ErrorCode;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * How batch codecs are negotiated in the handshake (docs/protocol.md, "Codecs"): the edge lists the
 * codecs it can encode in {@code Hello.capabilities} as {@code codec:<name>} ({@code codec:gzip},
 * {@code codec:zstd_stream}, ...; NONE is always allowed and never listed), the cloud answers with
 * the subset it accepts in {@code Welcome.capabilities}, and the edge then encodes with its
 * configured family restricted to that subset ({@link #negotiate}). {@code batch:compact} asks for
 * the compact {@code RecordBatch} envelope the same way. Stateless.
 */
public final class CodecCapabilities {
  /** The capability for the compact RecordBatch envelope (stream_ref, implicit first_sequence). */
  public static final String COMPACT_BATCH = "batch:compact";

  /**
   * COLUMNAR batches may code each sensor's readings against each other (series, docs/codecs.md): a
   * layout older decoders refuse, so the edge uses it only when the cloud echoes this. A cloud
   * echoes it when it accepts COLUMNAR and its decoder reads series.
   */
  public static final String COLUMNAR_SERIES = "columnar:series";

  private static final String PREFIX = "codec:";

  private CodecCapabilities() {}

  /** {@code codec:<lower-case name>}, e.g. {@code codec:template_stream}. */
  public static String of(Codec codec) {
    return PREFIX + codec.name().toLowerCase(Locale.ROOT);
  }

  /** Every codec of this build but NONE, as capabilities, in id order. */
  public static List<String> all() {
    List<String> out = new ArrayList<>();
    for (Codec c : Codec.values()) {
      if (c != Codec.NONE) {
        out.add(of(c));
      }
    }
    return out;
  }

  /** The codecs named in {@code capabilities} (others are ignored), plus NONE. */
  public static Set<Codec> codecs(Collection<String> capabilities) {
    EnumSet<Codec> out = EnumSet.of(Codec.NONE);
    for (Codec c : Codec.values()) {
      if (capabilities.contains(of(c))) {
        out.add(c);
      }
    }
    return out;
  }

  /**
   * Parses a list of codec names as an operator writes them ({@code [gzip, zstd, columnar]} or
   * {@code all}); an unknown name fails with a message listing the allowed ones.
   */
  public static Set<Codec> parseNames(Collection<String> names) {
    EnumSet<Codec> out = EnumSet.of(Codec.NONE);
    for (String n : names) {
      String name = n.trim().toLowerCase(Locale.ROOT);
      if (name.equals("all")) {
        out.addAll(EnumSet.allOf(Codec.class));
        continue;
      }
      Codec found = null;
      for (Codec c : Codec.values()) {
        if (c.name().toLowerCase(Locale.ROOT).equals(name)) {
          found = c;
        }
      }
      if (found == null) {
        List<String> allowed = new ArrayList<>();
        for (Codec c : Codec.values()) {
          allowed.add(c.name().toLowerCase(Locale.ROOT));
        }
        throw new IllegalArgumentException(
            "unknown codec '" + n + "'; allowed: all, " + String.join(", ", allowed));
      }
      out.add(found);
    }
    return out;
  }

  /**
   * The settings to encode with when the peer accepts only {@code accepted}: the configured family
   * if the peer takes every codec it may choose, otherwise the nearest one it takes.
   *
   * <ul>
   *   <li>{@code auto} with context takeover needs COLUMNAR, TEMPLATE_STREAM and ZSTD_STREAM;
   *       without COLUMNAR it keeps to TEMPLATE_STREAM/ZSTD_STREAM; without the session codecs it
   *       becomes stateless {@code auto} (COLUMNAR, ZSTD), then {@code zstd}, then {@code gzip}.
   *   <li>{@code zstd} uses ZSTD_STREAM (context takeover) when configured and accepted, else ZSTD.
   *   <li>{@code gzip}, {@code lzma}: as configured if accepted.
   *   <li>Anything the peer does not take falls back to NONE, which every peer accepts.
   * </ul>
   *
   * COLUMNAR's series coding is off in the result: a set of codecs does not say whether the peer
   * reads it ({@link #negotiate(CodecSettings, Collection)} does).
   */
  public static CodecSettings negotiate(CodecSettings configured, Set<Codec> accepted) {
    return family(configured, accepted).withColumnarSeries(false);
  }

  private static CodecSettings family(CodecSettings configured, Set<Codec> accepted) {
    CodecSettings none = CodecSettings.parse("none");
    boolean stream = accepted.contains(Codec.ZSTD_STREAM);
    boolean frame = accepted.contains(Codec.ZSTD);
    return switch (configured.choice()) {
      case NONE -> none;
      case GZIP -> accepted.contains(Codec.GZIP) ? configured : none;
      case LZMA -> accepted.contains(Codec.LZMA) ? configured : none;
      case ZSTD -> {
        if (configured.contextTakeover() && stream) {
          yield configured;
        }
        if (frame) {
          yield configured.withContextTakeover(false);
        }
        yield stream ? configured.withContextTakeover(true) : none;
      }
      case AUTO -> {
        boolean columnar = accepted.contains(Codec.COLUMNAR);
        boolean template = accepted.contains(Codec.TEMPLATE_STREAM);
        if (configured.contextTakeover() && template && stream) {
          yield columnar ? configured : configured.withColumnarMinRecords(Integer.MAX_VALUE);
        }
        if (columnar && frame) {
          yield configured.withContextTakeover(false);
        }
        if (stream || frame) {
          yield new CodecSettings(
              Choice.ZSTD,
              configured.level(),
              configured.dictionary(),
              stream,
              configured.windowLog(),
              0);
        }
        yield accepted.contains(Codec.GZIP) ? CodecSettings.parse("gzip") : none;
      }
    };
  }

  /**
   * {@link #negotiate(CodecSettings, Set)} with what the cloud answered in {@code
   * Welcome.capabilities}, with series coding in COLUMNAR only if the configured settings allow it
   * and the cloud echoed {@link #COLUMNAR_SERIES} (and accepted COLUMNAR); otherwise the edge
   * writes COLUMNAR as every decoder reads it.
   */
  public static CodecSettings negotiate(
      CodecSettings configured, Collection<String> welcomeCapabilities) {
    Set<Codec> accepted = codecs(welcomeCapabilities);
    boolean series =
        configured.columnarSeries()
            && accepted.contains(Codec.COLUMNAR)
            && welcomeCapabilities.contains(COLUMNAR_SERIES);
    return family(configured, accepted).withColumnarSeries(series);
  }

  /**
   * The capabilities the cloud answers for COLUMNAR's series layout: {@link #COLUMNAR_SERIES} if
   * the edge offered it and the cloud accepts COLUMNAR, else nothing. A cloud whose decoder reads
   * series (this build) calls this; an older one never echoes it.
   */
  public static List<String> seriesAnswer(
      Collection<String> helloCapabilities, Set<Codec> accepted) {
    return accepted.contains(Codec.COLUMNAR) && helloCapabilities.contains(COLUMNAR_SERIES)
        ? List.of(COLUMNAR_SERIES)
        : List.of();
  }

  /** What the edge offers in {@code Hello.capabilities} for its configured settings. */
  public static List<String> offer(CodecSettings configured) {
    List<String> caps = all();
    if (configured.columnarSeries()) {
      caps.add(COLUMNAR_SERIES);
    }
    return caps;
  }

  /** The protocol's enum value for a codec (same number). */
  public static io.edgesync.protocol.wire.Codec toWire(Codec codec) {
    return io.edgesync.protocol.wire.Codec.forNumber(codec.id());
  }

  /**
   * @throws ProtocolException INVALID_BATCH for a number this build does not know
   */
  public static Codec fromWire(io.edgesync.protocol.wire.Codec codec, int number)
      throws ProtocolException {
    if (codec == io.edgesync.protocol.wire.Codec.UNRECOGNIZED) {
      throw new ProtocolException(ErrorCode.INVALID_BATCH, "unknown codec " + number);
    }
    return Codec.fromId(codec.getNumber());
  }
}
