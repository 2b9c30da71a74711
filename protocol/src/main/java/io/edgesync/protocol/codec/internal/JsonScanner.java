package io.edgesync.protocol.codec.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Splits one record into a <em>template</em> and its <em>values</em>. The template is the record's
 * bytes with every scalar value (string, number, true, false, null) cut out: the structure, the
 * keys and any whitespace, as {@code holes + 1} literal segments. A record is the concatenation
 * {@code segment0 value0 segment1 value1 ... segmentN}, so putting the values back gives the exact
 * original bytes; nothing is normalized.
 *
 * <p>The scanner accepts one JSON value (RFC 8259 grammar, any whitespace) filling the whole
 * record. String contents are kept as raw bytes between the quotes (escapes are not decoded, so
 * they come back as written). Anything else — not JSON, trailing bytes, nesting deeper than {@link
 * #MAX_DEPTH}, more than {@link #MAX_HOLES} values, a skeleton above {@link #MAX_SKELETON_BYTES} —
 * is refused and the codecs carry that record as raw bytes.
 *
 * <p>Numbers without an exponent whose digits fit a long become a decimal (unscaled mantissa, scale
 * = digits after the point, at most {@link Decimals#MAX_SCALE}); the text comes back exactly from
 * those two ({@link Decimals#format}). Every other number (exponent, negative zero, too many
 * digits) is kept as its text. Not thread safe: results live in the scanner until the next scan.
 */
public final class JsonScanner {
  public static final int MAX_DEPTH = 64;
  public static final int MAX_HOLES = 1024;
  public static final int MAX_SKELETON_BYTES = 65_536;

  // Results of the last successful scan.
  /** Template key: segment bytes back to back, then each segment length as a varint. */
  public byte[] key = new byte[256];

  public int keyLength;
  public int holes;
  public byte[] kind = new byte[16];

  /** Strings: the bytes between the quotes. Numbers: the number's text. Literals: the word. */
  public int[] start = new int[16];

  public int[] end = new int[16];
  public long[] mantissa = new long[16];
  public byte[] scale = new byte[16];

  private byte[] in;
  private int pos;
  private int len;
  private int skelLength;
  private int[] segLength = new int[17];
  private int segStart;

  /** Scans {@code record}; false if it is not a template-able JSON value. */
  public boolean scan(byte[] record) {
    in = record;
    pos = 0;
    len = record.length;
    skelLength = 0;
    holes = 0;
    segStart = 0;
    if (!value(0)) {
      return false;
    }
    whitespace();
    if (pos != len || skelLength > MAX_SKELETON_BYTES) {
      return false;
    }
    // Close the last segment and append the segment lengths, making the key unambiguous.
    ensureSegments(holes + 1);
    segLength[holes] = skelLength - segStart;
    ensureKey(skelLength + 5 * (holes + 1));
    int k = skelLength;
    for (int i = 0; i <= holes; i++) {
      int v = segLength[i];
      while ((v & ~0x7f) != 0) {
        key[k++] = (byte) ((v & 0x7f) | 0x80);
        v >>>= 7;
      }
      key[k++] = (byte) v;
    }
    keyLength = k;
    return true;
  }

  /** Length of segment {@code i} of the last scan. */
  public int segmentLength(int i) {
    return segLength[i];
  }

  /** Bytes of the skeleton (segments back to back) at the start of {@link #key}. */
  public int skeletonLength() {
    return skelLength;
  }

  private boolean value(int depth) {
    whitespace();
    if (pos >= len) {
      return false;
    }
    byte c = in[pos];
    switch (c) {
      case '{':
        return object(depth + 1);
      case '[':
        return array(depth + 1);
      case '"':
        return stringHole();
      case 't':
        return literalHole("true", Kinds.TRUE);
      case 'f':
        return literalHole("false", Kinds.FALSE);
      case 'n':
        return literalHole("null", Kinds.NULL);
      default:
        if (c == '-' || (c >= '0' && c <= '9')) {
          return numberHole();
        }
        return false;
    }
  }

  private boolean object(int depth) {
    if (depth > MAX_DEPTH) {
      return false;
    }
    if (!copy(1)) {
      return false;
    }
    whitespace();
    if (pos < len && in[pos] == '}') {
      return copy(1);
    }
    while (true) {
      if (pos >= len || in[pos] != '"') {
        return false;
      }
      int s = pos;
      int e = stringEnd(pos + 1);
      if (e < 0) {
        return false;
      }
      pos = s;
      if (!copy(e + 1 - s)) {
        return false;
      }
      whitespace();
      if (pos >= len || in[pos] != ':' || !copy(1)) {
        return false;
      }
      if (!value(depth)) {
        return false;
      }
      whitespace();
      if (pos >= len) {
        return false;
      }
      if (in[pos] == ',') {
        if (!copy(1)) {
          return false;
        }
        whitespace();
        continue;
      }
      return in[pos] == '}' && copy(1);
    }
  }

  private boolean array(int depth) {
    if (depth > MAX_DEPTH) {
      return false;
    }
    if (!copy(1)) {
      return false;
    }
    whitespace();
    if (pos < len && in[pos] == ']') {
      return copy(1);
    }
    while (true) {
      if (!value(depth)) {
        return false;
      }
      whitespace();
      if (pos >= len) {
        return false;
      }
      if (in[pos] == ',') {
        if (!copy(1)) {
          return false;
        }
        continue;
      }
      return in[pos] == ']' && copy(1);
    }
  }

  private static final VarHandle LONGS =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  private static final long ONES = 0x0101010101010101L;
  private static final long HIGHS = 0x8080808080808080L;
  private static final long QUOTES = ONES * '"';
  private static final long BACKSLASHES = ONES * '\\';

  /** Nonzero with the high bit of the lowest byte of {@code word} equal to {@code pattern}'s. */
  private static long matches(long word, long pattern) {
    long x = word ^ pattern;
    return (x - ONES) & ~x & HIGHS;
  }

  /** Index of the closing quote of a string whose content starts at {@code from}, or -1. */
  private int stringEnd(int from) {
    byte[] b = in;
    int i = from;
    int n = len;
    while (i < n) {
      // Eight bytes at a time up to the next quote or backslash.
      while (i + 8 <= n) {
        long w = (long) LONGS.get(b, i);
        long m = matches(w, QUOTES) | matches(w, BACKSLASHES);
        if (m != 0) {
          i += Long.numberOfTrailingZeros(m) >>> 3;
          break;
        }
        i += 8;
      }
      if (i >= n) {
        return -1;
      }
      byte c = b[i];
      if (c == '"') {
        return i;
      }
      i += c == '\\' ? 2 : 1;
    }
    return -1;
  }

  private boolean stringHole() {
    int e = stringEnd(pos + 1);
    if (e < 0) {
      return false;
    }
    // The quotes stay in the skeleton: a string value is only its content.
    if (!copy(1)) {
      return false;
    }
    if (!hole(Kinds.STRING, pos, e)) {
      return false;
    }
    pos = e;
    return copy(1);
  }

  private boolean literalHole(String word, byte k) {
    int n = word.length();
    if (len - pos < n) {
      return false;
    }
    for (int i = 0; i < n; i++) {
      if (in[pos + i] != word.charAt(i)) {
        return false;
      }
    }
    if (!hole(k, pos, pos + n)) {
      return false;
    }
    pos += n;
    return true;
  }

  private boolean numberHole() {
    byte[] b = in;
    int n = len;
    int s = pos;
    int i = pos;
    boolean negative = b[i] == '-';
    if (negative) {
      i++;
    }
    if (i >= n) {
      return false;
    }
    // The mantissa accumulates negatively so that Long.MIN_VALUE fits; fits turns false on
    // overflow.
    long m = 0;
    boolean fits = true;
    if (b[i] == '0') {
      i++;
    } else if (b[i] >= '1' && b[i] <= '9') {
      while (i < n && b[i] >= '0' && b[i] <= '9') {
        int d = b[i++] - '0';
        if (m < Long.MIN_VALUE / 10 || (m == Long.MIN_VALUE / 10 && d > 8)) {
          fits = false;
        }
        m = m * 10 - d;
      }
    } else {
      return false;
    }
    int fracDigits = 0;
    if (i < n && b[i] == '.') {
      i++;
      int f = i;
      while (i < n && b[i] >= '0' && b[i] <= '9') {
        int d = b[i++] - '0';
        if (m < Long.MIN_VALUE / 10 || (m == Long.MIN_VALUE / 10 && d > 8)) {
          fits = false;
        }
        m = m * 10 - d;
      }
      fracDigits = i - f;
      if (fracDigits == 0) {
        return false;
      }
    }
    boolean exponent = false;
    if (i < n && (b[i] == 'e' || b[i] == 'E')) {
      exponent = true;
      i++;
      if (i < n && (b[i] == '+' || b[i] == '-')) {
        i++;
      }
      int f = i;
      while (i < n && b[i] >= '0' && b[i] <= '9') {
        i++;
      }
      if (i == f) {
        return false;
      }
    }
    if (!hole(Kinds.NUMTEXT, s, i)) {
      return false;
    }
    pos = i;
    if (fits && !exponent && fracDigits <= Decimals.MAX_SCALE) {
      int h = holes - 1;
      if (negative ? m != 0 : m != Long.MIN_VALUE) {
        kind[h] = Kinds.DECIMAL;
        mantissa[h] = negative ? m : -m;
        scale[h] = (byte) fracDigits;
      }
    }
    return true;
  }

  private boolean hole(byte k, int s, int e) {
    if (holes >= MAX_HOLES) {
      return false;
    }
    int h = holes;
    if (h >= kind.length) {
      int n = kind.length * 2;
      kind = Arrays.copyOf(kind, n);
      start = Arrays.copyOf(start, n);
      end = Arrays.copyOf(end, n);
      mantissa = Arrays.copyOf(mantissa, n);
      scale = Arrays.copyOf(scale, n);
    }
    ensureSegments(h + 2);
    segLength[h] = skelLength - segStart;
    segStart = skelLength;
    kind[h] = k;
    start[h] = s;
    end[h] = e;
    holes = h + 1;
    return true;
  }

  private void whitespace() {
    int s = pos;
    while (pos < len) {
      byte c = in[pos];
      if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
        pos++;
      } else {
        break;
      }
    }
    if (pos > s) {
      int n = pos - s;
      pos = s;
      copy(n); // a skeleton too large is caught by the next structural copy
    }
  }

  /** Copies {@code n} input bytes at pos into the skeleton and advances. */
  private boolean copy(int n) {
    if (skelLength + n > MAX_SKELETON_BYTES) {
      pos += n;
      skelLength = MAX_SKELETON_BYTES + 1;
      return false;
    }
    ensureKey(skelLength + n);
    System.arraycopy(in, pos, key, skelLength, n);
    skelLength += n;
    pos += n;
    return true;
  }

  private void ensureKey(int n) {
    if (n > key.length) {
      key = Arrays.copyOf(key, Math.max(n, key.length * 2));
    }
  }

  private void ensureSegments(int n) {
    if (n > segLength.length) {
      segLength = Arrays.copyOf(segLength, Math.max(n, segLength.length * 2));
    }
  }
}
