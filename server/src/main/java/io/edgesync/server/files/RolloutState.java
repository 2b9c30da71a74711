package io.edgesync.server.files;

import java.util.Locale;
import java.util.Set;

/**
 * A rollout's lifecycle: RUNNING ⇄ PAUSED, and either → CANCELLED (final). A paused or cancelled
 * rollout admits no device and offers nothing.
 */
public enum RolloutState {
  RUNNING,
  PAUSED,
  CANCELLED;

  /** The states this one may move to. */
  public Set<RolloutState> next() {
    return switch (this) {
      case RUNNING -> Set.of(PAUSED, CANCELLED);
      case PAUSED -> Set.of(RUNNING, CANCELLED);
      case CANCELLED -> Set.of();
    };
  }

  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  static RolloutState of(String label) {
    return valueOf(label.toUpperCase(Locale.ROOT));
  }
}
