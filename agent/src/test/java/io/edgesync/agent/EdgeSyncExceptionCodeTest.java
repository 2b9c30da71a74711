package io.edgesync.agent;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.edgesync.agent.EdgeSyncException.Code;
import io.edgesync.protocol.Clock;
import io.edgesync.protocol.Transport;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each failure of the public API reaches the caller as an {@link EdgeSyncException} with its code
 * (and the message it always had), against a real agent on real SQLite files. Programs and the
 * local API's HTTP answers act on these codes.
 */
class EdgeSyncExceptionCodeTest {
  private static final URI NOWHERE = URI.create("ws://127.0.0.1:9/v1/sync");

  @TempDir Path dir;

  private AgentConfig config() {
    return AgentConfig.simple("gw-1", NOWHERE, dir.resolve("agent"));
  }

  private static byte[] bytes(String s) {
    return s.getBytes(UTF_8);
  }

  private static EdgeSyncException thrown(ThrowingCallable call) {
    EdgeSyncException e = catchThrowableOfType(EdgeSyncException.class, call);
    assertThat(e).as("an EdgeSyncException").isNotNull();
    return e;
  }

  @Test
  void closedAgent_failsEveryCallWithClosed() {
    EdgeAgent agent = EdgeAgent.open(config());
    agent.close();

    EdgeSyncException append = thrown(() -> agent.append("sensor_data", bytes("{}")));
    assertThat(append.code()).isEqualTo(Code.CLOSED);
    assertThat(append).hasMessage("outbox is closed");
    for (ThrowingCallable call :
        new ThrowingCallable[] {
          agent::status, agent::metrics, () -> agent.operationStatus("s/1"), agent::dictionaries
        }) {
      EdgeSyncException e = thrown(call);
      assertThat(e.code()).isEqualTo(Code.CLOSED);
      assertThat(e).hasMessage("the agent is closed");
    }
    for (ThrowingCallable call :
        new ThrowingCallable[] {
          () -> agent.documents().get("config", "k"),
          () -> agent.documents().put("config", "k", "{}"),
          () -> agent.commands().next(0)
        }) {
      EdgeSyncException e = thrown(call);
      assertThat(e.code()).isEqualTo(Code.CLOSED);
      assertThat(e).hasMessage("the document store is closed");
    }
  }

  @Test
  void outboxThatCannotCommit_failsTheAppendWithStorage_namingTheOperation() throws Exception {
    try (EdgeAgent agent = EdgeAgent.open(config())) {
      renameTable(dir.resolve("agent/edgesync-agent.db"), "chunks");

      EdgeSyncException e = thrown(() -> agent.append("sensor_data", bytes("{}")));

      assertThat(e.code()).isEqualTo(Code.STORAGE);
      assertThat(e).hasMessageStartingWith("committing appends failed in ");
      assertThat(e.getMessage()).contains("edgesync-agent.db");
    }
  }

  @Test
  void documentStoreThatFails_failsThePutWithStorage_namingTheStore() throws Exception {
    try (EdgeAgent agent = EdgeAgent.open(config())) {
      renameTable(dir.resolve("agent/edgesync-docs.db"), "docs");

      EdgeSyncException e = thrown(() -> agent.documents().put("config", "k", "{}"));

      assertThat(e.code()).isEqualTo(Code.STORAGE);
      assertThat(e).hasMessageStartingWith("document store failed in ");
      assertThat(e.getMessage()).contains("edgesync-docs.db");
    }
  }

  @Test
  void corruptOutboxFile_failsTheOpenWithStorage() throws Exception {
    Files.createDirectories(dir.resolve("agent"));
    Files.write(dir.resolve("agent/edgesync-agent.db"), bytes("not a database ".repeat(300)));

    EdgeSyncException e = thrown(() -> EdgeAgent.open(config()));

    assertThat(e.code()).isEqualTo(Code.STORAGE);
    assertThat(e).hasMessageStartingWith("cannot open the outbox in " + dir.resolve("agent"));
  }

  @Test
  void appendWhileInterrupted_failsWithInterrupted_andKeepsTheInterruptFlag() {
    try (EdgeAgent agent = EdgeAgent.open(config())) {
      Thread.currentThread().interrupt();
      EdgeSyncException e;
      try {
        e = thrown(() -> agent.append("sensor_data", bytes("{}")));
      } finally {
        assertThat(Thread.interrupted()).as("interrupt flag set again").isTrue();
      }

      assertThat(e.code()).isEqualTo(Code.INTERRUPTED);
      assertThat(e).hasMessage("interrupted while appending");
    }
  }

  /** Slow (10 s): the loop's answer is awaited that long. */
  @Test
  void syncLoopThatDoesNotAnswer_failsStatusWithTimeout() throws Exception {
    CountDownLatch stuck = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    // A network stack that hangs in connect: the engine calls it on the loop thread.
    Transport hanging =
        listener -> {
          stuck.countDown();
          try {
            release.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        };
    try (EdgeAgent agent =
        EdgeAgent.open(config(), hanging, Clock.SYSTEM, new SplittableRandom(1))) {
      assertThat(stuck.await(10, TimeUnit.SECONDS)).isTrue();
      try {
        EdgeSyncException e = thrown(agent::status);

        assertThat(e.code()).isEqualTo(Code.TIMEOUT);
        assertThat(e).hasMessageStartingWith("sync loop did not answer: ");
      } finally {
        release.countDown();
      }
    }
  }

  @Test
  void syncNowSwitchedOffByConfig_failsWithDisabled_namingTheKey() {
    AgentConfig off =
        AgentConfig.fromYaml(
            "device: {id: gw-1}\n"
                + "server: {url: '"
                + NOWHERE
                + "'}\n"
                + "sync:\n"
                + "  strategies: {on_demand: {enabled: false}}\n"
                + "  offline: {local_storage_path: '"
                + dir.resolve("agent").toString().replace("\\", "/")
                + "'}\n"
                + "local_api: {port: -1}\n");
    try (EdgeAgent agent = EdgeAgent.open(off)) {
      EdgeSyncException e = thrown(agent::syncNow);

      assertThat(e.code()).isEqualTo(Code.DISABLED);
      assertThat(e)
          .hasMessage("on-demand sync is disabled (sync.strategies.on_demand.enabled: false)");
    }
  }

  @Test
  void fullQueueUnderReject_failsWithQueueFull() {
    AgentConfig rejecting =
        config().withOutbox(OutboxLimits.defaults().withQueue(1, 1 << 20, OverflowPolicy.REJECT));
    try (EdgeAgent agent = EdgeAgent.open(rejecting)) {
      agent.append("sensor_data", bytes("{}"));

      EdgeSyncException e = thrown(() -> agent.append("sensor_data", bytes("{}")));

      assertThat(e).isInstanceOf(QueueFullException.class);
      assertThat(e.code()).isEqualTo(Code.QUEUE_FULL);
    }
  }

  @Test
  void localApiPortTaken_failsTheOpenWithLocalApi_namingThePort() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      int port = taken.getLocalPort();

      EdgeSyncException e = thrown(() -> EdgeAgent.open(config().withLocalApiPort(port)));

      assertThat(e.code()).isEqualTo(Code.LOCAL_API);
      assertThat(e).hasMessageStartingWith("cannot start the local API on port " + port + ": ");
    }
  }

  @Test
  void invalidConfig_failsWithConfiguration_namingTheKey() {
    InvalidConfigException e =
        catchThrowableOfType(
            InvalidConfigException.class,
            () -> AgentConfig.fromYaml("device: {id: gw-1}\nqueue: {overflow_policy: drop}\n"));

    assertThat(e.code()).isEqualTo(Code.CONFIGURATION);
    assertThat(e.path()).isEqualTo("queue.overflow_policy");
    assertThat(e).hasMessageStartingWith("config error at 'queue.overflow_policy': ");
  }

  private static void renameTable(Path db, String table) throws Exception {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
        Statement st = c.createStatement()) {
      st.execute("PRAGMA busy_timeout=5000");
      st.execute("ALTER TABLE " + table + " RENAME TO " + table + "_moved_away");
    }
  }
}
