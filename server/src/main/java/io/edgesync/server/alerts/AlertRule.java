package io.edgesync.server.alerts;

import java.util.Locale;

/** The built-in alert rules (docs/operations.md "Alerts" says what each means and what to do). */
public enum AlertRule {
  /** A device not seen for longer than {@code device_offline_ms}. */
  DEVICE_OFFLINE,
  /** A device's oldest unsent record, as it reported, older than {@code backlog_age_ms}. */
  BACKLOG_AGE,
  /** A device connected to this node without progress for {@code stalled_ms}. */
  DEVICE_STALLED,
  /** More than {@code max_open_conflicts} manual conflicts wait in the inbox. */
  CONFLICTS_OPEN,
  /** A device's certificate expires within {@code cert_expiry_days} (or has expired). */
  CERT_EXPIRING,
  /** A rollout is paused (by an operator, or by the server for its failures). */
  ROLLOUT_PAUSED,
  /** The Kafka export lags by more than {@code export_lag_records}, or stands still. */
  EXPORT_LAGGING;

  /** The name in the API, the config and the metrics: {@code device_offline}, ... */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The rule named {@code label}, or null. */
  static AlertRule byLabel(String label) {
    for (AlertRule r : values()) {
      if (r.label().equals(label)) {
        return r;
      }
    }
    return null;
  }
}
