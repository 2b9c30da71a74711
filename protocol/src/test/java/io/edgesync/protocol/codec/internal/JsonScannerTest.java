package io.edgesync.protocol.codec.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class JsonScannerTest {
  private final JsonScanner scanner = new JsonScanner();

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** Segments and values of the last scan, as strings. */
  private List<String> parts(String json) {
    byte[] b = utf8(json);
    assertThat(scanner.scan(b)).as(json).isTrue();
    List<String> out = new ArrayList<>();
    int at = 0;
    for (int h = 0; h <= scanner.holes; h++) {
      int len = scanner.segmentLength(h);
      out.add(new String(scanner.key, at, len, StandardCharsets.UTF_8));
      at += len;
      if (h < scanner.holes) {
        out.add(
            Kinds.name(scanner.kind[h])
                + ":"
                + new String(
                    b,
                    scanner.start[h],
                    scanner.end[h] - scanner.start[h],
                    StandardCharsets.UTF_8));
      }
    }
    return out;
  }

  @Test
  void objectWithEveryKind_splitsIntoSegmentsAndValues() {
    assertThat(parts("{\"s\":\"a\\\"b\",\"n\":-1.50,\"e\":1e3,\"t\":true,\"f\":false,\"z\":null}"))
        .containsExactly(
            "{\"s\":\"",
            "string:a\\\"b",
            "\",\"n\":",
            "decimal:-1.50",
            ",\"e\":",
            "number text:1e3",
            ",\"t\":",
            "true:true",
            ",\"f\":",
            "false:false",
            ",\"z\":",
            "null:null",
            "}");
    assertThat(scanner.mantissa[1]).isEqualTo(-150);
    assertThat(scanner.scale[1]).isEqualTo((byte) 2);
  }

  @Test
  void nestingAndWhitespace_belongToTheTemplate() {
    assertThat(parts(" { \"a\" : [ 1 , { \"b\" : \"x\" } ] }\n"))
        .containsExactly(" { \"a\" : [ ", "decimal:1", " , { \"b\" : \"", "string:x", "\" } ] }\n");
    assertThat(parts("42")).containsExactly("", "decimal:42", "");
    assertThat(parts("[]")).containsExactly("[]");
  }

  @Test
  void sameShape_sameKey_otherShape_otherKey() {
    scanner.scan(utf8("{\"a\":1,\"b\":\"x\"}"));
    byte[] k1 = java.util.Arrays.copyOf(scanner.key, scanner.keyLength);
    scanner.scan(utf8("{\"a\":22,\"b\":\"yy\"}"));
    byte[] k2 = java.util.Arrays.copyOf(scanner.key, scanner.keyLength);
    scanner.scan(utf8("{\"a\":1,\"bb\":\"x\"}"));
    byte[] k3 = java.util.Arrays.copyOf(scanner.key, scanner.keyLength);
    // Same skeleton bytes, holes in other places: the key tells them apart.
    scanner.scan(utf8("{\"a\":\"1\",\"b\":2}"));
    byte[] k4 = java.util.Arrays.copyOf(scanner.key, scanner.keyLength);
    assertThat(k1).isEqualTo(k2);
    assertThat(k1).isNotEqualTo(k3);
    assertThat(k1).isNotEqualTo(k4);
  }

  @Test
  void notJson_isRefused() {
    for (String s :
        List.of(
            "",
            "{",
            "{\"a\":1",
            "{\"a\":1}x",
            "{\"a\" 1}",
            "{a:1}",
            "[1,]",
            "01",
            "1.",
            "-",
            "1e",
            "tru",
            "\"open",
            "{\"a\":1}}",
            "[".repeat(70) + "]".repeat(70))) {
      assertThat(scanner.scan(utf8(s))).as(s).isFalse();
    }
    assertThat(scanner.scan(new byte[] {(byte) 0xff, 0})).isFalse();
  }

  @Test
  void numbers_decimalWhenTheTextComesBackExactly() {
    String[][] cases = {
      {"0", "decimal", "0", "0"},
      {"-0", "number text", null, null},
      {"-0.0", "number text", null, null},
      {"0.050", "decimal", "50", "3"},
      {"9223372036854775807", "decimal", "9223372036854775807", "0"},
      {"-9223372036854775808", "decimal", "-9223372036854775808", "0"},
      {"9223372036854775808", "number text", null, null},
      {"0.000000000000000001", "decimal", "1", "18"},
      {"0.0000000000000000001", "number text", null, null},
      {"1E5", "number text", null, null},
    };
    for (String[] c : cases) {
      assertThat(scanner.scan(utf8(c[0]))).isTrue();
      assertThat(Kinds.name(scanner.kind[0])).as(c[0]).isEqualTo(c[1]);
      if (c[2] != null) {
        assertThat(scanner.mantissa[0]).as(c[0]).isEqualTo(Long.parseLong(c[2]));
        assertThat(scanner.scale[0]).as(c[0]).isEqualTo(Byte.parseByte(c[3]));
      }
    }
  }

  @Test
  void decimalsFormat_givesBackTheScannedText() {
    SplittableRandom r = new SplittableRandom(42);
    ByteSink out = new ByteSink(32);
    for (int i = 0; i < 20_000; i++) {
      long m =
          switch (r.nextInt(4)) {
            case 0 -> r.nextLong();
            case 1 -> r.nextInt(2001) - 1000;
            case 2 -> i % 2 == 0 ? Long.MAX_VALUE : Long.MIN_VALUE;
            default -> r.nextLong(1_000_000_000L);
          };
      int scale = r.nextInt(Decimals.MAX_SCALE + 1);
      String text = new BigDecimal(java.math.BigInteger.valueOf(m), scale).toPlainString();
      out.clear();
      Decimals.format(m, scale, out);
      assertThat(new String(out.toByteArray(), StandardCharsets.US_ASCII)).isEqualTo(text);
      if (m != 0 || !text.startsWith("-")) {
        assertThat(scanner.scan(utf8(text))).isTrue();
        assertThat(scanner.kind[0]).as(text).isEqualTo(Kinds.DECIMAL);
        assertThat(scanner.mantissa[0]).isEqualTo(m);
        assertThat(scanner.scale[0]).isEqualTo((byte) scale);
      }
    }
  }

  @Test
  void trailingZeros_andFits() {
    assertThat(Decimals.trailingZeros(2100, 5)).isEqualTo(2);
    assertThat(Decimals.trailingZeros(2100, 1)).isEqualTo(1);
    assertThat(Decimals.trailingZeros(0, 3)).isEqualTo(3);
    assertThat(Decimals.fits(922337203685477580L, 1)).isTrue();
    assertThat(Decimals.fits(922337203685477581L, 1)).isFalse();
    assertThat(Decimals.fits(-922337203685477580L, 1)).isTrue();
    assertThat(Decimals.fits(Long.MIN_VALUE, 0)).isTrue();
  }

  @Test
  void varints_roundTripAndRejectOverlongOnes() throws Exception {
    ByteSink sink = new ByteSink(16);
    long[] values = {0, 1, 127, 128, 300, Long.MAX_VALUE, -1, Long.MIN_VALUE};
    for (long v : values) {
      sink.varint(v);
    }
    ByteSource src = new ByteSource(sink.array(), 0, sink.size(), "T", "test");
    for (long v : values) {
      assertThat(src.readVarint()).isEqualTo(v);
      assertThat(Varints.unzigzag(Varints.zigzag(v))).isEqualTo(v);
    }
    byte[] overlong = {-1, -1, -1, -1, -1, -1, -1, -1, -1, 2};
    ByteSource bad = new ByteSource(overlong, 0, overlong.length, "T", "test");
    org.assertj.core.api.Assertions.assertThatThrownBy(bad::readVarint)
        .hasMessage("invalid T payload: test has a varint above 64 bits");
  }
}
