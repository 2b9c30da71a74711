package io.edgesync.support.jdbc;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Group commit: callers queue units of work, one writer thread takes every unit waiting when it
 * starts a group (up to a bound) and hands the group to a {@link Handler}, which runs it as one
 * transaction with one commit, so concurrent callers share one fsync. The handler completes each
 * unit's future once the commit is durable.
 *
 * <p>Two kinds of handler use it: {@link SavepointGroup} runs independent transactions, each in its
 * own savepoint (a failing one rolls back alone); a store whose units are merged before they are
 * written (the outbox writes one chunk per stream per group) implements {@link Handler} itself.
 *
 * <p>Bounds: at most {@code maxQueuedUnits} units wait; {@link #submit} blocks while the queue is
 * full (back pressure on the callers). A group holds units until their {@link Unit#weight()}
 * reaches {@code maxGroupWeight} (records, or 1 per transaction).
 *
 * <p>Shutdown: {@link #stop()} ends the writer after the group it is running (that group commits
 * and completes); {@link #refuseQueued} then fails every unit still queued. A unit submitted after
 * {@code stop} fails with the closed error.
 *
 * <p>Threads: {@link #submit} from any thread; the handler runs only on the writer thread.
 */
public final class GroupCommitWriter<U extends GroupCommitWriter.Unit> {
  /** Passed as {@link Handler#idleWakeMs()}: the writer sleeps until a unit comes. */
  public static final long NO_IDLE_WAKE = -1;

  /** One caller's work as the writer sees it. */
  public interface Unit {
    /** How much of a group this unit fills: its records, or 1 for a transaction. */
    int weight();

    /** Completes the unit's future with {@code e}: it will not run. */
    void fail(Throwable e);
  }

  /** What a group of units does; all methods run on the writer thread. */
  public interface Handler<U> {
    /** Runs {@code group} in one transaction and completes or fails the future of every unit. */
    void runGroup(List<U> group);

    /**
     * Called at the start of every wake-up, before the queued units join {@code group}: a handler
     * that held units back (waiting for room) adds them here, first, in their order.
     */
    default void startGroup(List<U> group) {}

    /**
     * How long the writer waits for a unit before it wakes anyway (to run {@link #afterWake}, or
     * the units {@link #startGroup} adds); {@link #NO_IDLE_WAKE} to wait until a unit comes.
     */
    default long idleWakeMs() {
      return NO_IDLE_WAKE;
    }

    /** Called after every wake-up, with or without a group (e.g. age expiry). */
    default void afterWake() {}
  }

  private static final long STOP_WAIT_MS = 10_000;

  private final BlockingQueue<U> queue;
  private final int maxGroupWeight;
  private final Supplier<? extends RuntimeException> closedError;
  private final Handler<U> handler;
  private final Thread thread;
  private volatile boolean closed;

  /**
   * Starts the writer thread.
   *
   * @param maxQueuedUnits how many units may wait; {@link #submit} blocks beyond that
   * @param maxGroupWeight a group takes no more units once their weights reach this
   * @param closedError the failure of a unit submitted after {@link #stop}
   */
  public GroupCommitWriter(
      String threadName,
      int maxQueuedUnits,
      int maxGroupWeight,
      Supplier<? extends RuntimeException> closedError,
      Handler<U> handler) {
    if (maxQueuedUnits < 1 || maxGroupWeight < 1) {
      throw new IllegalArgumentException(
          "maxQueuedUnits and maxGroupWeight must be >= 1, not "
              + maxQueuedUnits
              + " and "
              + maxGroupWeight);
    }
    this.queue = new ArrayBlockingQueue<>(maxQueuedUnits);
    this.maxGroupWeight = maxGroupWeight;
    this.closedError = closedError;
    this.handler = handler;
    this.thread = new Thread(this::loop, threadName);
    thread.setDaemon(true);
    thread.start();
  }

  /**
   * Queues {@code unit}, waiting while the queue is full. Fails the unit (never throws) when the
   * writer is stopped or the caller is interrupted while waiting.
   */
  public void submit(U unit) {
    if (closed) {
      unit.fail(closedError.get());
      return;
    }
    try {
      queue.put(unit);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      unit.fail(e);
      return;
    }
    if (closed && queue.remove(unit)) {
      // stop() may have refused the queue between the check above and the put.
      unit.fail(closedError.get());
    }
  }

  /** True on the writer thread (inside a handler): a unit submitted there would wait for itself. */
  public boolean isWriterThread() {
    return Thread.currentThread() == thread;
  }

  public boolean isClosed() {
    return closed;
  }

  /**
   * Accepts no more units and waits (up to 10 s) for the writer to finish the group it runs. Units
   * still queued stay queued until {@link #refuseQueued}.
   */
  public void stop() {
    closed = true;
    thread.interrupt();
    try {
      thread.join(STOP_WAIT_MS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Fails every queued unit with {@code e} (after {@link #stop}). */
  public void refuseQueued(RuntimeException e) {
    U unit;
    while ((unit = queue.poll()) != null) {
      unit.fail(e);
    }
  }

  private void loop() {
    List<U> group = new ArrayList<>();
    while (!closed) {
      U first;
      try {
        first = next();
      } catch (InterruptedException e) {
        break;
      }
      group.clear();
      handler.startGroup(group);
      if (first != null) {
        group.add(first);
        fill(group);
      }
      if (!group.isEmpty()) {
        handler.runGroup(group);
      }
      handler.afterWake();
    }
  }

  private U next() throws InterruptedException {
    long waitMs = handler.idleWakeMs();
    return waitMs == NO_IDLE_WAKE ? queue.take() : queue.poll(waitMs, TimeUnit.MILLISECONDS);
  }

  /** Adds queued units while the group's weight is below the bound. */
  private void fill(List<U> group) {
    long weight = 0;
    for (U u : group) {
      weight += u.weight();
    }
    U next;
    while (weight < maxGroupWeight && (next = queue.poll()) != null) {
      group.add(next);
      weight += next.weight();
    }
  }
}
