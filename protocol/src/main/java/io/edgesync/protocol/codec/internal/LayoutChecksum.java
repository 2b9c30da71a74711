package io.edgesync.protocol.codec.internal;

import io.edgesync.protocol.Record;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * CRC-32C of a batch's record layout (see {@code RecordLayout}): for each record the zigzag varint
 * of its origin delta, the varint payload length, the payload. Every codec but NONE ends its
 * payload with this value (4 bytes, little endian), so a decoder that went wrong — corrupt input, a
 * lost session context — fails instead of returning other records. Not thread safe.
 */
public final class LayoutChecksum {
  private final CRC32C crc = new CRC32C();
  private final byte[] scratch = new byte[20];
  private long previousOrigin;

  public void reset() {
    crc.reset();
    previousOrigin = 0;
  }

  public void add(long originMs, byte[] payload, int offset, int length) {
    int n = put(scratch, 0, Varints.zigzag(originMs - previousOrigin));
    n = put(scratch, n, length);
    previousOrigin = originMs;
    crc.update(scratch, 0, n);
    crc.update(payload, offset, length);
  }

  public int value() {
    return (int) crc.getValue();
  }

  public static int of(List<Record> records) {
    LayoutChecksum c = new LayoutChecksum();
    for (Record r : records) {
      c.add(r.originMs(), r.payload(), 0, r.payload().length);
    }
    return c.value();
  }

  /** Of bytes already in the record layout. */
  public static int ofLayout(byte[] layout, int offset, int length) {
    CRC32C c = new CRC32C();
    c.update(layout, offset, length);
    return (int) c.getValue();
  }

  private static int put(byte[] b, int at, long v) {
    while ((v & ~0x7fL) != 0) {
      b[at++] = (byte) ((v & 0x7f) | 0x80);
      v >>>= 7;
    }
    b[at++] = (byte) v;
    return at;
  }
}
