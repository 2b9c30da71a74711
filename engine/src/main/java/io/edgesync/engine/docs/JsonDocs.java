package io.edgesync.engine.docs;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * JSON document helpers shared by edge and cloud: strict parsing, RFC 7386 merge patches (create
 * and apply) and the three-way, field-level merge used by the {@code merge} strategy.
 *
 * <p>Stateless and thread safe.
 */
public final class JsonDocs {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  static {
    MAPPER.enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    MAPPER
        .getFactory()
        .setStreamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(64).build());
  }

  private JsonDocs() {}

  /** Parses one JSON value; throws IllegalArgumentException naming the problem. */
  public static JsonNode parse(byte[] json) {
    try {
      JsonNode node = MAPPER.readTree(json);
      if (node == null || node.isMissingNode()) {
        throw new IllegalArgumentException("empty document: expected one JSON value");
      }
      return node;
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("not valid JSON: " + e.getOriginalMessage(), e);
    } catch (IOException e) {
      throw new IllegalArgumentException("not valid JSON: " + e.getMessage(), e);
    }
  }

  public static JsonNode parse(String json) {
    return parse(json.getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  /** Compact UTF-8 JSON. */
  public static byte[] bytes(JsonNode node) {
    try {
      return MAPPER.writeValueAsBytes(node);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  public static String text(JsonNode node) {
    return new String(bytes(node), java.nio.charset.StandardCharsets.UTF_8);
  }

  public static ObjectMapper mapper() {
    return MAPPER;
  }

  /**
   * The RFC 7386 merge patch that turns {@code from} into {@code to}, or null when no merge patch
   * can express it (a null value inside an object cannot be set by a merge patch).
   */
  public static JsonNode diff(JsonNode from, JsonNode to) {
    if (!from.isObject() || !to.isObject()) {
      return containsNullMember(to) ? null : to;
    }
    ObjectNode patch = JsonNodeFactory.instance.objectNode();
    for (Iterator<String> it = from.fieldNames(); it.hasNext(); ) {
      String f = it.next();
      if (!to.has(f)) {
        patch.set(f, NullNode.instance);
      }
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = to.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      JsonNode old = from.get(e.getKey());
      if (old != null && old.equals(e.getValue())) {
        continue;
      }
      if (e.getValue().isNull()) {
        return null;
      }
      JsonNode sub = old == null ? e.getValue() : diff(old, e.getValue());
      if (sub == null) {
        return null;
      }
      if (old == null && containsNullMember(sub)) {
        return null;
      }
      patch.set(e.getKey(), sub);
    }
    return patch;
  }

  /** Applies an RFC 7386 merge patch to a copy of {@code target} (null: no document). */
  public static JsonNode applyPatch(JsonNode target, JsonNode patch) {
    if (!patch.isObject()) {
      return patch.deepCopy();
    }
    ObjectNode result =
        target != null && target.isObject()
            ? ((ObjectNode) target).deepCopy()
            : JsonNodeFactory.instance.objectNode();
    for (Iterator<Map.Entry<String, JsonNode>> it = patch.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (e.getValue().isNull()) {
        result.remove(e.getKey());
      } else {
        result.set(e.getKey(), applyPatch(result.get(e.getKey()), e.getValue()));
      }
    }
    return result;
  }

  /** The outcome of a three-way merge: the merged value and the paths changed on both sides. */
  public record MergeResult(JsonNode value, List<String> conflictingPaths) {}

  /**
   * Three-way merge at field level for JSON objects (recursively for nested objects): a field
   * changed on one side only is taken from that side; a field changed on both sides to different
   * values is taken from {@code ours} if {@code oursWinsTies}, else from {@code theirs}, and its
   * path is reported. {@code base} may be null (unknown or absent: every differing field counts as
   * changed on both sides). Returns null if either side is not an object (no field-level merge).
   */
  public static MergeResult merge(
      JsonNode base, JsonNode ours, JsonNode theirs, boolean oursWinsTies) {
    if (ours == null || theirs == null || !ours.isObject() || !theirs.isObject()) {
      return null;
    }
    List<String> conflicts = new java.util.ArrayList<>();
    JsonNode merged = mergeObjects(base, ours, theirs, oursWinsTies, "", conflicts);
    return new MergeResult(merged, List.copyOf(conflicts));
  }

  private static JsonNode mergeObjects(
      JsonNode base,
      JsonNode ours,
      JsonNode theirs,
      boolean oursWinsTies,
      String path,
      List<String> conflicts) {
    ObjectNode out = JsonNodeFactory.instance.objectNode();
    Set<String> fields = new LinkedHashSet<>();
    ours.fieldNames().forEachRemaining(fields::add);
    theirs.fieldNames().forEachRemaining(fields::add);
    JsonNode b = base != null && base.isObject() ? base : null;
    for (String f : fields) {
      JsonNode bv = b == null ? null : b.get(f);
      JsonNode ov = ours.get(f);
      JsonNode tv = theirs.get(f);
      JsonNode result;
      if (same(ov, tv)) {
        result = ov;
      } else if (b != null && same(bv, tv)) {
        result = ov; // only ours changed
      } else if (b != null && same(bv, ov)) {
        result = tv; // only theirs changed
      } else if (ov != null && tv != null && ov.isObject() && tv.isObject()) {
        result = mergeObjects(bv, ov, tv, oursWinsTies, path + "/" + f, conflicts);
      } else {
        conflicts.add(path + "/" + f);
        result = oursWinsTies ? ov : tv;
      }
      if (result != null) {
        out.set(f, result);
      }
    }
    return out;
  }

  private static boolean same(JsonNode a, JsonNode b) {
    return a == null ? b == null : a.equals(b);
  }

  private static boolean containsNullMember(JsonNode node) {
    if (node.isObject()) {
      for (Iterator<JsonNode> it = node.elements(); it.hasNext(); ) {
        JsonNode v = it.next();
        if (v.isNull() || containsNullMember(v)) {
          return true;
        }
      }
    }
    return false;
  }
}
