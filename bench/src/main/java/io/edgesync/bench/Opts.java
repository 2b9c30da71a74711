package io.edgesync.bench;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * {@code --key=value} (or {@code --key value}) options; a bare {@code --key} is {@code true}. Every
 * key read is remembered so unknown ones can be refused.
 */
final class Opts {
  private final Map<String, String> values = new LinkedHashMap<>();

  Opts(String[] args, int from) {
    for (int i = from; i < args.length; i++) {
      String a = args[i];
      if (!a.startsWith("--")) {
        throw new IllegalArgumentException("expected --key=value, got '" + a + "'");
      }
      int eq = a.indexOf('=');
      if (eq < 0 && i + 1 < args.length && !args[i + 1].startsWith("--")) {
        values.put(a.substring(2), args[++i]); // --key value
      } else if (eq < 0) {
        values.put(a.substring(2), "true");
      } else {
        values.put(a.substring(2, eq), a.substring(eq + 1));
      }
    }
  }

  String string(String key, String fallback) {
    return values.getOrDefault(key, fallback);
  }

  int integer(String key, int fallback) {
    return (int) longValue(key, fallback);
  }

  long longValue(String key, long fallback) {
    String v = string(key, null);
    if (v == null) {
      return fallback;
    }
    String s = v.replace("_", "").toLowerCase();
    long mult = 1;
    if (s.endsWith("k")) {
      mult = 1_000;
    } else if (s.endsWith("m")) {
      mult = 1_000_000;
    } else if (s.endsWith("kib")) {
      mult = 1024;
    } else if (s.endsWith("mib")) {
      mult = 1024 * 1024;
    }
    s = s.replaceAll("[a-z]+$", "");
    try {
      return Long.parseLong(s) * mult;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--" + key + ": not a number: '" + v + "'");
    }
  }

  double seconds(String key, double fallback) {
    String v = string(key, null);
    if (v == null) {
      return fallback;
    }
    try {
      return Double.parseDouble(v.endsWith("s") ? v.substring(0, v.length() - 1) : v);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--" + key + ": not a number of seconds: '" + v + "'");
    }
  }

  boolean bool(String key, boolean fallback) {
    String v = string(key, null);
    return v == null ? fallback : Boolean.parseBoolean(v);
  }

  /** Fails on options outside {@code known} (typos). */
  void checkKnown(Set<String> known) {
    for (String k : values.keySet()) {
      if (!known.contains(k)) {
        throw new IllegalArgumentException(
            "unknown option --" + k + " (known: " + new TreeSet<>(known) + ")");
      }
    }
  }
}
