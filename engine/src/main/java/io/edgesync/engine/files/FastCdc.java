package io.edgesync.engine.files;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.Objects;

/**
 * Content-defined chunking by FastCDC (Xia et al., USENIX ATC 2016; "The Design of Fast
 * Content-Defined Chunking for Data Deduplication Based Storage Systems", TPDS 2020): a rolling
 * "gear" hash over the bytes, {@code fp = (fp << 1) + GEAR[b]}, cuts a chunk where the hash's top
 * bits are all zero. Because a cut depends only on the last 64 bytes, an edit moves the cuts near
 * it and no others: two versions of a file share every chunk away from their differences, whatever
 * shifted. The three FastCDC ideas are all here: the first {@code minBytes} of a chunk are skipped
 * (no cut can fall there), and normalized chunking uses a harder mask (two bits more) before {@code
 * avgBytes} and an easier one (two bits fewer) after it, so that chunk sizes gather near the
 * average; {@code maxBytes} forces a cut.
 *
 * <p>The gear table and the masks are part of what both sides must agree on: a file's manifest
 * names its chunks, and a device that cut differently would hold different chunks. {@link #GEAR} is
 * 256 values of SplitMix64 from seed {@value #GEAR_SEED}; changing it, the mask rule or the
 * skipping changes every chunk of every file.
 *
 * <p>Stateless and thread safe; {@link Chunks} reads a stream with a buffer of {@code 2 ×
 * maxBytes}, whatever the stream's length.
 */
public final class FastCdc {
  /** The seed of the gear table (SplitMix64): part of the chunk format. */
  public static final long GEAR_SEED = 0x6564_6765_7379_6E63L; // "edgesync"

  /** The gear table: 256 pseudo-random 64-bit values, one per byte value. */
  static final long[] GEAR = gear(GEAR_SEED);

  /**
   * Chunk sizes: no cut before {@code minBytes}, a cut at {@code maxBytes} at the latest, about
   * {@code avgBytes} on average (a power of two).
   */
  public record Params(int minBytes, int avgBytes, int maxBytes) {
    /** The smallest and largest sizes accepted for any of the three. */
    public static final int MIN_CHUNK_BYTES = 64;

    public static final int MAX_CHUNK_BYTES = 64 << 20;

    public Params {
      if (minBytes < MIN_CHUNK_BYTES || maxBytes > MAX_CHUNK_BYTES) {
        throw new IllegalArgumentException(
            "chunk sizes must be within "
                + MIN_CHUNK_BYTES
                + ".."
                + MAX_CHUNK_BYTES
                + " bytes, were min "
                + minBytes
                + ", max "
                + maxBytes);
      }
      if (Integer.bitCount(avgBytes) != 1) {
        throw new IllegalArgumentException(
            "the average chunk size must be a power of two, was " + avgBytes);
      }
      if (!(minBytes < avgBytes && avgBytes < maxBytes)) {
        throw new IllegalArgumentException(
            "chunk sizes must grow: min < avg < max, were "
                + minBytes
                + ", "
                + avgBytes
                + ", "
                + maxBytes);
      }
    }

    /** The hash bits that must be zero for a cut before the average (two more than its log2). */
    long maskSmall() {
      return topBits(Integer.numberOfTrailingZeros(avgBytes) + 2);
    }

    /** The hash bits that must be zero for a cut after the average (two fewer than its log2). */
    long maskLarge() {
      return topBits(Math.max(1, Integer.numberOfTrailingZeros(avgBytes) - 2));
    }

    private static long topBits(int n) {
      return -1L << (64 - n);
    }
  }

  /**
   * 16 KiB / 64 KiB / 256 KiB: a 64 MiB file is about 1,000 chunks, so its manifest (a SHA-256 per
   * chunk) is about 0.05 % of it, while an edit costs one or two chunks of about 64 KiB when no
   * delta is sent instead.
   */
  public static final Params DEFAULT = new Params(16 << 10, 64 << 10, 256 << 10);

  private FastCdc() {}

  /**
   * The length of the chunk that starts at {@code buf[off]}, given the {@code len} bytes available
   * from there ({@code len} less than {@code maxBytes} only at the end of the data: the rest is
   * then one chunk if no cut is found in it).
   */
  public static int cut(byte[] buf, int off, int len, Params p) {
    Objects.checkFromIndexSize(off, len, buf.length);
    if (len <= p.minBytes()) {
      return len;
    }
    int end = Math.min(len, p.maxBytes());
    int normal = Math.min(end, p.avgBytes());
    long maskS = p.maskSmall();
    long maskL = p.maskLarge();
    long fp = 0;
    int i = p.minBytes();
    for (; i < normal; i++) {
      fp = (fp << 1) + GEAR[buf[off + i] & 0xFF];
      if ((fp & maskS) == 0) {
        return i + 1;
      }
    }
    for (; i < end; i++) {
      fp = (fp << 1) + GEAR[buf[off + i] & 0xFF];
      if ((fp & maskL) == 0) {
        return i + 1;
      }
    }
    return end;
  }

  /** A chunk of a stream: where it starts, and its bytes (a copy of its own). */
  public record Chunk(long offset, byte[] data) {}

  /**
   * The chunks of a stream, in order, read with a buffer of {@code 2 × maxBytes}: a file of any
   * size is chunked in bounded memory. Not thread safe; does not close the stream.
   */
  public static final class Chunks {
    private final InputStream in;
    private final Params params;
    private final byte[] buf;
    private int start;
    private int end;
    private long offset;
    private boolean eof;

    public Chunks(InputStream in, Params params) {
      this.in = Objects.requireNonNull(in, "in");
      this.params = Objects.requireNonNull(params, "params");
      this.buf = new byte[2 * params.maxBytes()];
    }

    /** The next chunk, or null at the end of the stream. */
    public Chunk next() throws IOException {
      fill();
      if (start == end) {
        return null;
      }
      int n = cut(buf, start, end - start, params);
      Chunk c = new Chunk(offset, Arrays.copyOfRange(buf, start, start + n));
      start += n;
      offset += n;
      return c;
    }

    /** Reads until a whole {@code maxBytes} is buffered after {@code start}, or the stream ends. */
    private void fill() throws IOException {
      if (end - start >= params.maxBytes() || eof) {
        return;
      }
      System.arraycopy(buf, start, buf, 0, end - start);
      end -= start;
      start = 0;
      while (end < buf.length) {
        int r = in.read(buf, end, buf.length - end);
        if (r < 0) {
          eof = true;
          return;
        }
        end += r;
      }
    }
  }

  /** 256 values of SplitMix64 (Steele, Lea, Flood 2014) from {@code seed}. */
  static long[] gear(long seed) {
    long[] g = new long[256];
    long s = seed;
    for (int i = 0; i < g.length; i++) {
      s += 0x9E3779B97F4A7C15L;
      long z = s;
      z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
      z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
      g[i] = z ^ (z >>> 31);
    }
    return g;
  }
}
