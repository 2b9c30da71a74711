package io.edgesync.agent.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgesync.agent.OutboxLimits;
import io.edgesync.agent.internal.outbox.SqliteOutbox;
import io.edgesync.engine.commands.CommandInbox;
import io.edgesync.engine.docs.DocReplica;
import io.edgesync.engine.edge.EdgeSyncEngine;
import io.edgesync.engine.edge.SyncPolicy;
import io.edgesync.protocol.wire.Frame;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * EdgeNode's rules (the timer, superseded attempts, a disconnect reported later), with the real
 * engine and outbox on a SQLite file, driven by hand: a loop of queued tasks, timers on a clock the
 * test moves, a link that records.
 */
class EdgeNodeTest {
  private static final long CONNECT_TIMEOUT_MS = 10_000;
  private static final long HANDSHAKE_TIMEOUT_MS = 30_000;

  @TempDir Path dir;
  private SqliteOutbox outbox;
  private final HandLoop loop = new HandLoop();
  private final RecordingLink link = new RecordingLink();
  private EdgeNode<Integer> node;

  @BeforeEach
  void open() throws Exception {
    outbox =
        new SqliteOutbox(dir.resolve("outbox.db"), OutboxLimits.defaults(), Map.of(), 5, () -> 0);
    SyncPolicy policy =
        SyncPolicy.builder("gw-1")
            .connectTimeoutMs(CONNECT_TIMEOUT_MS)
            .handshakeTimeoutMs(HANDSHAKE_TIMEOUT_MS)
            .backoffInitialMs(1_000)
            .backoffMaxMs(1_000)
            .build();
    node =
        new EdgeNode<>(
            policy,
            outbox,
            DocReplica.NONE,
            CommandInbox.NONE,
            new SplittableRandom(1),
            loop,
            link,
            new EdgeNode.Observer<>() {});
  }

  @AfterEach
  void close() {
    outbox.close();
  }

  @Test
  void timer_isReplacedOnlyByAnEarlierWakeup_andAnEarlyOneRearms() {
    node.start();
    assertThat(node.engine().state()).isEqualTo(EdgeSyncEngine.State.CONNECTING);
    assertThat(loop.liveTimerAts()).containsExactly(CONNECT_TIMEOUT_MS);

    loop.nowMs = 1_000;
    node.onDocChanged(); // the wake-up stays at the connect timeout
    node.onOpen(1); // the handshake timeout (31 s) is later than the timer (10 s)
    assertThat(node.engine().state()).isEqualTo(EdgeSyncEngine.State.HANDSHAKING);
    assertThat(loop.scheduled).isEqualTo(1);
    assertThat(loop.liveTimerAts()).containsExactly(CONNECT_TIMEOUT_MS);

    loop.fireTimersUntil(CONNECT_TIMEOUT_MS); // early: the engine has nothing to do, names 31 s
    assertThat(node.engine().state()).isEqualTo(EdgeSyncEngine.State.HANDSHAKING);
    assertThat(loop.liveTimerAts()).containsExactly(1_000 + HANDSHAKE_TIMEOUT_MS);

    loop.nowMs = 12_000;
    node.onClosed(1, "reset"); // backoff (0.5-1 s): a reconnect earlier than 31 s
    assertThat(node.engine().nextWakeupMs()).isBetween(12_500L, 13_000L);
    assertThat(loop.liveTimerAts()).containsExactly(node.engine().nextWakeupMs());
    assertThat(loop.scheduled).isEqualTo(3);
  }

  @Test
  void supersededAttempt_isClosedWhenItOpens_andItsEventsAreIgnored() {
    node.start();
    node.onClosed(1, "refused");
    loop.fireTimersUntil(5_000); // the backoff has passed: a second attempt
    assertThat(link.connected).containsExactly(1, 2);
    assertThat(node.attempt()).isEqualTo(2);

    node.onOpen(1);
    node.onFrame(1, new byte[] {1, 2, 3}); // not even decoded: it would be a bad frame otherwise
    node.onClosed(1, "late close");

    assertThat(link.closed).containsExactly("1: superseded");
    assertThat(link.sent).isEmpty();
    assertThat(node.attempt()).isEqualTo(2);
    assertThat(node.engine().state()).isEqualTo(EdgeSyncEngine.State.CONNECTING);
  }

  @Test
  void badFrame_answersWithAFatalError_andTheDisconnectReachesTheEngineOnALaterTask() {
    node.start();
    node.onOpen(1);
    assertThat(link.sent).containsExactly("1: HELLO");
    loop.posted.clear();

    node.onFrame(1, new byte[] {1, 2, 3});

    assertThat(link.sent).containsExactly("1: HELLO", "1: ERROR");
    assertThat(link.lastError.getFatal()).isTrue();
    assertThat(link.closed).singleElement().asString().startsWith("1: bad frame from the cloud: ");
    assertThat(node.attempt()).isNull();
    assertThat(node.engine().state()).isEqualTo(EdgeSyncEngine.State.HANDSHAKING);
    assertThat(loop.posted).hasSize(1);

    loop.runPosted();
    assertThat(node.engine().state()).isEqualTo(EdgeSyncEngine.State.DISCONNECTED);
    assertThat(node.engine().lastError()).startsWith("bad frame from the cloud: ");
  }

  @Test
  void disconnectOfAnAttemptThatNeverOpened_abandonsIt() {
    node.start();
    loop.fireTimersUntil(CONNECT_TIMEOUT_MS); // connect timed out
    assertThat(link.abandoned).containsExactly(1);
    assertThat(link.closed).isEmpty();
    loop.runPosted();
    assertThat(node.engine().lastError()).startsWith("connect timed out");
  }

  @Test
  void appendSignals_coalesceWhileOneWaitsOnTheLoop() {
    node.signalAppended();
    node.signalAppended();
    node.signalAppended();
    assertThat(loop.posted).hasSize(1);
    loop.runPosted();
    node.signalAppended();
    assertThat(loop.posted).hasSize(1);
  }

  /** The loop, run by the test: posted tasks wait in order, timers fire when the test says. */
  private static final class HandLoop implements EdgeNode.Scheduler {
    final ArrayDeque<Runnable> posted = new ArrayDeque<>();
    final List<long[]> timers = new ArrayList<>(); // {atMs, cancelled, index}
    final List<Runnable> timerTasks = new ArrayList<>();
    long nowMs;
    int scheduled;

    @Override
    public void post(Runnable task) {
      posted.add(task);
    }

    @Override
    public EdgeNode.Timer schedule(long delayMs, Runnable task) {
      long[] t = {nowMs + delayMs, 0, timerTasks.size()};
      timers.add(t);
      timerTasks.add(task);
      scheduled++;
      return () -> t[1] = 1;
    }

    @Override
    public long nowMs() {
      return nowMs;
    }

    @Override
    public long nanoTime() {
      return nowMs * 1_000_000;
    }

    List<Long> liveTimerAts() {
      return timers.stream().filter(t -> t[1] == 0).map(t -> t[0]).toList();
    }

    void runPosted() {
      while (!posted.isEmpty()) {
        posted.poll().run();
      }
    }

    /** Moves the clock to each due timer in turn and runs it (and what it posts). */
    void fireTimersUntil(long untilMs) {
      while (true) {
        long[] next = null;
        for (long[] t : timers) {
          if (t[1] == 0 && t[0] <= untilMs && (next == null || t[0] < next[0])) {
            next = t;
          }
        }
        if (next == null) {
          nowMs = untilMs;
          return;
        }
        next[1] = 1;
        nowMs = Math.max(nowMs, next[0]);
        timerTasks.get((int) next[2]).run();
        runPosted();
      }
    }
  }

  /** Attempts are numbered 1, 2, …; records what the node did with them. */
  private static final class RecordingLink implements EdgeNode.Link<Integer> {
    final List<Integer> connected = new ArrayList<>();
    final List<String> sent = new ArrayList<>();
    final List<String> closed = new ArrayList<>();
    final List<Integer> abandoned = new ArrayList<>();
    io.edgesync.protocol.wire.Error lastError;
    private int attempts;

    @Override
    public Integer newAttempt() {
      return ++attempts;
    }

    @Override
    public void connect(Integer attempt) {
      connected.add(attempt);
    }

    @Override
    public void send(Integer attempt, Frame frame, byte[] bytes) {
      sent.add(attempt + ": " + frame.getBodyCase());
      if (frame.hasError()) {
        lastError = frame.getError();
      }
    }

    @Override
    public void close(Integer attempt, String reason) {
      closed.add(attempt + ": " + reason);
    }

    @Override
    public void abandon(Integer attempt) {
      abandoned.add(attempt);
    }
  }
}
