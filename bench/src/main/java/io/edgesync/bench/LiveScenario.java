package io.edgesync.bench;

import io.edgesync.agent.AgentConfig;
import io.edgesync.agent.AppendResult;
import io.edgesync.agent.EdgeAgent;
import io.edgesync.server.ServerConfig;
import io.edgesync.server.SyncServer;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.LongAdder;

/**
 * Live edge→cloud: appender threads write through {@link EdgeAgent#appendAsync} while the agent
 * syncs to a loopback {@link SyncServer}. Measures the durable append rate, the rate at which the
 * cloud's durable checkpoint advances, and the end-to-end latency from the append call until the
 * cloud checkpoint covered the record (sampled, resolution ~2 ms).
 */
final class LiveScenario {
  record Result(
      int threads,
      int window,
      SyncScenario.Tuning tuning,
      double appendedPerSecond,
      double ackedPerSecond,
      long backlogAtEnd,
      double drainSeconds,
      Stats.Latency endToEnd,
      String coresBusy) {}

  private static final int WARMUP = 0;
  private static final int MEASURE = 1;
  private static final int STOP = 2;

  static Result run(Path dir, Opts o) throws Exception {
    int threads = o.integer("threads", 8);
    int window = o.integer("live-window", o.integer("window", 512));
    int recordBytes = o.integer("record-bytes", 150);
    double warmup = o.seconds("live-warmup", 3);
    double seconds = o.seconds("live-seconds", 12);
    int sampleEvery = o.integer("live-sample-every", 64);
    boolean full = o.bool("full-sync", true);
    SyncScenario.Tuning tuning = SyncScenario.Tuning.from(o);
    String device = "bench-gw-live";
    Bench.logf(
        "live: %d threads, window %d records/thread, %d-byte records; %s; synchronous=%s",
        threads, window, recordBytes, tuning.describe(), full ? "FULL" : "NORMAL");
    try (SyncServer server =
        SyncServer.start(ServerConfig.defaults(dir.resolve("live-cloud")).withPort(0))) {
      AgentConfig config =
          SyncScenario.agentConfig(
              device, URI.create(server.syncUrl()), dir.resolve("live-edge"), tuning, full);
      try (EdgeAgent agent = EdgeAgent.open(config)) {
        LongAdder appended = new LongAdder();
        LongAdder errors = new LongAdder();
        Appender[] appenders = new Appender[threads];
        Thread[] ts = new Thread[threads];
        for (int t = 0; t < threads; t++) {
          appenders[t] = new Appender(t, agent, window, recordBytes, sampleEvery, appended, errors);
          ts[t] = new Thread(appenders[t], "live-appender-" + t);
        }
        CheckpointTrace trace = new CheckpointTrace(1 << 20);
        for (Thread t : ts) {
          t.start();
        }
        Window w = measure(server, device, appenders, appended, trace, warmup, seconds);
        for (Thread t : ts) {
          t.join(60_000);
        }
        double drainSeconds =
            drain(server, device, appenders, trace, o.seconds("sync-timeout", 180));
        double secs = w.seconds();
        Result r =
            new Result(
                threads,
                window,
                tuning,
                (w.appendedAtStop() - w.appendedAtStart()) / secs,
                (w.ackedAtStop() - w.ackedAtStart()) / secs,
                w.appendedAtStop() - w.ackedAtStop(),
                drainSeconds,
                endToEnd(appenders, trace),
                Stats.coresBusy(w.cpuAtStart(), w.cpuAtStop(), w.stopNanos() - w.startNanos()));
        Bench.logf(
            "live: appended %s records/s durably, cloud acked %s records/s over %.1f s;"
                + " backlog at stop %,d, drained in %.2f s; append→cloud-durable latency %s;"
                + " errors %d; CPU %s cores; encoding at the end: %s",
            Stats.rate(r.appendedPerSecond()),
            Stats.rate(r.ackedPerSecond()),
            secs,
            r.backlogAtEnd(),
            r.drainSeconds(),
            r.endToEnd(),
            errors.sum(),
            r.coresBusy(),
            agent.status().bandwidth().encoding());
        return r;
      }
    }
  }

  /**
   * The measured window: records appended, cloud checkpoint and process CPU at its start and its
   * stop ({@link System#nanoTime} instants).
   */
  private record Window(
      long appendedAtStart,
      long ackedAtStart,
      long cpuAtStart,
      long appendedAtStop,
      long ackedAtStop,
      long cpuAtStop,
      long startNanos,
      long stopNanos) {
    double seconds() {
      return (stopNanos - startNanos) / 1e9;
    }
  }

  /**
   * Polls the cloud checkpoint every ~2 ms (tracing it) while the appenders run: warm-up, then the
   * measured window, then tells the appenders to stop. Logs the rates every 2 s.
   */
  private static Window measure(
      SyncServer server,
      String device,
      Appender[] appenders,
      LongAdder appended,
      CheckpointTrace trace,
      double warmup,
      double seconds)
      throws InterruptedException {
    long start = System.nanoTime();
    long measureAt = start + (long) (warmup * 1e9);
    long stopAt = measureAt + (long) (seconds * 1e9);
    boolean measuring = false;
    long a0 = 0;
    long cp0 = 0;
    long cpu0 = 0;
    long nextReport = start + 2_000_000_000L;
    long lastA = 0;
    long lastCp = 0;
    long lastT = start;
    while (true) {
      long cp = server.store().checkpoints(device).getOrDefault(SyncScenario.STREAM, 0L);
      long now = System.nanoTime();
      trace.add(now, cp);
      if (!measuring && now >= measureAt) {
        measuring = true;
        a0 = appended.sum();
        cp0 = cp;
        cpu0 = Stats.processCpuNanos();
        measureAt = now;
        for (Appender a : appenders) {
          a.phase = MEASURE;
        }
      }
      if (measuring && now >= stopAt) {
        long a1 = appended.sum();
        long cpu1 = Stats.processCpuNanos();
        for (Appender a : appenders) {
          a.phase = STOP;
        }
        return new Window(a0, cp0, cpu0, a1, cp, cpu1, measureAt, now);
      }
      if (now >= nextReport) {
        long a = appended.sum();
        double dt = (now - lastT) / 1e9;
        Bench.logf(
            "  ... appended %s/s, cloud acked %s/s, backlog %,d",
            Stats.rate((a - lastA) / dt), Stats.rate((cp - lastCp) / dt), a - cp);
        lastA = a;
        lastCp = cp;
        lastT = now;
        nextReport = now + 2_000_000_000L;
      }
      Thread.sleep(2);
    }
  }

  /**
   * Waits until the cloud holds the rest of the backlog, still tracing for the end-to-end samples,
   * and verifies what it holds. Returns the seconds the drain took.
   */
  private static double drain(
      SyncServer server,
      String device,
      Appender[] appenders,
      CheckpointTrace trace,
      double timeoutSeconds)
      throws Exception {
    long lastSeq = 0;
    for (Appender a : appenders) {
      lastSeq = Math.max(lastSeq, a.maxSeq);
    }
    long drainStart = System.nanoTime();
    long drainDeadline = drainStart + (long) (timeoutSeconds * 1e9);
    long cp;
    while ((cp = server.store().checkpoints(device).getOrDefault(SyncScenario.STREAM, 0L))
        < lastSeq) {
      long now = System.nanoTime();
      if (now > drainDeadline) {
        throw new IllegalStateException("live: cloud stuck at " + cp + " of " + lastSeq);
      }
      trace.add(now, cp);
      Thread.sleep(2);
    }
    long drainEnd = System.nanoTime();
    SyncScenario.verify(server, device, lastSeq);
    trace.add(drainEnd, cp);
    return (drainEnd - drainStart) / 1e9;
  }

  /** End-to-end latency of the sampled records: first trace point covering the sequence. */
  private static Stats.Latency endToEnd(Appender[] appenders, CheckpointTrace trace) {
    List<long[]> samples = new ArrayList<>();
    for (Appender a : appenders) {
      samples.addAll(a.samples);
    }
    long[] lat = new long[samples.size()];
    int k = 0;
    for (long[] sm : samples) {
      int at = trace.firstCovering(sm[0]);
      if (at < 0) {
        continue;
      }
      lat[k++] = Math.max(0, trace.nanos[at] - sm[1]);
    }
    return Stats.Latency.of(lat, k);
  }

  /** The checkpoint trace: (time, cloud checkpoint) every ~2 ms, up to its capacity. */
  private static final class CheckpointTrace {
    final long[] nanos;
    final long[] checkpoints;
    int traced;

    CheckpointTrace(int capacity) {
      nanos = new long[capacity];
      checkpoints = new long[capacity];
    }

    void add(long now, long cp) {
      if (traced < nanos.length) {
        nanos[traced] = now;
        checkpoints[traced] = cp;
        traced++;
      }
    }

    /** The first point whose checkpoint covers {@code seq}, or -1 if none does. */
    int firstCovering(long seq) {
      int lo = 0;
      int hi = traced - 1;
      if (checkpoints[hi] < seq) {
        return -1;
      }
      while (lo < hi) {
        int mid = (lo + hi) >>> 1;
        if (checkpoints[mid] >= seq) {
          hi = mid;
        } else {
          lo = mid + 1;
        }
      }
      return lo;
    }
  }

  private static final class Appender implements Runnable {
    final EdgeAgent agent;
    final int window;
    final int sampleEvery;
    final LongAdder appended;
    final LongAdder errors;
    final Payloads payloads;
    final List<long[]> samples = new ArrayList<>();
    volatile int phase = WARMUP;
    long maxSeq;

    Appender(
        int id,
        EdgeAgent agent,
        int window,
        int recordBytes,
        int sampleEvery,
        LongAdder appended,
        LongAdder errors) {
      this.agent = agent;
      this.window = window;
      this.sampleEvery = sampleEvery;
      this.appended = appended;
      this.errors = errors;
      this.payloads = new Payloads(recordBytes, id);
    }

    @Override
    public void run() {
      Semaphore permits = new Semaphore(window);
      long[] maxSeen = new long[1];
      long i = 0;
      while (phase != STOP) {
        byte[] p = payloads.next();
        permits.acquireUninterruptibly();
        long t0 = System.nanoTime();
        boolean sample = phase == MEASURE && (i++ % sampleEvery) == 0;
        CompletableFuture<AppendResult> f = agent.appendAsync(SyncScenario.STREAM, List.of(p));
        f.whenComplete(
            (r, err) -> {
              if (err != null) {
                errors.increment();
              } else {
                appended.increment();
                synchronized (samples) {
                  if (r.lastSequence() > maxSeen[0]) {
                    maxSeen[0] = r.lastSequence();
                  }
                  if (sample) {
                    samples.add(new long[] {r.lastSequence(), t0});
                  }
                }
              }
              permits.release();
            });
      }
      permits.acquireUninterruptibly(window);
      synchronized (samples) {
        maxSeq = maxSeen[0];
      }
    }
  }
}
