package io.edgesync.server;

import io.edgesync.protocol.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs each of a node's {@link Work}s while the node holds its {@link Leases lease}: every third of
 * the lease's length it takes or renews the lease; it starts the work when the node gained the
 * lease, and stops it when another node holds it or when the node could not renew it for half its
 * length (a store that cannot be reached, a long pause), so that a node that lost the lease stops
 * before another may take it over. {@link #close} stops every work and releases its lease, so
 * another node takes over at once rather than after the lease ran out.
 *
 * <p>{@link #tick} is the whole rule, called by the runner's thread ({@link #start}) or directly by
 * tests with their own clock.
 */
public final class LeaseRunner implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(LeaseRunner.class);

  /** Work that runs on one node at a time. Its methods are called on the runner's thread. */
  public interface Work {
    /** The node holds the lease now, as its {@code epoch}-th holder. */
    void start(long epoch);

    /** The node no longer holds the lease (or is closing): stop before returning. */
    void stop();
  }

  private final Leases leases;
  private final String node;
  private final long lengthMs;
  private final Clock clock;
  private final List<Held> works = new ArrayList<>();
  private ScheduledExecutorService timer;

  private static final class Held {
    final String name;
    final Work work;
    boolean running;
    long renewedAtMs;

    Held(String name, Work work) {
      this.name = name;
      this.work = work;
    }
  }

  /**
   * @param node this node's id, unique among the nodes sharing the store
   * @param lengthMs how long a lease lasts without renewal (another node waits this long after a
   *     holder died)
   */
  public LeaseRunner(Leases leases, String node, long lengthMs, Clock clock) {
    if (lengthMs < 3) {
      throw new IllegalArgumentException("a lease must last at least 3 ms, not " + lengthMs);
    }
    this.leases = leases;
    this.node = node;
    this.lengthMs = lengthMs;
    this.clock = clock;
  }

  /** Runs {@code work} under the lease {@code name} (before {@link #start}). */
  public synchronized LeaseRunner add(String name, Work work) {
    works.add(new Held(name, work));
    return this;
  }

  /** Ticks every third of the lease's length on a daemon thread. */
  public synchronized void start() {
    timer = Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("edgesync-leases"));
    timer.scheduleWithFixedDelay(this::tickLogged, 0, lengthMs / 3, TimeUnit.MILLISECONDS);
  }

  private void tickLogged() {
    try {
      tick();
    } catch (RuntimeException e) {
      log.error("lease tick failed", e); // the timer keeps running
    }
  }

  /** Takes or renews every lease, and starts or stops each work accordingly. */
  public synchronized void tick() {
    for (Held h : works) {
      long now = clock.nowMs();
      OptionalLong epoch;
      try {
        epoch = leases.acquire(h.name, node, lengthMs, now);
      } catch (RuntimeException e) {
        log.warn("could not renew lease {}: {}", h.name, e.toString());
        if (h.running && now - h.renewedAtMs >= lengthMs / 2) {
          stop(h, "it could not be renewed for " + (now - h.renewedAtMs) + " ms");
        }
        continue;
      }
      if (epoch.isPresent()) {
        h.renewedAtMs = now;
        if (!h.running) {
          log.info("node {} holds lease {} (epoch {}): starting its work", node, h.name, epoch);
          h.running = true;
          h.work.start(epoch.getAsLong());
        }
      } else if (h.running) {
        stop(h, "another node holds it");
      }
    }
  }

  private static void stop(Held h, String why) {
    log.info("stopping the work of lease {}: {}", h.name, why);
    h.running = false;
    h.work.stop();
  }

  /** Whether the work of lease {@code name} runs on this node now. */
  public synchronized boolean running(String name) {
    return works.stream().anyMatch(h -> h.name.equals(name) && h.running);
  }

  @Override
  public void close() {
    ScheduledExecutorService t;
    synchronized (this) {
      t = timer;
      timer = null;
    }
    if (t != null) {
      t.shutdownNow();
      try {
        t.awaitTermination(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    synchronized (this) {
      for (Held h : works) {
        if (h.running) {
          stop(h, "the node is closing");
          releaseQuietly(h.name);
        }
      }
    }
  }

  private void releaseQuietly(String name) {
    try {
      leases.release(name, node);
    } catch (RuntimeException e) {
      log.warn("could not release lease {} (it runs out by itself): {}", name, e.toString());
    }
  }
}
