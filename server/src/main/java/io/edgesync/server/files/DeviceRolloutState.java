package io.edgesync.server.files;

import io.edgesync.protocol.wire.FileState;
import java.util.Locale;

/**
 * Where one device stands in a rollout: PENDING (targeted, not admitted yet) → OFFERED (admitted:
 * its sessions offer the version) → DOWNLOADING → VERIFIED → INSTALLED, or FAILED; SUPERSEDED when
 * a newer rollout of the same path reached the device first. INSTALLED, FAILED and SUPERSEDED are
 * final: later reports do not change them.
 */
public enum DeviceRolloutState {
  PENDING,
  OFFERED,
  DOWNLOADING,
  VERIFIED,
  INSTALLED,
  FAILED,
  SUPERSEDED;

  public boolean isFinal() {
    return this == INSTALLED || this == FAILED || this == SUPERSEDED;
  }

  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  static DeviceRolloutState of(String label) {
    return valueOf(label.toUpperCase(Locale.ROOT));
  }

  /** The state a device's report names, or null for one a rollout does not take (STORED). */
  static DeviceRolloutState fromReport(FileState state) {
    return switch (state) {
      case FILE_STATE_DOWNLOADING -> DOWNLOADING;
      case FILE_STATE_VERIFIED -> VERIFIED;
      case FILE_STATE_INSTALLED -> INSTALLED;
      case FILE_STATE_FAILED -> FAILED;
      default -> null;
    };
  }
}
