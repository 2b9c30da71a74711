package io.edgesync.server.alerts;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One alert, active or resolved. {@code id} is the rule and its subject ({@code device_offline:d1},
 * {@code rollout_paused:7}, {@code export_lagging}) and stays the same while the condition holds.
 * {@code sinceMs} is when the condition began, as far as the server can tell (a device's last
 * contact plus the threshold, say), else when it was first seen. {@code resolvedAtMs} is null while
 * active.
 */
public record Alert(
    String id,
    AlertRule rule,
    String device,
    Severity severity,
    long sinceMs,
    String message,
    Long resolvedAtMs) {

  /** How urgent: {@code warning} needs attention today, {@code critical} now. */
  public enum Severity {
    WARNING,
    CRITICAL;

    public String label() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  static Alert of(AlertRule rule, String subject, String device, Severity s, long since, String m) {
    String id = subject == null ? rule.label() : rule.label() + ":" + subject;
    return new Alert(id, rule, device, s, since, m, null);
  }

  Alert since(long firstSinceMs) {
    return new Alert(id, rule, device, severity, firstSinceMs, message, null);
  }

  Alert resolved(long atMs) {
    return new Alert(id, rule, device, severity, sinceMs, message, atMs);
  }

  /** As the REST API and the webhook show it (docs/api.md). */
  public Map<String, Object> toJson() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", id);
    m.put("rule", rule.label());
    m.put("device", device);
    m.put("severity", severity.label());
    m.put("sinceMs", sinceMs);
    m.put("message", message);
    if (resolvedAtMs != null) {
      m.put("resolvedAtMs", resolvedAtMs);
    }
    return m;
  }
}
