package io.edgesync.server;

import io.edgesync.protocol.FrameCodec;
import io.edgesync.protocol.Frames;
import io.edgesync.protocol.ProtocolException;
import io.edgesync.protocol.ProtocolLimits;
import io.edgesync.protocol.wire.Frame;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Paces the admission of device sessions ({@link AdmissionLimits}), so that a reconnect storm (a
 * whole fleet back after an outage) is admitted at a rate the server sustains instead of piling up
 * store work until handshakes time out. A Hello is admitted when fewer than {@code
 * maxPendingSessions} Hellos are being handled, the token bucket ({@code maxSessionsPerS} per
 * second, holding one second's worth) has a token, and the Hello did not wait longer than {@code
 * maxHelloWaitMs} for a thread; otherwise it is refused with a fatal {@code RETRY_LATER} Error
 * before any store work, and the connection closed. The wait catches what the other two cannot see:
 * Hellos queued inside the web server behind threads blocked on the store.
 *
 * <p>Each refused device is told its own time to come back: one admission interval after the time
 * the previous refused device was told, so N refused devices return spread out rather than all
 * together (they add their own jitter on top). The interval is 1 / rate, or longer when Hellos take
 * longer than the pending bound allows for at that rate (the average time a Hello takes divided by
 * {@code maxPendingSessions}: what the server actually sustains), so that a slow server does not
 * call devices back only to refuse them again. The horizon is capped at {@code maxRetryAfterMs}.
 *
 * <p>Thread safe: Jetty calls {@link #tryAdmit} and closes tickets on many threads; both hold the
 * monitor for a few arithmetic operations only. Time is the injected monotonic {@code nanoTime}.
 */
final class AdmissionControl {
  private final AdmissionLimits limits;
  private final LongSupplier nanoTime;
  private final long rateIntervalNanos;

  // Guarded by this.
  private int pending;
  private double tokens;
  private long refilledAtNanos;
  private long promisedNanos;
  private double handlingNanosAverage;
  private long admitted;
  private long refused;
  private long waitedTooLongCount;

  AdmissionControl(AdmissionLimits limits, LongSupplier nanoTime) {
    this.limits = limits;
    this.nanoTime = nanoTime;
    this.rateIntervalNanos = Math.max(1, TimeUnit.SECONDS.toNanos(1) / limits.maxSessionsPerS());
    this.tokens = limits.maxSessionsPerS();
    this.refilledAtNanos = nanoTime.getAsLong();
    this.promisedNanos = refilledAtNanos;
  }

  /**
   * Whether the first frame of a session is a Hello (the one frame admission decides on). A frame
   * that does not decode is not: the session refuses it with its own, exact error.
   */
  static boolean isHello(byte[] frame) {
    try {
      return FrameCodec.decode(frame, ProtocolLimits.MAX_FRAME_BYTES_CEILING).hasHello();
    } catch (ProtocolException e) {
      return false;
    }
  }

  /** A decision on a Hello; close it once the Hello was handled (it frees the admission). */
  final class Ticket implements AutoCloseable {
    private final Frame refusal;
    private final long admittedAtNanos;
    private boolean closed;

    private Ticket(Frame refusal, long admittedAtNanos) {
      this.refusal = refusal;
      this.admittedAtNanos = admittedAtNanos;
    }

    /** The fatal RETRY_LATER Error to send before closing the connection; null if admitted. */
    Frame refusal() {
      return refusal;
    }

    /** The admitted Hello has been handled (Welcome sent, or refused for another reason). */
    @Override
    public void close() {
      if (refusal == null && !closed) {
        closed = true;
        finished(admittedAtNanos);
      }
    }
  }

  /** {@link #tryAdmit(long)} of a Hello that did not wait for a thread. */
  synchronized Ticket tryAdmit() {
    return tryAdmit(0);
  }

  /**
   * Decides on a Hello that waited {@code waitedNanos} for a thread since its connection opened:
   * admitted (close the ticket once handled) or refused with RETRY_LATER. The wait of an admitted
   * Hello counts in the time a Hello takes, which sets how far apart refused devices are called
   * back.
   */
  synchronized Ticket tryAdmit(long waitedNanos) {
    long now = nanoTime.getAsLong();
    refill(now);
    boolean waitedTooLong = waitedNanos > TimeUnit.MILLISECONDS.toNanos(limits.maxHelloWaitMs());
    if (!waitedTooLong && pending < limits.maxPendingSessions() && tokens >= 1) {
      pending++;
      tokens -= 1;
      admitted++;
      return new Ticket(null, now - Math.max(0, waitedNanos));
    }
    refused++;
    String why;
    if (waitedTooLong) {
      waitedTooLongCount++;
      why =
          "this Hello waited "
              + TimeUnit.NANOSECONDS.toMillis(waitedNanos)
              + " ms for a thread, more than max_hello_wait_ms "
              + limits.maxHelloWaitMs()
              + " (the server is saturated)";
    } else if (pending >= limits.maxPendingSessions()) {
      why = limits.maxPendingSessions() + " sessions are being admitted now (max_pending_sessions)";
    } else {
      why = "the server admits " + limits.maxSessionsPerS() + " sessions/s (max_sessions_per_s)";
    }
    // A Hello that waited too long is told to come back after as long as it waited: about the
    // time the queue in front of it takes to drain. It is not given a paced slot: the pending
    // bound, which sets the pacing, says nothing about a queue it cannot see (measured: slots one
    // interval apart called those devices back at a third of what the server then sustained).
    long retryAfterMs =
        waitedTooLong
            ? Math.min(limits.maxRetryAfterMs(), TimeUnit.NANOSECONDS.toMillis(waitedNanos))
            : promiseNextSlot(now);
    return new Ticket(
        Frames.retryLater(why + "; connect again after " + retryAfterMs + " ms", retryAfterMs), 0);
  }

  private synchronized void finished(long admittedAtNanos) {
    if (pending <= 0) {
      throw new IllegalStateException("an admission finished that was never counted");
    }
    pending--;
    long took = Math.max(0, nanoTime.getAsLong() - admittedAtNanos);
    // An average over about the last 8 Hellos: follows a server that slows down under load.
    handlingNanosAverage =
        handlingNanosAverage == 0 ? took : handlingNanosAverage + (took - handlingNanosAverage) / 8;
  }

  /** Hellos admitted since start. */
  synchronized long admitted() {
    return admitted;
  }

  /** Hellos refused with RETRY_LATER since start. */
  synchronized long refused() {
    return refused;
  }

  /** Of {@link #refused}, those that had waited longer than {@code max_hello_wait_ms}. */
  synchronized long waitedTooLong() {
    return waitedTooLongCount;
  }

  synchronized int pending() {
    return pending;
  }

  private void refill(long now) {
    long elapsed = now - refilledAtNanos;
    if (elapsed > 0) {
      tokens =
          Math.min(
              limits.maxSessionsPerS(), tokens + (double) elapsed / (double) rateIntervalNanos);
      refilledAtNanos = now;
    }
  }

  /**
   * The time between two refused devices' return slots: what the rate allows, or what the pending
   * bound allows at the time Hellos take now, whichever is longer.
   */
  private long intervalNanos() {
    return Math.max(rateIntervalNanos, (long) (handlingNanosAverage / limits.maxPendingSessions()));
  }

  /** The next free return slot, one interval after the last one promised; in ms from now. */
  private long promiseNextSlot(long now) {
    long horizon = now + TimeUnit.MILLISECONDS.toNanos(limits.maxRetryAfterMs());
    promisedNanos = Math.min(horizon, Math.max(promisedNanos, now) + intervalNanos());
    return Math.max(1, TimeUnit.NANOSECONDS.toMillis(promisedNanos - now + 999_999));
  }
}
