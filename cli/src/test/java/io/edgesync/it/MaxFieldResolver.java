package io.edgesync.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.edgesync.engine.docs.ConflictResolver;
import java.util.Iterator;
import java.util.Map;

/** A custom resolver for tests: per field the larger number, and a marker that it ran. */
public final class MaxFieldResolver implements ConflictResolver {
  @Override
  public JsonNode resolve(Conflict c) {
    ObjectNode out = JsonNodeFactory.instance.objectNode();
    for (JsonNode side : new JsonNode[] {c.cloud(), c.edge()}) {
      for (Iterator<Map.Entry<String, JsonNode>> it = side.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        if (e.getValue().isNumber()) {
          JsonNode prev = out.get(e.getKey());
          if (prev == null || e.getValue().asLong() > prev.asLong()) {
            out.set(e.getKey(), e.getValue());
          }
        }
      }
    }
    out.put("resolvedBy", "max");
    return out;
  }
}
