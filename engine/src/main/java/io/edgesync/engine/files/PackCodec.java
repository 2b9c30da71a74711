package io.edgesync.engine.files;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdCompressCtx;
import com.github.luben.zstd.ZstdDecompressCtx;
import com.github.luben.zstd.ZstdDictContentType;
import com.github.luben.zstd.ZstdException;
import com.google.protobuf.ByteString;
import io.edgesync.protocol.wire.ChunkPack;
import io.edgesync.protocol.wire.ChunkRange;
import io.edgesync.protocol.wire.PackEncoding;
import java.util.List;

/**
 * Encodes the chunks of a {@link ChunkPack} and decodes them back, choosing the smallest of three
 * encodings: the raw bytes, one zstd frame, and one zstd frame with base chunks of the delta base
 * as a raw-content dictionary (zstd "patch-from"). Stateless and thread safe (each call has its own
 * zstd contexts).
 *
 * <p>The zstd frames are <b>magicless</b> (the 4-byte magic number is left out: the encoding field
 * says what the payload is), carry no content size (the receiver knows the pack's size from the
 * manifest or the plan) and no checksum (every frame on the wire has a CRC-32C, and every chunk is
 * checked against its SHA-256 before it is stored).
 *
 * <p>Patch-from frames use a window that covers the dictionary and the data, {@code
 * ceil(log2(dictionary + raw))}, larger match-finder tables ({@value #PATCH_HASH_LOG}/{@value
 * #PATCH_CHAIN_LOG}-bit hash and chain logs) than the level's defaults, and at least level {@value
 * #PATCH_MIN_LEVEL} (zstd's lazy match finder). Measured on the files bench (100 small edits over 8
 * MB of changed chunks with their 8 MB of base chunks as dictionary): level 3's double-fast finder
 * leaves 4,892 bytes, level 7 1,853 bytes (xdelta3 -9: 1,685 for the whole file); with 20-bit
 * tables instead of 22 the lazy finder misses the dictionary almost entirely (3.7 MB). Level 7 also
 * beats level 3 by 1 to 3 % on inserted and appended data, at 10 to 20 ms per MB on one core.
 *
 * <p>Memory: decoding writes into one array of the expected size, never more, whatever the payload
 * claims; with its dictionary that is at most {@link FileLimits#MAX_PACK_RAW_BYTES} + {@link
 * FileLimits#MAX_DICTIONARY_BYTES} per pack.
 */
public final class PackCodec {
  /** Hash log of patch-from frames (the level's default for the window is smaller). */
  static final int PATCH_HASH_LOG = 22;

  /** Chain log of patch-from frames. */
  static final int PATCH_CHAIN_LOG = 22;

  /** The largest window a pack may need: the dictionary and the data together. */
  static final int MAX_WINDOW_LOG =
      windowLog((long) FileLimits.MAX_PACK_RAW_BYTES + FileLimits.MAX_DICTIONARY_BYTES);

  /** The lowest level patch-from frames use: levels below 5 find few of a dictionary's matches. */
  static final int PATCH_MIN_LEVEL = 7;

  private static final int MIN_WINDOW_LOG = 10;

  private PackCodec() {}

  /**
   * Encodes the chunks of {@code ranges}, concatenated in {@code raw}, as the smallest of PACK_RAW,
   * PACK_ZSTD and (only with a dictionary) PACK_ZSTD_PATCH.
   *
   * @param base the base chunks the dictionary holds, or an empty list
   * @param dictionary those base chunks concatenated, or null for none
   * @param level the zstd level (3 is zstd's default)
   */
  public static ChunkPack encode(
      List<ChunkRange> ranges, byte[] raw, List<ChunkRange> base, byte[] dictionary, int level) {
    checkSizes(ranges, raw, base, dictionary);
    byte[] best = raw;
    PackEncoding encoding = PackEncoding.PACK_RAW;
    byte[] zstd = compress(raw, null, level);
    if (zstd.length < best.length) {
      best = zstd;
      encoding = PackEncoding.PACK_ZSTD;
    }
    if (dictionary != null && dictionary.length > 0) {
      byte[] patch = compress(raw, dictionary, level);
      if (patch.length < best.length) {
        best = patch;
        encoding = PackEncoding.PACK_ZSTD_PATCH;
      }
    }
    ChunkPack.Builder pack =
        ChunkPack.newBuilder()
            .addAllRanges(ranges)
            .setEncoding(encoding)
            .setPayload(ByteString.copyFrom(best));
    if (encoding == PackEncoding.PACK_ZSTD_PATCH) {
      pack.addAllBase(base);
    }
    return pack.build();
  }

  /**
   * Decodes a pack into exactly {@code expectedRawBytes} bytes (the lengths of its chunks, which
   * the receiver knows from the manifest or the plan).
   *
   * @param dictionary the pack's base chunks concatenated (required for PACK_ZSTD_PATCH), or null
   * @throws InvalidPackException naming the problem: truncated, garbage, size mismatch, dictionary
   *     missing, unknown encoding
   */
  public static byte[] decode(ChunkPack pack, int expectedRawBytes, byte[] dictionary)
      throws InvalidPackException {
    if (expectedRawBytes < 1 || expectedRawBytes > FileLimits.MAX_PACK_RAW_BYTES) {
      throw new InvalidPackException(
          "size mismatch: a pack holds 1.."
              + FileLimits.MAX_PACK_RAW_BYTES
              + " bytes, expected "
              + expectedRawBytes);
    }
    boolean patch = pack.getEncoding() == PackEncoding.PACK_ZSTD_PATCH;
    if (patch != (pack.getBaseCount() > 0)) {
      throw new InvalidPackException(
          patch
              ? "dictionary missing: a PACK_ZSTD_PATCH pack names no base chunks"
              : "garbage: a " + pack.getEncoding() + " pack names base chunks");
    }
    return switch (pack.getEncoding()) {
      case PACK_RAW -> raw(pack, expectedRawBytes);
      case PACK_ZSTD -> decompress(pack.getPayload().toByteArray(), expectedRawBytes, null);
      case PACK_ZSTD_PATCH -> {
        if (dictionary == null || dictionary.length == 0) {
          throw new InvalidPackException(
              "dictionary missing: a PACK_ZSTD_PATCH pack needs its base chunks");
        }
        if (dictionary.length > FileLimits.MAX_DICTIONARY_BYTES) {
          throw new InvalidPackException(
              "dictionary of "
                  + dictionary.length
                  + " bytes exceeds "
                  + FileLimits.MAX_DICTIONARY_BYTES);
        }
        yield decompress(pack.getPayload().toByteArray(), expectedRawBytes, dictionary);
      }
      default -> throw new InvalidPackException("unknown encoding " + pack.getEncodingValue());
    };
  }

  private static byte[] raw(ChunkPack pack, int expectedRawBytes) throws InvalidPackException {
    int n = pack.getPayload().size();
    if (n != expectedRawBytes) {
      throw new InvalidPackException(
          (n < expectedRawBytes ? "truncated" : "size mismatch")
              + ": PACK_RAW payload of "
              + n
              + " bytes, expected "
              + expectedRawBytes);
    }
    return pack.getPayload().toByteArray();
  }

  private static byte[] compress(byte[] raw, byte[] dictionary, int level) {
    try (ZstdCompressCtx ctx = new ZstdCompressCtx()) {
      ctx.setLevel(level).setMagicless(true).setChecksum(false).setContentSize(false);
      if (dictionary != null) {
        ctx.setLevel(Math.max(level, PATCH_MIN_LEVEL))
            .setWindowLog(windowLog((long) dictionary.length + raw.length))
            .setHashLog(PATCH_HASH_LOG)
            .setChainLog(PATCH_CHAIN_LOG)
            .loadDict(dictionary, ZstdDictContentType.RAW_CONTENT);
      }
      return ctx.compress(raw);
    }
  }

  private static byte[] decompress(byte[] payload, int expectedRawBytes, byte[] dictionary)
      throws InvalidPackException {
    byte[] out = new byte[expectedRawBytes];
    int n;
    try (ZstdDecompressCtx ctx = new ZstdDecompressCtx()) {
      ctx.setMagicless(true).setLongMax(MAX_WINDOW_LOG);
      if (dictionary != null) {
        ctx.loadDict(dictionary, ZstdDictContentType.RAW_CONTENT);
      }
      n = ctx.decompressByteArray(out, 0, out.length, payload, 0, payload.length);
    } catch (ZstdException e) {
      throw new InvalidPackException(describe(e, payload.length, expectedRawBytes), e);
    }
    if (n != expectedRawBytes) {
      throw new InvalidPackException(
          "size mismatch: zstd payload decodes to " + n + " bytes, expected " + expectedRawBytes);
    }
    return out;
  }

  /** Names a zstd failure in the terms of the pack: which of our problems it is. */
  private static String describe(ZstdException e, int payloadBytes, int expectedRawBytes) {
    String name = e.getMessage();
    String kind;
    if (e.getErrorCode() == Zstd.errDstSizeTooSmall()) {
      kind = "size mismatch: zstd payload decodes to more than " + expectedRawBytes + " bytes";
    } else if (e.getErrorCode() == Zstd.errSrcSizeWrong()) {
      kind = "truncated: zstd payload of " + payloadBytes + " bytes ends inside its frame";
    } else if (e.getErrorCode() == Zstd.errDictionaryWrong()) {
      kind = "dictionary missing: zstd payload needs another dictionary";
    } else {
      kind = "garbage: zstd payload of " + payloadBytes + " bytes does not decode";
    }
    return kind + " (zstd: " + name + ")";
  }

  private static void checkSizes(
      List<ChunkRange> ranges, byte[] raw, List<ChunkRange> base, byte[] dictionary) {
    if (raw.length < 1 || raw.length > FileLimits.MAX_PACK_RAW_BYTES) {
      throw new IllegalArgumentException(
          "a pack holds 1.." + FileLimits.MAX_PACK_RAW_BYTES + " bytes, was " + raw.length);
    }
    if (ranges.isEmpty() || ranges.size() > FileLimits.MAX_RANGES) {
      throw new IllegalArgumentException(
          "a pack names 1.." + FileLimits.MAX_RANGES + " ranges, was " + ranges.size());
    }
    if (dictionary != null && dictionary.length > FileLimits.MAX_DICTIONARY_BYTES) {
      throw new IllegalArgumentException(
          "dictionary of "
              + dictionary.length
              + " bytes exceeds "
              + FileLimits.MAX_DICTIONARY_BYTES);
    }
    if ((dictionary != null && dictionary.length > 0) != !base.isEmpty()
        || base.size() > FileLimits.MAX_RANGES) {
      throw new IllegalArgumentException(
          "base ranges ("
              + base.size()
              + ") and dictionary ("
              + (dictionary == null ? "none" : dictionary.length + " bytes")
              + ") must come together, at most "
              + FileLimits.MAX_RANGES
              + " ranges");
    }
  }

  /** ceil(log2(bytes)), at least zstd's minimum window. */
  static int windowLog(long bytes) {
    int log = 64 - Long.numberOfLeadingZeros(Math.max(1, bytes - 1));
    return Math.max(MIN_WINDOW_LOG, log);
  }
}
