package io.edgesync.server;

import java.math.BigInteger;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The one JSON text of a value that the audit log hashes and exports: objects with their keys
 * sorted (by UTF-16 code unit, as {@link String#compareTo}), no whitespace, integers only (no
 * fractions or exponents), strings with only {@code "}, {@code \} and control characters escaped
 * ({@code \"}, {@code \\}, {@code \n}, {@code \r}, {@code \t}, else {@code \}{@code u00XX} in lower
 * case hex), everything else as UTF-8. Two values are equal exactly when their texts are equal, so
 * a verifier can re-encode what it parsed and compare bytes.
 *
 * <p>Values: {@link Map} with String keys, {@link List}, String, Long/Integer/Short/Byte, {@link
 * BigInteger} within long range, Boolean, null. Anything else is refused with an exception naming
 * its type. Stateless, thread safe.
 */
public final class CanonicalJson {
  private CanonicalJson() {}

  /** The canonical text of {@code value}. */
  public static String write(Object value) {
    StringBuilder out = new StringBuilder();
    write(out, value);
    return out.toString();
  }

  private static void write(StringBuilder out, Object v) {
    if (v == null) {
      out.append("null");
    } else if (v instanceof String s) {
      string(out, s);
    } else if (v instanceof Boolean b) {
      out.append(b.booleanValue());
    } else if (v instanceof Long
        || v instanceof Integer
        || v instanceof Short
        || v instanceof Byte) {
      out.append(((Number) v).longValue());
    } else if (v instanceof BigInteger b && b.bitLength() < 64) {
      out.append(b.longValue());
    } else if (v instanceof Map<?, ?> m) {
      object(out, m);
    } else if (v instanceof List<?> l) {
      out.append('[');
      for (int i = 0; i < l.size(); i++) {
        out.append(i == 0 ? "" : ",");
        write(out, l.get(i));
      }
      out.append(']');
    } else {
      throw new IllegalArgumentException(
          "canonical JSON holds objects, arrays, strings, integers in long range, booleans and"
              + " null; not a "
              + v.getClass().getSimpleName()
              + " ("
              + v
              + ")");
    }
  }

  private static void object(StringBuilder out, Map<?, ?> m) {
    TreeMap<String, Object> sorted = new TreeMap<>();
    for (Map.Entry<?, ?> e : m.entrySet()) {
      if (!(e.getKey() instanceof String k)) {
        throw new IllegalArgumentException("canonical JSON object keys are strings: " + e.getKey());
      }
      sorted.put(k, e.getValue());
    }
    out.append('{');
    boolean first = true;
    for (Map.Entry<String, Object> e : sorted.entrySet()) {
      out.append(first ? "" : ",");
      first = false;
      string(out, e.getKey());
      out.append(':');
      write(out, e.getValue());
    }
    out.append('}');
  }

  private static void string(StringBuilder out, String s) {
    out.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (c < 0x20) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    out.append('"');
  }
}
