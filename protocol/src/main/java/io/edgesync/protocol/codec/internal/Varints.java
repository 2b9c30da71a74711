package io.edgesync.protocol.codec.internal;

/** Zigzag mapping and varint sizes shared by the codecs. Stateless. */
public final class Varints {
  private Varints() {}

  /** Maps signed to unsigned so small magnitudes get short varints: 0,-1,1,-2 → 0,1,2,3. */
  public static long zigzag(long v) {
    return (v << 1) ^ (v >> 63);
  }

  public static long unzigzag(long v) {
    return (v >>> 1) ^ -(v & 1);
  }

  /** Bytes an unsigned LEB128 varint of {@code v} takes: 1..10. */
  public static int size(long v) {
    int bits = 64 - Long.numberOfLeadingZeros(v | 1);
    return (bits + 6) / 7;
  }
}
