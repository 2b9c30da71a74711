package io.edgesync.it;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.edgesync.agent.AgentConfig;
import io.edgesync.agent.EdgeAgent;
import io.edgesync.protocol.Record;
import io.edgesync.server.ServerConfig;
import io.edgesync.server.SyncServer;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The server goes away while the agent keeps appending, then comes back on the same store. */
class ServerRestartTest {
  @TempDir Path dir;

  @Test
  void serverStoppedWhileAgentAppends_everyRecordArrivesOnceInOrderAfterRestart() throws Exception {
    ServerConfig config = Testbed.serverConfig(dir, Testbed.freePort());
    SyncServer server = SyncServer.start(config);
    AtomicLong appended = new AtomicLong();
    AtomicBoolean stop = new AtomicBoolean();
    try (EdgeAgent agent =
        EdgeAgent.open(
            Testbed.fastSync(
                AgentConfig.simple(
                    "dev-restart", URI.create(server.syncUrl()), dir.resolve("edge"))))) {
      Thread producer =
          new Thread(
              () -> {
                while (!stop.get()) {
                  long n = appended.get() + 1;
                  agent.append("events", ("{\"n\":" + n + "}").getBytes(UTF_8));
                  appended.set(n);
                  if (n % 50 == 0) {
                    sleep(5);
                  }
                }
              });
      producer.start();
      SyncServer first = server;
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> first.store().checkpoints("dev-restart").getOrDefault("events", 0L) > 500);

      server.close(); // outage: the agent keeps appending to its outbox
      long atStop = appended.get();
      await().atMost(Duration.ofSeconds(10)).until(() -> appended.get() > atStop + 2_000);
      assertThat(agent.status().connection().state()).isIn("disconnected", "connecting");

      server = SyncServer.start(config); // same port, same store
      sleep(500);
      stop.set(true);
      producer.join();
      long total = appended.get();
      SyncServer restarted = server;
      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () ->
                  restarted.store().checkpoints("dev-restart").getOrDefault("events", 0L) == total);

      List<Record> stored = restarted.store().read("dev-restart", "events", 0, (int) total + 10);
      assertThat(stored).hasSize((int) total);
      for (int i = 0; i < total; i++) {
        assertThat(stored.get(i).sequence()).isEqualTo(i + 1);
        assertThat(new String(stored.get(i).payload(), UTF_8)).isEqualTo("{\"n\":" + (i + 1) + "}");
      }
      assertThat(restarted.store().gaps("dev-restart", "events")).isEmpty();
    } finally {
      server.close();
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
