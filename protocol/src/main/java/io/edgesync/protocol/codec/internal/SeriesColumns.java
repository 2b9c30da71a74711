package io.edgesync.protocol.codec.internal;

import io.edgesync.protocol.ProtocolException;

/**
 * Integer columns of a series template (COLUMNAR with series, docs/codecs.md): the values are in
 * series order (all values of series 0, then series 1, ...), and a value that starts a series (a
 * <em>head</em>) is not coded against the previous row, which belongs to another series. Heads go
 * to a heads stream of their own (coded with {@link Transforms}), every other value through a
 * {@link Transforms} transform whose state starts over at each head: previous = the head, previous
 * delta = 0. So a reading costs its change since the previous reading of the same sensor, wherever
 * the other sensors' readings fell in between. Stateless.
 */
public final class SeriesColumns {
  private SeriesColumns() {}

  /** Number of heads among the first {@code n} flags. */
  public static int heads(boolean[] head, int n) {
    int h = 0;
    for (int i = 0; i < n; i++) {
      if (head[i]) {
        h++;
      }
    }
    return h;
  }

  /**
   * The body transform whose residuals carry the fewest bits (as {@link Transforms#chooseByBits}).
   */
  public static int chooseBody(long[] v, int n, boolean[] head) {
    long[] cost = new long[Transforms.COUNT];
    long prev = 0;
    long prevDelta = 0;
    for (int i = 0; i < n; i++) {
      long x = v[i];
      if (head[i]) {
        prev = x;
        prevDelta = 0;
        continue;
      }
      long d = x - prev;
      for (int tr = 0; tr < Transforms.COUNT; tr++) {
        cost[tr] += bits(residual(tr, x, prev, d, prevDelta));
      }
      prev = x;
      prevDelta = d;
    }
    return Transforms.best(
        cost[Transforms.PLAIN], cost[Transforms.DELTA], cost[Transforms.DOD], cost[Transforms.XOR]);
  }

  /**
   * An estimate of the bits the values cost in this order (heads and body, each with the better of
   * DELTA and DOD), for choosing key columns: {@code bitlen(zigzag(residual)) + 1} per value.
   */
  public static long estimateBits(long[] v, int n, boolean[] head) {
    long delta = 0;
    long dod = 0;
    long headBits = 0;
    long prevHead = 0;
    long prev = 0;
    long prevDelta = 0;
    for (int i = 0; i < n; i++) {
      long x = v[i];
      if (head != null && head[i]) {
        headBits += bits(Varints.zigzag(x - prevHead));
        prevHead = x;
        prev = x;
        prevDelta = 0;
        continue;
      }
      long d = x - prev;
      delta += bits(Varints.zigzag(d));
      dod += bits(Varints.zigzag(d - prevDelta));
      prev = x;
      prevDelta = d;
    }
    return headBits + Math.min(delta, dod);
  }

  /** {@code bitlen(u) + 1}: roughly what an entropy coder spends on a small residual. */
  static int bits(long u) {
    return 65 - Long.numberOfLeadingZeros(u);
  }

  /** Writes the non-head values with {@code transform}, the state starting over at each head. */
  public static void writeBody(long[] v, int n, boolean[] head, int transform, ByteSink out) {
    long prev = 0;
    long prevDelta = 0;
    for (int i = 0; i < n; i++) {
      long x = v[i];
      if (head[i]) {
        prev = x;
        prevDelta = 0;
        continue;
      }
      long d = x - prev;
      out.varint(residual(transform, x, prev, d, prevDelta));
      prev = x;
      prevDelta = d;
    }
  }

  /** Reads what {@link #writeBody} wrote; {@code heads} holds the heads in order. */
  public static void readBody(
      ByteSource in, int transform, long[] out, int n, boolean[] head, long[] heads)
      throws ProtocolException {
    long prev = 0;
    long prevDelta = 0;
    int h = 0;
    for (int i = 0; i < n; i++) {
      long x;
      if (head[i]) {
        x = heads[h++];
        prevDelta = 0;
      } else {
        long r = in.readVarint();
        x =
            switch (transform) {
              case Transforms.PLAIN -> Varints.unzigzag(r);
              case Transforms.DELTA -> prev + Varints.unzigzag(r);
              case Transforms.DOD -> prev + prevDelta + Varints.unzigzag(r);
              case Transforms.XOR -> prev ^ r;
              default -> throw in.corrupt("has unknown transform " + transform);
            };
        prevDelta = x - prev;
      }
      prev = x;
      out[i] = x;
    }
  }

  private static long residual(int transform, long x, long prev, long d, long prevDelta) {
    return switch (transform) {
      case Transforms.PLAIN -> Varints.zigzag(x);
      case Transforms.DELTA -> Varints.zigzag(d);
      case Transforms.DOD -> Varints.zigzag(d - prevDelta);
      case Transforms.XOR -> x ^ prev;
      default -> throw new IllegalArgumentException("transform " + transform);
    };
  }
}
