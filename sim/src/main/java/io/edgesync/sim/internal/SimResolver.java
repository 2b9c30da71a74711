package io.edgesync.sim.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.edgesync.engine.docs.ConflictResolver;
import java.util.Iterator;
import java.util.TreeSet;

/**
 * The simulation's {@code custom} conflict resolver: deterministic and different from every
 * built-in strategy, so that the checkers can tell it ran. A deleted side loses to a present one;
 * two objects merge field by field, each field taking the value whose JSON text sorts last; any
 * other pair takes the value whose JSON text sorts last. Stateless and thread safe.
 */
public final class SimResolver implements ConflictResolver {
  @Override
  public JsonNode resolve(Conflict c) {
    return decide(c.cloud(), c.edge());
  }

  /** The resolution of {@code cloud} against {@code edge} (either null = deleted). */
  static JsonNode decide(JsonNode cloud, JsonNode edge) {
    if (edge == null) {
      return cloud;
    }
    if (cloud == null) {
      return edge;
    }
    if (cloud.isObject() && edge.isObject()) {
      TreeSet<String> fields = new TreeSet<>();
      cloud.fieldNames().forEachRemaining(fields::add);
      edge.fieldNames().forEachRemaining(fields::add);
      ObjectNode out = JsonNodeFactory.instance.objectNode();
      for (Iterator<String> it = fields.iterator(); it.hasNext(); ) {
        String f = it.next();
        out.set(f, later(cloud.get(f), edge.get(f)));
      }
      return out;
    }
    return later(cloud, edge);
  }

  private static JsonNode later(JsonNode a, JsonNode b) {
    if (a == null) {
      return b;
    }
    if (b == null) {
      return a;
    }
    return a.toString().compareTo(b.toString()) >= 0 ? a : b;
  }
}
