package io.edgesync.protocol.codec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgesync.protocol.ProtocolException;
import io.edgesync.protocol.Record;
import java.util.List;
import org.junit.jupiter.api.Test;

class SettingsAndDictionaryTest {

  @Test
  void parse_namesLevelsAndDefaults() {
    assertThat(CodecSettings.parse("none").choice()).isEqualTo(CodecSettings.Choice.NONE);
    assertThat(CodecSettings.parse("GZIP").level()).isEqualTo(6);
    assertThat(CodecSettings.parse("gzip:9").level()).isEqualTo(9);
    assertThat(CodecSettings.parse("lzma:0").level()).isZero();
    CodecSettings zstd = CodecSettings.parse("zstd:19");
    assertThat(zstd.level()).isEqualTo(19);
    assertThat(zstd.contextTakeover()).isTrue();
    assertThat(CodecSettings.parse("gzip").contextTakeover()).isFalse();
    CodecSettings auto = CodecSettings.parse("auto");
    assertThat(auto).isEqualTo(CodecSettings.auto());
    assertThat(auto.effectiveColumnarMinRecords()).isEqualTo(300);
    assertThat(auto.withContextTakeover(false).effectiveColumnarMinRecords()).isEqualTo(8);
    assertThat(auto.withColumnarMinRecords(50).effectiveColumnarMinRecords()).isEqualTo(50);
  }

  @Test
  void parse_refusesWhatItDoesNotKnow() {
    assertThatThrownBy(() -> CodecSettings.parse("brotli"))
        .hasMessage("unknown codec 'brotli': expected none, gzip, lzma, zstd or auto");
    assertThatThrownBy(() -> CodecSettings.parse("gzip:10"))
        .hasMessage("gzip level must be 1..9, was 10");
    assertThatThrownBy(() -> CodecSettings.parse("zstd:x"))
        .hasMessage("codec 'zstd:x': level is not a number");
    assertThatThrownBy(() -> CodecSettings.parse("none:1"))
        .hasMessage("codec 'none' takes no level");
    assertThatThrownBy(() -> CodecSettings.auto().withWindowLog(24))
        .hasMessage("window log must be 10..23, was 24");
    Dictionary d = Dictionary.of(3, new byte[] {1, 2, 3});
    assertThatThrownBy(() -> CodecSettings.parse("gzip").withDictionary(d))
        .hasMessage("a dictionary needs codec zstd or auto, not gzip");
  }

  @Test
  void codecIds_areStableAndUnknownOnesRefused() throws Exception {
    assertThat(Codec.fromId(0)).isEqualTo(Codec.NONE);
    assertThat(Codec.fromId(5)).isEqualTo(Codec.COLUMNAR);
    assertThat(Codec.fromId(6)).isEqualTo(Codec.TEMPLATE_STREAM);
    assertThatThrownBy(() -> Codec.fromId(7))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("unknown codec 7");
  }

  @Test
  void train_writesTheIdIntoTheHeader_andTheBytesRoundTrip() throws Exception {
    Dictionary d = Dictionary.train(0x01020304, TestBatches.telemetry(8, 2000), 2048);
    byte[] b = d.bytes();
    assertThat(b.length).isLessThanOrEqualTo(2048);
    assertThat(java.util.HexFormat.of().formatHex(b, 0, 8)).isEqualTo("37a430ec04030201");
    Dictionary loaded = Dictionary.of(d.id(), b);
    assertThat(loaded).isEqualTo(d);

    // A batch compressed with the trained one decodes with the loaded copy, and is smaller.
    List<Record> one = TestBatches.records(TestBatches.telemetry(9, 1), 1, 9);
    try (BatchEncoder plain = new BatchEncoder(CodecSettings.parse("zstd"));
        BatchEncoder withDict = new BatchEncoder(CodecSettings.parse("zstd").withDictionary(d));
        BatchDecoder dec = new BatchDecoder(List.of(loaded), 1 << 20)) {
      EncodedBatch a = plain.encode(one, Codec.ZSTD);
      EncodedBatch e = withDict.encode(one, Codec.ZSTD);
      assertThat(e.payload().length).isLessThan(a.payload().length / 2);
      assertThat(dec.decode(Codec.ZSTD, e.payload(), 1, 1)).isEqualTo(one);
    }
  }

  @Test
  void train_refusesTooFewSamplesAndBadIds() {
    assertThatThrownBy(() -> Dictionary.train(1, TestBatches.telemetry(1, 3), 4096))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("cannot train a dictionary from 3 samples");
    assertThatThrownBy(() -> Dictionary.of(0, new byte[] {1}))
        .hasMessage("dictionary id must be positive, was 0");
    assertThatThrownBy(() -> Dictionary.of(1, new byte[0]))
        .hasMessage("dictionary must have 1..1048576 bytes, has 0");
  }
}
