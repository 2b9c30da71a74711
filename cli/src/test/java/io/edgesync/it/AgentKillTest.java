package io.edgesync.it;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.edgesync.protocol.Record;
import io.edgesync.server.ServerConfig;
import io.edgesync.server.SyncServer;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent JVM is killed with SIGKILL mid-append, several times, and restarted: every append it
 * acknowledged is in the cloud, none twice, in order.
 */
@Tag("slow")
class AgentKillTest {
  private static final int KILLS = 3;

  @TempDir Path dir;

  @Test
  void agentKilledMidAppend_everyAcknowledgedAppendReachesTheCloudOnce() throws Exception {
    SplittableRandom random = new SplittableRandom(42);
    try (SyncServer server =
        SyncServer.start(
            new ServerConfig(
                "127.0.0.1", 0, dir.resolve("cloud"), ServerConfig.defaults(dir).policy()))) {
      long maxAcked = 0;
      for (int kill = 0; kill < KILLS; kill++) {
        Process child = startChild(server.syncUrl(), "append");
        BufferedReader out =
            new BufferedReader(new InputStreamReader(child.getInputStream(), UTF_8));
        assertThat(out.readLine()).isEqualTo("READY");
        int acksBeforeKill = 200 + random.nextInt(800);
        for (int i = 0; i < acksBeforeKill; i++) {
          String line = out.readLine();
          assertThat(line).as("child output").startsWith("ACK ");
          long seq = Long.parseLong(line.substring(4));
          // Appends committed but not yet reported before a kill push the next sequence further;
          // a sequence at or below an acknowledged one would mean a durable append was lost.
          assertThat(seq).as("sequences continue across kills").isGreaterThan(maxAcked);
          maxAcked = seq;
        }
        // SIGKILL mid-append. Not destroyForcibly(): it would also close our end of the pipe,
        // and the lines already written are acknowledged appends we must account for.
        new ProcessBuilder("kill", "-9", Long.toString(child.pid())).start().waitFor();
        assertThat(child.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(child.exitValue()).isEqualTo(137);
        // Lines written before the kill are acknowledged appends too.
        String line;
        while ((line = out.readLine()) != null) {
          if (line.startsWith("ACK ")) {
            maxAcked = Long.parseLong(line.substring(4));
          }
        }
      }
      Process drain = startChild(server.syncUrl(), "drain");
      try {
        long expected = maxAcked;
        await()
            .atMost(Duration.ofSeconds(30))
            .until(
                () ->
                    server.store().checkpoints("dev-kill").getOrDefault("telemetry", 0L)
                        >= expected);
      } finally {
        drain.destroyForcibly();
        drain.waitFor(10, TimeUnit.SECONDS);
      }
      List<Record> stored = new ArrayList<>();
      long after = 0;
      List<Record> page;
      while (!(page = server.store().read("dev-kill", "telemetry", after, 5_000)).isEmpty()) {
        stored.addAll(page);
        after = page.get(page.size() - 1).sequence();
      }
      assertThat(stored.size()).isGreaterThanOrEqualTo((int) maxAcked);
      for (int i = 0; i < stored.size(); i++) {
        Record r = stored.get(i);
        assertThat(r.sequence()).isEqualTo(i + 1);
        assertThat(new String(r.payload(), UTF_8)).isEqualTo("{\"seq\":" + (i + 1) + "}");
      }
      assertThat(server.store().gaps("dev-kill", "telemetry")).isEmpty();
    }
  }

  private Process startChild(String url, String mode) throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    return new ProcessBuilder(
            java,
            "-cp",
            System.getProperty("java.class.path"),
            AgentChild.class.getName(),
            "dev-kill",
            url,
            dir.resolve("edge").toString(),
            mode)
        .redirectError(dir.resolve("child-" + mode + "-" + System.nanoTime() + ".log").toFile())
        .start();
  }
}
