package io.edgesync.server.alerts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgesync.server.ServerConfig;
import io.edgesync.support.ConfigException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code server.alerts} in the server's YAML: defaults, values, and each bad key named. */
class AlertSettingsTest {
  @Test
  void defaults_areEveryRuleOn_withoutAWebhook() {
    AlertSettings a = ServerConfig.fromYaml("server: {data_dir: /tmp/x}").alerts();
    assertThat(a.enabled()).isTrue();
    assertThat(a.intervalMs()).isEqualTo(30_000);
    assertThat(a.deviceOfflineMs()).isEqualTo(3_600_000);
    assertThat(a.certExpiryDays()).isEqualTo(7);
    assertThat(a.disabled()).isEmpty();
    assertThat(a.webhook()).isNull();
    for (AlertRule r : AlertRule.values()) {
      assertThat(a.evaluates(r)).as(r.label()).isTrue();
    }
  }

  @Test
  void values_andTheWebhookWithItsSecret_areRead(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("hook.secret"), "s3cret\n");
    AlertSettings a =
        ServerConfig.fromYaml(
                ("server:\n  alerts:\n    interval_ms: 5000\n    stalled_ms: 60000\n"
                        + "    max_open_conflicts: 10\n    disabled_rules: [rollout_paused]\n"
                        + "    webhook: {url: 'https://hooks.example.com/x', timeout_ms: 2000,"
                        + " max_attempts: 3, backoff_ms: 10, max_queued: 5,"
                        + " secret_file: '%s/hook.secret'}\n")
                    .formatted(dir))
            .alerts();
    assertThat(a.intervalMs()).isEqualTo(5000);
    assertThat(a.stalledMs()).isEqualTo(60_000);
    assertThat(a.maxOpenConflicts()).isEqualTo(10);
    assertThat(a.evaluates(AlertRule.ROLLOUT_PAUSED)).isFalse();
    assertThat(a.webhook().url().toString()).isEqualTo("https://hooks.example.com/x");
    assertThat(a.webhook().maxAttempts()).isEqualTo(3);
    assertThat(a.webhook().maxQueued()).isEqualTo(5);
    assertThat(a.webhook().secret()).isEqualTo("s3cret");
    assertThat(a.toString()).as("settings printed in a log").doesNotContain("s3cret");
    assertThat(a.webhook().backoffAfter(1)).isEqualTo(10);
    assertThat(a.webhook().backoffAfter(3)).isEqualTo(40);
  }

  @Test
  void badValues_areRefused_namingTheKey(@TempDir Path dir) throws Exception {
    refused("{alerts: {interval_ms: 5}}", "server.alerts.interval_ms", "100..");
    refused("{alerts: {device_offline_ms: -1}}", "server.alerts.device_offline_ms", "range");
    refused("{alerts: {cert_expiry_days: 'soon'}}", "server.alerts.cert_expiry_days", "integer");
    refused("{alerts: {max_open_conflicts: -1}}", "server.alerts.max_open_conflicts", "range");
    refused("{alerts: {disabled_rules: [offline]}}", "server.alerts.disabled_rules[0]", "allowed");
    refused("{alerts: {thresholds: {}}}", "server.alerts.thresholds", "unknown key");
    refused("{alerts: {webhook: {timeout_ms: 100}}}", "server.alerts.webhook.url", "required");
    refused("{alerts: {webhook: {url: 'ftp://h/x'}}}", "server.alerts.webhook.url", "http");
    refused(
        "{alerts: {webhook: {url: 'http://h/x', max_attempts: 0}}}",
        "server.alerts.webhook.max_attempts",
        "range");
    refused(
        "{alerts: {webhook: {url: 'http://h/x', secret_file: '/no/such/file'}}}",
        "server.alerts.webhook.secret_file",
        "cannot read");
    Files.writeString(dir.resolve("empty"), " \n");
    refused(
        "{alerts: {webhook: {url: 'http://h/x', secret_file: '" + dir.resolve("empty") + "'}}}",
        "server.alerts.webhook.secret_file",
        "empty");
  }

  private static void refused(String server, String key, String why) {
    assertThatThrownBy(() -> ServerConfig.fromYaml("server: " + server))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("'" + key + "'")
        .hasMessageContaining(why);
  }
}
