package io.edgesync.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.edgesync.agent.EdgeAgent;
import io.edgesync.protocol.Clock;
import io.edgesync.server.SyncServer;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server's Prometheus metrics over real HTTP: the text format Prometheus reads, behind an API
 * key, with values that follow what the server does (a device connects and goes, a fleet change is
 * pushed).
 */
class ServerMetricsTest {
  @TempDir Path dir;
  private SyncServer server;
  private EdgeAgent agent;

  @AfterEach
  void stop() throws Exception {
    Testbed.closeAll(agent, server);
  }

  @Test
  void metrics_areInPrometheusTextFormat_behindAKey_andFollowTheServer() throws Exception {
    server =
        Testbed.startServer(
            dir, "documents:\n  collections:\n    lww: {strategy: last_write_wins}\n");
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

    agent.close();
    agent = null;
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> value(scrape(key).body(), "edgesync_sessions") == 0);
  }

  private HttpResponse<String> scrape(String key) {
    return new Rest(server).withKey(key).getText("/api/v1/metrics");
  }

  /** The value of one sample line ({@code name} with its labels, if any), or -1 if absent. */
  private static double value(String text, String sample) {
    Matcher m = Pattern.compile("(?m)^" + Pattern.quote(sample) + " ([0-9.eE+-]+)$").matcher(text);
    return m.find() ? Double.parseDouble(m.group(1)) : -1;
  }
}
