package io.edgesync.engine.docs;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgesync.protocol.Hlc;

/**
 * Decides a document conflict for the {@code custom} strategy. Implementations are named in the
 * server configuration by class name and need a public no-argument constructor. They must be
 * deterministic (same inputs, same result) and thread safe; the cloud calls them once per conflict.
 *
 * <p>Values are JSON; {@code null} means "deleted" (or, for the base, "unknown or absent"). If a
 * resolver throws, the conflict is left open in the inbox for a person to decide, with the error.
 */
@FunctionalInterface
public interface ConflictResolver {
  /** The result document, or null to delete it. */
  JsonNode resolve(Conflict conflict);

  /** Everything known about one conflict. */
  record Conflict(
      String scope,
      String collection,
      String key,
      String deviceId,
      JsonNode base,
      JsonNode cloud,
      Hlc cloudHlc,
      JsonNode edge,
      Hlc edgeHlc) {}

  /** Last write wins by HLC: the default when a resolver cannot be loaded is not to guess. */
  ConflictResolver DEFAULT = c -> c.edgeHlc().after(c.cloudHlc()) ? c.edge() : c.cloud();
}
