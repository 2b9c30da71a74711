package io.edgesync.bench;

import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * What the devices report during one measured phase of the fleet run. The runner thread makes it
 * and publishes it in {@link FleetDevice.Shared#phase}; the loop threads count into it (latches,
 * adders and the synchronized samples are thread safe); the runner reads it afterwards.
 */
final class FleetPhase {
  final String name;
  final long startNanos = System.nanoTime();

  /** Each device once, at its first Welcome in this phase. */
  final CountDownLatch welcomed;

  /** Each device once: it holds a fleet document at or above {@link #targetDocVersion}. */
  final CountDownLatch docDelivered;

  /**
   * Each device once: welcomed in this phase, the batch it sent right after that Welcome acked, and
   * the target document held.
   */
  final CountDownLatch caughtUp;

  final Samples ackLatency = new Samples();
  final Samples docLatency = new Samples();
  final LongAdder retryLater = new LongAdder();
  final LongAdder batchesSent = new LongAdder();
  final LongAdder batchesSkipped = new LongAdder();

  /** The document version the phase waits for; MAX until the runner wrote it. */
  volatile long targetDocVersion = Long.MAX_VALUE;

  /**
   * When the REST write of the target started (System.nanoTime): delivery latencies count from
   * here, because on loopback most pushes reach the devices before the PUT's reply reaches the
   * writer (from the reply they would read as 0).
   */
  volatile long docWriteStartNanos;

  /** How long the REST write itself took, until its reply. */
  volatile long docWriteNanos;

  FleetPhase(String name, int devices) {
    this.name = name;
    welcomed = new CountDownLatch(devices);
    docDelivered = new CountDownLatch(devices);
    caughtUp = new CountDownLatch(devices);
  }

  double secondsSinceStart() {
    return (System.nanoTime() - startNanos) / 1e9;
  }

  static boolean await(CountDownLatch latch, double timeoutSeconds) throws InterruptedException {
    return latch.await((long) (timeoutSeconds * 1000), TimeUnit.MILLISECONDS);
  }

  /** Latency samples in nanoseconds from many threads. */
  static final class Samples {
    private long[] values = new long[1024];
    private int count;

    synchronized void add(long nanos) {
      if (count == values.length) {
        values = Arrays.copyOf(values, count * 2);
      }
      values[count++] = nanos;
    }

    synchronized int count() {
      return count;
    }

    synchronized Stats.Latency latency() {
      return Stats.Latency.of(Arrays.copyOf(values, count), count);
    }
  }
}
