package io.edgesync.engine.edge;

import io.edgesync.engine.link.LinkEstimator;
import io.edgesync.protocol.FrameCodec;
import io.edgesync.protocol.wire.Frame;
import io.edgesync.protocol.wire.Gap;

/**
 * The record path of an active session: while a flush is requested (or a probe of a slow link is
 * due) and the send window has room, picks the first stream (in the outbox's priority order) that
 * has a batch or gap to send and is neither blocked nor deferred (a deferred one only for a probe),
 * reads it within the batch size and the budget's cap, frames it (a record batch encoded at the
 * rung the {@link CodecGovernor} picks, timed with the adapter's ticker, and counted in the wire
 * totals), sends it and tracks it in flight until its ack.
 *
 * <p>Not thread safe: owned by the engine's thread.
 */
final class BatchPump {
  /** The engine's session, as the pump needs it. */
  interface Session {
    int maxFrameBytes();

    /** Sends a frame of {@code stream}'s records or gap. */
    void send(Frame frame, String stream);

    /** The outbox skipped a sequence: the stream is blocked for {@code reason}. */
    void blocked(String reason);

    /** Encoding failed or a frame came out above the limit: the session cannot go on. */
    void failed(String reason);

    /** The adapter's monotonic nanosecond ticker. */
    long nanoTime();
  }

  private final SyncPolicy policy;
  private final Outbox outbox;
  private final SendPositions positions;
  private final InFlightWindow inFlight;
  private final Deferrals deferrals;
  private final FlushTriggers triggers;
  private final BatchSizing sizing;
  private final OutgoingBatches out;
  private final CodecGovernor governor;
  private final WireAccounting wire;
  private final LinkEstimator link;
  private final Session session;

  private long batchesSent;
  private long recordsSent;

  /** Shares each collaborator with the engine; sends through {@code session}. */
  BatchPump(
      SyncPolicy policy,
      Outbox outbox,
      SendPositions positions,
      InFlightWindow inFlight,
      Deferrals deferrals,
      FlushTriggers triggers,
      BatchSizing sizing,
      OutgoingBatches out,
      CodecGovernor governor,
      WireAccounting wire,
      LinkEstimator link,
      Session session) {
    this.policy = policy;
    this.outbox = outbox;
    this.positions = positions;
    this.inFlight = inFlight;
    this.deferrals = deferrals;
    this.triggers = triggers;
    this.sizing = sizing;
    this.out = out;
    this.governor = governor;
    this.wire = wire;
    this.link = link;
    this.session = session;
  }

  /** Batches and gaps sent since the engine started. */
  long batchesSent() {
    return batchesSent;
  }

  /** Records sent since the engine started (resent ones again). */
  long recordsSent() {
    return recordsSent;
  }

  /** Recomputes which streams are held back; a stream released sends its backlog now. */
  void refreshDeferrals(long nowMs) {
    if (deferrals.refresh(nowMs)) {
      triggers.request();
    }
  }

  /** Sends batches while a flush is requested (or a probe is due) and the window has room. */
  void pump(long nowMs) {
    refreshDeferrals(nowMs);
    if (deferrals.startProbeIfDue(nowMs)) {
      // One batch of a deferred stream measures the link again (see LinkEstimator).
      triggers.request();
    }
    if (!triggers.requested()) {
      return;
    }
    try {
      while (inFlight.size() < policy.maxInFlightBatches()
          && inFlight.payloadBytes() < policy.maxInFlightBytes()) {
        if (!sendNext(nowMs)) {
          governor.onPumpEnd(true);
          triggers.ranDry();
          // Ran dry: what is in flight now measures our own pace, not the link's.
          inFlight.markAppLimited();
          return;
        }
      }
      governor.onPumpEnd(false);
    } finally {
      deferrals.endProbe();
      refreshDeferrals(nowMs);
    }
  }

  /** Sends the next batch or gap of the first stream that has one to send; false if none. */
  private boolean sendNext(long nowMs) {
    for (Outbox.StreamState s : outbox.streams()) {
      Long next = positions.next(s);
      if (next == null || next > s.lastSequence()) {
        continue;
      }
      boolean probe = false;
      if (deferrals.isDeferred(s.name())) {
        if (!deferrals.mayProbe(s.name())) {
          continue;
        }
        probe = true;
      }
      int records = sizing.records(s.name(), nowMs);
      long maxBytes =
          deferrals.budgetCap(nowMs, s, sizing.maxPayloadBytes(records, session.maxFrameBytes()));
      if (maxBytes < 0) {
        continue;
      }
      Outbox.Item item = outbox.read(s.name(), next, records, maxBytes);
      if (item == null) {
        continue;
      }
      if (item.firstSequence() != next) {
        session.blocked(positions.blockOutOfOrder(s.name(), item.firstSequence(), next));
        continue;
      }
      Frame frame =
          item instanceof Outbox.Item.Records r
              ? encode(nowMs, s.name(), r)
              : gap(s.name(), (Outbox.Item.Gap) item);
      if (frame == null) {
        return false; // the session failed
      }
      sent(nowMs, s.name(), item, frame, probe);
      return true;
    }
    return false;
  }

  /**
   * Encodes a record batch and counts it in the wire totals; null (and the session fails) when
   * encoding failed or the frame came out above the frame limit.
   */
  private Frame encode(long nowMs, String stream, Outbox.Item.Records r) {
    OutgoingBatches.Encoded e;
    try {
      CodecGovernor.Rung rung = governor.rung(nowMs);
      long t0 = session.nanoTime();
      e = out.encode(stream, r.records(), rung);
      governor.onEncoded(rung, e.rawBytes(), session.nanoTime() - t0);
    } catch (RuntimeException ex) {
      session.failed("encoding a batch of stream '" + stream + "' failed: " + ex);
      return null;
    }
    Frame frame = Frame.newBuilder().setBatch(e.batch()).build();
    int size = frame.getSerializedSize() + FrameCodec.TRAILER_BYTES;
    int maxFrameBytes = session.maxFrameBytes();
    if (size > maxFrameBytes) {
      sizing.onAboveFrameLimit(stream, r.records().size());
      session.failed(
          "a batch of "
              + r.records().size()
              + " records of stream '"
              + stream
              + "' encoded to "
              + size
              + " bytes, above the frame limit of "
              + maxFrameBytes);
      return null;
    }
    wire.onBatch(
        stream, r.records().size(), r.payloadBytes(), e.rawBytes(), e.payloadBytes(), size);
    return frame;
  }

  /** The frame of a gap; the session's envelope notes that the stream moved past it. */
  private Frame gap(String stream, Outbox.Item.Gap g) {
    Frame frame =
        Frame.newBuilder()
            .setGap(
                Gap.newBuilder()
                    .setStream(stream)
                    .setFirstSequence(g.firstSequence())
                    .setLastSequence(g.lastSequence())
                    .setReason(g.reason())
                    .setDroppedAtMs(g.droppedAtMs()))
            .build();
    out.onGapSent(stream, g.lastSequence());
    return frame;
  }

  /** Sends the frame of {@code item} and tracks it in flight until its ack. */
  private void sent(long nowMs, String stream, Outbox.Item item, Frame frame, boolean probe) {
    long payloadBytes = 0;
    long count = 0;
    if (item instanceof Outbox.Item.Records r) {
      payloadBytes = r.payloadBytes();
      count = r.records().size();
    }
    LinkEstimator.Send sample = link.onSend(nowMs, frame.getSerializedSize(), inFlight.isEmpty());
    session.send(frame, stream);
    batchesSent++;
    recordsSent += count;
    inFlight.add(stream, item.lastSequence(), payloadBytes, sample, probe);
    positions.sent(stream, item.lastSequence());
    if (probe) {
      deferrals.endProbe(); // one batch measures the link
    }
  }
}
