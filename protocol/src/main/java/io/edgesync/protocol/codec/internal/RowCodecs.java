package io.edgesync.protocol.codec.internal;

import io.edgesync.protocol.ProtocolException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.Inflater;
import org.tukaani.xz.FinishableWrapperOutputStream;
import org.tukaani.xz.LZMA2InputStream;
import org.tukaani.xz.LZMA2Options;
import org.tukaani.xz.UnsupportedOptionsException;

/**
 * GZIP and LZMA of the record layout (docs/codecs.md). Stateless helpers; each call allocates its
 * own (de)compressor, which is fine for codecs chosen by configuration rather than for speed.
 */
public final class RowCodecs {
  /** The LZMA2 dictionary is at most 2^this bytes (8 MiB), bounding the decoder's memory. */
  public static final int MAX_LZMA_DICT_LOG = 23;

  private static final int MIN_LZMA_DICT_LOG = 12;

  private RowCodecs() {}

  /** A gzip member (RFC 1952) without optional header fields. */
  public static void gzip(byte[] layout, int level, ByteSink out) {
    out.write(0x1f);
    out.write(0x8b);
    out.write(8); // deflate
    out.write(0); // no flags
    out.intLittleEndian(0); // no modification time
    out.write(0); // extra flags
    out.write(255); // unknown OS
    Deflater d = new Deflater(level, true);
    try {
      d.setInput(layout);
      d.finish();
      while (!d.finished()) {
        byte[] buf = out.reserve(Math.max(64, layout.length / 2 + 64));
        int n = d.deflate(buf, out.size(), buf.length - out.size());
        out.advance(n);
      }
    } finally {
      d.end();
    }
    CRC32 crc = new CRC32();
    crc.update(layout);
    out.intLittleEndian((int) crc.getValue());
    out.intLittleEndian(layout.length);
  }

  public static byte[] gunzip(byte[] src, int off, int len, long maxBytes)
      throws ProtocolException {
    String codec = "GZIP";
    ByteSource in = new ByteSource(src, off, len, codec, "header");
    if (in.readByte() != 0x1f || in.readByte() != 0x8b) {
      throw Corrupt.invalid(codec, "does not start with the gzip magic 1f8b");
    }
    int method = in.readByte();
    int flags = in.readByte();
    if (method != 8 || flags != 0) {
      throw Corrupt.invalid(
          codec, "has method " + method + " and flags " + flags + "; expected 8 and 0");
    }
    in.take(6, "the rest of the gzip header");
    if (in.remaining() < 8) {
      throw Corrupt.invalid(codec, "is too short for a gzip trailer");
    }
    int deflateStart = in.position();
    int deflateEnd = off + len - 8;
    ByteSource trailer = new ByteSource(src, deflateEnd, 8, codec, "trailer");
    int expectedCrc = trailer.readIntLittleEndian();
    long size = trailer.readIntLittleEndian() & 0xffffffffL;
    if (size > maxBytes) {
      throw Corrupt.invalid(codec, "declares " + size + " bytes, above the limit of " + maxBytes);
    }
    byte[] out = new byte[(int) size];
    Inflater inf = new Inflater(true);
    try {
      inf.setInput(src, deflateStart, deflateEnd - deflateStart);
      int n = 0;
      while (n < out.length && !inf.finished()) {
        int k = inf.inflate(out, n, out.length - n);
        if (k == 0) {
          break; // needs input it does not have, or a dictionary: checked below
        }
        n += k;
      }
      if (!inf.finished()) {
        // Either more output than declared, or the deflate stream is cut short.
        byte[] probe = new byte[1];
        if (n == out.length && inf.inflate(probe) > 0) {
          throw Corrupt.invalid(codec, "inflates to more than the declared " + size + " bytes");
        }
        if (!inf.finished()) {
          throw Corrupt.invalid(codec, "deflate stream ends early after " + n + " bytes");
        }
      }
      if (n != out.length) {
        throw Corrupt.invalid(codec, "inflates to " + n + " bytes, declared " + size);
      }
      if (inf.getRemaining() != 0) {
        throw Corrupt.invalid(
            codec, "has " + inf.getRemaining() + " bytes after the deflate stream");
      }
    } catch (DataFormatException e) {
      throw Corrupt.invalid(codec, "deflate stream is corrupt (" + e.getMessage() + ")");
    } finally {
      inf.end();
    }
    CRC32 crc = new CRC32();
    crc.update(out);
    if ((int) crc.getValue() != expectedCrc) {
      throw Corrupt.invalid(codec, "gzip CRC-32 does not match");
    }
    return out;
  }

  /** varint layout length, byte dictionary log, raw LZMA2 stream. */
  public static void lzma(byte[] layout, int preset, ByteSink out) {
    int dictLog = MIN_LZMA_DICT_LOG;
    while (dictLog < MAX_LZMA_DICT_LOG && (1 << dictLog) < layout.length) {
      dictLog++;
    }
    out.varint(layout.length);
    out.write(dictLog);
    try {
      LZMA2Options options = new LZMA2Options(preset);
      options.setDictSize(1 << dictLog);
      SinkStream sink = new SinkStream(out);
      try (var lz = options.getOutputStream(new FinishableWrapperOutputStream(sink))) {
        lz.write(layout);
      }
    } catch (UnsupportedOptionsException e) {
      throw new IllegalArgumentException("lzma preset " + preset + ": " + e.getMessage(), e);
    } catch (IOException e) {
      throw new IllegalStateException("in-memory lzma failed", e);
    }
  }

  public static byte[] unlzma(byte[] src, int off, int len, long maxBytes)
      throws ProtocolException {
    String codec = "LZMA";
    ByteSource in = new ByteSource(src, off, len, codec, "header");
    int size = in.readCount(Math.min(maxBytes, Integer.MAX_VALUE - 16), "a layout length");
    int dictLog = in.readByte();
    if (dictLog < MIN_LZMA_DICT_LOG || dictLog > MAX_LZMA_DICT_LOG) {
      throw Corrupt.invalid(
          codec,
          "has dictionary 2^"
              + dictLog
              + ", outside 2^"
              + MIN_LZMA_DICT_LOG
              + "..2^"
              + MAX_LZMA_DICT_LOG);
    }
    ByteArrayInputStream bytes = new ByteArrayInputStream(src, in.position(), in.remaining());
    byte[] out = new byte[size];
    try (InputStream lz = new LZMA2InputStream(bytes, 1 << dictLog)) {
      int n = 0;
      while (n < size) {
        int k = lz.read(out, n, size - n);
        if (k < 0) {
          throw Corrupt.invalid(codec, "stream ends after " + n + " of " + size + " bytes");
        }
        n += k;
      }
      if (lz.read() >= 0) {
        throw Corrupt.invalid(codec, "stream holds more than the declared " + size + " bytes");
      }
    } catch (IOException | RuntimeException e) {
      throw Corrupt.invalid(codec, "stream is corrupt (" + e + ")");
    }
    if (bytes.available() != 0) {
      throw Corrupt.invalid(codec, "has " + bytes.available() + " bytes after the LZMA2 stream");
    }
    return out;
  }

  /** An OutputStream over a ByteSink. */
  private static final class SinkStream extends java.io.OutputStream {
    private final ByteSink sink;

    SinkStream(ByteSink sink) {
      this.sink = sink;
    }

    @Override
    public void write(int b) {
      sink.write(b);
    }

    @Override
    public void write(byte[] b, int off, int len) {
      sink.write(b, off, len);
    }
  }
}
