package io.edgesync.protocol;

import io.edgesync.protocol.wire.ErrorCode;
import java.util.ArrayList;
import java.util.List;

/**
 * The byte layout of records inside a batch payload (codec NONE) and inside the stores' chunk
 * blobs. Records are consecutive; for each record:
 *
 * <pre>
 *   zigzag varint  originMs - previous originMs   (the first record: minus 0)
 *   varint         payload length in bytes
 *   bytes          payload
 * </pre>
 *
 * Sequence numbers are not stored: the enclosing batch or chunk names the first one and records are
 * consecutive. Stateless and thread safe.
 */
public final class RecordLayout {
  private RecordLayout() {}

  public static byte[] encode(List<Record> records) {
    int estimate = 0;
    for (Record r : records) {
      estimate += r.payload().length + 12;
    }
    Sink out = new Sink(estimate);
    long previous = 0;
    for (Record r : records) {
      out.varint(zigzag(r.originMs() - previous));
      previous = r.originMs();
      out.varint(r.payload().length);
      out.write(r.payload());
    }
    return out.toByteArray();
  }

  /** The size of {@link #encode}'s result for these records, without encoding them. */
  public static long encodedSize(List<Record> records) {
    long size = 0;
    long previous = 0;
    for (Record r : records) {
      size += varintSize(zigzag(r.originMs() - previous)) + varintSize(r.payload().length);
      size += r.payload().length;
      previous = r.originMs();
    }
    return size;
  }

  private static int varintSize(long v) {
    int n = 1;
    while ((v & ~0x7FL) != 0) {
      v >>>= 7;
      n++;
    }
    return n;
  }

  /**
   * Decodes exactly {@code count} records numbered from {@code firstSequence}.
   *
   * @throws ProtocolException INVALID_BATCH if the bytes do not hold exactly that many well-formed
   *     records, or a record exceeds {@link ProtocolLimits#MAX_RECORD_BYTES}
   */
  public static List<Record> decode(byte[] data, long firstSequence, int count)
      throws ProtocolException {
    if (count < 0) {
      throw invalid("negative record count " + count);
    }
    List<Record> records = new ArrayList<>(Math.min(count, 65_536));
    int[] pos = {0};
    long origin = 0;
    for (int i = 0; i < count; i++) {
      origin += unzigzag(readVarint(data, pos, i));
      long length = readVarint(data, pos, i);
      // A 10-byte varint can set the sign bit: compare unsigned so it cannot reach new byte[].
      if (length < 0 || length > ProtocolLimits.MAX_RECORD_BYTES) {
        throw invalid(
            "record "
                + i
                + " is "
                + Long.toUnsignedString(length)
                + " bytes, above the limit of "
                + ProtocolLimits.MAX_RECORD_BYTES);
      }
      if (length > data.length - pos[0]) {
        throw invalid(
            "record "
                + i
                + " claims "
                + length
                + " bytes but only "
                + (data.length - pos[0])
                + " remain");
      }
      byte[] payload = new byte[(int) length];
      System.arraycopy(data, pos[0], payload, 0, payload.length);
      pos[0] += payload.length;
      records.add(new Record(firstSequence + i, origin, payload));
    }
    if (pos[0] != data.length) {
      throw invalid((data.length - pos[0]) + " trailing bytes after " + count + " records");
    }
    return records;
  }

  private static long readVarint(byte[] data, int[] pos, int recordIndex) throws ProtocolException {
    long result = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos[0] >= data.length) {
        throw invalid("payload ends inside record " + recordIndex);
      }
      byte b = data[pos[0]++];
      result |= (long) (b & 0x7f) << shift;
      if (b >= 0) {
        return result;
      }
    }
    throw invalid("varint longer than 10 bytes in record " + recordIndex);
  }

  private static ProtocolException invalid(String message) {
    return new ProtocolException(ErrorCode.INVALID_BATCH, "invalid record payload: " + message);
  }

  static long zigzag(long v) {
    return (v << 1) ^ (v >> 63);
  }

  static long unzigzag(long v) {
    return (v >>> 1) ^ -(v & 1);
  }

  /** A growable byte buffer with varint writes; avoids ByteArrayOutputStream's locking. */
  private static final class Sink {
    private byte[] buf;
    private int size;

    Sink(int capacity) {
      buf = new byte[Math.max(16, capacity)];
    }

    void varint(long v) {
      ensure(10);
      while ((v & ~0x7fL) != 0) {
        buf[size++] = (byte) ((v & 0x7f) | 0x80);
        v >>>= 7;
      }
      buf[size++] = (byte) v;
    }

    void write(byte[] bytes) {
      ensure(bytes.length);
      System.arraycopy(bytes, 0, buf, size, bytes.length);
      size += bytes.length;
    }

    private void ensure(int extra) {
      if (size + extra > buf.length) {
        buf = java.util.Arrays.copyOf(buf, Math.max(buf.length * 2, size + extra));
      }
    }

    byte[] toByteArray() {
      return size == buf.length ? buf : java.util.Arrays.copyOf(buf, size);
    }
  }
}
