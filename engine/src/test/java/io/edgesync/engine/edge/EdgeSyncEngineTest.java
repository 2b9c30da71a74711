package io.edgesync.engine.edge;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.edgesync.engine.commands.CommandInbox;
import io.edgesync.engine.docs.DocReplica;
import io.edgesync.engine.testing.InMemoryOutbox;
import io.edgesync.engine.testing.RecordingEdgeIo;
import io.edgesync.protocol.FrameCodec;
import io.edgesync.protocol.Frames;
import io.edgesync.protocol.Hlc;
import io.edgesync.protocol.ProtocolException;
import io.edgesync.protocol.ProtocolLimits;
import io.edgesync.protocol.Record;
import io.edgesync.protocol.wire.Command;
import io.edgesync.protocol.wire.CommandState;
import io.edgesync.protocol.wire.CommandStatus;
import io.edgesync.protocol.wire.DocAck;
import io.edgesync.protocol.wire.DocChange;
import io.edgesync.protocol.wire.DocRefusal;
import io.edgesync.protocol.wire.DocUpdate;
import io.edgesync.protocol.wire.ErrorCode;
import io.edgesync.protocol.wire.Frame;
import io.edgesync.protocol.wire.Gap;
import io.edgesync.protocol.wire.GapReason;
import io.edgesync.protocol.wire.Hello;
import io.edgesync.protocol.wire.StreamCheckpoint;
import io.edgesync.protocol.wire.Welcome;
import io.edgesync.testing.FakeClock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class EdgeSyncEngineTest {
  private static final long T0 = 1_700_000_000_000L;

  private final FakeClock clock = new FakeClock(T0);
  private final InMemoryOutbox outbox = new InMemoryOutbox(clock);
  private final RecordingEdgeIo io = new RecordingEdgeIo();
  private final SyncPolicy.Builder policy = TestPolicy.builder();
  private EdgeSyncEngine engine;

  /** The frames sent since the last call, described compactly for readable assertions. */
  private List<String> take() {
    List<String> out = new ArrayList<>();
    for (Frame f : io.frames()) {
      out.add(describe(f));
    }
    io.frames().clear();
    return out;
  }

  private static String describe(Frame f) {
    return switch (f.getBodyCase()) {
      case BATCH -> {
        try {
          List<Record> records =
              FrameCodec.records(f.getBatch(), ProtocolLimits.DEFAULT_MAX_RECORDS_PER_BATCH);
          yield "batch "
              + f.getBatch().getStream()
              + " "
              + records.get(0).sequence()
              + ".."
              + records.get(records.size() - 1).sequence();
        } catch (ProtocolException e) {
          throw new AssertionError("engine sent an invalid batch: " + e.getMessage(), e);
        }
      }
      case GAP -> {
        Gap g = f.getGap();
        yield "gap "
            + g.getStream()
            + " "
            + g.getFirstSequence()
            + ".."
            + g.getLastSequence()
            + " "
            + g.getReason();
      }
      case HEARTBEAT -> f.getHeartbeat().getReply() ? "heartbeat reply" : "heartbeat";
      case ERROR ->
          "error "
              + f.getError().getCode()
              + (f.getError().getFatal() ? " fatal: " : ": ")
              + f.getError().getMessage();
      default -> f.getBodyCase().toString().toLowerCase();
    };
  }

  private EdgeSyncEngine engine() {
    if (engine == null) {
      engine = TestPolicy.engine(policy, outbox, io);
    }
    return engine;
  }

  private long now() {
    return clock.nowMs();
  }

  private static Frame welcome(Map<String, Long> checkpoints) {
    return welcome(checkpoints, b -> {});
  }

  private static Frame welcome(
      Map<String, Long> checkpoints, java.util.function.Consumer<Welcome.Builder> tweak) {
    Welcome.Builder w =
        TestCloud.welcome(checkpoints)
            .setServerVersion("test-server")
            .setHeartbeatIntervalMs(15_000);
    tweak.accept(w);
    return TestCloud.frame(w);
  }

  private static Map<String, Long> cp(Object... streamAndSequence) {
    Map<String, Long> m = new LinkedHashMap<>();
    for (int i = 0; i < streamAndSequence.length; i += 2) {
      m.put((String) streamAndSequence[i], ((Number) streamAndSequence[i + 1]).longValue());
    }
    return m;
  }

  /** Starts (or reconnects) and completes the handshake at the current time. */
  private void connectAndWelcome(Map<String, Long> cloudCheckpoints) {
    if (engine == null) {
      engine().start(now());
    }
    assertThat(engine.state()).isEqualTo(EdgeSyncEngine.State.CONNECTING);
    engine.onConnected(now());
    assertThat(take()).containsExactly("hello");
    // A cloud that asks for heartbeats as often as the agent sends them (a shorter interval in
    // Welcome would change when they go: see heartbeat_atTheCloudsInterval...).
    engine.onFrame(
        now(),
        welcome(
            cloudCheckpoints,
            w -> w.setHeartbeatIntervalMs((int) policy.build().heartbeatIntervalMs())));
    assertThat(engine.state()).isEqualTo(EdgeSyncEngine.State.ACTIVE);
  }

  private void ack(String stream, long sequence) {
    engine.onFrame(now(), Frames.ack(stream, sequence));
  }

  private void append(String stream, int count) {
    outbox.append(stream, count);
    engine().onAppended(now());
  }

  // ---------------------------------------------------------------- connect and handshake

  @Test
  void start_connectsAtOnce() {
    engine().start(T0);

    assertThat(io.connects()).isEqualTo(1);
    assertThat(engine.state()).isEqualTo(EdgeSyncEngine.State.CONNECTING);
    assertThat(engine.status()).isEqualTo(EdgeSyncEngine.Status.CONNECTING);
    assertThat(engine.nextWakeupMs()).isEqualTo(T0 + policy.build().connectTimeoutMs());
    assertThat(io.frames()).isEmpty();
  }

  @Test
  void onConnected_sendsHelloWithAckedCheckpointsInPriorityOrder_andNoDataYet() {
    outbox.stream("logs", 2).stream("sensor_data", 1);
    outbox.append("sensor_data", 5);
    outbox.preAcknowledged("sensor_data", 3);
    outbox.append("logs", 2);
    engine().start(T0);

    engine.onConnected(T0 + 5);

    assertThat(engine.state()).isEqualTo(EdgeSyncEngine.State.HANDSHAKING);
    assertThat(io.frames()).hasSize(1);
    Hello hello = io.frames().get(0).getHello();
    assertThat(hello.getProtocolVersion()).isEqualTo(1);
    assertThat(hello.getDeviceId()).isEqualTo("dev-1");
    assertThat(hello.getAgentVersion()).isEqualTo("test-agent/1");
    assertThat(hello.getCheckpointsList())
        .extracting(StreamCheckpoint::getStream, StreamCheckpoint::getSequence)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("sensor_data", 3L),
            org.assertj.core.groups.Tuple.tuple("logs", 0L));
  }

  @Test
  void welcome_activatesAndResumesAfterTheCloudCheckpoint_acknowledgingUpToIt() {
    outbox.append("a", 10);

    connectAndWelcome(cp("a", 4));

    assertThat(engine.sessionsEstablished()).isEqualTo(1);
    assertThat(outbox.acknowledgeCalls()).containsExactly("a:4");
    assertThat(outbox.acked("a")).isEqualTo(4);
    assertThat(take()).containsExactly("batch a 5..10");
    assertThat(engine.nextSendSequence("a")).isEqualTo(11);
  }

  @Test
  void backlog_flushesImmediatelyAfterWelcome_withoutWaitingForDebounceOrThresholds() {
    outbox.append("a", 3); // below batchMinRecords, written "just now"
    engine().start(T0);
    engine.onAppended(T0);

    engine.onConnected(T0 + 1);
    take();
    engine.onFrame(T0 + 2, welcome(cp()));

    assertThat(take()).containsExactly("batch a 1..3");
  }

  @Test
  void ackBeforeHandshake_isProtocolViolation() {
    outbox.append("a", 3);
    engine().start(T0);
    engine.onConnected(T0);
    take();

    engine.onFrame(T0, Frames.ack("a", 3));

    assertThat(take())
        .containsExactly("error PROTOCOL_VIOLATION fatal: Ack before the handshake completed");
    assertThat(io.disconnects()).containsExactly("Ack before the handshake completed");
    assertThat(outbox.acked("a")).isZero();
  }

  @Test
  void secondWelcome_isProtocolViolation() {
    connectAndWelcome(cp());

    engine.onFrame(now(), welcome(cp()));

    assertThat(take())
        .containsExactly("error PROTOCOL_VIOLATION fatal: Welcome after the handshake");
    assertThat(io.disconnects()).containsExactly("Welcome after the handshake");
  }

  @Test
  void welcomeWithAnotherProtocolVersion_disconnectsWithoutSending() {
    outbox.append("a", 3);
    engine().start(T0);
    engine.onConnected(T0);
    take();

    engine.onFrame(T0, welcome(cp(), w -> w.setProtocolVersion(2)));

    assertThat(io.disconnects()).containsExactly("cloud speaks protocol version 2, this agent 1");
    assertThat(take()).isEmpty();
    assertThat(engine.state()).isNotEqualTo(EdgeSyncEngine.State.ACTIVE);
  }

  @Test
  void unexpectedFrameFromTheCloud_isProtocolViolation() {
    connectAndWelcome(cp());

    engine.onFrame(
        now(), Frame.newBuilder().setHello(Hello.newBuilder().setProtocolVersion(1)).build());

    assertThat(take())
        .containsExactly("error PROTOCOL_VIOLATION fatal: unexpected HELLO frame from the cloud");
    assertThat(io.disconnects()).hasSize(1);
  }

  @Test
  void connectTimeout_disconnects() {
    engine().start(T0);

    engine.onTimer(T0 + 9_999);
    assertThat(io.disconnects()).isEmpty();

    engine.onTimer(T0 + 10_000);
    assertThat(io.disconnects()).containsExactly("connect timed out after 10000 ms");
  }

  @Test
  void handshakeTimeout_disconnects() {
    engine().start(T0);
    engine.onConnected(T0 + 100);

    assertThat(engine.nextWakeupMs()).isEqualTo(T0 + 100 + 10_000);
    engine.onTimer(T0 + 10_099);
    assertThat(io.disconnects()).isEmpty();

    engine.onTimer(T0 + 10_100);
    assertThat(io.disconnects()).containsExactly("no Welcome within 10000 ms");
  }

  @Test
  void fatalCloudError_disconnects_nonFatalOnlyRecordsIt() {
    connectAndWelcome(cp());

    engine.onFrame(now(), Frames.error(ErrorCode.SERVER_BUSY, "slow down", false));
    assertThat(io.disconnects()).isEmpty();
    assertThat(engine.lastError()).isEqualTo("SERVER_BUSY: slow down");

    engine.onFrame(now(), Frames.error(ErrorCode.INTERNAL, "disk full", true));
    assertThat(io.disconnects()).containsExactly("cloud reported INTERNAL: disk full");
  }

  // ---------------------------------------------------------------- window and acks

  @Test
  void window_limitsBatchesInFlight_andAcksOpenItAndAdvance() {
    outbox.append("a", 50);
    connectAndWelcome(cp());

    assertThat(take()).containsExactly("batch a 1..10", "batch a 11..20");
    assertThat(engine.inFlightBatches()).isEqualTo(2);
    assertThat(engine.status()).isEqualTo(EdgeSyncEngine.Status.BUSY);
    engine.onTimer(now());
    engine.requestSync(now());
    assertThat(take()).isEmpty();

    ack("a", 10);
    assertThat(outbox.acked("a")).isEqualTo(10);
    assertThat(take()).containsExactly("batch a 21..30");

    ack("a", 30); // cumulative: covers 11..20 and 21..30
    assertThat(outbox.acked("a")).isEqualTo(30);
    assertThat(take()).containsExactly("batch a 31..40", "batch a 41..50");

    ack("a", 50);
    assertThat(take()).isEmpty();
    assertThat(engine.inFlightBatches()).isZero();
    assertThat(engine.status()).isEqualTo(EdgeSyncEngine.Status.IDLE);
    assertThat(outbox.acked("a")).isEqualTo(50);
    assertThat(engine.batchesSent()).isEqualTo(5);
    assertThat(engine.recordsSent()).isEqualTo(50);
  }

  @Test
  void window_limitsBytesInFlight() {
    policy.maxInFlightBatches(8);
    policy.maxInFlightBytes(100); // batches of 10 records x 8 bytes = 80 bytes
    outbox.append("a", 50);

    connectAndWelcome(cp());

    assertThat(take()).containsExactly("batch a 1..10", "batch a 11..20");
    ack("a", 20);
    assertThat(take()).containsExactly("batch a 21..30", "batch a 31..40");
  }

  @Test
  void cumulativeAck_releasesEveryBatchUpToIt_andOnlyThose() {
    policy.maxInFlightBatches(4);
    outbox.append("a", 40);
    connectAndWelcome(cp());
    assertThat(take()).hasSize(4);

    ack("a", 25); // inside the third batch: only the first two are done
    assertThat(engine.inFlightBatches()).isEqualTo(2);
    assertThat(outbox.acked("a")).isEqualTo(25);

    ack("a", 40);
    assertThat(engine.inFlightBatches()).isZero();
    assertThat(outbox.acknowledgeCalls()).containsExactly("a:25", "a:40");
  }

  @Test
  void ackBeyondAnythingAppended_isErrorFrameAndDisconnect() {
    outbox.append("a", 30);
    connectAndWelcome(cp());
    take(); // 1..10, 11..20

    ack("a", 31);

    String message = "Ack for a up to 31 which is beyond anything appended";
    assertThat(take()).containsExactly("error PROTOCOL_VIOLATION fatal: " + message);
    assertThat(io.disconnects()).containsExactly(message);
    assertThat(outbox.acked("a")).isZero();
    assertThat(engine.lastError()).isEqualTo(message);
  }

  @Test
  void ackAheadOfThisSession_earlierSessionCommitLandedLate_resumesAfterIt() {
    outbox.append("a", 30);
    connectAndWelcome(cp());
    take(); // 1..10, 11..20 in flight

    ack("a", 25); // an older session's batch 21..25 was committed after our Welcome

    assertThat(outbox.acked("a")).isEqualTo(25);
    assertThat(io.disconnects()).isEmpty();
    assertThat(take()).containsExactly("batch a 26..30"); // not 21..30 again
  }

  @Test
  void ackForUnknownStream_isErrorFrameAndDisconnect() {
    connectAndWelcome(cp());

    ack("nope", 1);

    assertThat(take())
        .containsExactly(
            "error PROTOCOL_VIOLATION fatal: Ack for nope up to 1 which is beyond anything appended");
    assertThat(io.disconnects()).hasSize(1);
  }

  // ---------------------------------------------------------------- triggers

  @Test
  void debounce_noSendBeforeItElapses_sendAtNextWakeup() {
    outbox.stream("a", 5);
    connectAndWelcome(cp());
    clock.advance(100);
    long written = now();

    append("a", 1);
    assertThat(take()).isEmpty();
    assertThat(engine.nextWakeupMs()).isEqualTo(written + 1_000);

    engine.onTimer(written + 999);
    assertThat(take()).isEmpty();

    engine.onTimer(engine.nextWakeupMs());
    assertThat(take()).containsExactly("batch a 1..1");
  }

  @Test
  void debounce_restartsWithEveryWrite() {
    outbox.stream("a", 5);
    connectAndWelcome(cp());
    long first = now();
    append("a", 1);
    clock.advance(600);
    append("a", 1);

    assertThat(engine.nextWakeupMs()).isEqualTo(first + 1_600);
    engine.onTimer(first + 1_000);
    assertThat(take()).isEmpty();

    engine.onTimer(first + 1_600);
    assertThat(take()).containsExactly("batch a 1..2");
  }

  @Test
  void batchMinRecords_triggersAtOnce() {
    policy.batchMinRecords(5);
    outbox.stream("a", 5);
    connectAndWelcome(cp());

    append("a", 4);
    assertThat(take()).isEmpty();

    append("a", 1);
    assertThat(take()).containsExactly("batch a 1..5");
  }

  @Test
  void batchMinBytes_triggersAtOnce() {
    policy.batchMinBytes(100);
    outbox.stream("a", 5);
    connectAndWelcome(cp());

    outbox.append("a", 1, 60);
    engine.onAppended(now());
    assertThat(take()).isEmpty();

    outbox.append("a", 1, 60);
    engine.onAppended(now());
    assertThat(take()).containsExactly("batch a 1..2");
  }

  @Test
  void batchMaxAge_capsDebounceUnderContinuousWrites() {
    policy.maxInFlightBatches(4);
    outbox.stream("a", 5);
    connectAndWelcome(cp());
    long first = now();

    // a write every 400 ms: the 1 s debounce never elapses
    for (int k = 0; k * 400 < 5_000; k++) {
      clock.set(first + k * 400L);
      append("a", 1);
      engine.onTimer(now());
      assertThat(take()).as("write %d", k).isEmpty();
      assertThat(engine.nextWakeupMs()).isLessThanOrEqualTo(first + 5_000);
    }
    assertThat(engine.nextWakeupMs()).isEqualTo(first + 5_000);

    engine.onTimer(first + 5_000);

    assertThat(take()).containsExactly("batch a 1..10", "batch a 11..13");
  }

  @Test
  void scheduledTrigger_sendsAtTheInterval() {
    policy.eventDriven(false);
    policy.scheduled(true);
    policy.intervalMs(60_000);
    policy.batchMaxAgeMs(600_000);
    policy.heartbeatIntervalMs(100_000);
    policy.heartbeatTimeoutMs(200_000);
    outbox.stream("a", 5);
    connectAndWelcome(cp());

    clock.advance(1_000);
    append("a", 2);
    assertThat(engine.nextWakeupMs()).isEqualTo(T0 + 60_000);
    engine.onTimer(T0 + 59_999);
    assertThat(take()).isEmpty();

    engine.onTimer(T0 + 60_000);
    assertThat(take()).containsExactly("batch a 1..2");
    assertThat(engine.nextWakeupMs()).isEqualTo(T0 + 100_000); // heartbeat before next schedule
  }

  @Test
  void scheduledTrigger_withNothingQueued_sendsNothingAndReschedules() {
    policy.scheduled(true);
    policy.intervalMs(60_000);
    policy.heartbeatIntervalMs(100_000);
    policy.heartbeatTimeoutMs(200_000);
    connectAndWelcome(cp());

    engine.onTimer(T0 + 60_000);

    assertThat(take()).isEmpty();
    assertThat(engine.nextWakeupMs()).isEqualTo(T0 + 100_000);
    engine.onTimer(T0 + 100_000);
    assertThat(take()).containsExactly("heartbeat");
    assertThat(engine.nextWakeupMs()).isEqualTo(T0 + 120_000);
  }

  @Test
  void requestSync_whenActive_flushesAtOnce() {
    outbox.stream("a", 5);
    connectAndWelcome(cp());
    append("a", 3);
    assertThat(take()).isEmpty();

    engine.requestSync(now());

    assertThat(take()).containsExactly("batch a 1..3");
  }

  @Test
  void requestSync_whenDisconnected_skipsTheBackoff() {
    connectAndWelcome(cp());
    engine.onDisconnected(T0 + 10, "network down");
    assertThat(engine.nextWakeupMs()).isGreaterThanOrEqualTo(T0 + 10 + 500);
    engine.onTimer(T0 + 11);
    assertThat(io.connects()).isEqualTo(1);

    engine.requestSync(T0 + 11);

    assertThat(io.connects()).isEqualTo(2);
    assertThat(engine.state()).isEqualTo(EdgeSyncEngine.State.CONNECTING);
  }

  @Test
  void streamAppearingAfterHandshake_isSentFromItsStart() {
    outbox.stream("a", 5);
    connectAndWelcome(cp("a", 0));

    outbox.append("b", 2);
    engine.requestSync(now());

    assertThat(take()).containsExactly("batch b 1..2");
  }

  @Test
  void streams_areServedInPriorityOrder() {
    policy.maxInFlightBatches(1);
    outbox.stream("low", 9).stream("high", 1);
    outbox.append("low", 3);
    outbox.append("high", 3);

    connectAndWelcome(cp());
    assertThat(take()).containsExactly("batch high 1..3");
    ack("high", 3);
    assertThat(take()).containsExactly("batch low 1..3");
  }

  @Test
  void welcomeLimits_shrinkBatches() {
    outbox.append("a", 9);
    policy.maxInFlightBatches(8);
    engine().start(T0);
    engine.onConnected(T0);
    take();

    engine.onFrame(T0, welcome(cp(), w -> w.setMaxRecordsPerBatch(4)));

    assertThat(take()).containsExactly("batch a 1..4", "batch a 5..8", "batch a 9..9");
  }

  @Test
  void welcomeMaxFrameBytes_boundsBatchPayload() {
    outbox.append("a", 7, 300);
    policy.maxInFlightBatches(8);
    engine().start(T0);
    engine.onConnected(T0);
    take();

    // 2048-byte frames leave 1024 bytes of payload: three 300-byte records per batch
    engine.onFrame(T0, welcome(cp(), w -> w.setMaxFrameBytes(2048)));

    List<Frame> sent = List.copyOf(io.frames());
    assertThat(take()).containsExactly("batch a 1..3", "batch a 4..6", "batch a 7..7");
    assertThat(sent).allSatisfy(f -> assertThat(f.getSerializedSize()).isLessThanOrEqualTo(2048));
  }

  // ---------------------------------------------------------------- disconnect and reconnect

  @Test
  void reconnect_afterBackoffInRange_resendsFromTheNewWelcomeCheckpoint() {
    policy.maxInFlightBatches(3);
    outbox.append("a", 30);
    connectAndWelcome(cp());
    assertThat(take()).containsExactly("batch a 1..10", "batch a 11..20", "batch a 21..30");
    ack("a", 10);

    long cut = T0 + 100;
    engine.onDisconnected(cut, "connection reset");

    assertThat(engine.state()).isEqualTo(EdgeSyncEngine.State.DISCONNECTED);
    assertThat(engine.status()).isEqualTo(EdgeSyncEngine.Status.OFFLINE);
    assertThat(engine.inFlightBatches()).isZero();
    assertThat(engine.nextSendSequence("a")).isEqualTo(-1);
    assertThat(engine.lastError()).isEqualTo("connection reset");
    long reconnectAt = engine.nextWakeupMs();
    assertThat(reconnectAt - cut).isBetween(500L, 1_000L);

    engine.onTimer(reconnectAt - 1);
    assertThat(io.connects()).isEqualTo(1);
    engine.onTimer(reconnectAt);
    assertThat(io.connects()).isEqualTo(2);

    clock.set(reconnectAt);
    engine.onConnected(now());
    assertThat(io.frames().get(0).getHello().getCheckpoints(0).getSequence()).isEqualTo(10);
    take();
    // the cloud committed 11..20 but its ack was lost with the connection
    engine.onFrame(now(), welcome(cp("a", 20)));

    assertThat(take()).containsExactly("batch a 21..30");
    assertThat(outbox.acked("a")).isEqualTo(20);
    ack("a", 30);
    assertThat(outbox.acked("a")).isEqualTo(30);
    assertThat(engine.sessionsEstablished()).isEqualTo(2);
  }

  @Test
  void reconnect_whenTheCloudMissedInFlightBatches_resendsThemWithoutHolesOrDuplicates() {
    policy.maxInFlightBatches(3);
    outbox.append("a", 30);
    connectAndWelcome(cp());
    take();
    engine.onDisconnected(now(), "cut");

    engine.onTimer(engine.nextWakeupMs());
    engine.onConnected(now());
    take();
    engine.onFrame(now(), welcome(cp("a", 10)));

    assertThat(take()).containsExactly("batch a 11..20", "batch a 21..30");
  }

  @Test
  void consecutiveFailures_backOffExponentially_andAnEstablishedSessionResetsIt() {
    engine().start(T0);
    long t = T0;
    long[][] ranges = {{500, 1_000}, {1_000, 2_000}, {2_000, 4_000}, {4_000, 8_000}};
    for (long[] range : ranges) {
      engine.onDisconnected(t, "connection refused");
      long delay = engine.nextWakeupMs() - t;
      assertThat(delay).isBetween(range[0], range[1]);
      t += delay;
      engine.onTimer(t);
      assertThat(engine.state()).isEqualTo(EdgeSyncEngine.State.CONNECTING);
    }
    assertThat(io.connects()).isEqualTo(5);

    engine.onConnected(t);
    engine.onFrame(t, welcome(cp()));
    engine.onDisconnected(t, "cut");

    assertThat(engine.nextWakeupMs() - t).isBetween(500L, 1_000L);
  }

  @Test
  void framesWhileDisconnected_areIgnored() {
    outbox.append("a", 5);
    connectAndWelcome(cp());
    take();
    engine.onDisconnected(now(), "cut");

    engine.onFrame(now(), Frames.ack("a", 5));
    engine.onFrame(now(), Frames.heartbeat(now(), false));

    assertThat(take()).isEmpty();
    assertThat(outbox.acked("a")).isZero();
  }

  @Test
  void stop_disconnectsAndIgnoresEverythingAfter() {
    outbox.stream("a", 5);
    connectAndWelcome(cp());

    engine.stop();

    assertThat(io.disconnects()).containsExactly("agent stopping");
    assertThat(engine.state()).isEqualTo(EdgeSyncEngine.State.STOPPED);
    assertThat(engine.status()).isEqualTo(EdgeSyncEngine.Status.STOPPED);
    assertThat(engine.nextWakeupMs()).isEqualTo(Long.MAX_VALUE);
    engine.onDisconnected(now(), "closed");
    append("a", 5);
    engine.requestSync(now());
    engine.onTimer(now() + 3_600_000);
    assertThat(take()).isEmpty();
    assertThat(io.connects()).isEqualTo(1);
    assertThat(engine.state()).isEqualTo(EdgeSyncEngine.State.STOPPED);
  }

  // ---------------------------------------------------------------- heartbeats

  @Test
  void heartbeat_sentAfterTheInterval_andCloudHeartbeatsAnswered() {
    connectAndWelcome(cp());
    assertThat(engine.nextWakeupMs()).isEqualTo(T0 + 15_000);

    engine.onTimer(T0 + 14_999);
    assertThat(take()).isEmpty();
    engine.onTimer(T0 + 15_000);
    assertThat(io.frames())
        .singleElement()
        .satisfies(f -> assertThat(f.getHeartbeat().getSentAtMs()).isEqualTo(T0 + 15_000));
    assertThat(take()).containsExactly("heartbeat");

    engine.onFrame(T0 + 15_010, Frames.heartbeat(T0 + 15_010, false));
    assertThat(take()).containsExactly("heartbeat reply");
    engine.onFrame(T0 + 15_020, Frames.heartbeat(T0 + 15_000, true));
    assertThat(take()).isEmpty();
  }

  @Test
  void heartbeat_atTheCloudsIntervalWhenWelcomeAsksMoreOftenThanTheLocalSetting() {
    // The cloud closes a session it hears nothing from for a few of its Welcome intervals: an
    // agent set to a longer interval would have every quiet session closed under it.
    policy.heartbeatIntervalMs(60_000);
    policy.heartbeatTimeoutMs(180_000);
    engine().start(now());
    engine.onConnected(now());
    assertThat(take()).containsExactly("hello");
    engine.onFrame(now(), welcome(cp(), w -> w.setHeartbeatIntervalMs(10_000)));
    assertThat(engine.state()).isEqualTo(EdgeSyncEngine.State.ACTIVE);

    assertThat(engine.nextWakeupMs()).isEqualTo(T0 + 10_000);
    engine.onTimer(T0 + 10_000);
    engine.onTimer(T0 + 20_000);
    assertThat(take()).containsExactly("heartbeat", "heartbeat");
  }

  @Test
  void heartbeat_atTheLocalIntervalWhenWelcomeAsksLessOften() {
    policy.heartbeatIntervalMs(5_000);
    policy.heartbeatTimeoutMs(15_000);
    engine().start(now());
    engine.onConnected(now());
    engine.onFrame(now(), welcome(cp(), w -> w.setHeartbeatIntervalMs(15_000)));
    assertThat(take()).containsExactly("hello");

    assertThat(engine.nextWakeupMs()).isEqualTo(T0 + 5_000);
    engine.onTimer(T0 + 5_000);
    assertThat(take()).containsExactly("heartbeat");
  }

  @Test
  void heartbeatTimeout_disconnectsWhenTheCloudGoesSilent() {
    connectAndWelcome(cp());

    engine.onTimer(T0 + 15_000);
    engine.onTimer(T0 + 30_000);
    assertThat(take()).containsExactly("heartbeat", "heartbeat");
    assertThat(engine.nextWakeupMs()).isEqualTo(T0 + 45_000);
    engine.onTimer(T0 + 44_999);
    assertThat(io.disconnects()).isEmpty();

    engine.onTimer(T0 + 45_000);

    assertThat(io.disconnects()).containsExactly("nothing received for 45000 ms");
  }

  @Test
  void anyFrameFromTheCloud_postponesTheHeartbeatTimeout() {
    connectAndWelcome(cp());
    engine.onFrame(T0 + 30_000, Frames.heartbeat(T0 + 30_000, true));

    engine.onTimer(T0 + 45_000);
    engine.onTimer(T0 + 74_999);

    assertThat(io.disconnects()).isEmpty();
    engine.onTimer(T0 + 75_000);
    assertThat(io.disconnects()).containsExactly("nothing received for 45000 ms");
  }

  // ---------------------------------------------------------------- gaps and checkpoints

  @Test
  void gapItems_areSentAsGapFramesInSequenceOrder() {
    policy.maxInFlightBatches(8);
    outbox.append("a", 20);
    outbox.drop("a", 1, 2, GapReason.GAP_REASON_EXPIRED);
    outbox.drop("a", 5, 8, GapReason.GAP_REASON_QUEUE_FULL);

    connectAndWelcome(cp());

    List<Frame> sent = List.copyOf(io.frames());
    assertThat(take())
        .containsExactly(
            "gap a 1..2 GAP_REASON_EXPIRED",
            "batch a 3..4",
            "gap a 5..8 GAP_REASON_QUEUE_FULL",
            "batch a 9..18",
            "batch a 19..20");
    assertThat(sent.get(0).getGap().getDroppedAtMs()).isEqualTo(T0);
    assertThat(engine.recordsSent()).isEqualTo(14);

    ack("a", 8);
    assertThat(outbox.acked("a")).isEqualTo(8);
    assertThat(engine.inFlightBatches()).isEqualTo(2);
  }

  @Test
  void cloudCheckpointAheadOfLocalStore_blocksThatStreamOnly() {
    outbox.append("a", 5);
    outbox.append("b", 3);

    connectAndWelcome(cp("a", 9, "b", 0));

    String reason =
        "the cloud holds sequence 9 of stream 'a' but this store only reached 5 (was the local"
            + " store reset?); not sending to avoid silent duplicates";
    assertThat(engine.blockedStreams()).containsExactly(Map.entry("a", reason));
    assertThat(engine.lastError()).isEqualTo(reason);
    assertThat(take()).containsExactly("batch b 1..3");

    append("a", 10);
    engine.requestSync(now());
    engine.onTimer(now() + 10_000);
    assertThat(take()).noneMatch(f -> f.contains(" a "));
    assertThat(outbox.acknowledgeCalls()).noneMatch(c -> c.startsWith("a:"));
  }

  @Test
  void cloudCheckpointBehindAcked_marksNotRetained_andSendsTheLossAsGap() {
    outbox.append("a", 10);
    outbox.preAcknowledged("a", 8); // 1..8 pruned after their ack

    connectAndWelcome(cp("a", 5)); // the cloud was restored from a backup

    assertThat(outbox.markNotRetainedCalls()).containsExactly("a:5");
    assertThat(take()).containsExactly("gap a 6..8 GAP_REASON_NOT_RETAINED", "batch a 9..10");
  }

  @Test
  void cloudCheckpointEqualToAcked_touchesNothing() {
    outbox.append("a", 10);
    outbox.preAcknowledged("a", 8);

    connectAndWelcome(cp("a", 8));

    assertThat(outbox.markNotRetainedCalls()).isEmpty();
    assertThat(outbox.acknowledgeCalls()).isEmpty();
    assertThat(take()).containsExactly("batch a 9..10");
  }

  // ---------------------------------------------------------------- commands

  /** A command inbox holding final statuses the cloud has not confirmed yet. */
  private static final class RecordingInbox implements CommandInbox {
    final Map<String, CommandStatus> unconfirmed = new LinkedHashMap<>();
    final List<String> confirmed = new ArrayList<>();

    @Override
    public CommandStatus received(Command command, long nowMs) {
      throw new AssertionError("not delivered in these tests");
    }

    @Override
    public List<CommandStatus> unconfirmed() {
      return List.copyOf(unconfirmed.values());
    }

    @Override
    public void confirmed(String id) {
      confirmed.add(id);
      unconfirmed.remove(id);
    }
  }

  private static Frame commandStatus(String id, CommandState state) {
    return Frame.newBuilder()
        .setCommandStatus(CommandStatus.newBuilder().setId(id).setState(state))
        .build();
  }

  /**
   * Regression (found by the simulator, seed 403): the device's RECEIVED reached the cloud after
   * the cloud had marked the command expired, so the cloud echoed RECEIVED; the engine took any
   * echo as the confirmation of the device's own final status (FAILED, still in flight) and never
   * resent it, so the cloud kept "expired" for a command that ran.
   */
  @Test
  void cloudEchoOfReceived_doesNotConfirmTheDevicesFinalStatus_anEchoOfItDoes() {
    RecordingInbox inbox = new RecordingInbox();
    inbox.unconfirmed.put(
        "c1", CommandStatus.newBuilder().setId("c1").setState(CommandState.COMMAND_FAILED).build());
    engine =
        new EdgeSyncEngine(
            policy.build(), outbox, DocReplica.NONE, inbox, io, new SplittableRandom(1));
    engine.start(now());
    engine.onConnected(now());
    engine.onFrame(now(), welcome(cp()));
    assertThat(take()).containsExactly("hello", "command_status");

    engine.onFrame(now(), commandStatus("c1", CommandState.COMMAND_RECEIVED));

    assertThat(inbox.confirmed).isEmpty();
    assertThat(inbox.unconfirmed()).hasSize(1);

    engine.onFrame(now(), commandStatus("c1", CommandState.COMMAND_FAILED));

    assertThat(inbox.confirmed).containsExactly("c1");
  }

  /** A replica holding pending changes, recording what the engine tells it. */
  private static final class PendingReplica implements DocReplica {
    final List<DocChange> pending = new ArrayList<>();
    final List<Long> refused = new ArrayList<>();

    @Override
    public Map<String, Long> cursors() {
      return Map.of();
    }

    @Override
    public List<DocChange> pendingChanges(long afterChangeSeq, int maxChanges, int maxBytes) {
      return pending.stream().filter(c -> c.getChangeSeq() > afterChangeSeq).toList();
    }

    @Override
    public void acknowledged(long changeSeq, List<Long> resendFull) {}

    @Override
    public void refused(List<DocRefusal> refusals) {
      for (DocRefusal r : refusals) {
        refused.add(r.getChangeSeq());
        pending.removeIf(c -> c.getChangeSeq() == r.getChangeSeq());
      }
    }

    @Override
    public void apply(List<DocUpdate> updates) {}
  }

  private static DocChange docChange(long seq) {
    return DocChange.newBuilder()
        .setChangeSeq(seq)
        .setScope("fleet")
        .setCollection("config")
        .setKey("k" + seq)
        .setHlc(new Hlc(T0, 0, "dev").toWire())
        .setValue(ByteString.copyFromUtf8("{}"))
        .build();
  }

  /**
   * A refusal (DocAck.refused) lost with its connection: the Welcome says change 3 was processed,
   * but the replica still holds it pending (no outcome came). The engine sends it once more under
   * its own sequence, before the new change 7, so the cloud can refuse it again; without that, it
   * would stay pending for ever.
   */
  @Test
  void processedChangeWithoutAnOutcome_isSentAgainAfterTheWelcome_andARefusalReachesTheReplica() {
    PendingReplica replica = new PendingReplica();
    replica.pending.add(docChange(3));
    replica.pending.add(docChange(7));
    engine =
        new EdgeSyncEngine(
            policy.build(), outbox, replica, new RecordingInbox(), io, new SplittableRandom(1));
    engine.start(now());
    engine.onConnected(now());
    engine.onFrame(now(), welcome(cp(), w -> w.setDocChangeSeq(5)));

    List<List<Long>> sent = new ArrayList<>();
    for (Frame f : io.frames()) {
      if (f.hasDocChanges()) {
        sent.add(f.getDocChanges().getChangesList().stream().map(DocChange::getChangeSeq).toList());
      }
    }
    assertThat(sent).containsExactly(List.of(3L), List.of(7L));

    engine.onFrame(
        now(),
        Frame.newBuilder()
            .setDocAck(
                DocAck.newBuilder()
                    .setChangeSeq(5)
                    .addRefused(
                        DocRefusal.newBuilder()
                            .setChangeSeq(3)
                            .setCode(ErrorCode.NOT_AUTHORIZED)
                            .setReason("device 'dev' may not write fleet/config")))
            .build());
    assertThat(replica.refused).containsExactly(3L);
    assertThat(replica.pending).extracting(c -> c.getChangeSeq()).containsExactly(7L);
    assertThat(engine.state()).isEqualTo(EdgeSyncEngine.State.ACTIVE);
  }
}
