package io.edgesync.server.alerts;

import io.edgesync.support.ConfigNode;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * {@code server.alerts} (docs/configuration.md "Alerts"): the thresholds of the built-in rules, how
 * often they are evaluated, how many resolved alerts are kept for the REST view, and the webhook.
 *
 * @param enabled false: no rule is evaluated and the webhook is not used
 * @param intervalMs time between two evaluations
 * @param deviceOfflineMs {@code device_offline}: a device not seen for longer than this
 * @param backlogAgeMs {@code backlog_age}: a reported oldest unsent record older than this
 * @param stalledMs {@code device_stalled}: connected, no progress for this long
 * @param maxOpenConflicts {@code conflicts_open}: more open manual conflicts than this
 * @param certExpiryDays {@code cert_expiring}: a device certificate expiring within this many days
 * @param exportLagRecords {@code export_lagging}: more records than this not yet exported
 * @param exportIdleMs {@code export_lagging}: records waiting and no export for this long
 * @param maxResolvedKept resolved alerts kept in memory for {@code GET
 *     /api/v1/alerts?state=resolved}
 * @param disabled rules not evaluated
 * @param webhook where alerts are delivered (null: nowhere)
 */
public record AlertSettings(
    boolean enabled,
    long intervalMs,
    long deviceOfflineMs,
    long backlogAgeMs,
    long stalledMs,
    long maxOpenConflicts,
    long certExpiryDays,
    long exportLagRecords,
    long exportIdleMs,
    int maxResolvedKept,
    Set<AlertRule> disabled,
    WebhookSettings webhook) {

  private static final long HOUR_MS = 3_600_000;
  private static final long MAX_MS = 365L * 24 * HOUR_MS;

  /**
   * The highest {@code max_open_conflicts}: each evaluation reads up to one more open conflict than
   * it (the document store has no count), with their values, so 10,000 costs a read of 10,001 rows.
   */
  public static final long MAX_OPEN_CONFLICTS = 10_000;

  public AlertSettings {
    disabled = disabled.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(disabled));
  }

  /** Every rule on at its default threshold, evaluated every 30 s, no webhook. */
  public static AlertSettings defaults() {
    return from(ConfigNode.parse("{}"));
  }

  /** A copy evaluated every {@code ms}. */
  public AlertSettings withIntervalMs(long ms) {
    return new AlertSettings(
        enabled,
        ms,
        deviceOfflineMs,
        backlogAgeMs,
        stalledMs,
        maxOpenConflicts,
        certExpiryDays,
        exportLagRecords,
        exportIdleMs,
        maxResolvedKept,
        disabled,
        webhook);
  }

  public boolean evaluates(AlertRule rule) {
    return enabled && !disabled.contains(rule);
  }

  /** Reads {@code node} ({@code server.alerts}); every key optional, each checked. */
  public static AlertSettings from(ConfigNode node) {
    ConfigNode a =
        node.allowOnly(
            "enabled",
            "interval_ms",
            "device_offline_ms",
            "backlog_age_ms",
            "stalled_ms",
            "max_open_conflicts",
            "cert_expiry_days",
            "export_lag_records",
            "export_idle_ms",
            "max_resolved_kept",
            "disabled_rules",
            "webhook");
    String[] labels =
        java.util.Arrays.stream(AlertRule.values()).map(AlertRule::label).toArray(String[]::new);
    Set<AlertRule> off = EnumSet.noneOf(AlertRule.class);
    for (String label : a.strings("disabled_rules", List.of(), labels)) {
      off.add(AlertRule.byLabel(label));
    }
    return new AlertSettings(
        a.bool("enabled", true),
        a.integer("interval_ms", 30_000, 100, HOUR_MS, "ms"),
        a.integer("device_offline_ms", HOUR_MS, 1_000, MAX_MS, "ms"),
        a.integer("backlog_age_ms", HOUR_MS, 1_000, MAX_MS, "ms"),
        a.integer("stalled_ms", 15 * 60_000, 1_000, MAX_MS, "ms"),
        a.integer("max_open_conflicts", 0, 0, MAX_OPEN_CONFLICTS, "conflicts"),
        a.integer("cert_expiry_days", 7, 1, 397, "days"),
        a.integer("export_lag_records", 100_000, 0, Long.MAX_VALUE / 2, "records"),
        a.integer("export_idle_ms", 15 * 60_000, 1_000, MAX_MS, "ms"),
        (int) a.integer("max_resolved_kept", 200, 0, 100_000, "alerts"),
        off,
        webhook(a.section("webhook")));
  }

  private static WebhookSettings webhook(ConfigNode node) {
    if (!node.isPresent()) {
      return null;
    }
    ConfigNode w =
        node.allowOnly(
            "url", "timeout_ms", "max_attempts", "backoff_ms", "max_queued", "secret_file");
    String url = w.string("url", null);
    if (url == null) {
      throw w.error("url", "required: the receiver's http:// or https:// URL");
    }
    URI uri;
    try {
      uri = new URI(url);
    } catch (URISyntaxException e) {
      throw w.error("url", "not a URL: '" + url + "' (" + e.getReason() + ")");
    }
    if (!("http".equals(uri.getScheme()) || "https".equals(uri.getScheme()))
        || uri.getHost() == null) {
      throw w.error("url", "'" + url + "' is not an http:// or https:// URL with a host");
    }
    return new WebhookSettings(
        uri,
        w.integer("timeout_ms", WebhookSettings.DEFAULT_TIMEOUT_MS, 100, 300_000, "ms"),
        (int) w.integer("max_attempts", WebhookSettings.DEFAULT_MAX_ATTEMPTS, 1, 100, "attempts"),
        w.integer("backoff_ms", WebhookSettings.DEFAULT_BACKOFF_MS, 0, 300_000, "ms"),
        (int) w.integer("max_queued", WebhookSettings.DEFAULT_MAX_QUEUED, 1, 1_000_000, "alerts"),
        secret(w));
  }

  /** The HMAC key: the file's bytes without surrounding white space; it must not be empty. */
  private static String secret(ConfigNode w) {
    String file = w.string("secret_file", null);
    if (file == null) {
      return null;
    }
    String text;
    try {
      text = Files.readString(Path.of(file)).strip();
    } catch (IOException | RuntimeException e) {
      throw w.error("secret_file", "cannot read '" + file + "': " + e.getMessage());
    }
    if (text.isEmpty()) {
      throw w.error("secret_file", "'" + file + "' is empty; it must hold the shared secret");
    }
    return text;
  }
}
