package io.edgesync.engine.docs;

import java.util.Locale;

/** How the cloud decides between an edge change and a concurrent cloud version. */
public enum ConflictStrategy {
  /** The later hybrid logical clock wins; the node id breaks ties. */
  LAST_WRITE_WINS,
  CLOUD_WINS,
  EDGE_WINS,
  /** Three-way, field level for JSON objects; fields changed on both sides go by HLC or flag. */
  MERGE,
  /** The cloud value stays; the edge value waits in the conflict inbox. */
  MANUAL,
  /** A {@link ConflictResolver} named in the configuration decides. */
  CUSTOM;

  /** The configuration name, e.g. {@code last_write_wins}. */
  public String configName() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static ConflictStrategy fromConfig(String name) {
    return valueOf(name.toUpperCase(Locale.ROOT));
  }
}
