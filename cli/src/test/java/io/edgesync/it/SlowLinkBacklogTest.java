package io.edgesync.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.edgesync.agent.AgentConfig;
import io.edgesync.agent.EdgeAgent;
import io.edgesync.server.SyncServer;
import io.edgesync.testing.FaultProxy;
import io.edgesync.testing.FaultProxy.Direction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Regression for the slow-link livelock (docs/testing.md, "A backlog cannot drain over a slow
 * link"): 8,000 records queued offline, then a 200 kbit/s link (through {@link
 * FaultProxy#throttle}) with the test liveness settings (heartbeat 1 s, timeout 5 s). Before the
 * fix, every session ended mid-batch after 5 s with nothing received and the next resent the same
 * batch: after 40 s, 8 sessions, 1 MB sent, nothing committed. Now everything commits once, in
 * order, in one session.
 */
@Tag("slow")
class SlowLinkBacklogTest {
  private static final Logger log = LoggerFactory.getLogger(SlowLinkBacklogTest.class);
  private static final String DEVICE = "dev-slow";
  private static final String STREAM = "telemetry";
  private static final int RECORDS = 8_000;
  private static final long LINK_BITS_PER_SECOND = 200_000;

  @TempDir Path dir;
  private SyncServer server;
  private FaultProxy proxy;
  private EdgeAgent agent;

  @AfterEach
  void stop() throws Exception {
    Testbed.closeAll(agent, proxy, server);
  }

  /**
   * With the defaults: adaptive batches, started small and then sized from the measured rate to a
   * quarter of the timeout; the backlog drains in one session and nothing is resent.
   */
  @Test
  void regression_backlogOverA200kbitLink_usedToRestartEverySessionMidBatch_nowDrainsOnce()
      throws Exception {
    Drained d = drain(RECORDS, UnaryOperator.identity());
    assertThat(d.sessions).as("sessions: the backlog drains in the first one").isEqualTo(1);
    assertThat(d.upstreamBytes)
        .as("upstream bytes: nothing resent (within 5 % of the batches sent once)")
        .isLessThan((long) (d.batchFrameBytes * 1.05) + 16_384);
  }

  /**
   * Adaptive sync off: the backlog goes as one batch of 4,000 records (8 s of link, above the 5 s
   * timeout). The socket buffers on the way (agent, proxy) take most of it at once, so send
   * progress stops early and the session times out in the tail; the timeout halves the next
   * batches, which then get through. Before the fix, every session resent the same batch.
   */
  @Test
  void adaptiveOff_oneBatchAboveTheTimeout_isHalvedAfterATimeout_andDrains() throws Exception {
    Drained d =
        drain(
            RECORDS / 2,
            c ->
                c.withSync(c.sync().withBandwidth(c.sync().bandwidth().withAdaptive(false, 0, 1))));
    assertThat(d.sessions).as("sessions: a halving or two, not a restart loop").isBetween(1L, 4L);
  }

  private record Drained(long sessions, long upstreamBytes, long batchFrameBytes) {}

  private Drained drain(int records, UnaryOperator<AgentConfig> tune) throws Exception {
    server = SyncServer.start(Testbed.serverConfig(dir, 0));
    proxy = FaultProxy.start("127.0.0.1", server.port(), 5);
    proxy.partition(600_000); // offline while the backlog builds
    AgentConfig config = tune.apply(Testbed.reliableAgent(DEVICE, proxy.port(), dir));
    assertThat(config.sync().heartbeatTimeoutMs()).isEqualTo(5_000);
    agent = EdgeAgent.open(config);
    for (long first = 1; first <= records; first += 500) {
      List<byte[]> chunk = new ArrayList<>();
      for (long s = first; s < first + 500; s++) {
        chunk.add(payload(s));
      }
      agent.appendAll(STREAM, chunk);
    }
    assertThat(agent.status().sessionsEstablished()).isZero();

    proxy.heal();
    proxy.throttle(Direction.UPSTREAM, LINK_BITS_PER_SECOND);
    proxy.throttle(Direction.DOWNSTREAM, LINK_BITS_PER_SECOND);
    long t0 = System.nanoTime();
    await()
        .atMost(Duration.ofSeconds(55))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> cloudCheckpoint() >= records && agent.metrics().inFlight() == 0);
    double seconds = (System.nanoTime() - t0) / 1e9;

    Drained d =
        new Drained(
            agent.status().sessionsEstablished(),
            proxy.bytes(Direction.UPSTREAM),
            agent.status().bandwidth().total().frameBytes());
    log.info(
        "drained {} records in {} s: {} sessions, {} B upstream, batch frames {} B, {} bit/s",
        records,
        String.format("%.1f", seconds),
        d.sessions,
        d.upstreamBytes,
        d.batchFrameBytes,
        Math.round(d.upstreamBytes * 8 / seconds));
    Testbed.assertExactlyOnceInOrder(
        server.store(), DEVICE, STREAM, records, SlowLinkBacklogTest::payload);
    return d;
  }

  /**
   * Record {@code sequence}: JSON with 48 bytes of SHA-512 of the sequence in hex, which no codec
   * compresses much below those 48 bytes (about 56 bytes a record on the wire with {@code auto}, so
   * the backlog is about 450 KB, 18 s at 200 kbit/s: far more than one 5 s session could push
   * before the old timeout, socket buffers included).
   */
  static byte[] payload(long sequence) {
    try {
      byte[] h =
          MessageDigest.getInstance("SHA-512")
              .digest(Long.toString(sequence).getBytes(StandardCharsets.UTF_8));
      String hex = HexFormat.of().formatHex(h, 0, 48);
      return ("{\"seq\":" + sequence + ",\"h\":\"" + hex + "\"}").getBytes(StandardCharsets.UTF_8);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }

  private long cloudCheckpoint() {
    return server.store().checkpoints(DEVICE).getOrDefault(STREAM, 0L);
  }
}
