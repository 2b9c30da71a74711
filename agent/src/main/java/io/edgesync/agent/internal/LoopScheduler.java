package io.edgesync.agent.internal;

import io.edgesync.agent.EdgeSyncException;
import io.edgesync.agent.EdgeSyncException.Code;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's {@link EdgeNode.Scheduler}: one daemon thread ({@code edgesync-sync-<device>}) runs
 * every task of the node; tasks that throw are logged and the loop goes on. Time is the engine's:
 * the wall clock at start, advanced by the monotonic clock, so that steps of the wall clock (NTP,
 * an operator, a bad RTC) move no timeout or backoff (a step back by an hour stalled reconnects for
 * that hour).
 *
 * <p>Thread safe.
 */
public final class LoopScheduler implements EdgeNode.Scheduler {
  private static final Logger log = LoggerFactory.getLogger(LoopScheduler.class);

  private final ScheduledExecutorService loop;
  private final BooleanSupplier closed;
  private final long epochMs;
  private final long epochNanos;

  /**
   * @param epochMs the wall clock now
   * @param closed once true, tasks posted from other threads are dropped (the agent is closing)
   */
  public LoopScheduler(String deviceId, long epochMs, BooleanSupplier closed) {
    this.loop =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "edgesync-sync-" + deviceId);
              t.setDaemon(true);
              return t;
            });
    this.closed = closed;
    this.epochMs = epochMs;
    this.epochNanos = System.nanoTime();
  }

  @Override
  public void post(Runnable task) {
    if (closed.getAsBoolean() && !Thread.currentThread().getName().startsWith("edgesync-sync")) {
      return;
    }
    try {
      loop.execute(() -> runLogged(task, "sync loop task failed"));
    } catch (RejectedExecutionException e) {
      // shutting down
    }
  }

  @Override
  public EdgeNode.Timer schedule(long delayMs, Runnable task) {
    try {
      ScheduledFuture<?> f =
          loop.schedule(() -> runLogged(task, "sync timer failed"), delayMs, TimeUnit.MILLISECONDS);
      return () -> f.cancel(false);
    } catch (RejectedExecutionException e) {
      return () -> {}; // shutting down
    }
  }

  @Override
  public long nowMs() {
    return epochMs + (System.nanoTime() - epochNanos) / 1_000_000;
  }

  @Override
  public long nanoTime() {
    return System.nanoTime();
  }

  /** Runs {@code task} on the loop and waits up to 10 s for its answer. */
  public <T> T call(Callable<T> task) {
    try {
      return loop.submit(task).get(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new EdgeSyncException(Code.INTERRUPTED, "interrupted", e);
    } catch (RejectedExecutionException e) {
      throw new EdgeSyncException(Code.CLOSED, "the agent is closed", e);
    } catch (TimeoutException e) {
      throw new EdgeSyncException(Code.TIMEOUT, "sync loop did not answer: " + e, e);
    } catch (Exception e) {
      throw new EdgeSyncException(Code.INTERNAL, "sync loop did not answer: " + e, e);
    }
  }

  /** Runs {@code last} on the loop (waiting up to 5 s), then stops the loop. */
  public void shutdown(Runnable last) {
    try {
      loop.submit(last).get(5, TimeUnit.SECONDS);
    } catch (Exception e) {
      log.warn("engine did not stop cleanly: {}", e.toString());
    }
    loop.shutdownNow();
  }

  /** Stops the loop at once (the agent failed to open). */
  public void shutdownNow() {
    loop.shutdownNow();
  }

  private static void runLogged(Runnable task, String what) {
    try {
      task.run();
    } catch (RuntimeException e) {
      log.error(what, e);
    }
  }
}
