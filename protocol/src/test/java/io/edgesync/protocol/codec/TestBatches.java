package io.edgesync.protocol.codec;

import io.edgesync.protocol.Record;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** Seeded generators of record batches for the codec tests. */
final class TestBatches {
  private TestBatches() {}

  static final long START_MS = 1_767_225_600_000L;

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static List<Record> records(List<byte[]> payloads, long firstSequence, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    List<Record> out = new ArrayList<>(payloads.size());
    long origin = START_MS + r.nextInt(1000);
    for (int i = 0; i < payloads.size(); i++) {
      out.add(new Record(firstSequence + i, origin, payloads.get(i)));
      origin += r.nextInt(10) < 8 ? 1000 : r.nextInt(5000) - 1000;
    }
    return out;
  }

  static String dec(long unscaled, int scale) {
    return BigDecimal.valueOf(unscaled, scale).stripTrailingZeros().toPlainString();
  }

  /** Telemetry of one stable shape: ids, a 1 s timestamp, noisy readings, a status. */
  static List<byte[]> telemetry(long seed, int n) {
    SplittableRandom r = new SplittableRandom(seed);
    List<byte[]> out = new ArrayList<>(n);
    long t = 2150;
    long h = 4520;
    long p = 101325;
    for (int i = 0; i < n; i++) {
      long ts = START_MS + i * 1000L;
      t += r.nextInt(21) - 10;
      h += r.nextInt(41) - 20;
      p += r.nextInt(11) - 5;
      String status = r.nextInt(100) == 0 ? "warn" : "ok";
      out.add(
          utf8(
              "{\"device_id\":\"edge-gw-0042\",\"sensor\":\"bme280\",\"ts\":"
                  + ts
                  + ",\"temperature_c\":"
                  + dec(t, 2)
                  + ",\"humidity_pct\":"
                  + dec(h, 2)
                  + ",\"pressure_hpa\":"
                  + dec(p, 2)
                  + ",\"status\":\""
                  + status
                  + "\"}"));
    }
    return out;
  }

  /** Several shapes, nested objects and arrays, whitespace, and non-JSON bytes interleaved. */
  static List<byte[]> mixed(long seed, int n) {
    SplittableRandom r = new SplittableRandom(seed);
    List<byte[]> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      switch (r.nextInt(8)) {
        case 0 -> out.add(utf8("{\"a\":" + r.nextInt(100) + ",\"b\":\"x" + r.nextInt(3) + "\"}"));
        case 1 ->
            out.add(
                utf8(
                    "{\"env\":{\"t\":"
                        + dec(r.nextInt(5000), 1)
                        + ",\"tags\":[\"a\",\"b\","
                        + r.nextInt(9)
                        + "]},\"ok\":"
                        + r.nextBoolean()
                        + ",\"err\":null}"));
        case 2 -> out.add(utf8("{ \"pretty\" : [ 1 , 2.50 , -3 ] ,\n \"s\" : \"\\u00e9\\\"q\" }"));
        case 3 -> out.add(randomBytes(r, r.nextInt(40)));
        case 4 -> out.add(utf8("[" + r.nextInt(10) + "," + r.nextInt(10) + "]"));
        case 5 -> out.add(utf8("\"just a string " + r.nextInt(4) + "\""));
        case 6 -> out.add(utf8("{\"a\":" + r.nextInt(100) + ",\"b\":" + r.nextInt(100) + "}"));
        default -> out.add(utf8("{\"bad\":tru}"));
      }
    }
    return out;
  }

  static byte[] randomBytes(SplittableRandom r, int n) {
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) {
      b[i] = (byte) r.nextInt(256);
    }
    return b;
  }

  static List<byte[]> nonJson(long seed, int n) {
    SplittableRandom r = new SplittableRandom(seed);
    List<byte[]> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(randomBytes(r, r.nextInt(300)));
    }
    return out;
  }

  /** Numbers where text and value part ways: edges of long, exponents, negative zero. */
  static List<byte[]> edgeNumbers(long seed, int n) {
    String[] numbers = {
      "0",
      "-0",
      "-0.0",
      "0.0",
      "0.000",
      "1e308",
      "-1E-308",
      "2.5e+3",
      "9223372036854775807",
      "-9223372036854775808",
      "9223372036854775808",
      "-9223372036854775809",
      "123456789012345678901234567890",
      "0.000000000000000001",
      "0.0000000000000000001",
      "1.000000000000000000",
      "922337203685477580.7",
      "-922337203685477580.8",
      "3.14159",
      "42",
      "-7",
      "21.50",
      "21.5",
      "21",
      "1.7976931348623157E308",
      "4.9E-324"
    };
    SplittableRandom r = new SplittableRandom(seed);
    List<byte[]> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      String v = numbers[r.nextInt(numbers.length)];
      String w = numbers[r.nextInt(numbers.length)];
      out.add(utf8("{\"v\":" + v + ",\"w\":[" + w + "," + v + "]}"));
    }
    return out;
  }

  /** Long strings (up to 80 KB) and multi-byte UTF-8, escapes and raw control bytes. */
  static List<byte[]> stringsAndUnicode(long seed, int n) {
    SplittableRandom r = new SplittableRandom(seed);
    String[] words = {"température", "湿度", "давление", "😀", "\\\"", "\\\\", "\\n", "\t", "a"};
    List<byte[]> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      StringBuilder b = new StringBuilder();
      int len = r.nextInt(10) == 0 ? 20_000 + r.nextInt(60_000) : r.nextInt(30);
      while (b.length() < len) {
        b.append(words[r.nextInt(words.length)]);
      }
      out.add(utf8("{\"k\":\"" + b + "\",\"é\":\"" + words[r.nextInt(words.length)] + "\"}"));
    }
    return out;
  }

  /** Strings drawn from a small set, so dictionaries matter. */
  static List<byte[]> repeatedStrings(long seed, int n) {
    SplittableRandom r = new SplittableRandom(seed);
    List<byte[]> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(
          utf8(
              "{\"level\":\""
                  + new String[] {"info", "warn", "error", "debug"}[r.nextInt(4)]
                  + "\",\"msg\":\"event "
                  + r.nextInt(20)
                  + "\",\"host\":\"h"
                  + r.nextInt(3)
                  + "\"}"));
    }
    return out;
  }
}
