package io.edgesync.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgesync.agent.EdgeAgent;
import io.edgesync.protocol.Clock;
import io.edgesync.server.SyncServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A fleet document change reaches every connected device over real sockets, and the server reads
 * the versions to push from its store about once, not once per session (the sessions share the
 * answer: {@code pushReadsShared} in {@code /health}).
 */
class FleetFanOutTest {
  private static final int DEVICES = 12;

  @TempDir Path dir;
  private final List<AutoCloseable> closing = new ArrayList<>();

  @AfterEach
  void stop() throws Exception {
    List<AutoCloseable> reversed = new ArrayList<>(closing);
    java.util.Collections.reverse(reversed); // agents before the server
    Testbed.closeAll(reversed.toArray(AutoCloseable[]::new));
  }

  @Test
  void aFleetChange_reachesEveryDevice_andTheStoreIsReadAboutOnce() throws Exception {
    SyncServer server =
        Testbed.startServer(
            dir, "documents:\n  collections:\n    lww: {strategy: last_write_wins}\n");
    closing.add(server);
    Rest rest = new Rest(server);
    List<EdgeAgent> agents = new ArrayList<>();
    for (int d = 0; d < DEVICES; d++) {
      EdgeAgent a = Testbed.documentAgent("dev-" + d, server.port(), Clock.SYSTEM, dir);
      closing.add(a);
      agents.add(a);
    }
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> health(rest).get("devicesConnected").asInt() == DEVICES);
    JsonNode before = health(rest);

    for (int round = 1; round <= 3; round++) {
      String json = "{\"mode\":" + round + "}";
      rest.ok(rest.put("/api/v1/fleet/docs/lww/settings", json));
      for (EdgeAgent a : agents) {
        await()
            .atMost(Duration.ofSeconds(30))
            .until(
                () ->
                    a.documents()
                        .get("fleet", "lww", "settings")
                        .map(d -> d.value().toString().equals(json))
                        .orElse(false));
      }
    }

    JsonNode after = health(rest);
    long reads = after.get("pushReads").asLong() - before.get("pushReads").asLong();
    long shared = after.get("pushReadsShared").asLong() - before.get("pushReadsShared").asLong();
    // Each push reads the fleet's scope and the device's own: 2 x 12 x 3 reads asked for.
    assertThat(reads + shared).isGreaterThanOrEqualTo(2L * DEVICES * 3);
    assertThat(reads).as("reads that reached the store, of %d", reads + shared).isLessThan(12);
  }

  private static JsonNode health(Rest rest) {
    return rest.ok(rest.get("/api/v1/health"));
  }
}
