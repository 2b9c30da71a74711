package io.edgesync.protocol.codec.internal;

import io.edgesync.protocol.ProtocolException;

/**
 * Integer sequence transforms for columns, each followed by a varint per value. Wire values:
 *
 * <ul>
 *   <li>0 PLAIN: zigzag(v)
 *   <li>1 DELTA: zigzag(v - previous)
 *   <li>2 DOD (delta of delta): zigzag((v - previous) - previousDelta)
 *   <li>3 XOR (Gorilla style, on the integer): unsigned (v XOR previous)
 * </ul>
 *
 * The state starts at previous = 0, previousDelta = 0; arithmetic wraps (two's complement), so any
 * long round-trips. Stateless.
 */
public final class Transforms {
  public static final int PLAIN = 0;
  public static final int DELTA = 1;
  public static final int DOD = 2;
  public static final int XOR = 3;
  public static final int COUNT = 4;

  private Transforms() {}

  /** The transform whose varints take the fewest bytes (ties: DELTA, DOD, PLAIN, XOR). */
  public static int choose(long[] v, int n) {
    return chooseBy(v, n, false);
  }

  /**
   * The transform whose residuals carry the fewest bits, {@code bitlen(residual) + 1} each (ties:
   * DELTA, DOD, PLAIN, XOR). Closer than varint bytes to what zstd's entropy coder spends on small
   * residuals: {0, 1, 2} costs a byte per value either way, but PLAIN keeps 3 symbols where DELTA
   * makes 5. Used by the series-aware encoder (columnar:series).
   */
  public static int chooseByBits(long[] v, int n) {
    return chooseBy(v, n, true);
  }

  private static int chooseBy(long[] v, int n, boolean bits) {
    long plain = 0;
    long delta = 0;
    long dod = 0;
    long xor = 0;
    long prev = 0;
    long prevDelta = 0;
    for (int i = 0; i < n; i++) {
      long x = v[i];
      long d = x - prev;
      plain += cost(Varints.zigzag(x), bits);
      delta += cost(Varints.zigzag(d), bits);
      dod += cost(Varints.zigzag(d - prevDelta), bits);
      xor += cost(x ^ prev, bits);
      prev = x;
      prevDelta = d;
    }
    return best(plain, delta, dod, xor);
  }

  /** The cost of one residual: its bits ({@link #chooseByBits}) or its varint's bytes. */
  public static long cost(long residual, boolean bits) {
    return bits ? SeriesColumns.bits(residual) : Varints.size(residual);
  }

  /** The smallest of the four costs (ties: DELTA, DOD, PLAIN, XOR). */
  static int best(long plain, long delta, long dod, long xor) {
    int best = DELTA;
    long bestSize = delta;
    if (dod < bestSize) {
      best = DOD;
      bestSize = dod;
    }
    if (plain < bestSize) {
      best = PLAIN;
      bestSize = plain;
    }
    if (xor < bestSize) {
      best = XOR;
    }
    return best;
  }

  public static void write(long[] v, int n, int transform, ByteSink out) {
    long prev = 0;
    long prevDelta = 0;
    for (int i = 0; i < n; i++) {
      long x = v[i];
      long d = x - prev;
      switch (transform) {
        case PLAIN -> out.varint(Varints.zigzag(x));
        case DELTA -> out.varint(Varints.zigzag(d));
        case DOD -> out.varint(Varints.zigzag(d - prevDelta));
        case XOR -> out.varint(x ^ prev);
        default -> throw new IllegalArgumentException("transform " + transform);
      }
      prev = x;
      prevDelta = d;
    }
  }

  public static void read(ByteSource in, int transform, long[] out, int n)
      throws ProtocolException {
    long prev = 0;
    long prevDelta = 0;
    for (int i = 0; i < n; i++) {
      long r = in.readVarint();
      long x =
          switch (transform) {
            case PLAIN -> Varints.unzigzag(r);
            case DELTA -> prev + Varints.unzigzag(r);
            case DOD -> prev + prevDelta + Varints.unzigzag(r);
            case XOR -> prev ^ r;
            default -> throw in.corrupt("has unknown transform " + transform);
          };
      prevDelta = x - prev;
      prev = x;
      out[i] = x;
    }
  }
}
