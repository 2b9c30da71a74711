package io.edgesync.engine.edge;

import io.edgesync.engine.link.LinkEstimator;
import java.util.ArrayDeque;

/**
 * The batches and gaps sent in this session and not yet acknowledged, in send order, with their
 * payload bytes: the engine's send window ({@code maxInFlightBatches}, {@code maxInFlightBytes}).
 *
 * <p>Not thread safe: owned by the engine's thread.
 */
final class InFlightWindow {
  /** A batch or gap sent and not yet acknowledged. */
  private static final class Entry {
    final String stream;
    final long lastSequence;
    final long payloadBytes;
    final LinkEstimator.Send send;
    final boolean probe;

    /** The engine ran out of things to send while this was in flight. */
    boolean appLimited;

    Entry(
        String stream,
        long lastSequence,
        long payloadBytes,
        LinkEstimator.Send send,
        boolean probe) {
      this.stream = stream;
      this.lastSequence = lastSequence;
      this.payloadBytes = payloadBytes;
      this.send = send;
      this.probe = probe;
    }
  }

  private final ArrayDeque<Entry> entries = new ArrayDeque<>();
  private long payloadBytes;

  boolean isEmpty() {
    return entries.isEmpty();
  }

  int size() {
    return entries.size();
  }

  /** Payload bytes of every record batch in flight. */
  long payloadBytes() {
    return payloadBytes;
  }

  /** A batch (or, with 0 payload bytes, a gap) was sent; {@code probe}: it measures a slow link. */
  void add(
      String stream, long lastSequence, long payloadBytes, LinkEstimator.Send send, boolean probe) {
    entries.add(new Entry(stream, lastSequence, payloadBytes, send, probe));
    this.payloadBytes += payloadBytes;
  }

  /** The session ended: nothing is in flight any more. */
  void clear() {
    entries.clear();
    payloadBytes = 0;
  }

  /** The engine ran dry: what is in flight now measures its own pace, not the link's. */
  void markAppLimited() {
    for (Entry f : entries) {
      f.appLimited = true;
    }
  }

  /** The payload bytes of the largest batch in flight (0 when none). */
  long largestPayloadBytes() {
    long largest = 0;
    for (Entry f : entries) {
      largest = Math.max(largest, f.payloadBytes);
    }
    return largest;
  }

  /** Payload bytes in flight of one stream. */
  long payloadBytesOf(String stream) {
    long flying = 0;
    for (Entry f : entries) {
      if (f.stream.equals(stream)) {
        flying += f.payloadBytes;
      }
    }
    return flying;
  }

  /**
   * The cloud acknowledged {@code stream} up to {@code sequence}: its batches up to there leave the
   * window and report their round trip to {@code link}. Acks arrive in send order per stream;
   * batches of other streams may be interleaved.
   */
  void acknowledge(String stream, long sequence, long nowMs, LinkEstimator link) {
    entries.removeIf(
        f -> {
          boolean done = f.stream.equals(stream) && f.lastSequence <= sequence;
          if (done) {
            payloadBytes -= f.payloadBytes;
            link.onAck(nowMs, f.send, f.appLimited && !f.probe);
          }
          return done;
        });
    if (payloadBytes < 0) {
      throw new IllegalStateException(
          "invariant broken: in-flight payload bytes went negative ("
              + payloadBytes
              + ") after the ack of stream '"
              + stream
              + "' up to "
              + sequence);
    }
  }
}
