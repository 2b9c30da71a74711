package io.edgesync.engine.docs;

import io.edgesync.protocol.ProtocolLimits;
import java.util.List;

/**
 * Which shared documents devices may write: a list of {@code <scope>/<collection>} patterns, the
 * server's {@code documents.device_writable}. The scope is {@code fleet}, {@code group:<name>} or
 * {@code group:*} (every group, but only the groups the writing device belongs to); the collection
 * is a declared collection or {@code *}. A device always writes its own scope and never another
 * device's; everything else it reads (the fleet, its groups) is read-only unless a pattern here
 * names it. Immutable.
 *
 * @param patterns the patterns as configured, each checked
 */
public record DeviceWrites(List<String> patterns) {
  /** Devices write only their own scope (the default). */
  public static final DeviceWrites NONE = new DeviceWrites(List.of());

  public DeviceWrites {
    patterns = List.copyOf(patterns);
    for (String p : patterns) {
      check(p);
    }
  }

  public static DeviceWrites of(String... patterns) {
    return new DeviceWrites(List.of(patterns));
  }

  /**
   * Whether a device may write {@code collection} in the shared {@code scope} (store naming: {@code
   * fleet} or {@code group:<name>}); the caller has checked that the device reads the scope.
   */
  public boolean allows(String scope, String collection) {
    for (String p : patterns) {
      int slash = p.lastIndexOf('/');
      String s = p.substring(0, slash);
      String c = p.substring(slash + 1);
      boolean scopeMatches = s.equals(scope) || s.equals("group:*") && scope.startsWith("group:");
      if (scopeMatches && (c.equals("*") || c.equals(collection))) {
        return true;
      }
    }
    return false;
  }

  private static void check(String p) {
    int slash = p.lastIndexOf('/');
    String scope = slash < 0 ? "" : p.substring(0, slash);
    String collection = slash < 0 ? "" : p.substring(slash + 1);
    boolean scopeOk =
        scope.equals("fleet")
            || scope.equals("group:*")
            || scope.startsWith("group:") && ProtocolLimits.isValidCollection(scope.substring(6));
    boolean collectionOk = collection.equals("*") || ProtocolLimits.isValidCollection(collection);
    if (!scopeOk || !collectionOk) {
      throw new IllegalArgumentException(
          "device_writable entry '"
              + p
              + "' is not <scope>/<collection>: the scope is fleet, group:<name> or group:*, the"
              + " collection a collection name or *; a device's own scope is always writable and"
              + " another device's never");
    }
  }
}
