package io.edgesync.protocol.codec.internal;

import com.github.luben.zstd.ZstdDecompressCtx;
import com.github.luben.zstd.ZstdDictDecompress;
import io.edgesync.protocol.ProtocolException;
import java.nio.ByteBuffer;

/**
 * The cloud half of a session's zstd stream: keeps the decoder state between batches, which must
 * arrive in the order they were compressed. Its memory is bounded by {@code maxWindowLog}: a stream
 * asking for a larger window is refused. Owned by one session; not thread safe.
 */
public final class StreamDecompressor implements NativeResource {
  private final ZstdDecompressCtx dctx = new ZstdDecompressCtx();

  public StreamDecompressor(int maxWindowLog, ZstdDictDecompress dictionary) {
    dctx.setMagicless(true);
    dctx.setLongMax(maxWindowLog);
    if (dictionary != null) {
      dctx.loadDict(dictionary);
    }
  }

  /**
   * Decompresses one flushed batch {@code src[off, off+len)}, which must give exactly {@code
   * rawLength} bytes.
   */
  public byte[] decompress(byte[] src, int off, int len, int rawLength, String codec)
      throws ProtocolException {
    byte[] out = new byte[rawLength];
    ByteBuffer in = ByteBuffer.wrap(src, off, len);
    ByteBuffer o = ByteBuffer.wrap(out);
    try {
      while (true) {
        int inBefore = in.position();
        int outBefore = o.position();
        dctx.decompressByteBufferStream(o, in);
        if (in.position() == inBefore && o.position() == outBefore) {
          break;
        }
        if (!in.hasRemaining() && !o.hasRemaining()) {
          // All input used and the output is full: one more call must not produce anything.
          ByteBuffer probe = ByteBuffer.allocate(1);
          dctx.decompressByteBufferStream(probe, in);
          if (probe.position() != 0) {
            throw Corrupt.invalid(
                codec, "stream decompresses to more than " + rawLength + " bytes");
          }
          break;
        }
      }
    } catch (RuntimeException e) {
      throw Corrupt.invalid(codec, "stream is not valid zstd (" + e.getMessage() + ")");
    }
    if (in.hasRemaining()) {
      throw Corrupt.invalid(codec, "stream decompresses to more than " + rawLength + " bytes");
    }
    if (o.hasRemaining()) {
      throw Corrupt.invalid(
          codec, "stream decompresses to " + o.position() + " bytes, expected " + rawLength);
    }
    return out;
  }

  @Override
  public void close() {
    dctx.close();
  }
}
