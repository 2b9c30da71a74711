package io.edgesync.agent;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgesync.agent.internal.CapacityWatch;
import io.edgesync.testing.FakeClock;
import io.edgesync.testing.FakeTransport;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Offline capacity a user can see (issue 10, item 4): a real agent (SQLite outbox, local API over a
 * real socket) with the brief's offline block, appending 10 records/s of 150 bytes on an injected
 * clock while the cloud is unreachable. The brief's queue_max_size 10000 holds 17 minutes of that,
 * not max_offline_hours (168): status says so and the log warns, once.
 */
class EdgeAgentCapacityTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long T0 = 1_700_000_000_000L;

  @TempDir Path dir;

  private final FakeClock clock = new FakeClock(T0);
  private final FakeTransport transport = new FakeTransport();
  private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
  private final List<Logger> loggers =
      List.of(
          (Logger) LoggerFactory.getLogger(CapacityWatch.class),
          (Logger) LoggerFactory.getLogger(EdgeAgent.class));
  private EdgeAgent agent;

  @BeforeEach
  void captureLogs() {
    logs.start();
    loggers.forEach(l -> l.addAppender(logs));
  }

  @AfterEach
  void stop() {
    if (agent != null) {
      agent.close();
    }
    loggers.forEach(l -> l.detachAppender(logs));
  }

  @Test
  void briefOfflineBlockAt10RecordsPerSec_statusShows17Minutes_andWarnsOnce() throws Exception {
    agent = open("queue_max_size: 10000, max_offline_hours: 168");
    assertThat(messages(Level.INFO))
        .anySatisfy(
            m ->
                assertThat(m)
                    .startsWith("gw-1: queue bounds 10000 records (queue_max_size)")
                    .contains("while appends stay below 0.017 records/s"));

    appendFor(90);
    JsonNode status = status();

    JsonNode capacity = status.get("capacity");
    assertThat(capacity.get("appendRecordsPerSec").asDouble()).isCloseTo(10, within(0.2));
    assertThat(capacity.get("appendBytesPerSec").asDouble()).isCloseTo(1_500, within(30.0));
    assertThat(capacity.get("boundBy").asText()).isEqualTo("queue_max_size");
    assertThat(capacity.get("holdsMs").asLong()).isBetween(980_000L, 1_020_000L);
    assertThat(capacity.get("maxOfflineHours").asDouble()).isEqualTo(168);
    assertThat(capacity.get("fullInMs").asLong())
        .as("900 records queued already")
        .isLessThan(capacity.get("holdsMs").asLong() - 80_000);
    assertThat(status.get("capacityWarning").asText())
        .startsWith("queue holds ~17 min at 10 records/s")
        .contains("max_offline_hours is 168")
        .contains("drops the oldest records");
    JsonNode stream = status.get("streams").get(0);
    assertThat(stream.get("appendRecordsPerSec").asDouble()).isCloseTo(10, within(0.2));

    appendFor(60);
    for (int i = 0; i < 3; i++) {
      assertThat(status().get("capacityWarning").isNull()).isFalse();
    }
    assertThat(messages(Level.WARN))
        .singleElement()
        .asString()
        // logged after the first minute, when the young estimate erred a little high
        .matches("gw-1: queue holds ~1[67] min at 10 records/s.*")
        .contains("raise sync.offline.queue_max_size to 6");
  }

  @Test
  void queueMaxSizeUnset_theSameRateHoldsDays_withoutWarning() throws Exception {
    agent = open("max_offline_hours: 168");

    appendFor(90);
    JsonNode status = status();

    assertThat(status.get("capacityWarning").isNull()).isTrue();
    assertThat(status.get("capacity").get("boundBy").asText()).isEqualTo("max_bytes");
    assertThat(status.get("capacity").get("summary").asText())
        .startsWith("queue holds ~8.3 days at 10 records/s");
    assertThat(messages(Level.WARN)).isEmpty();
  }

  @Test
  void beforeAMinuteOfAppends_statusSaysTheRateIsNotMeasuredYet() throws Exception {
    agent = open("queue_max_size: 10000, max_offline_hours: 168");

    appendFor(30);
    JsonNode capacity = status().get("capacity");

    assertThat(capacity.get("appendRecordsPerSec").asDouble()).isEqualTo(-1);
    assertThat(capacity.get("holdsMs").asLong()).isEqualTo(-1);
    assertThat(capacity.get("summary").asText()).startsWith("append rate not measured yet");
  }

  /** Appends 10 records of 150 bytes per (fake) second for {@code seconds}. */
  private void appendFor(int seconds) {
    byte[] record = ("{\"t\":\"" + "x".repeat(142) + "\"}").getBytes(UTF_8);
    assertThat(record).hasSize(150);
    List<byte[]> tenRecords = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      tenRecords.add(record);
    }
    for (int s = 0; s < seconds; s++) {
      agent.appendAll("sensor_data", tenRecords);
      clock.advance(1_000);
    }
  }

  private EdgeAgent open(String offline) {
    AgentConfig config =
        AgentConfig.fromYaml(
                "device: {id: gw-1}\n"
                    + "sync:\n"
                    + "  directions: {edge_to_cloud: {data_types: [sensor_data]}}\n"
                    + "  offline: {local_storage_path: \""
                    + dir
                    + "\", "
                    + offline
                    + "}\n"
                    // After the first refused connect the agent waits an hour: it stays offline.
                    + "tuning: {backoff_initial_ms: 3600000, backoff_max_ms: 3600000}\n"
                    + "queue: {durability: normal}\n")
            .withLocalApiPort(0);
    transport.refuseConnections(true);
    return EdgeAgent.open(config, transport, clock, new SplittableRandom(1));
  }

  private JsonNode status() throws Exception {
    HttpResponse<String> r =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + agent.localApiPort() + "/v1/status"))
                    .GET()
                    .build(),
                HttpResponse.BodyHandlers.ofString(UTF_8));
    assertThat(r.statusCode()).isEqualTo(200);
    return JSON.readTree(r.body());
  }

  private List<String> messages(Level level) {
    return logs.list.stream()
        .filter(e -> e.getLevel() == level)
        .map(ILoggingEvent::getFormattedMessage)
        .toList();
  }
}
