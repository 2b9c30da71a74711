package io.edgesync.protocol.codec.internal;

/**
 * Decimal numbers as (unscaled long mantissa, scale): {@code 21.37 = (2137, 2)}, {@code 0.050 =
 * (50, 3)}, {@code -7 = (-7, 0)}. {@link #format} gives back the exact JSON text the scanner read:
 * an optional minus, the digits of |mantissa| left-padded with zeros to scale + 1 digits, and a
 * point before the last {@code scale} digits. Negative zero has no such form and stays text.
 * Stateless.
 */
public final class Decimals {
  /** Most digits after the point a decimal may have; 10^18 still fits a long. */
  public static final int MAX_SCALE = 18;

  static final long[] POW10 = new long[19];

  static {
    long p = 1;
    for (int i = 0; i < POW10.length; i++) {
      POW10[i] = p;
      p *= 10;
    }
  }

  private Decimals() {}

  public static long pow10(int n) {
    return POW10[n];
  }

  /** Whether {@code m * 10^k} fits a long (k in 0..18). */
  public static boolean fits(long m, int k) {
    if (k == 0) {
      return true;
    }
    long p = POW10[k];
    long hi = Math.multiplyHigh(m, p);
    long lo = m * p;
    return (hi == 0 && lo >= 0) || (hi == -1 && lo < 0);
  }

  /** Trailing decimal zeros of m, at most {@code cap}; m == 0 counts as {@code cap}. */
  public static int trailingZeros(long m, int cap) {
    if (m == 0) {
      return cap;
    }
    int z = 0;
    while (z < cap && m % 10 == 0) {
      m /= 10;
      z++;
    }
    return z;
  }

  /** Appends the text of (m, scale) to {@code out}; scale in 0..18. */
  public static void format(long m, int scale, ByteSink out) {
    // Work on the negative magnitude so that Long.MIN_VALUE needs no special case.
    long neg = m < 0 ? m : -m;
    int digits = 1;
    for (long t = neg / 10; t != 0; t /= 10) {
      digits++;
    }
    int width = Math.max(digits, scale + 1);
    int length = (m < 0 ? 1 : 0) + width + (scale > 0 ? 1 : 0);
    byte[] buf = out.reserve(length);
    int p = out.size() + length;
    long v = neg;
    for (int i = 0; i < width; i++) {
      if (i == scale && scale > 0) {
        buf[--p] = '.';
      }
      long q = v / 10;
      buf[--p] = (byte) ('0' + (q * 10 - v));
      v = q;
    }
    if (m < 0) {
      buf[--p] = '-';
    }
    out.advance(length);
  }
}
