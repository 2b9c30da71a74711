package io.edgesync.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgesync.engine.cloud.ServerPolicy;
import io.edgesync.protocol.FrameCodec;
import io.edgesync.protocol.Frames;
import io.edgesync.protocol.Record;
import io.edgesync.protocol.wire.Frame;
import io.edgesync.server.ServerConfig;
import io.edgesync.server.SqliteCloudStore;
import io.edgesync.server.SyncServer;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server closes a session it hears nothing from for longer than the heartbeat timeout
 * (docs/protocol.md, "Heartbeats"), over a real socket, with a raw WebSocket client as the device.
 * The server's wall clock steps by an hour in between: the timeout runs on monotonic time.
 */
class SessionLivenessTest {
  private static final long INTERVAL_MS = 500;
  private static final long TIMEOUT_MS = 1_500;

  @TempDir Path dir;
  private final AtomicLong wallStepMs = new AtomicLong();
  private final ScheduledExecutorService beat = Executors.newSingleThreadScheduledExecutor();
  private SyncServer server;
  private Rest rest;

  @BeforeEach
  void start() throws Exception {
    ServerConfig config =
        ServerConfig.defaults(dir)
            .withAddress("127.0.0.1", 0)
            .withPolicy(ServerPolicy.defaults().withHeartbeat(INTERVAL_MS, TIMEOUT_MS));
    server =
        SyncServer.start(
            config,
            new SqliteCloudStore(dir.resolve("cloud.db")),
            () -> System.currentTimeMillis() + wallStepMs.get());
    rest = new Rest(server);
  }

  @AfterEach
  void stop() {
    beat.shutdownNow();
    server.close();
  }

  @Test
  void regression_silentDeviceStayedConnected_nowClosedAfterTheTimeout_whileAHeartbeatingOneStays()
      throws Exception {
    long helloSentNanos = System.nanoTime(); // the server hears the Hello after this
    RawClient silent = handshake("silent-dev");
    RawClient beating = handshake("beating-dev");
    beat.scheduleAtFixedRate(
        () -> send(beating, Frames.heartbeat(System.currentTimeMillis(), false)),
        0,
        INTERVAL_MS / 2,
        TimeUnit.MILLISECONDS);
    assertThat(connected("silent-dev")).isTrue();
    wallStepMs.set(-3_600_000); // an hour back: a wall-clock timer would wait an hour

    assertThat(silent.closed.get(TIMEOUT_MS + 5_000, TimeUnit.MILLISECONDS)).isTrue();
    long closedAfterMs = (System.nanoTime() - helloSentNanos) / 1_000_000;

    assertThat(closedAfterMs).as("not before the timeout").isGreaterThanOrEqualTo(TIMEOUT_MS);
    assertThat(connected("silent-dev")).as("disconnected at once").isFalse();
    JsonNode health = rest.ok(rest.get("/api/v1/health"));
    assertThat(health.get("sessionsClosedSilent").asLong()).isEqualTo(1);
    assertThat(health.get("sessionsRefused").asLong()).as("not a protocol error").isZero();
    assertThat(health.get("devicesConnected").asInt()).isEqualTo(1);

    wallStepMs.set(+3_600_000); // an hour ahead: a wall-clock timer would close everything now
    Thread.sleep(Math.max(0, 3 * TIMEOUT_MS - closedAfterMs));
    assertThat(beating.closed).as("heartbeating for three timeouts").isNotDone();
    assertThat(connected("beating-dev")).isTrue();
    assertThat(beating.frames).as("heartbeat replies").isNotEmpty();
    assertThat(server.sessionsClosedSilent()).isEqualTo(1);

    beat.shutdownNow(); // now it goes silent too
    assertThat(beating.closed.get(TIMEOUT_MS + 5_000, TimeUnit.MILLISECONDS)).isTrue();
    assertThat(connected("beating-dev")).isFalse();
    assertThat(rest.ok(rest.get("/api/v1/health")).get("sessionsClosedSilent").asLong())
        .isEqualTo(2);
  }

  @Test
  void frameArrivingInFragmentsForLongerThanTheTimeout_keepsItsSession() throws Exception {
    // A large batch over a slow link: its fragments arrive for longer than the timeout, and
    // nothing else can arrive meanwhile (the device's heartbeat waits behind the batch).
    RawClient device = handshake("slow-dev");
    byte[] payload = "x".repeat(8_000).getBytes(StandardCharsets.UTF_8);
    byte[] frame =
        FrameCodec.encode(
            Frame.newBuilder()
                .setBatch(FrameCodec.batch("s", List.of(new Record(1, 1_000, payload))))
                .build());
    int fragments = 8;
    long gapMs = TIMEOUT_MS / 3; // 8 gaps of 0.5 s: the whole frame takes 4 s, past the timeout
    int size = (frame.length + fragments - 1) / fragments;
    for (int i = 0; i < fragments; i++) {
      int from = i * size;
      int to = Math.min(frame.length, from + size);
      device
          .ws
          .sendBinary(ByteBuffer.wrap(frame, from, to - from), to == frame.length)
          .get(5, TimeUnit.SECONDS);
      Thread.sleep(gapMs);
    }

    Frame ack = device.next();
    assertThat(ack.getAck().getStream()).isEqualTo("s");
    assertThat(ack.getAck().getSequence()).isEqualTo(1);
    assertThat(device.closed).isNotDone();
    assertThat(server.sessionsClosedSilent()).isZero();
  }

  private RawClient handshake(String device) throws Exception {
    RawClient c = RawClient.connect(server.syncUrl());
    c.send(Frame.newBuilder().setHello(RawClient.hello(device).setStoreId("store-" + device)));
    Frame welcome = c.next();
    assertThat(welcome.getWelcome().getHeartbeatIntervalMs()).isEqualTo(INTERVAL_MS);
    return c;
  }

  private static void send(RawClient c, Frame f) {
    try {
      c.send(FrameCodec.encode(f));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private boolean connected(String device) {
    return rest.ok(rest.get("/api/v1/devices/" + device)).get("connected").asBoolean();
  }
}
