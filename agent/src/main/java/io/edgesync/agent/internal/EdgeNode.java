package io.edgesync.agent.internal;

import io.edgesync.engine.commands.CommandInbox;
import io.edgesync.engine.docs.DocReplica;
import io.edgesync.engine.edge.EdgeSyncEngine;
import io.edgesync.engine.edge.Outbox;
import io.edgesync.engine.edge.SyncPolicy;
import io.edgesync.protocol.FrameCodec;
import io.edgesync.protocol.Frames;
import io.edgesync.protocol.ProtocolException;
import io.edgesync.protocol.ProtocolLimits;
import io.edgesync.protocol.wire.Frame;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongConsumer;
import java.util.random.RandomGenerator;

/**
 * The edge's wiring, written once for the agent ({@code EdgeAgent}: a loop thread, a WebSocket) and
 * the simulator ({@code SimEdge}: simulated time and network): an {@link EdgeSyncEngine} connected
 * to its outbox, document replica and command inbox, one timer and one link to the cloud. The rules
 * it owns:
 *
 * <ul>
 *   <li>Timer: one timer, at the engine's next wake-up. After every engine call it is replaced only
 *       when the engine now wants to wake up earlier; a timer that fires early finds nothing to do
 *       and the engine names its next wake-up again.
 *   <li>Attempts: one connection attempt is current. Events of an attempt that is no longer current
 *       are ignored, and one that opens after it was superseded is closed at once.
 *   <li>A disconnect the engine asks for is reported back ({@code onDisconnected}) as a task of its
 *       own on the loop, never inside the engine call that asked for it.
 *   <li>Signals from other threads (append committed, document changed, command finished) become
 *       tasks on the loop; append signals coalesce.
 * </ul>
 *
 * <p>Threads: every method except the {@code signal…} ones runs on the node's loop (the {@link
 * Scheduler}'s thread, or the simulation thread), one at a time; the engine, the current attempt
 * and the timer are owned by the loop. An owner that receives link events on other threads hands
 * them to the loop first. Exceptions of the engine propagate to the caller (the agent's loop logs
 * them) after the timer rule has run.
 *
 * @param <C> the link's handle for one connection attempt
 */
public final class EdgeNode<C> {
  /** The node's loop and clocks. */
  public interface Scheduler {
    /** Runs {@code task} on the loop after the current task (the same moment, in the simulator). */
    void post(Runnable task);

    /** Runs {@code task} on the loop after {@code delayMs} of engine time. */
    Timer schedule(long delayMs, Runnable task);

    /** The engine's {@code nowMs}: monotonic, near the wall clock. */
    long nowMs();

    /** The engine's nanosecond ticker ({@link EdgeSyncEngine.Io#nanoTime}). */
    long nanoTime();
  }

  /** A scheduled task; cancelling one that ran or was cancelled does nothing. */
  @FunctionalInterface
  public interface Timer {
    void cancel();
  }

  /**
   * How the node reaches the cloud, one attempt at a time. The owner reports an attempt's events to
   * {@link #onOpen}, {@link #onFrame}, {@link #onSendProgress} and {@link #onClosed} on the loop.
   */
  public interface Link<C> {
    /** A handle for a new attempt; {@link #connect} starts it once the node holds it as current. */
    C newAttempt();

    void connect(C attempt);

    /** Sends a frame on an open attempt. */
    void send(C attempt, Frame frame, byte[] bytes);

    /** Closes an open attempt: the current one, or one that opened after it was superseded. */
    void close(C attempt, String reason);

    /** Gives up an attempt that has not opened; what it reports later is ignored. */
    void abandon(C attempt);
  }

  /** What the owner watches (the agent publishes state and logs; the simulator records). */
  public interface Observer<C> {
    /** After every engine call, before the timer rule. */
    default void afterEngineCall(EdgeSyncEngine engine) {}

    /** Every frame the node sends, before it knows whether the attempt is open. */
    default void sending(Frame frame) {}

    /** A frame of the current attempt, decoded, before the engine sees it. */
    default void received(C attempt, Frame frame) {}

    /** The current attempt opened; the engine hears of it next. */
    default void opened(C attempt) {}

    /** The link ended the current attempt: a failed connect ({@code wasOpen} false) or a close. */
    default void ended(C attempt, boolean wasOpen, String reason) {}

    /** The engine gives up the current attempt. */
    default void disconnecting(C attempt, String reason) {}
  }

  /**
   * Frames of a concern beside the engine's (the agent's certificate renewal), carried on the
   * engine's session: it sees the cloud's frames first and may send one after any engine call while
   * the session is active. Called on the loop.
   */
  public interface SideChannel {
    /** A frame from the cloud; true if it was this channel's (the engine then does not see it). */
    boolean onFrame(Frame frame);

    /** A frame to send now on the active session, or null. */
    Frame poll();

    /** The session ended: an answer still awaited will not come. */
    void onDisconnected();
  }

  private final Scheduler scheduler;
  private final Link<C> link;
  private final Observer<C> observer;
  private final EdgeSyncEngine engine;
  private final AtomicBoolean appendSignalPending = new AtomicBoolean();

  // Owned by the loop.
  private SideChannel side; // null: none
  private C attempt;
  private boolean open;
  private Timer timer;
  private boolean timerPending;
  private long timerAtMs = Long.MAX_VALUE;

  public EdgeNode(
      SyncPolicy policy,
      Outbox outbox,
      DocReplica replica,
      CommandInbox inbox,
      RandomGenerator random,
      Scheduler scheduler,
      Link<C> link,
      Observer<C> observer) {
    this.scheduler = scheduler;
    this.link = link;
    this.observer = observer;
    this.engine = new EdgeSyncEngine(policy, outbox, replica, inbox, new EngineIo(), random);
  }

  /** The engine, for queries on the loop. */
  public EdgeSyncEngine engine() {
    return engine;
  }

  /** Carries {@code channel}'s frames on the engine's sessions; set before {@link #start}. */
  public void setSideChannel(SideChannel channel) {
    this.side = channel;
  }

  /** The current attempt, or null. */
  public C attempt() {
    return attempt;
  }

  // ---------------------------------------------------------------- inputs, on the loop

  public void start() {
    call(engine::start);
  }

  /** Stops the engine (no timer rule: the loop stops too). */
  public void stop() {
    engine.stop();
  }

  public void requestSync() {
    call(engine::requestSync);
  }

  public void onAppended() {
    call(engine::onAppended);
  }

  public void onDocChanged() {
    call(engine::onDocChanged);
  }

  public void onCommandFinished() {
    call(engine::onCommandFinished);
  }

  public void onOpen(C a) {
    if (a != attempt) {
      link.close(a, "superseded");
      return;
    }
    open = true;
    observer.opened(a);
    call(engine::onConnected);
  }

  public void onFrame(C a, byte[] bytes) {
    if (a != attempt || !open) {
      return;
    }
    Frame frame;
    try {
      frame = FrameCodec.decode(bytes, ProtocolLimits.MAX_FRAME_BYTES_CEILING);
    } catch (ProtocolException e) {
      Frame error = Frames.error(e.code(), e.getMessage(), true);
      observer.sending(error);
      link.send(a, error, FrameCodec.encode(error));
      disconnect("bad frame from the cloud: " + e.getMessage());
      return;
    }
    observer.received(a, frame);
    if (side != null && side.onFrame(frame)) {
      return;
    }
    call(now -> engine.onFrame(now, frame));
  }

  /** Bytes of a frame went out on {@code a} (a slow upload is alive). */
  public void onSendProgress(C a) {
    if (a == attempt) {
      call(engine::onSendProgress);
    }
  }

  /** The link ended {@code a}: it failed to open, or it closed. */
  public void onClosed(C a, String reason) {
    if (a != attempt) {
      return;
    }
    boolean wasOpen = open;
    attempt = null;
    open = false;
    if (side != null) {
      side.onDisconnected();
    }
    observer.ended(a, wasOpen, reason);
    call(now -> engine.onDisconnected(now, reason));
  }

  // ---------------------------------------------------------------- signals, from any thread

  /** Records were committed to the outbox; signals waiting on the loop coalesce into one. */
  public void signalAppended() {
    if (appendSignalPending.compareAndSet(false, true)) {
      scheduler.post(
          () -> {
            appendSignalPending.set(false);
            onAppended();
          });
    }
  }

  public void signalDocChanged() {
    scheduler.post(this::onDocChanged);
  }

  public void signalCommandFinished() {
    scheduler.post(this::onCommandFinished);
  }

  /** An upload was queued or an install reported: offers and reports go out. */
  public void signalFilesChanged() {
    scheduler.post(() -> call(engine::onFilesChanged));
  }

  // ---------------------------------------------------------------- the timer rule

  private void call(LongConsumer engineCall) {
    try {
      engineCall.accept(scheduler.nowMs());
    } finally {
      afterEngineCall();
    }
  }

  private void afterEngineCall() {
    observer.afterEngineCall(engine);
    pollSideChannel();
    long at = engine.nextWakeupMs();
    if (at == Long.MAX_VALUE || (timerPending && timerAtMs <= at)) {
      return;
    }
    if (timer != null) {
      timer.cancel();
    }
    timerPending = true;
    timerAtMs = at;
    timer = scheduler.schedule(Math.max(0, at - scheduler.nowMs()), this::onTimer);
  }

  private void onTimer() {
    timerPending = false;
    timerAtMs = Long.MAX_VALUE;
    call(engine::onTimer);
  }

  /** Sends the side channel's frame, if it has one, on the current session while it is active. */
  private void pollSideChannel() {
    if (side == null || !open || engine.state() != EdgeSyncEngine.State.ACTIVE) {
      return;
    }
    Frame f = side.poll();
    if (f != null) {
      observer.sending(f);
      link.send(attempt, f, FrameCodec.encode(f));
    }
  }

  private void disconnect(String reason) {
    C a = attempt;
    if (a == null) {
      return;
    }
    boolean wasOpen = open;
    attempt = null;
    open = false;
    if (side != null) {
      side.onDisconnected();
    }
    observer.disconnecting(a, reason);
    if (wasOpen) {
      link.close(a, reason);
    } else {
      link.abandon(a);
    }
    scheduler.post(() -> call(now -> engine.onDisconnected(now, reason)));
  }

  /** The engine's outputs; called on the loop, inside engine calls. */
  private final class EngineIo implements EdgeSyncEngine.Io {
    @Override
    public void connect() {
      C a = link.newAttempt();
      attempt = a;
      open = false;
      link.connect(a);
    }

    @Override
    public void send(Frame frame) {
      observer.sending(frame);
      C a = attempt;
      if (a != null && open) {
        link.send(a, frame, FrameCodec.encode(frame));
      }
    }

    @Override
    public long nanoTime() {
      return scheduler.nanoTime();
    }

    @Override
    public void disconnect(String reason) {
      EdgeNode.this.disconnect(reason);
    }
  }
}
