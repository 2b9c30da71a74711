package io.edgesync.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.edgesync.agent.AgentConfig;
import io.edgesync.agent.EdgeAgent;
import io.edgesync.protocol.codec.CodecSettings;
import io.edgesync.server.SyncServer;
import io.edgesync.testing.FaultProxy;
import io.edgesync.testing.FaultProxy.Direction;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * A real agent syncs to a real server over WebSocket through a {@link FaultProxy} while it keeps
 * appending; one fault per scenario. Each ends by healing the link and checking convergence: every
 * acknowledged append is in the cloud store exactly once, in order, with its exact content, and no
 * gap (Invariant 1; the queue never drops, so no gap is explained).
 */
@Tag("slow")
class FaultProxyTest {
  private static final org.slf4j.Logger log = LoggerFactory.getLogger(FaultProxyTest.class);
  private static final String DEVICE = "dev-proxy";
  private static final String STREAM = "telemetry";
  private static final long SEED = 20240417;

  @TempDir Path dir;
  private SyncServer server;
  private FaultProxy proxy;
  private EdgeAgent agent;
  private Testbed.Producer producer;

  @AfterEach
  void stop() throws Exception {
    Testbed.closeAll(producer, agent, proxy, server);
  }

  @Test
  void connectionsDroppedRepeatedly_everyAckedAppendArrivesOnce(TestInfo info) throws Exception {
    start(info, UnaryOperator.identity());
    for (int i = 0; i < 5; i++) {
      awaitCloudProgress();
      proxy.dropConnections();
    }
    assertThat(proxy.connectionsDropped()).isGreaterThanOrEqualTo(5);
    long sessions = healAndConverge();
    assertThat(sessions).as("sessions: one per drop at least").isGreaterThanOrEqualTo(6);
  }

  @Test
  void partitionWhileAppending_backlogArrivesOnceAfterHeal(TestInfo info) throws Exception {
    start(info, UnaryOperator.identity());
    awaitCloudProgress();
    proxy.partition(60_000);
    long atPartition = producer.lastAcked();
    Thread.sleep(1_500);
    assertThat(proxy.connectionsRefused()).as("reconnects refused").isPositive();
    assertThat(producer.lastAcked()).as("appends go on offline").isGreaterThan(atPartition + 100);
    assertThat(agent.status().connection().state()).isIn("disconnected", "connecting");
    healAndConverge();
  }

  @Test
  void stalls_shortOneIsRiddenOut_longOneEndsInReconnect(TestInfo info) throws Exception {
    // Heartbeats every 300 ms, timeout 1.5 s.
    start(info, c -> c.withSync(c.sync().withLiveness(300, 1_500, 2_000, 2_000, 50, 500)));
    awaitCloudProgress();
    long sessions = agent.status().sessionsEstablished();
    proxy.stall(700);
    Thread.sleep(900);
    awaitCloudProgress();
    assertThat(agent.status().sessionsEstablished())
        .as("a stall shorter than the heartbeat timeout keeps the session")
        .isEqualTo(sessions);
    proxy.stall(3_000);
    // Beyond the heartbeat timeout the agent gives up; its new session completes once the stall
    // (which holds every connection) ends.
    await()
        .atMost(Duration.ofSeconds(15))
        .until(() -> agent.status().sessionsEstablished() > sessions);
    healAndConverge();
  }

  @Test
  void throttledToOneMegabit_carriesNoMoreAndConverges(TestInfo info) throws Exception {
    // Uncompressed, the producer offers about 9 Mbit/s: the rate measures the link (see
    // uncompressed()).
    start(info, uncompressed());
    proxy.throttle(Direction.UPSTREAM, 1_000_000);
    proxy.throttle(Direction.DOWNSTREAM, 1_000_000);
    long bytesBefore = proxy.bytes(Direction.UPSTREAM);
    long t0 = System.nanoTime();
    Thread.sleep(3_000);
    awaitCloudProgress();
    double seconds = (System.nanoTime() - t0) / 1e9;
    double bitsPerSecond = (proxy.bytes(Direction.UPSTREAM) - bytesBefore) * 8 / seconds;
    log.info("throttled upstream carried {} bit/s", Math.round(bitsPerSecond));
    assertThat(bitsPerSecond)
        .as("upstream rate under the throttle")
        .isBetween(300_000.0, 1_020_000.0);
    healAndConverge();
  }

  @Test
  void framesCutMidTransfer_nothingPartialIsStored(TestInfo info) throws Exception {
    start(info, UnaryOperator.identity());
    for (int i = 0; i < 5; i++) {
      awaitCloudProgress();
      long cuts = proxy.cuts();
      proxy.cutMidTransfer(Direction.UPSTREAM, 2_048);
      await().atMost(Duration.ofSeconds(10)).until(() -> proxy.cuts() > cuts);
    }
    healAndConverge();
  }

  @Test
  void corruptedBytes_detectedAndRefused_noCorruptRecordStored(TestInfo info) throws Exception {
    // Uncompressed: ten flips at one per 40 KB need 400 KB upstream within the wait.
    start(info, uncompressed());
    awaitCloudProgress();
    // Upstream: about one flipped bit per 40 KB. The server must refuse the frame (checksum).
    proxy.corruptRandomly(Direction.UPSTREAM, 40_000);
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> proxy.bitsFlipped() >= 10 && server.sessionsRefused() >= 3);
    long upFlips = proxy.bitsFlipped();
    long refused = server.sessionsRefused();
    proxy.heal();
    awaitCloudProgress();
    // Downstream (acks, welcomes): one flip per 300 bytes. The agent must refuse the frame.
    ListAppender<ILoggingEvent> agentLog = new ListAppender<>();
    agentLog.start();
    Logger agentLogger = (Logger) LoggerFactory.getLogger(EdgeAgent.class);
    agentLogger.addAppender(agentLog);
    try {
      proxy.corruptRandomly(Direction.DOWNSTREAM, 300);
      await()
          .atMost(Duration.ofSeconds(20))
          .until(
              () ->
                  agentLog.list.stream()
                      .anyMatch(
                          e ->
                              e.getFormattedMessage()
                                  .contains("bad frame from the cloud: frame checksum mismatch")));
    } finally {
      agentLogger.detachAppender(agentLog);
    }
    log.info(
        "flipped {} bits upstream (server refused {} sessions), {} downstream",
        upFlips,
        refused,
        proxy.bitsFlipped() - upFlips);
    healAndConverge();
    assertThat(server.store().devices())
        .as("no device registered from a corrupted Hello")
        .extracting(d -> d.id())
        .containsExactly(DEVICE);
    assertThat(server.store().streams(DEVICE))
        .as("no stream created from a corrupted batch")
        .extracting(s -> s.stream())
        .containsExactly(STREAM);
  }

  @Test
  void randomFaultsFromTheSeed_converge(TestInfo info) throws Exception {
    start(info, UnaryOperator.identity());
    for (int i = 0; i < 8; i++) {
      awaitCloudProgress();
      log.info("fault {}: {}", i, proxy.injectRandomFault());
      Thread.sleep(300);
      proxy.heal();
    }
    healAndConverge();
  }

  // ---------------------------------------------------------------- rig

  /**
   * Uncompressed batches, for the scenarios that need volume on the link. The producer's records
   * compress about 50 times with the default codec ({@code auto}), so its output is only 90-250
   * kbit/s: below a 1 Mbit/s throttle (the rate would measure the producer), and too little for ten
   * bit flips at one per 40 KB within 20 s on a busy machine. Uncompressed it offers about 9
   * Mbit/s.
   */
  private static UnaryOperator<AgentConfig> uncompressed() {
    return c ->
        c.withSync(
            c.sync()
                .withBandwidth(c.sync().bandwidth().withCompression(CodecSettings.parse("none"))));
  }

  private void start(TestInfo info, UnaryOperator<AgentConfig> tune) throws Exception {
    server = SyncServer.start(Testbed.serverConfig(dir, 0));
    long seed = SEED + info.getDisplayName().hashCode();
    log.info("{}: seed {}", info.getDisplayName(), seed);
    proxy = FaultProxy.start("127.0.0.1", server.port(), seed);
    agent = EdgeAgent.open(tune.apply(Testbed.reliableAgent(DEVICE, proxy.port(), dir)));
    producer = new Testbed.Producer(agent, STREAM, seed);
  }

  private long cloudCheckpoint() {
    return server.store().checkpoints(DEVICE).getOrDefault(STREAM, 0L);
  }

  /** Waits until the cloud committed something new (at most 20 s). */
  private void awaitCloudProgress() {
    long before = cloudCheckpoint();
    await().atMost(Duration.ofSeconds(20)).until(() -> cloudCheckpoint() > before);
  }

  /** Heals the link, stops appending, waits for the cloud to catch up and checks it all. */
  private long healAndConverge() throws Exception {
    proxy.heal();
    long last = producer.stop();
    assertThat(last).as("appends acknowledged during the test").isGreaterThan(500);
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> cloudCheckpoint() >= last && agent.metrics().inFlight() == 0);
    assertThat(cloudCheckpoint()).isEqualTo(last);
    Testbed.assertExactlyOnceInOrder(server.store(), DEVICE, STREAM, last);
    long sessions = agent.status().sessionsEstablished();
    log.info(
        "converged: {} records, {} sessions, proxy up {} B down {} B, {} connections",
        last,
        sessions,
        proxy.bytes(Direction.UPSTREAM),
        proxy.bytes(Direction.DOWNSTREAM),
        proxy.connectionsAccepted());
    return sessions;
  }
}
