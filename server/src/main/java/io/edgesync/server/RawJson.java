package io.edgesync.server;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Decides whether a record's payload can be written into a JSON response verbatim, as a raw JSON
 * value, so that a reader gets the exact bytes the device sent (no re-serialization: {@code 1.0e2}
 * stays {@code 1.0e2}, duplicate keys, key order, escapes and whitespace stay as they were).
 *
 * <p>Embedding is safe only if the payload can never break the document around it, so "JSON" here
 * is strict: the payload is well-formed UTF-8 (no overlong forms, no encoded surrogates, no byte
 * order mark) and exactly one JSON value by RFC 8259 (a top-level scalar such as {@code 42} counts)
 * with nothing but JSON whitespace (space, tab, CR, LF) around it; no comments, single quotes, NaN,
 * leading zeros, trailing commas, unescaped control characters (NUL included) or trailing text.
 * Valid JSON that common parsers refuse by default is not embedded either: nesting deeper than
 * {@link #MAX_NESTING_DEPTH} or a number longer than {@link #MAX_NUMBER_CHARS} characters. Anything
 * else is for the caller to send another way (base64). Stateless and thread safe.
 */
final class RawJson {
  /** Deeper payloads are not embedded (Python's json module fails near 1000 levels). */
  static final int MAX_NESTING_DEPTH = 512;

  /** Longer numbers are not embedded (Jackson's default limit: readers would refuse them). */
  static final int MAX_NUMBER_CHARS = 1000;

  // Jackson's defaults refuse every non-standard extension (comments, single quotes, NaN, ...);
  // only the size limits are set here, so that they are this class's documented ones.
  private static final JsonFactory FACTORY =
      JsonFactory.builder()
          .streamReadConstraints(
              StreamReadConstraints.builder()
                  .maxNestingDepth(MAX_NESTING_DEPTH)
                  .maxNumberLength(MAX_NUMBER_CHARS)
                  .build())
          .build();

  private RawJson() {}

  /**
   * The payload as text if it may be embedded verbatim as one JSON value, else null. The text
   * encodes back to exactly {@code payload} in UTF-8.
   */
  static String textIfJson(byte[] payload) {
    String text = strictUtf8(payload);
    if (text == null || text.isEmpty() || text.charAt(0) == '\uFEFF') {
      return null;
    }
    return isOneJsonValue(text) ? text : null;
  }

  /** Decodes well-formed UTF-8 only: Java's decoder refuses overlong forms and surrogates. */
  private static String strictUtf8(byte[] bytes) {
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes))
          .toString();
    } catch (CharacterCodingException e) {
      return null;
    }
  }

  /**
   * Walks every token of the first value, decoding every string and name in full (Jackson checks
   * escapes and control characters only when it reads a string's text), then requires the end.
   */
  private static boolean isOneJsonValue(String text) {
    try (JsonParser p = FACTORY.createParser(text)) {
      int depth = 0;
      JsonToken t = p.nextToken();
      while (t != null) {
        switch (t) {
          case START_OBJECT, START_ARRAY -> depth++;
          case END_OBJECT, END_ARRAY -> depth--;
          case FIELD_NAME, VALUE_STRING -> p.getTextLength();
          default -> {}
        }
        if (depth == 0) {
          return p.nextToken() == null;
        }
        t = p.nextToken();
      }
      return false;
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }
}
