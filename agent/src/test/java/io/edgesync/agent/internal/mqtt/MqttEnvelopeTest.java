package io.edgesync.agent.internal.mqtt;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/** The record a PUBLISH becomes: JSON payloads verbatim, anything else in base64. */
class MqttEnvelopeTest {
  private static String wrap(String topic, byte[] payload) {
    return new String(MqttEnvelope.wrap(topic, payload), UTF_8);
  }

  @Test
  void aJsonValue_isCopiedByteForByte() {
    assertThat(wrap("s/1", "{\"t\": 21.50}".getBytes(UTF_8)))
        .isEqualTo("{\"topic\":\"s/1\",\"payload\":{\"t\": 21.50}}");
    assertThat(wrap("s/1", "42".getBytes(UTF_8))).isEqualTo("{\"topic\":\"s/1\",\"payload\":42}");
    assertThat(wrap("s/1", "\"on\"".getBytes(UTF_8)))
        .isEqualTo("{\"topic\":\"s/1\",\"payload\":\"on\"}");
  }

  @Test
  void anythingElse_isBase64() {
    assertThat(wrap("s/1", new byte[] {0, 1, 2}))
        .isEqualTo("{\"topic\":\"s/1\",\"payload_base64\":\"AAEC\"}");
    assertThat(wrap("s/1", new byte[0])).isEqualTo("{\"topic\":\"s/1\",\"payload_base64\":\"\"}");
    assertThat(wrap("s/1", "21.5 C".getBytes(UTF_8))).contains("payload_base64");
    assertThat(wrap("s/1", "{\"a\":1} {\"b\":2}".getBytes(UTF_8))).contains("payload_base64");
    assertThat(wrap("s/1", "{\"a\":".getBytes(UTF_8))).contains("payload_base64");
    // A string holding invalid UTF-8 is not valid JSON text.
    assertThat(wrap("s/1", new byte[] {'"', (byte) 0xC3, '"'})).contains("payload_base64");
  }

  @Test
  void theTopicIsEscaped_andTheResultIsAlwaysValidJson() throws Exception {
    String out = wrap("a\"b\\c/ü", "[1,2]".getBytes(UTF_8));
    assertThat(new ObjectMapper().readTree(out).get("topic").asText()).isEqualTo("a\"b\\c/ü");
    assertThat(new ObjectMapper().readTree(out).get("payload").toString()).isEqualTo("[1,2]");
  }
}
