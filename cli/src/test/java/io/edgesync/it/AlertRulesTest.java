package io.edgesync.it;

import static org.assertj.core.api.Assertions.assertThat;

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
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Prometheus alerting rules shipped in {@code deploy/prometheus/edgesync-alerts.yml}: a valid
 * rules file (groups of rules, each with an alert name, an expression with balanced brackets, a
 * severity and a summary), naming only metrics that a real server and a real agent publish.
 */
class AlertRulesTest {
  private static final Path RULES =
      Path.of(System.getProperty("user.dir"))
          .getParent()
          .resolve("deploy/prometheus/edgesync-alerts.yml");
  private static final Pattern METRIC = Pattern.compile("\\b(edgesync_[a-z_]+)\\b");

  @TempDir Path dir;
  private SyncServer server;
  private EdgeAgent agent;

  @AfterEach
  void stop() throws Exception {
    Testbed.closeAll(agent, server);
  }

  @Test
  void rules_areWellFormed_andNameOnlyMetricsThatExist() throws Exception {
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
        Matcher m = METRIC.matcher(expr);
        while (m.find()) {
          named.add(m.group(1));
        }
      }
    }
    assertThat(count).isGreaterThanOrEqualTo(6);
    assertThat(named).isNotEmpty();

    server =
        Testbed.startServer(
            dir, "documents:\n  collections:\n    lww: {strategy: last_write_wins}\n");
    agent = Testbed.documentAgent("dev-a", server.port(), Clock.SYSTEM, dir);
    String published = serverScrape() + AgentMetricsText.render(agent.status());
    for (String metric : named) {
      assertThat(published).as("a rule names " + metric).contains("# TYPE " + metric + " ");
    }
  }

  private String serverScrape() {
    HttpResponse<String> r = new Rest(server).getText("/api/v1/metrics");
    assertThat(r.statusCode()).isEqualTo(200);
    return r.body();
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
