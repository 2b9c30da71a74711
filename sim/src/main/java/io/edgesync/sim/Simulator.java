package io.edgesync.sim;

import io.edgesync.sim.internal.SimFailure;
import io.edgesync.sim.internal.Stats;
import io.edgesync.sim.internal.World;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * The deterministic simulator (TigerBeetle's VOPR, for edgesync). One seed drives N edges (the real
 * {@code EdgeSyncEngine} over the real {@code SqliteOutbox}) and the cloud (real {@code
 * CloudSession}s over the real {@code SqliteCloudStore}) through a simulated network, crashes and
 * clocks under a random workload, and checks DESIGN.md's invariants. The same seed replays the same
 * run. See docs/simulator.md.
 *
 * <p>Thread safe: every seed runs in its own world; {@link #runMany} spreads seeds over threads.
 */
public final class Simulator {
  private Simulator() {}

  /** Runs one seed. Never throws for a failing seed: the result says what failed. */
  public static SimResult run(long seed, SimOptions options) {
    World world = new World(seed, options);
    String failure = null;
    try {
      world.run();
    } catch (SimFailure e) {
      failure = e.getMessage();
    } catch (RuntimeException | AssertionError e) {
      StringWriter sw = new StringWriter();
      e.printStackTrace(new PrintWriter(sw));
      failure = "the code under test threw " + sw;
    }
    if (failure != null) {
      world.trace("FAILED: " + failure.lines().findFirst().orElse(""));
    }
    return new SimResult(
        seed,
        failure,
        world.traceLog().hash(),
        world.traceLog().lines(),
        world.traceLog().tail(),
        world.stats().asMap(),
        options.files() ? " --files" : "");
  }

  /** What many seeds did together. */
  public record Summary(
      long seeds, List<SimResult> failures, Map<String, Long> counters, long elapsedNanos) {
    public double seedsPerSecond() {
      return seeds / Math.max(1e-9, elapsedNanos / 1e9);
    }
  }

  /**
   * Runs seeds {@code from .. from + count - 1} on {@code threads} threads; {@code progress}
   * receives every result (on the worker's thread). Stops early after {@code maxFailures}.
   */
  public static Summary runMany(
      long from,
      long count,
      int threads,
      int maxFailures,
      SimOptions options,
      Consumer<SimResult> progress) {
    long started = System.nanoTime();
    AtomicLong next = new AtomicLong(from);
    long end = from + count;
    List<SimResult> failures = new ArrayList<>();
    Stats total = new Stats();
    AtomicLong done = new AtomicLong();
    ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, threads));
    try {
      List<Future<?>> workers = new ArrayList<>();
      for (int t = 0; t < Math.max(1, threads); t++) {
        workers.add(
            pool.submit(
                () -> {
                  for (long seed = next.getAndIncrement(); seed < end; ) {
                    SimResult r = run(seed, options);
                    synchronized (failures) {
                      total.addAll(r.counters());
                      if (!r.passed()) {
                        failures.add(r);
                      }
                      if (failures.size() >= maxFailures) {
                        next.set(end);
                      }
                    }
                    done.incrementAndGet();
                    progress.accept(r);
                    seed = next.getAndIncrement();
                  }
                }));
      }
      for (Future<?> w : workers) {
        w.get();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    } catch (ExecutionException e) {
      throw new IllegalStateException("a simulator thread failed: " + e.getCause(), e.getCause());
    } finally {
      pool.shutdownNow();
    }
    failures.sort((a, b) -> Long.compare(a.seed(), b.seed()));
    return new Summary(
        done.get(), List.copyOf(failures), total.asMap(), System.nanoTime() - started);
  }
}
