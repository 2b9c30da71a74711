package io.edgesync.bench;

import io.edgesync.agent.OutboxLimits;
import io.edgesync.agent.OverflowPolicy;
import io.edgesync.agent.internal.atrest.StorageCipher;
import io.edgesync.agent.internal.atrest.StorageKeys;
import io.edgesync.agent.internal.outbox.SqliteOutbox;
import io.edgesync.protocol.Clock;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.LongAdder;

/**
 * Durable edge ingest: {@code threads} appender threads append ~150-byte JSON records to one stream
 * of a {@link SqliteOutbox} (WAL, synchronous=FULL unless {@code --full-sync=false}). An append
 * counts only when its future completed, i.e. after its group commit reached disk.
 *
 * <p>Modes: {@code async} keeps up to {@code window} records per thread outstanding (each record
 * its own {@code appendAsync} call and future, unless {@code --per-call} > 1); {@code sync} waits
 * for every call before the next (one record per call). {@code --encrypt} seals each chunk with
 * AES-256-GCM under a fresh random key (docs/security.md), for the at-rest cost.
 */
final class IngestScenario {
  enum Mode {
    ASYNC,
    SYNC
  }

  record Settings(
      Mode mode,
      int threads,
      int window,
      int perCall,
      int recordBytes,
      double warmupSeconds,
      double measureSeconds,
      boolean fullSync,
      int maxSamplesPerThread,
      boolean encrypt) {
    String describe() {
      return describeMode() + (encrypt ? ", AES-256-GCM at rest" : "");
    }

    private String describeMode() {
      return mode == Mode.ASYNC
          ? String.format(
              Locale.ROOT,
              "async, %d threads, window %d records/thread, %d record(s)/call, %d-byte records,"
                  + " synchronous=%s",
              threads,
              window,
              perCall,
              recordBytes,
              fullSync ? "FULL" : "NORMAL")
          : String.format(
              Locale.ROOT,
              "sync (wait for each call), %d threads, %d record(s)/call, %d-byte records,"
                  + " synchronous=%s",
              threads,
              perCall,
              recordBytes,
              fullSync ? "FULL" : "NORMAL");
    }
  }

  record Result(
      Settings settings,
      double recordsPerSecond,
      double mbPerSecond,
      long records,
      double seconds,
      Stats.Latency latency,
      long errors,
      String coresBusy) {}

  private static final int WARMUP = 0;
  private static final int MEASURE = 1;
  private static final int STOP = 2;

  static Settings settings(Opts o, Mode mode) {
    String p = mode == Mode.ASYNC ? "" : "sync-";
    return new Settings(
        mode,
        o.integer("threads", 8),
        o.integer("window", 512),
        o.integer(p + "per-call", 1),
        o.integer("record-bytes", 150),
        o.seconds(p + "warmup", mode == Mode.ASYNC ? 3 : 2),
        o.seconds(p + "seconds", mode == Mode.ASYNC ? 12 : 8),
        o.bool("full-sync", true),
        o.integer("max-samples", 2_000_000),
        o.bool("encrypt", false));
  }

  static OutboxLimits limits(boolean fullSync) {
    OutboxLimits d = OutboxLimits.defaults();
    // A queue large enough that nothing is dropped or refused while measuring.
    OutboxLimits big = d.withQueue(1_000_000_000L, 1L << 40, OverflowPolicy.REJECT);
    return new OutboxLimits(
        big.maxQueueRecords(),
        big.maxQueueBytes(),
        big.maxRecordAgeMs(),
        big.overflowPolicy(),
        big.blockTimeoutMs(),
        big.expiryCheckIntervalMs(),
        big.maxGroupRecords(),
        big.maxPendingAppends(),
        fullSync);
  }

  static Result run(Path dir, Settings s) throws Exception {
    Bench.log("ingest: " + s.describe());
    Path file = dir.resolve("ingest-" + s.mode().name().toLowerCase(Locale.ROOT) + ".db");
    try (SqliteOutbox outbox =
        new SqliteOutbox(
            file, limits(s.fullSync()), Map.of(), Map.of(), 10, Clock.SYSTEM, cipher(s))) {
      return measure(outbox, s);
    }
  }

  /** A fresh random key when {@code --encrypt}, else none. */
  private static StorageCipher cipher(Settings s) {
    if (!s.encrypt()) {
      return StorageCipher.OFF;
    }
    byte[] key = new byte[32];
    new SecureRandom().nextBytes(key);
    return StorageKeys.parse("1:" + Base64.getEncoder().encodeToString(key), "--encrypt");
  }

  private static Result measure(SqliteOutbox outbox, Settings s) throws Exception {
    LongAdder completed = new LongAdder();
    LongAdder errors = new LongAdder();
    Appender[] appenders = new Appender[s.threads()];
    Thread[] threads = new Thread[s.threads()];
    for (int t = 0; t < s.threads(); t++) {
      appenders[t] = new Appender(t, outbox, s, completed, errors);
      threads[t] = new Thread(appenders[t], "appender-" + t);
    }
    for (Thread t : threads) {
      t.start();
    }
    Thread.sleep((long) (s.warmupSeconds() * 1000));
    long c0 = completed.sum();
    long t0 = System.nanoTime();
    long cpu0 = Stats.processCpuNanos();
    for (Appender a : appenders) {
      a.phase = MEASURE;
    }
    long end = t0 + (long) (s.measureSeconds() * 1e9);
    long nextReport = t0 + 2_000_000_000L;
    long lastC = c0;
    long lastT = t0;
    while (System.nanoTime() < end) {
      Thread.sleep(Math.max(1, Math.min(200, (end - System.nanoTime()) / 1_000_000)));
      long now = System.nanoTime();
      if (now >= nextReport) {
        long c = completed.sum();
        Bench.logf(
            "  ... %s records/s (last %.1f s)",
            Stats.rate((c - lastC) / ((now - lastT) / 1e9)), (now - lastT) / 1e9);
        lastC = c;
        lastT = now;
        nextReport = now + 2_000_000_000L;
      }
    }
    long c1 = completed.sum();
    long t1 = System.nanoTime();
    long cpu1 = Stats.processCpuNanos();
    for (Appender a : appenders) {
      a.phase = STOP;
    }
    for (Thread t : threads) {
      t.join(60_000);
    }
    double secs = (t1 - t0) / 1e9;
    long recs = c1 - c0;
    Result r =
        new Result(
            s,
            recs / secs,
            recs * (double) s.recordBytes() / secs / 1e6,
            recs,
            secs,
            latency(appenders),
            errors.sum(),
            Stats.coresBusy(cpu0, cpu1, t1 - t0));
    Bench.logf(
        "ingest %s: %s records/s (%.1f MB/s payload), %,d records in %.1f s; append latency %s;"
            + " errors %d; CPU %s cores",
        s.mode().name().toLowerCase(Locale.ROOT),
        Stats.rate(r.recordsPerSecond()),
        r.mbPerSecond(),
        recs,
        secs,
        r.latency(),
        r.errors(),
        r.coresBusy());
    return r;
  }

  /** The append latencies every appender sampled while measuring (they have stopped). */
  private static Stats.Latency latency(Appender[] appenders) {
    int total = 0;
    for (Appender a : appenders) {
      total += Math.min(a.samples, a.latency.length);
    }
    long[] all = new long[total];
    int k = 0;
    for (Appender a : appenders) {
      int n = Math.min(a.samples, a.latency.length);
      System.arraycopy(a.latency, 0, all, k, n);
      k += n;
    }
    return Stats.Latency.of(all, total);
  }

  /** One appender thread. Latencies are written by whichever thread completes the future. */
  private static final class Appender implements Runnable {
    final SqliteOutbox outbox;
    final Settings s;
    final LongAdder completed;
    final LongAdder errors;
    final Payloads payloads;
    final long[] latency;
    volatile int phase = WARMUP;
    int samples;

    Appender(int id, SqliteOutbox outbox, Settings s, LongAdder completed, LongAdder errors) {
      this.outbox = outbox;
      this.s = s;
      this.completed = completed;
      this.errors = errors;
      this.payloads = new Payloads(s.recordBytes(), id);
      this.latency = new long[s.maxSamplesPerThread()];
    }

    @Override
    public void run() {
      if (s.mode() == Mode.SYNC) {
        runSync();
      } else {
        runAsync();
      }
    }

    private List<byte[]> nextCall() {
      if (s.perCall() == 1) {
        return List.of(payloads.next());
      }
      List<byte[]> list = new ArrayList<>(s.perCall());
      for (int i = 0; i < s.perCall(); i++) {
        list.add(payloads.next());
      }
      return list;
    }

    private void runSync() {
      int n = s.perCall();
      while (phase != STOP) {
        List<byte[]> call = nextCall();
        boolean sample = phase == MEASURE && samples < latency.length;
        long t0 = System.nanoTime();
        try {
          outbox.appendAsync("sensor_data", call).join();
          long dt = System.nanoTime() - t0;
          completed.add(n);
          if (sample) {
            latency[samples++] = dt;
          }
        } catch (RuntimeException e) {
          errors.increment();
        }
      }
    }

    private void runAsync() {
      int n = s.perCall();
      int permits = Math.max(n, s.window());
      Semaphore window = new Semaphore(permits);
      while (phase != STOP) {
        List<byte[]> call = nextCall();
        window.acquireUninterruptibly(n);
        int slot = phase == MEASURE && samples < latency.length ? samples++ : -1;
        long t0 = System.nanoTime();
        CompletableFuture<Long> f = outbox.appendAsync("sensor_data", call);
        f.whenComplete(
            (seq, err) -> {
              if (err != null) {
                errors.increment();
              } else {
                if (slot >= 0) {
                  latency[slot] = System.nanoTime() - t0;
                }
                completed.add(n);
              }
              window.release(n);
            });
      }
      // Wait for every outstanding append; the release/acquire pairs also publish the latencies.
      window.acquireUninterruptibly(permits);
    }
  }
}
