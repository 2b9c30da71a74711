package io.edgesync.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.edgesync.agent.EdgeAgent;
import io.edgesync.agent.internal.AgentMetricsText;
import io.edgesync.protocol.Clock;
import io.edgesync.server.SyncServer;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server's Prometheus metrics over real HTTP: the text format Prometheus reads, behind an API
 * key, with values that follow what the server does (a device connects and goes, a fleet change is
 * pushed). And the alerting rules shipped in {@code deploy/prometheus/edgesync-alerts.yml}: a valid
 * rules file (groups of rules, each with an alert name, an expression with balanced brackets, a
 * severity and a summary), naming only metrics that a real server and a real agent publish; the
 * same of the Grafana dashboard in {@code deploy/grafana/edgesync-fleet.json} (panels with targets,
 * each a PromQL expression).
 */
class ServerMetricsTest {
  /** The alerting rules shipped with the project. */
  private static final Path RULES =
      Path.of(System.getProperty("user.dir"))
          .getParent()
          .resolve("deploy/prometheus/edgesync-alerts.yml");

  /** The Grafana dashboard shipped with the project. */
  private static final Path DASHBOARD =
      RULES.getParent().getParent().resolve("grafana/edgesync-fleet.json");

  @TempDir Path dir;
  private SyncServer server;
  private EdgeAgent agent;

  @AfterEach
  void stop() throws Exception {
    Testbed.closeAll(agent, server);
  }

  @BeforeEach
  void start() {
    server =
        Testbed.startServer(
            dir, "documents:\n  collections:\n    lww: {strategy: last_write_wins}\n");
  }

  @Test
  void metrics_areInPrometheusTextFormat_behindAKey_andFollowTheServer() throws Exception {
    String key = Rest.adminKey(server.adminKeyFile());

    HttpResponse<String> anonymous = scrape(null);
    assertThat(anonymous.statusCode()).as("no key").isEqualTo(401);

    HttpResponse<String> first = scrape(key);
    assertThat(first.statusCode()).isEqualTo(200);
    assertThat(first.headers().firstValue("Content-Type").orElseThrow())
        .startsWith("text/plain; version=0.0.4");
    assertThat(first.body())
        .contains("# TYPE edgesync_sessions gauge")
        .contains("# TYPE edgesync_sessions_refused_total counter")
        .contains("# HELP edgesync_docs_updates_sent_total document versions pushed to devices")
        .contains("jvm_memory_used_bytes{")
        .contains("process_uptime_seconds");
    assertThat(value(first.body(), "edgesync_sessions")).isZero();

    agent = Testbed.documentAgent("dev-m", server.port(), Clock.SYSTEM, dir);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> value(scrape(key).body(), "edgesync_sessions") == 1);
    new Rest(server).ok(new Rest(server).put("/api/v1/fleet/docs/lww/m", "{\"x\":1}"));
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> value(scrape(key).body(), "edgesync_docs_updates_sent_total") >= 1);
    assertThat(value(scrape(key).body(), "edgesync_docs_push_reads_total{answered_by=\"store\"}"))
        .isPositive();
    // what devices wait for: the Hello's commit, and the fleet change's push to the live session
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> value(scrape(key).body(), "edgesync_push_lag_seconds_count") >= 1);
    String histograms = scrape(key).body();
    assertThat(value(histograms, "edgesync_commit_seconds_count{frame=\"hello\"}")).isEqualTo(1);
    assertThat(histograms).contains("edgesync_commit_seconds_bucket{frame=\"batch\",le=\"0.001\"}");
    assertThat(histograms).contains("edgesync_push_lag_seconds_bucket{le=\"30.0\"}");
    agent.documents().put("lww", "from-edge", Rest.json("{\"y\":2}"));
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                value(scrape(key).body(), "edgesync_commit_seconds_count{frame=\"doc_changes\"}")
                    == 1);
    // without export.kafka the exporter's numbers are unknown, not zero
    assertThat(scrape(key).body()).containsPattern("(?m)^edgesync_export_lag_records NaN$");

    agent.close();
    agent = null;
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> value(scrape(key).body(), "edgesync_sessions") == 0);
  }

  @Test
  void alertRules_areWellFormed_andNameOnlyMetricsThatExist() throws Exception {
    JsonNode rules = new ObjectMapper(new YAMLFactory()).readTree(Files.readString(RULES));
    Set<String> named = new TreeSet<>();
    int count = 0;
    for (JsonNode group : rules.get("groups")) {
      assertThat(group.get("name").asText()).isNotBlank();
      for (JsonNode rule : group.get("rules")) {
        count++;
        String alert = rule.get("alert").asText();
        assertThat(alert).matches("Edgesync[A-Z][A-Za-z]+");
        String expr = rule.get("expr").asText();
        assertThat(balanced(expr)).as(alert + ": brackets of " + expr).isTrue();
        assertThat(rule.get("labels").get("severity").asText())
            .as(alert)
            .isIn("info", "warning", "critical");
        assertThat(rule.get("annotations").get("summary").asText()).as(alert).isNotBlank();
        if (rule.has("for")) {
          assertThat(rule.get("for").asText()).as(alert).matches("[0-9]+[smh]");
        }
        named.addAll(MetricNames.in(expr));
      }
    }
    assertThat(count).isGreaterThanOrEqualTo(6);
    assertThat(named).isNotEmpty();
    assertThat(MetricNames.unpublished(named, published())).as("rules name them").isEmpty();
  }

  @Test
  void grafanaDashboard_isWellFormed_andNamesOnlyMetricsThatExist() throws Exception {
    JsonNode dashboard = new ObjectMapper().readTree(Files.readString(DASHBOARD));
    assertThat(dashboard.get("title").asText()).isNotBlank();
    assertThat(dashboard.get("uid").asText()).matches("[a-z0-9-]{1,40}");
    Set<String> named = new TreeSet<>();
    Set<Integer> ids = new java.util.HashSet<>();
    Set<String> titles = new TreeSet<>();
    int graphs = 0;
    for (JsonNode panel : dashboard.get("panels")) {
      String title = panel.get("title").asText();
      assertThat(ids.add(panel.get("id").asInt())).as("panel ids are unique: " + title).isTrue();
      JsonNode grid = panel.get("gridPos");
      assertThat(grid.get("w").asInt()).as(title).isBetween(1, 24);
      assertThat(grid.get("x").asInt() + grid.get("w").asInt()).as(title).isLessThanOrEqualTo(24);
      if (panel.get("type").asText().equals("row")) {
        continue;
      }
      graphs++;
      titles.add(title);
      assertThat(panel.get("type").asText()).as(title).isIn("timeseries", "stat");
      assertThat(panel.get("targets")).as(title).isNotEmpty();
      for (JsonNode target : panel.get("targets")) {
        String expr = target.get("expr").asText();
        assertThat(target.get("refId").asText()).as(title).isNotBlank();
        assertThat(balanced(expr)).as(title + ": brackets of " + expr).isTrue();
        assertThat(MetricNames.in(expr)).as(title + ": " + expr).isNotEmpty();
        named.addAll(MetricNames.in(expr));
      }
    }
    assertThat(graphs).isGreaterThanOrEqualTo(10);
    assertThat(titles)
        .contains("Device sessions", "Refusals", "Document pushes", "Backlog age", "Drops")
        .contains("Active alerts by rule", "Conflicts on devices", "Bandwidth reduction");
    assertThat(MetricNames.unpublished(named, published())).as("panels name them").isEmpty();
  }

  /** What a real server and a real agent publish, in Prometheus' text format. */
  private String published() {
    agent = Testbed.documentAgent("dev-a", server.port(), Clock.SYSTEM, dir);
    return scrape(Rest.adminKey(server.adminKeyFile())).body()
        + AgentMetricsText.render(agent.status());
  }

  private HttpResponse<String> scrape(String key) {
    return new Rest(server).withKey(key).getText("/api/v1/metrics");
  }

  /** The value of one sample line ({@code name} with its labels, if any), or -1 if absent. */
  private static double value(String text, String sample) {
    Matcher m = Pattern.compile("(?m)^" + Pattern.quote(sample) + " ([0-9.eE+-]+)$").matcher(text);
    return m.find() ? Double.parseDouble(m.group(1)) : -1;
  }

  private static boolean balanced(String expr) {
    StringBuilder open = new StringBuilder();
    for (char c : expr.toCharArray()) {
      switch (c) {
        case '(', '[', '{' -> open.append(c);
        case ')', ']', '}' -> {
          if (open.isEmpty() || "([{".indexOf(open.charAt(open.length() - 1)) != ")]}".indexOf(c)) {
            return false;
          }
          open.setLength(open.length() - 1);
        }
        default -> {}
      }
    }
    return open.isEmpty();
  }
}
