package io.edgesync.protocol.codec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgesync.protocol.ProtocolException;
import io.edgesync.protocol.Record;
import io.edgesync.protocol.RecordLayout;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;

/** The byte formats of docs/codecs.md, pinned with hand-checked hex. */
class CodecFormatTest {
  private static final HexFormat HEX = HexFormat.of();

  private static final List<Record> THREE =
      List.of(
          new Record(1, 1000, TestBatches.utf8("{\"t\":21.5}")),
          new Record(2, 2000, TestBatches.utf8("{\"t\":21.75}")),
          new Record(3, 3000, TestBatches.utf8("x")));

  private static byte[] hex(String s) {
    return HEX.parseHex(s.replace(" ", ""));
  }

  @Test
  void everyCodec_endsWithTheCrc32cOfTheRecordLayout() {
    CRC32C crc = new CRC32C();
    crc.update(RecordLayout.encode(THREE));
    int expected = (int) crc.getValue();
    try (BatchEncoder enc = new BatchEncoder(CodecSettings.auto())) {
      for (Codec c : Codec.values()) {
        if (c == Codec.NONE) {
          continue;
        }
        byte[] p = enc.encode(THREE, c).payload();
        int tail =
            (p[p.length - 4] & 0xff)
                | (p[p.length - 3] & 0xff) << 8
                | (p[p.length - 2] & 0xff) << 16
                | (p[p.length - 1] & 0xff) << 24;
        assertThat(tail).as(c.name()).isEqualTo(expected);
      }
    }
  }

  @Test
  void columnar_layoutByteByByte() throws Exception {
    String expected =
        "00" // layout 0: streams stored separately
            + "06" // six streams
            + "1414 0303 0404 0303 0101 0101" // (raw, stored) lengths: none compressed
            // meta: N=3, T=1, R=1, flags index+raw, template: 1 hole, segments {"t": and }
            + "03 01 01 03 01 057b2274223a 017d"
            + "00 02" // origin: own values, DOD
            + "01 01 02 01 01" // hole 0: all DECIMAL, DELTA, S=2, SHORTEST, minScale 1
            + "010100" // template index: template 0, template 0, raw
            + "d00f 00 00" // origins 1000, 2000, 3000 as delta of delta
            + "cc21 32" // mantissas 2150, 2175 (21.5 at scale 2, 21.75) as deltas
            + "01" // raw lengths
            + "78" // raw bytes: x
            + "7a833655"; // CRC-32C
    // The format every decoder reads: without columnar:series negotiated.
    try (BatchEncoder enc = new BatchEncoder(CodecSettings.auto().withColumnarSeries(false));
        BatchDecoder dec = new BatchDecoder()) {
      assertThat(HEX.formatHex(enc.encode(THREE, Codec.COLUMNAR).payload()))
          .isEqualTo(expected.replace(" ", ""));
      assertThat(dec.decode(Codec.COLUMNAR, hex(expected), 1, 3)).isEqualTo(THREE);
    }
  }

  @Test
  void templateStream_layoutByteByByte() throws Exception {
    String first =
        "00" // rows uncompressed
            // new template (code 2), kinds listed: 1 hole, segments {"t": and }, no anchor
            + "05 01 057b2274223a 017d 00"
            + "01 00 06" // one change: hole 0 is a decimal with its scale
            + "01 ae03" // scale 1, residual 215 (prediction 0)
            + "d00f" // origin 1000
            + "01 01 00 06" // same template; hole 0 decimal with scale (2 > 1 raises S)
            + "02 32" // scale 2; 2175 - 2150
            + "00" // origin: 2000 as predicted
            + "02 01 78 00" // raw record "x", origin 3000 as predicted
            + "7a833655";
    String second = "00" + "01 01 00 06 00 32 00" + "27071396"; // {"t":22}: scale 0 < minScale
    try (BatchEncoder enc = new BatchEncoder(CodecSettings.auto());
        BatchDecoder dec = new BatchDecoder()) {
      List<Record> next = List.of(new Record(4, 4000, TestBatches.utf8("{\"t\":22}")));
      assertThat(HEX.formatHex(enc.encode(THREE, Codec.TEMPLATE_STREAM).payload()))
          .isEqualTo(first.replace(" ", ""));
      assertThat(HEX.formatHex(enc.encode(next, Codec.TEMPLATE_STREAM).payload()))
          .isEqualTo(second.replace(" ", ""));
      assertThat(dec.decode(Codec.TEMPLATE_STREAM, hex(first), 1, 3)).isEqualTo(THREE);
      assertThat(dec.decode(Codec.TEMPLATE_STREAM, hex(second), 4, 1)).isEqualTo(next);
    }
  }

  @Test
  void zstd_headerNamesDictionaryAndLength() throws Exception {
    try (BatchEncoder enc = new BatchEncoder(CodecSettings.auto())) {
      byte[] p = enc.encode(THREE, Codec.ZSTD).payload();
      // no dictionary, 31 bytes of record layout, then a magicless frame.
      assertThat(HEX.formatHex(Arrays.copyOf(p, 2))).isEqualTo("001f");
      byte[] s = enc.encode(THREE, Codec.ZSTD_STREAM).payload();
      assertThat(HEX.formatHex(Arrays.copyOf(s, 2))).isEqualTo("001f");
      byte[] again = enc.encode(THREE, Codec.ZSTD_STREAM).payload();
      // Later batches of the stream carry no dictionary id.
      assertThat(HEX.formatHex(Arrays.copyOf(again, 1))).isEqualTo("1f");
    }
  }

  @Test
  void gzip_isAPlainGzipMember() {
    try (BatchEncoder enc = new BatchEncoder(CodecSettings.auto())) {
      byte[] p = enc.encode(THREE, Codec.GZIP).payload();
      assertThat(HEX.formatHex(Arrays.copyOf(p, 10))).isEqualTo("1f8b08000000000000ff");
    }
  }

  private static void assertInvalid(Codec codec, String hexPayload, int count, String message) {
    try (BatchDecoder dec = new BatchDecoder()) {
      assertThatThrownBy(() -> dec.decode(codec, hex(hexPayload), 1, count))
          .isInstanceOf(ProtocolException.class)
          .hasMessage("invalid " + codec + " payload: " + message);
    }
  }

  @Test
  void exactErrors() {
    assertInvalid(Codec.ZSTD, "00ff01", 1, "3 bytes are too short for the checksum");
    assertInvalid(Codec.COLUMNAR, "07 00000000", 1, "unknown layout 7");
    assertInvalid(Codec.COLUMNAR, "00 00 00000000", 1, "header has no streams");
    assertInvalid(
        Codec.COLUMNAR,
        "00 01 0509 00000000",
        1,
        "header has a stored stream length (raw 5) 9, above the limit of 5");
    assertInvalid(
        Codec.TEMPLATE_STREAM,
        "00 0b 00000000",
        1,
        "rows refers to template 2 but the session has 0");
    assertInvalid(
        Codec.TEMPLATE_STREAM,
        "00 00 00000000",
        1,
        "rows repeats the previous template before" + " any (record 0)");
    assertInvalid(Codec.TEMPLATE_STREAM, "02 00000000", 0, "header has unknown flags 2");
    assertInvalid(
        Codec.ZSTD,
        "07 01 00 00000000",
        1,
        "names dictionary 7, which this decoder" + " does not have");
    assertInvalid(Codec.GZIP, "1f8c0800 00000000", 1, "does not start with the gzip magic 1f8b");
    assertInvalid(Codec.LZMA, "01 05 00 00000000", 1, "has dictionary 2^5, outside 2^12..2^23");
    // A valid COLUMNAR payload with one mantissa changed: only the checksum notices.
    assertInvalid(
        Codec.COLUMNAR,
        "00 06 1414 0303 0404 0303 0101 0101 03010103 01 057b2274223a 017d 0002 0101020101"
            + " 010100 d00f0000 cc21 34 01 78 7a833655",
        3,
        "checksum does not match the decoded records");
  }
}
