package io.edgesync.engine.link;

import java.util.ArrayDeque;

/**
 * Throughput and round-trip time of one device's link, measured from the engine's own sends and
 * acks; every time is the engine's {@code nowMs}, nothing reads a clock.
 *
 * <p><b>Throughput</b> is a delivery rate, as BBR measures it: when a batch is acknowledged, the
 * bytes acknowledged since that batch was sent, divided by the time since the acknowledgement that
 * preceded its send (or since its send, if the link was idle then). The estimate is the maximum of
 * the samples of the last {@link #WINDOW_MS}. A sample taken while the engine had nothing more to
 * send ("application limited": a trickle of small batches measures the round trip, not the link)
 * only counts if it raises the estimate. Once measured, the estimate stands until a newer sample
 * replaces it, even beyond the window.
 *
 * <p><b>RTT</b>: from each acknowledged batch (send to ack, which includes the cloud's commit) and
 * from heartbeat replies; a smoothed value (1/8 gain, as TCP's SRTT) and the window's minimum.
 *
 * <p>Not thread safe: owned by the engine's thread.
 *
 * <p>Public for {@code io.edgesync.engine.edge}: the edge engine owns one.
 */
public final class LinkEstimator {
  /** How long a throughput or RTT sample counts. */
  public static final long WINDOW_MS = 10_000;

  /** What the estimator remembers about one sent batch until it is acknowledged. */
  public record Send(
      long sentAtMs, long wireBytes, long deliveredAtSend, long deliveredAtMsAtSend) {}

  private long delivered;
  private long deliveredAtMs = Long.MIN_VALUE;
  private final ArrayDeque<long[]> rates = new ArrayDeque<>(); // {atMs, bytesPerSecond}
  private final ArrayDeque<long[]> rtts = new ArrayDeque<>(); // {atMs, rttMs}
  private long srttMs = -1;
  private long samples;

  /**
   * A batch of {@code wireBytes} goes out now; {@code idle} when nothing else was in flight (a busy
   * period starts, and its clock with it).
   */
  public Send onSend(long nowMs, long wireBytes, boolean idle) {
    if (idle || deliveredAtMs == Long.MIN_VALUE) {
      deliveredAtMs = nowMs;
    }
    return new Send(nowMs, wireBytes, delivered, deliveredAtMs);
  }

  /** The batch was acknowledged now; {@code appLimited} if the sender ran dry after sending it. */
  public void onAck(long nowMs, Send s, boolean appLimited) {
    delivered += s.wireBytes();
    deliveredAtMs = nowMs;
    long interval = Math.max(1, nowMs - s.deliveredAtMsAtSend());
    long rate = (delivered - s.deliveredAtSend()) * 1000 / interval;
    addRtt(nowMs, Math.max(0, nowMs - s.sentAtMs()));
    if (!appLimited || rate >= bandwidthBytesPerSecond(nowMs)) {
      expire(rates, nowMs);
      rates.addLast(new long[] {nowMs, rate});
      samples++;
    }
  }

  /** A heartbeat sent at {@code sentAtMs} was answered now. */
  public void onHeartbeatReply(long nowMs, long sentAtMs) {
    addRtt(nowMs, Math.max(0, nowMs - sentAtMs));
  }

  /** Bytes per second the link delivered, or -1 before the first sample. */
  public long bandwidthBytesPerSecond(long nowMs) {
    expire(rates, nowMs);
    long max = -1;
    for (long[] r : rates) {
      max = Math.max(max, r[1]);
    }
    return max;
  }

  /** The same in kbit/s (1 kbit = 1000 bit), or -1 when unknown. */
  public long bandwidthKbps(long nowMs) {
    long b = bandwidthBytesPerSecond(nowMs);
    return b < 0 ? -1 : b * 8 / 1000;
  }

  /** Smoothed RTT in ms, or -1 before the first sample. */
  public long srttMs() {
    return srttMs;
  }

  /** The smallest RTT of the window, or -1 before the first sample. */
  public long minRttMs(long nowMs) {
    expire(rtts, nowMs);
    long min = -1;
    for (long[] r : rtts) {
      min = min < 0 ? r[1] : Math.min(min, r[1]);
    }
    return min;
  }

  /** Throughput samples taken so far. */
  long samples() {
    return samples;
  }

  private void addRtt(long nowMs, long rtt) {
    srttMs = srttMs < 0 ? rtt : srttMs + (rtt - srttMs) / 8;
    expire(rtts, nowMs);
    rtts.addLast(new long[] {nowMs, rtt});
  }

  /** Drops samples older than the window, but always keeps the newest one. */
  private static void expire(ArrayDeque<long[]> q, long nowMs) {
    while (q.size() > 1 && nowMs - q.peekFirst()[0] > WINDOW_MS) {
      q.pollFirst();
    }
  }
}
