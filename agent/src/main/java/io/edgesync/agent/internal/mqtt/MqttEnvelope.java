package io.edgesync.agent.internal.mqtt;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * The record a PUBLISH becomes: its topic with its payload, as one compact JSON object.
 *
 * <pre>
 * {"topic":"sensors/n7/temp","payload":{"t":21.5}}      payload is one JSON value (UTF-8)
 * {"topic":"sensors/n7/raw","payload_base64":"AAEC"}    anything else (binary, text, empty)
 * </pre>
 *
 * A JSON payload is copied byte for byte (not re-serialized), so the record holds exactly what the
 * client sent and costs one validating parse. The topic is the first column, which makes it a
 * natural series key for the telemetry codec. Stateless, thread safe.
 */
public final class MqttEnvelope {
  private static final JsonFactory JSON = new JsonFactory();
  private static final byte[] TOPIC = "{\"topic\":\"".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] PAYLOAD = "\",\"payload\":".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] BASE64 =
      "\",\"payload_base64\":\"".getBytes(StandardCharsets.US_ASCII);

  private MqttEnvelope() {}

  /** The record of {@code payload} published on {@code topic}. */
  public static byte[] wrap(String topic, byte[] payload) {
    byte[] quotedTopic = JsonStringEncoder.getInstance().quoteAsUTF8(topic);
    boolean json = isOneJsonValue(payload);
    byte[] body = json ? payload : Base64.getEncoder().encode(payload);
    ByteArrayOutputStream out = new ByteArrayOutputStream(quotedTopic.length + body.length + 32);
    out.writeBytes(TOPIC);
    out.writeBytes(quotedTopic);
    out.writeBytes(json ? PAYLOAD : BASE64);
    out.writeBytes(body);
    out.write(json ? '}' : '"');
    if (!json) {
      out.write('}');
    }
    return out.toByteArray();
  }

  /**
   * Whether {@code payload} is exactly one JSON value in UTF-8 (whitespace around it allowed).
   * Bytes that would make Jackson guess another encoding (NUL, a byte order mark) are refused
   * first, so that what is copied is UTF-8.
   */
  static boolean isOneJsonValue(byte[] payload) {
    if (payload.length == 0) {
      return false;
    }
    int first = payload[0] & 0xFF;
    if (first == 0xEF || first == 0xFE || first == 0xFF) {
      return false;
    }
    for (byte b : payload) {
      if (b == 0) {
        return false;
      }
    }
    try (JsonParser p = JSON.createParser(payload)) {
      int depth = 0;
      JsonToken t = p.nextToken();
      if (t == null) {
        return false;
      }
      do {
        if (t == JsonToken.START_OBJECT || t == JsonToken.START_ARRAY) {
          depth++;
        } else if (t == JsonToken.END_OBJECT || t == JsonToken.END_ARRAY) {
          depth--;
        } else if (t == JsonToken.VALUE_STRING) {
          p.getTextLength(); // decodes the string, which checks its UTF-8
        }
        t = depth > 0 ? p.nextToken() : null;
      } while (t != null);
      return p.nextToken() == null; // nothing after the one value
    } catch (IOException e) {
      return false;
    }
  }
}
