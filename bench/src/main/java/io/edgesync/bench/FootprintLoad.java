package io.edgesync.bench;

import java.io.ByteArrayOutputStream;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * An open-loop load on the agent's local API: {@code rate} records a second in requests of {@code
 * perRequest} records, each sent at its due time whatever the earlier ones do (up to {@link
 * #MAX_IN_FLIGHT} outstanding), as independent programs on a gateway would. Measures the records
 * the agent accepted (200), the refused or failed requests, and each request's latency (the append
 * is answered once durable). Used by one thread; completions arrive on the HTTP client's threads.
 */
final class FootprintLoad {
  record Result(long records, long requests, long failed, double seconds, Stats.Latency latency) {
    double recordsPerSecond() {
      return records / seconds;
    }
  }

  static final int MAX_IN_FLIGHT = 256;

  private FootprintLoad() {}

  static Result run(
      FootprintApi api, String stream, int rate, int perRequest, double seconds, int recordBytes)
      throws InterruptedException {
    long requests = Math.max(1, (long) (seconds * rate / perRequest));
    long intervalNanos = (long) (1e9 * perRequest / rate);
    long[] latencies = new long[(int) Math.min(requests, Integer.MAX_VALUE - 8)];
    AtomicInteger samples = new AtomicInteger();
    AtomicLong accepted = new AtomicLong();
    AtomicLong failed = new AtomicLong();
    Semaphore inFlight = new Semaphore(MAX_IN_FLIGHT);
    Payloads payloads = new Payloads(recordBytes, 0);
    long t0 = System.nanoTime();
    for (long k = 0; k < requests; k++) {
      long due = t0 + k * intervalNanos;
      long wait = due - System.nanoTime();
      if (wait > 0) {
        LockSupport.parkNanos(wait);
      }
      byte[] body = body(payloads, perRequest);
      inFlight.acquire();
      long sent = System.nanoTime();
      api.postAsync(stream, body)
          .whenComplete(
              (status, error) -> {
                long took = System.nanoTime() - sent;
                if (error == null && status == 200) {
                  accepted.addAndGet(perRequest);
                } else {
                  failed.incrementAndGet();
                }
                int i = samples.getAndIncrement();
                if (i < latencies.length) {
                  latencies[i] = took;
                }
                inFlight.release();
              });
    }
    if (!inFlight.tryAcquire(MAX_IN_FLIGHT, 60, TimeUnit.SECONDS)) {
      failed.addAndGet(MAX_IN_FLIGHT - inFlight.availablePermits());
    }
    double secs = (System.nanoTime() - t0) / 1e9;
    int n = Math.min(samples.get(), latencies.length);
    return new Result(accepted.get(), requests, failed.get(), secs, Stats.Latency.of(latencies, n));
  }

  private static byte[] body(Payloads payloads, int records) {
    if (records == 1) {
      return payloads.next();
    }
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    for (int i = 0; i < records; i++) {
      if (i > 0) {
        b.write('\n');
      }
      b.writeBytes(payloads.next());
    }
    return b.toByteArray();
  }
}
