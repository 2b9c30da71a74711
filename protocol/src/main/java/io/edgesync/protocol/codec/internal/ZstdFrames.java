package io.edgesync.protocol.codec.internal;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdCompressCtx;
import com.github.luben.zstd.ZstdDecompressCtx;
import com.github.luben.zstd.ZstdDictCompress;
import com.github.luben.zstd.ZstdDictDecompress;
import io.edgesync.protocol.ProtocolException;

/**
 * Single zstd frames in the form every codec here writes them: magicless (no 4-byte magic number),
 * no checksum (the batch's CRC-32C covers the result), no dictionary id (the codec says which
 * dictionary), no content size (the codec says how many bytes to expect). Owns one native
 * compression and one decompression context; not thread safe. Close it to free them.
 */
public final class ZstdFrames implements NativeResource {
  private final ZstdCompressCtx cctx;
  private final ZstdDecompressCtx dctx = new ZstdDecompressCtx();
  private final int level;

  public ZstdFrames(int level) {
    this.level = level;
    cctx = newCompressor(level);
    dctx.setMagicless(true);
  }

  public static ZstdCompressCtx newCompressor(int level) {
    ZstdCompressCtx c = new ZstdCompressCtx();
    c.setLevel(level);
    c.setMagicless(true);
    c.setChecksum(false);
    c.setContentSize(false);
    c.setDictID(false);
    return c;
  }

  public int level() {
    return level;
  }

  /** Appends a frame holding {@code src[off, off+len)} to {@code out}; returns its size. */
  public int compress(byte[] src, int off, int len, ByteSink out, ZstdDictCompress dict) {
    int bound = (int) Math.min(Integer.MAX_VALUE - 64, Zstd.compressBound(len));
    byte[] dst = out.reserve(bound);
    if (dict != null) {
      cctx.loadDict(dict);
    } else {
      cctx.loadDict((ZstdDictCompress) null);
    }
    int n = cctx.compressByteArray(dst, out.size(), bound, src, off, len);
    out.advance(n);
    return n;
  }

  /**
   * Decompresses the frame {@code src[off, off+len)} into {@code dst[dstOff, dstOff+rawLength)}; it
   * must produce exactly rawLength bytes.
   */
  public void decompress(
      byte[] src,
      int off,
      int len,
      byte[] dst,
      int dstOff,
      int rawLength,
      ZstdDictDecompress dict,
      String codec,
      String part)
      throws ProtocolException {
    int n;
    try {
      dctx.loadDict(dict);
      n = dctx.decompressByteArray(dst, dstOff, rawLength, src, off, len);
    } catch (RuntimeException e) {
      throw Corrupt.invalid(codec, part + " is not a valid zstd frame (" + e.getMessage() + ")");
    }
    if (n != rawLength) {
      throw Corrupt.invalid(
          codec, part + " decompresses to " + n + " bytes, expected " + rawLength);
    }
  }

  @Override
  public void close() {
    cctx.close();
    dctx.close();
  }
}
