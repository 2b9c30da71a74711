package io.edgesync.engine.docs;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgesync.protocol.Hlc;
import io.edgesync.protocol.ProtocolException;
import io.edgesync.protocol.ProtocolLimits;
import io.edgesync.protocol.wire.DocChange;
import io.edgesync.protocol.wire.ErrorCode;

/**
 * One edge document change, validated and parsed before its transaction ({@link
 * CloudDocuments#prepareEdgeChanges}): the value parsed (null for a delete), or the merge patch
 * parsed, so that the store's writer only decides and writes.
 *
 * @param scope in store naming ({@code device:<id>}, {@code fleet}, {@code group:<name>})
 * @param valueBytes the value as the device sent it; null for a patch or a delete
 */
record EdgeChange(
    String scope,
    long changeSeq,
    String collection,
    String key,
    long baseVersion,
    Hlc hlc,
    JsonNode value,
    byte[] valueBytes,
    JsonNode patch) {

  /**
   * Validates and parses a change of {@code scope} against the declared collections and limits.
   *
   * @throws ProtocolException naming what is invalid
   */
  static EdgeChange parse(DocChange c, String scope, DocumentRules rules) throws ProtocolException {
    String collection = c.getCollection();
    if (!ProtocolLimits.isValidCollection(collection)) {
      throw invalid("invalid collection name '" + collection + "'");
    }
    if (rules.policy(collection) == null) {
      throw invalid(
          "unknown collection '"
              + collection
              + "': the server declares "
              + rules.collections().keySet());
    }
    if (!ProtocolLimits.isValidDocKey(c.getKey())) {
      throw invalid(
          "invalid document key '"
              + c.getKey()
              + "': must match "
              + ProtocolLimits.DOC_KEY_PATTERN);
    }
    if (c.getBaseVersion() < 0) {
      throw invalid(
          "base_version " + Long.toUnsignedString(c.getBaseVersion()) + " is out of range");
    }
    Hlc h = Hlc.fromWire(c.getHlc());
    switch (c.getBodyCase()) {
      case VALUE -> {
        byte[] bytes = c.getValue().toByteArray();
        JsonNode value = parseValue(bytes, collection, c.getKey(), rules);
        return of(c, scope, h, value, bytes, null);
      }
      case MERGE_PATCH -> {
        JsonNode patch = parseValue(c.getMergePatch().toByteArray(), collection, c.getKey(), rules);
        if (c.getBaseVersion() == 0) {
          throw invalid(
              "a merge_patch needs a base_version (document "
                  + collection
                  + "/"
                  + c.getKey()
                  + ")");
        }
        return of(c, scope, h, null, null, patch);
      }
      case DELETED -> {
        return of(c, scope, h, null, null, null);
      }
      default ->
          throw invalid(
              "DocChange for " + collection + "/" + c.getKey() + " has no value, patch or delete");
    }
  }

  private static EdgeChange of(
      DocChange c, String scope, Hlc h, JsonNode value, byte[] bytes, JsonNode patch) {
    return new EdgeChange(
        scope,
        c.getChangeSeq(),
        c.getCollection(),
        c.getKey(),
        c.getBaseVersion(),
        h,
        value,
        bytes,
        patch);
  }

  private static JsonNode parseValue(
      byte[] bytes, String collection, String key, DocumentRules rules) throws ProtocolException {
    if (bytes.length > rules.maxDocumentBytes()) {
      throw invalid(
          "document "
              + collection
              + "/"
              + key
              + " is "
              + bytes.length
              + " bytes; the limit is "
              + rules.maxDocumentBytes());
    }
    try {
      return JsonDocs.parse(bytes);
    } catch (IllegalArgumentException e) {
      throw invalid("document " + collection + "/" + key + " is " + e.getMessage());
    }
  }

  /** The error every invalid edge change gets. */
  static ProtocolException invalid(String message) {
    return new ProtocolException(ErrorCode.INVALID_DOCUMENT, message);
  }
}
