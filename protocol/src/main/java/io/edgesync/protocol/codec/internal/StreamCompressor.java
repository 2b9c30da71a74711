package io.edgesync.protocol.codec.internal;

import com.github.luben.zstd.EndDirective;
import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdCompressCtx;
import com.github.luben.zstd.ZstdDictCompress;
import java.nio.ByteBuffer;

/**
 * The edge half of a session's zstd stream (context takeover): one magicless zstd frame that never
 * ends, flushed at the end of every batch so the cloud can decode the batch at once, while later
 * batches still find matches in earlier ones. Owned by one session; not thread safe.
 */
public final class StreamCompressor implements NativeResource {
  private final ZstdCompressCtx cctx;
  private boolean started;

  /**
   * @param windowLog log2 of the history both sides keep; the decoder's memory per session
   */
  public StreamCompressor(int level, int windowLog, ZstdDictCompress dictionary) {
    cctx = ZstdFrames.newCompressor(level);
    cctx.setWindowLog(windowLog);
    if (dictionary != null) {
      cctx.loadDict(dictionary);
    }
  }

  /** False until the first batch went through: that batch carries the dictionary id. */
  public boolean started() {
    return started;
  }

  /** Compresses {@code src[off, off+len)} and flushes; appends the output to {@code out}. */
  public void compressAndFlush(byte[] src, int off, int len, ByteSink out) {
    started = true;
    ByteBuffer in = ByteBuffer.wrap(src, off, len);
    int room = (int) Math.min(Integer.MAX_VALUE - 64, Zstd.compressBound(len) + 64);
    while (true) {
      byte[] dst = out.reserve(room);
      ByteBuffer o = ByteBuffer.wrap(dst, out.size(), room);
      boolean done = cctx.compressByteBufferStream(o, in, EndDirective.FLUSH);
      out.advance(o.position() - out.size());
      if (done && !in.hasRemaining()) {
        return;
      }
    }
  }

  @Override
  public void close() {
    cctx.close();
  }
}
