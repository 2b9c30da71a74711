package io.edgesync.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.PriorityQueue;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * One selector thread that drives thousands of {@link FleetConnection}s and their devices' timers:
 * the fleet's client side costs one thread per loop, not one per device, so 10,000 sessions fit in
 * one client JVM beside the server on a 2-core machine.
 *
 * <p>Thread ownership: the selector, the timers, the scratch buffers and the random generator
 * belong to the loop's thread; every device and connection bound to the loop is touched only there.
 * Other threads hand work over with {@link #post}.
 */
final class FleetLoop implements AutoCloseable {
  /** Handed a ready key by the loop. */
  interface Handler {
    void ready(SelectionKey key);
  }

  /** Bytes read per read call; also holds the carried-over part of a TLS record. */
  static final int READ_SCRATCH_BYTES = 64 * 1024;

  /** Larger than a TLS record (16,709 bytes at most), so wrap and unwrap never overflow. */
  static final int TLS_SCRATCH_BYTES = 32 * 1024;

  private record Timer(long dueNanos, long order, Runnable task) {}

  final ByteBuffer readScratch = ByteBuffer.allocateDirect(READ_SCRATCH_BYTES);
  final ByteBuffer appScratch = ByteBuffer.allocate(READ_SCRATCH_BYTES);
  final ByteBuffer netScratch = ByteBuffer.allocate(TLS_SCRATCH_BYTES);
  final SplittableRandom random;

  private final Selector selector;
  private final Thread thread;
  private final ConcurrentLinkedQueue<Runnable> inbox = new ConcurrentLinkedQueue<>();
  private final PriorityQueue<Timer> timers =
      new PriorityQueue<>(
          (a, b) ->
              a.dueNanos != b.dueNanos
                  ? Long.compare(a.dueNanos, b.dueNanos)
                  : Long.compare(a.order, b.order));
  private long timerOrder;
  private volatile boolean running = true;

  FleetLoop(String name, long seed) {
    try {
      selector = Selector.open();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    random = new SplittableRandom(seed);
    thread = new Thread(this::run, name);
    thread.setDaemon(true);
    thread.start();
  }

  Selector selector() {
    return selector;
  }

  /** Runs {@code task} on the loop's thread; from any thread. */
  void post(Runnable task) {
    inbox.add(task);
    selector.wakeup();
  }

  /** Runs {@code task} on the loop's thread after {@code delayMs}; on the loop's thread only. */
  void schedule(long delayMs, Runnable task) {
    timers.add(new Timer(System.nanoTime() + delayMs * 1_000_000, timerOrder++, task));
  }

  private void run() {
    while (running) {
      try {
        selector.select(waitMs());
        for (SelectionKey key : selector.selectedKeys()) {
          if (key.isValid()) {
            ((Handler) key.attachment()).ready(key);
          }
        }
        selector.selectedKeys().clear();
        for (Runnable r; (r = inbox.poll()) != null; ) {
          r.run();
        }
        runDueTimers();
      } catch (IOException | RuntimeException e) {
        Bench.log(thread.getName() + ": " + e); // a bug of the bench: say it and go on
      }
    }
    try {
      selector.close();
    } catch (IOException e) {
      // closing anyway
    }
  }

  /** How long the selector may sleep: until the next timer (0 = forever), at most a second. */
  private long waitMs() {
    if (!inbox.isEmpty()) {
      return 1;
    }
    Timer next = timers.peek();
    if (next == null) {
      return 1_000;
    }
    long ms = (next.dueNanos - System.nanoTime()) / 1_000_000;
    return Math.max(1, Math.min(1_000, ms));
  }

  private void runDueTimers() {
    long now = System.nanoTime();
    while (!timers.isEmpty() && timers.peek().dueNanos - now <= 0) {
      timers.poll().task.run();
    }
  }

  @Override
  public void close() throws InterruptedException {
    running = false;
    selector.wakeup();
    thread.join(5_000);
  }
}
