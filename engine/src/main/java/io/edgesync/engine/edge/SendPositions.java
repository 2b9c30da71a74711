package io.edgesync.engine.edge;

import io.edgesync.protocol.wire.StreamCheckpoint;
import io.edgesync.protocol.wire.Welcome;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.function.ToLongFunction;

/**
 * Where each stream's sending stands: the next sequence the session sends (resumed from the cloud's
 * checkpoints in Welcome, moved on by batches sent and by acks), the streams that must not be sent,
 * with the reason, and what is left to send.
 *
 * <p>Not thread safe: owned by the engine's thread.
 */
final class SendPositions implements Deferrals.Backlog {
  private final Outbox outbox;
  private final InFlightWindow inFlight;
  private final BooleanSupplier active;

  /** Next sequence to send per stream; only meaningful while the session is active. */
  private final Map<String, Long> nextSend = new HashMap<>();

  /** Streams that must not be sent, with the reason (e.g. the cloud is ahead of this store). */
  private final Map<String, String> blocked = new LinkedHashMap<>();

  /** {@code active}: whether a session is active (else the acked sequence counts as sent). */
  SendPositions(Outbox outbox, InFlightWindow inFlight, BooleanSupplier active) {
    this.outbox = outbox;
    this.inFlight = inFlight;
    this.active = active;
  }

  /**
   * Each stream continues after the cloud's checkpoint; a stream whose checkpoint is beyond
   * anything this store appended is blocked. Returns the first block's reason, or null if none.
   */
  String resume(Welcome welcome) {
    Map<String, Long> checkpoints = new HashMap<>();
    for (StreamCheckpoint cp : welcome.getCheckpointsList()) {
      checkpoints.put(cp.getStream(), cp.getSequence());
    }
    blocked.clear();
    for (Outbox.StreamState s : outbox.streams()) {
      long cloud = checkpoints.getOrDefault(s.name(), 0L);
      if (cloud > s.lastSequence()) {
        blocked.put(
            s.name(),
            "the cloud holds sequence "
                + cloud
                + " of stream '"
                + s.name()
                + "' but this store only reached "
                + s.lastSequence()
                + " (was the local store reset?); not sending to avoid silent duplicates");
        continue;
      }
      if (cloud < s.ackedSequence()) {
        outbox.markNotRetained(s.name(), cloud);
      } else if (cloud > s.ackedSequence()) {
        outbox.acknowledge(s.name(), cloud);
      }
      nextSend.put(s.name(), cloud + 1);
    }
    return blocked.isEmpty() ? null : blocked.values().iterator().next();
  }

  /** The session ended: the next one resumes from its Welcome. */
  void clear() {
    nextSend.clear();
  }

  /**
   * The next sequence to send of the stream, or null if the stream is blocked. A stream that
   * appeared after the handshake starts after its acked sequence: the cloud has nothing of it yet.
   */
  Long next(Outbox.StreamState s) {
    Long next = nextSend.get(s.name());
    if (next == null && !blocked.containsKey(s.name())) {
      next = s.ackedSequence() + 1;
      nextSend.put(s.name(), next);
    }
    return next;
  }

  /** The next sequence of {@code stream} while a session is active, else -1. */
  long nextOrNone(String stream) {
    Long next = nextSend.get(stream);
    return active.getAsBoolean() && next != null ? next : -1;
  }

  /** A batch or gap up to {@code lastSequence} was sent. */
  void sent(String stream, long lastSequence) {
    nextSend.put(stream, lastSequence + 1);
  }

  /**
   * The cloud acknowledged {@code stream} up to {@code sequence}. False if that is beyond anything
   * appended (or the stream is not sent in this session): a protocol violation.
   */
  boolean onAck(String stream, long sequence) {
    Long next = nextSend.get(stream);
    long last = -1;
    for (Outbox.StreamState s : outbox.streams()) {
      if (s.name().equals(stream)) {
        last = s.lastSequence();
      }
    }
    if (next == null || sequence > last) {
      return false;
    }
    if (sequence >= next) {
      // The cloud committed more than this session sent: an earlier session's batches landed
      // after our Welcome. The cloud is authoritative; continue after what it holds.
      nextSend.put(stream, sequence + 1);
    }
    return true;
  }

  /** The outbox returned {@code got} where {@code expected} was due: blocks the stream. */
  String blockOutOfOrder(String stream, long got, long expected) {
    blocked.put(
        stream,
        "outbox returned sequence "
            + got
            + " when "
            + expected
            + " was expected for stream '"
            + stream
            + "'");
    return blocked.get(stream);
  }

  Map<String, String> blocked() {
    return Map.copyOf(blocked);
  }

  @Override
  public boolean blocked(String stream) {
    return blocked.containsKey(stream);
  }

  /**
   * Records appended but not yet sent in this session (or not acked, when offline), of streams that
   * are neither blocked nor {@code deferred}.
   */
  long unsentRecords(Predicate<String> deferred) {
    return sumOfSendable(deferred, this::unsentRecords);
  }

  /** Payload bytes queued and not in flight, of streams neither blocked nor {@code deferred}. */
  long unsentBytes(Predicate<String> deferred) {
    return sumOfSendable(deferred, this::unsentPayloadBytes);
  }

  private long sumOfSendable(Predicate<String> deferred, ToLongFunction<Outbox.StreamState> of) {
    long total = 0;
    for (Outbox.StreamState s : outbox.streams()) {
      if (!blocked.containsKey(s.name()) && !deferred.test(s.name())) {
        total += of.applyAsLong(s);
      }
    }
    return total;
  }

  @Override
  public long unsentRecords(Outbox.StreamState s) {
    Long next = active.getAsBoolean() ? nextSend.get(s.name()) : null;
    long sentUpTo = next != null ? next - 1 : s.ackedSequence();
    if (sentUpTo > s.lastSequence()) {
      // Every source of nextSend (Welcome, Ack, a batch read) is checked against lastSequence.
      throw new IllegalStateException(
          "invariant broken: stream '"
              + s.name()
              + "' counted as sent up to "
              + sentUpTo
              + ", beyond its last sequence "
              + s.lastSequence());
    }
    return s.lastSequence() - sentUpTo;
  }

  @Override
  public long unsentPayloadBytes(Outbox.StreamState s) {
    // Not an invariant: records in flight may leave the outbox (dropped on overflow or expired)
    // before their ack, and then queuedBytes falls below what is in flight.
    return Math.max(0, s.queuedBytes() - inFlight.payloadBytesOf(s.name()));
  }
}
