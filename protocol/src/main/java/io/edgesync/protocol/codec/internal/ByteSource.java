package io.edgesync.protocol.codec.internal;

import io.edgesync.protocol.ProtocolException;

/**
 * Bounds-checked reads over a byte range. Every malformed read throws {@link ProtocolException}
 * naming the codec and the part being read, never an index exception. Not thread safe.
 */
public final class ByteSource {
  private final byte[] data;
  private final int end;
  private final String codec;
  private final String part;
  private int pos;

  public ByteSource(byte[] data, int offset, int length, String codec, String part) {
    this.data = data;
    this.pos = offset;
    this.end = offset + length;
    this.codec = codec;
    this.part = part;
  }

  public byte[] array() {
    return data;
  }

  public int position() {
    return pos;
  }

  public int remaining() {
    return end - pos;
  }

  public boolean hasRemaining() {
    return pos < end;
  }

  public int readByte() throws ProtocolException {
    if (pos >= end) {
      throw corrupt("ends early");
    }
    return data[pos++] & 0xff;
  }

  public long readVarint() throws ProtocolException {
    long result = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos >= end) {
        throw corrupt("ends inside a varint");
      }
      byte b = data[pos++];
      result |= (long) (b & 0x7f) << shift;
      if (b >= 0) {
        if (shift == 63 && (b & 0x7e) != 0) {
          throw corrupt("has a varint above 64 bits");
        }
        return result;
      }
    }
    throw corrupt("has a varint longer than 10 bytes");
  }

  public long readZigzag() throws ProtocolException {
    return Varints.unzigzag(readVarint());
  }

  /** Reads a varint that must lie in [0, max]; {@code what} names it in the error. */
  public int readCount(long max, String what) throws ProtocolException {
    long v = readVarint();
    if (v < 0 || v > max) {
      throw corrupt("has " + what + " " + Long.toUnsignedString(v) + ", above the limit of " + max);
    }
    return (int) v;
  }

  /** Skips {@code length} bytes and returns the offset where they start. */
  public int take(int length, String what) throws ProtocolException {
    if (length < 0 || length > end - pos) {
      throw corrupt("has " + what + " of " + length + " bytes but only " + (end - pos) + " remain");
    }
    int at = pos;
    pos += length;
    return at;
  }

  public int readIntLittleEndian() throws ProtocolException {
    int at = take(4, "a 4-byte value");
    return (data[at] & 0xff)
        | (data[at + 1] & 0xff) << 8
        | (data[at + 2] & 0xff) << 16
        | (data[at + 3] & 0xff) << 24;
  }

  public void expectEnd() throws ProtocolException {
    if (pos != end) {
      throw corrupt("has " + (end - pos) + " trailing bytes");
    }
  }

  public ProtocolException corrupt(String detail) {
    return Corrupt.invalid(codec, part + " " + detail);
  }
}
