package io.edgesync.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.edgesync.agent.AgentConfig;
import io.edgesync.agent.EdgeAgent;
import io.edgesync.engine.cloud.ServerPolicy;
import io.edgesync.protocol.FrameCodec;
import io.edgesync.protocol.Frames;
import io.edgesync.protocol.wire.ErrorCode;
import io.edgesync.protocol.wire.Frame;
import io.edgesync.protocol.wire.Hello;
import io.edgesync.server.ServerConfig;
import io.edgesync.server.SyncServer;
import io.edgesync.testing.FrameMutator;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fuzzed binary frames from a raw WebSocket client into a real {@link SyncServer}, while a real
 * agent of another device keeps appending and syncing through the same server (Invariant 5 over the
 * socket). Every refusal is a fatal Error (never INTERNAL) followed by a close; after each frame a
 * heartbeat probe shows whether the session lives on. The agent is unaffected: one session
 * throughout, and every acknowledged append arrives once, in order, intact.
 */
@Tag("slow")
class FuzzOverSocketTest {
  private static final Logger log = LoggerFactory.getLogger(FuzzOverSocketTest.class);
  private static final long SEED = 77;
  private static final String FUZZ_DEVICE = "fz-socket";
  private static final int INPUTS = 300;

  /** A cap on a slow machine: reconnecting after each refusal costs about 10 ms. */
  private static final long MAX_RUN_NANOS = TimeUnit.SECONDS.toNanos(20);

  @TempDir Path dir;

  @Test
  void fuzzedFramesOverTheSocket_clearErrors_otherDeviceUnaffected() throws Exception {
    ServerPolicy d = ServerPolicy.defaults();
    ServerPolicy policy =
        new ServerPolicy(
            d.serverVersion(), true, ServerPolicy.MIN_FRAME_BYTES, 1_000, d.heartbeatIntervalMs());
    FrameMutator mutator = new FrameMutator(SEED, policy.maxFrameBytes());
    Map<ErrorCode, Integer> refusals = new EnumMap<>(ErrorCode.class);
    int inputs = 0;
    int survived = 0;
    try (SyncServer server =
            SyncServer.start(
                ServerConfig.defaults(dir.resolve("cloud"))
                    .withAddress("127.0.0.1", 0)
                    .withPolicy(policy));
        EdgeAgent agent =
            EdgeAgent.open(
                Testbed.neverDrop(
                    Testbed.fastSync(
                        AgentConfig.simple(
                            "good-agent", URI.create(server.syncUrl()), dir.resolve("edge")))));
        Testbed.Producer producer = new Testbed.Producer(agent, "telemetry", SEED)) {
      RawClient client = null;
      long end = System.nanoTime() + MAX_RUN_NANOS;
      while (inputs < INPUTS && System.nanoTime() < end) {
        if (client == null) {
          client = RawClient.connect(server.syncUrl());
          if (inputs % 4 != 0) {
            client.send(hello());
            assertThat(client.next().hasWelcome()).as("Welcome to a valid Hello").isTrue();
          }
        }
        byte[] in = mutator.next(FUZZ_DEVICE, server.store().checkpoints(FUZZ_DEVICE));
        String what =
            "input "
                + inputs
                + " "
                + mutator.describeLast()
                + " hex "
                + HexFormat.of().formatHex(in, 0, Math.min(in.length, 512));
        inputs++;
        Frame error = sendAndProbe(client, in, what);
        if (error == null) {
          survived++;
          continue;
        }
        refusals.merge(error.getError().getCode(), 1, Integer::sum);
        assertThat(error.getError().getCode())
            .as(what)
            .isNotIn(ErrorCode.INTERNAL, ErrorCode.ERROR_CODE_UNSPECIFIED);
        assertThat(error.getError().getFatal()).as(what).isTrue();
        assertThat(error.getError().getMessage()).as(what).isNotBlank();
        assertThat(client.closed.get(5, TimeUnit.SECONDS)).as("closed after: " + what).isTrue();
        client = null;
      }
      long last = producer.stop();
      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () -> server.store().checkpoints("good-agent").getOrDefault("telemetry", 0L) == last);
      Testbed.assertExactlyOnceInOrder(server.store(), "good-agent", "telemetry", last);
      assertThat(agent.status().sessionsEstablished())
          .as("the good agent's session was never disturbed")
          .isEqualTo(1);
      int refused = refusals.values().stream().mapToInt(Integer::intValue).sum();
      assertThat(server.sessionsRefused()).isEqualTo(refused);
      log.info(
          "{} fuzzed frames over the socket: {} kept the session, refused {}; good agent synced"
              + " {} records",
          inputs,
          survived,
          refusals,
          last);
      assertThat(inputs).isGreaterThanOrEqualTo(100);
      assertThat(refusals).containsKeys(ErrorCode.MALFORMED_FRAME, ErrorCode.INVALID_BATCH);
      assertThat(survived).isPositive();
    }
  }

  /**
   * Sends one input, then a heartbeat probe. Returns the Error the server answered with, or null if
   * the probe's reply came back (the session lives on). Fails if neither comes within 10 s.
   */
  private static Frame sendAndProbe(RawClient client, byte[] in, String what) throws Exception {
    try {
      client.send(in);
      client.send(FrameCodec.encode(Frames.heartbeat(1, false)));
    } catch (Exception e) {
      // The server may close before our probe is written; the Error is queued already.
    }
    // The probe gets a reply; so does the input if it is itself a heartbeat request.
    int replies = 1;
    try {
      Frame f = FrameCodec.decode(in, ServerPolicy.MIN_FRAME_BYTES);
      if (f.hasHeartbeat() && !f.getHeartbeat().getReply()) {
        replies++;
      }
    } catch (io.edgesync.protocol.ProtocolException refusedAnyway) {
      // the server will refuse it too
    }
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < end) {
      byte[] bytes = client.frames.poll(100, TimeUnit.MILLISECONDS);
      if (bytes == null) {
        assertThat(client.closed.isDone() && client.frames.isEmpty())
            .as("closed without an Error frame after: " + what)
            .isFalse();
        continue;
      }
      Frame f = FrameCodec.decode(bytes, ServerPolicy.MIN_FRAME_BYTES);
      if (f.hasError()) {
        return f;
      }
      if (f.hasHeartbeat() && f.getHeartbeat().getReply() && --replies == 0) {
        return null;
      }
      // An Ack, or the reply to a heartbeat inside the fuzzed input: read on.
    }
    throw new AssertionError("no answer within 10 s to: " + what);
  }

  private static byte[] hello() {
    return FrameCodec.encode(
        Frame.newBuilder()
            .setHello(
                Hello.newBuilder()
                    .setProtocolVersion(1)
                    .setDeviceId(FUZZ_DEVICE)
                    .setStoreId("store-" + FUZZ_DEVICE))
            .build());
  }
}
