package io.edgesync.server;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.HexFormat;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** What may be embedded verbatim in a JSON response: exactly one strict JSON value. */
class RawJsonTest {

  @ParameterizedTest
  @ValueSource(
      strings = {
        "42",
        "-0.5e-3",
        "1.0e2",
        "12345678901234567890123",
        "\"text\"",
        "true",
        "null",
        " \t\r\n{\"a\":1,\"a\":2}\n",
        "{\"b\":1,\"a\":[ ]}",
        "\"\\u00e9\\ud800\"",
        "\"caf\u00e9 \u2028 \uD83D\uDE00\"",
      })
  void oneStrictJsonValue_embeddedAsTheSameBytes(String json) {
    byte[] bytes = json.getBytes(UTF_8);
    String text = RawJson.textIfJson(bytes);
    assertThat(text).isNotNull();
    assertThat(text.getBytes(UTF_8)).isEqualTo(bytes);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "  ",
        "{\"a\":1} trailing",
        "{\"a\":1} {\"b\":2}",
        "42x",
        "42\u0000",
        "\u0000",
        "{\"a\":\"\u0000\"}",
        "{\"a\":\"tab\there\"}",
        "\uFEFF{}",
        "01",
        "1.",
        "NaN",
        "[1,]",
        "{'a':1}",
        "/*c*/1",
        "\"\\x\"",
        "\u00a01",
        "\f1",
      })
  void notStrictJson_notEmbedded(String text) {
    assertThat(RawJson.textIfJson(text.getBytes(UTF_8))).isNull();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "ff", // not UTF-8 at all
        "22c08022", // "<overlong NUL>": a lenient decoder reads it as U+0000
        "22eda08022", // "<encoded surrogate D800>"
        "22f4908080" + "22", // a code point above U+10FFFF
        "fffe7b007d00", // {} in UTF-16LE with a byte order mark
        "efbbbf7b7d", // {} after a UTF-8 byte order mark
      })
  void notStrictUtf8_notEmbedded(String hex) {
    assertThat(RawJson.textIfJson(HexFormat.of().parseHex(hex))).isNull();
  }

  @org.junit.jupiter.api.Test
  void limitsThatCommonParsersRefuse_notEmbedded() {
    int depth = RawJson.MAX_NESTING_DEPTH;
    assertThat(RawJson.textIfJson(("[".repeat(depth) + "]".repeat(depth)).getBytes(UTF_8)))
        .isNotNull();
    assertThat(RawJson.textIfJson(("[".repeat(depth + 1) + "]".repeat(depth + 1)).getBytes(UTF_8)))
        .isNull();
    assertThat(RawJson.textIfJson("1".repeat(RawJson.MAX_NUMBER_CHARS).getBytes(UTF_8)))
        .isNotNull();
    assertThat(RawJson.textIfJson("1".repeat(RawJson.MAX_NUMBER_CHARS + 1).getBytes(UTF_8)))
        .isNull();
  }
}
