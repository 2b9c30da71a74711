package io.edgesync.protocol.codec.internal;

import java.util.Arrays;

/** A growable byte buffer with varint writes. Not thread safe; reused by its owner. */
public final class ByteSink {
  private byte[] buf;
  private int size;

  public ByteSink(int capacity) {
    buf = new byte[Math.max(16, capacity)];
  }

  public int size() {
    return size;
  }

  public byte[] array() {
    return buf;
  }

  public void clear() {
    size = 0;
  }

  public void write(int b) {
    if (size == buf.length) {
      grow(1);
    }
    buf[size++] = (byte) b;
  }

  /** Unsigned LEB128: 7 bits per byte, low groups first, high bit set on all but the last. */
  public void varint(long v) {
    if (size + 10 > buf.length) {
      grow(10);
    }
    byte[] b = buf;
    int s = size;
    while ((v & ~0x7fL) != 0) {
      b[s++] = (byte) ((v & 0x7f) | 0x80);
      v >>>= 7;
    }
    b[s++] = (byte) v;
    size = s;
  }

  public void zigzag(long v) {
    varint(Varints.zigzag(v));
  }

  public void write(byte[] bytes, int offset, int length) {
    if (size + length > buf.length) {
      grow(length);
    }
    System.arraycopy(bytes, offset, buf, size, length);
    size += length;
  }

  public void write(byte[] bytes) {
    write(bytes, 0, bytes.length);
  }

  public void write(ByteSink other) {
    write(other.buf, 0, other.size);
  }

  public void intLittleEndian(int v) {
    write(v);
    write(v >>> 8);
    write(v >>> 16);
    write(v >>> 24);
  }

  /** Makes room for {@code extra} more bytes and returns the array to write into at size(). */
  public byte[] reserve(int extra) {
    if (size + extra > buf.length) {
      grow(extra);
    }
    return buf;
  }

  public void advance(int written) {
    size += written;
  }

  private void grow(int extra) {
    long wanted = Math.max((long) buf.length * 2, (long) size + extra);
    if (wanted > Integer.MAX_VALUE - 16) {
      throw new IllegalStateException("encoded batch above 2 GiB");
    }
    buf = Arrays.copyOf(buf, (int) wanted);
  }

  public byte[] toByteArray() {
    return Arrays.copyOf(buf, size);
  }
}
