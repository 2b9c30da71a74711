package io.edgesync.sim.internal;

import io.edgesync.agent.internal.outbox.SqliteOutbox;
import io.edgesync.engine.cloud.CloudStore;
import io.edgesync.engine.edge.Outbox;
import io.edgesync.protocol.Record;
import io.edgesync.protocol.wire.GapReason;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * DESIGN.md invariant 1 for streams, and 4 for crashes. At every step: what an edge holds as
 * acknowledged is committed in the cloud; acknowledged sequences and cloud checkpoints never go
 * back (also across crashes of either side); the cloud never holds a sequence the edge did not
 * store. At the end: every stored record is in the cloud exactly once, unchanged, in sequence
 * order, unless an explicit gap reports it, and every reported gap covers only records the edge
 * really dropped (the {@link StreamLedger} knows which).
 */
public final class StreamChecker implements Checker {
  /** Highest cloud checkpoint seen per device and stream, to catch one going back. */
  private final Map<String, Map<String, Long>> cloudSeen = new HashMap<>();

  @Override
  public String name() {
    return "streams";
  }

  @Override
  public void afterEvent(World world) {
    for (SimEdge e : world.edges()) {
      if (!e.alive()) {
        continue;
      }
      List<Outbox.StreamState> snapshot = e.outbox().streams();
      world.ledger().syncAcks(e.model(), snapshot);
      checkAccounts(e);
      Map<String, Long> cloud = world.cloud().checkpoints(e.deviceId());
      if (cloud == null) {
        continue;
      }
      Map<String, Long> seen = cloudSeen.computeIfAbsent(e.deviceId(), k -> new HashMap<>());
      for (Map.Entry<String, Long> cp : cloud.entrySet()) {
        long before = seen.getOrDefault(cp.getKey(), 0L);
        if (cp.getValue() < before) {
          throw new SimFailure(
              "cloud checkpoint of "
                  + e.deviceId()
                  + "/"
                  + cp.getKey()
                  + " went back from "
                  + before
                  + " to "
                  + cp.getValue()
                  + " (a commit the cloud acknowledged was not durable)");
        }
        StreamLedger.StreamModel m = e.model().streams().get(cp.getKey());
        long last = m == null ? 0 : m.lastSeq();
        if (cp.getValue() > last) {
          throw new SimFailure(
              "the cloud holds "
                  + e.deviceId()
                  + "/"
                  + cp.getKey()
                  + " up to "
                  + cp.getValue()
                  + " but the edge only ever stored "
                  + last);
        }
        seen.put(cp.getKey(), cp.getValue());
      }
      for (Outbox.StreamState s : snapshot) {
        long committed = cloud.getOrDefault(s.name(), 0L);
        if (s.ackedSequence() > committed) {
          throw new SimFailure(
              e.deviceId()
                  + "/"
                  + s.name()
                  + " holds sequence "
                  + s.ackedSequence()
                  + " as acknowledged but the cloud committed only up to "
                  + committed);
        }
      }
    }
  }

  /**
   * The edge's own accounts (what its status and metrics show) balance to the record, and its
   * dropped count is what the overflow policy really dropped (the ledger knows which): a counter
   * that disagrees with what was lost is a failure, as a lost record is.
   */
  private static void checkAccounts(SimEdge e) {
    for (SqliteOutbox.Accounts a : e.outbox().accounts()) {
      if (!a.balanced()) {
        throw new SimFailure(
            e.deviceId()
                + "/"
                + a.stream()
                + " does not account for its records: appended "
                + a.appended()
                + " != acknowledged "
                + a.acknowledged()
                + " + queued "
                + a.queued()
                + " + dropped "
                + a.dropped());
      }
      StreamLedger.StreamModel m = e.model().streams().get(a.stream());
      long reallyDropped = m == null ? 0 : m.droppedCount();
      if (a.dropped() != reallyDropped) {
        throw new SimFailure(
            e.deviceId()
                + "/"
                + a.stream()
                + " reports "
                + a.dropped()
                + " records dropped, but the overflow policy dropped "
                + reallyDropped);
      }
    }
  }

  @Override
  public boolean converged(World world) {
    if (!world.cloud().alive()) {
      return false;
    }
    for (SimEdge e : world.edges()) {
      if (!e.alive() || e.pendingAppends() > 0) {
        return false;
      }
      Map<String, Long> cloud = world.cloud().checkpoints(e.deviceId());
      for (Outbox.StreamState s : e.outbox().streams()) {
        if (s.ackedSequence() != s.lastSequence()
            || cloud.getOrDefault(s.name(), 0L) != s.lastSequence()) {
          return false;
        }
      }
    }
    return true;
  }

  @Override
  public long progressMark(World world) {
    long mark = 0;
    for (SimEdge e : world.edges()) {
      if (e.alive()) {
        for (Outbox.StreamState s : e.outbox().streams()) {
          mark += s.ackedSequence() + s.lastSequence();
        }
      }
    }
    return mark;
  }

  @Override
  public String progress(World world) {
    StringBuilder sb = new StringBuilder();
    for (SimEdge e : world.edges()) {
      sb.append(e.deviceId())
          .append(e.alive() ? " " + e.engine().state() : " down")
          .append(
              e.alive() && e.engine().lastError() != null
                  ? " (" + e.engine().lastError() + ")"
                  : "")
          .append(':');
      if (e.alive()) {
        Map<String, Long> cloud = world.cloud().checkpoints(e.deviceId());
        for (Outbox.StreamState s : e.outbox().streams()) {
          sb.append(' ')
              .append(s.name())
              .append(" last=")
              .append(s.lastSequence())
              .append(" acked=")
              .append(s.ackedSequence())
              .append(" cloud=")
              .append(cloud == null ? "down" : cloud.getOrDefault(s.name(), 0L));
        }
      }
      sb.append("; ");
    }
    return sb.toString();
  }

  @Override
  public void atEnd(World world) {
    CloudStore store = world.cloud().store();
    for (CloudStore.Device d : store.devices()) {
      if (world.ledger().device(d.id()) == null && !d.id().equals(Adversary.DEVICE_ID)) {
        throw new SimFailure("the cloud knows a device '" + d.id() + "' that never existed");
      }
    }
    for (SimEdge e : world.edges()) {
      StreamLedger.DeviceModel model = e.model();
      Map<String, CloudStore.StreamSummary> summaries = new HashMap<>();
      for (CloudStore.StreamSummary s : store.streams(e.deviceId())) {
        summaries.put(s.stream(), s);
        if (!model.streams().containsKey(s.stream())) {
          throw new SimFailure(
              "the cloud holds a stream " + e.deviceId() + "/" + s.stream() + " never appended");
        }
      }
      Map<String, SqliteOutbox.StreamStatus> edgeStatus = new HashMap<>();
      for (SqliteOutbox.StreamStatus s : e.outbox().streamStatus()) {
        edgeStatus.put(s.name(), s);
      }
      for (StreamLedger.StreamModel m : model.streams().values()) {
        checkStream(e, m, store, summaries.get(m.name), edgeStatus.get(m.name));
      }
    }
  }

  private static void checkStream(
      SimEdge e,
      StreamLedger.StreamModel m,
      CloudStore store,
      CloudStore.StreamSummary summary,
      SqliteOutbox.StreamStatus edgeStatus) {
    String where = e.deviceId() + "/" + m.name;
    long last = m.lastSeq();
    BitSet covered = new BitSet();
    List<Record> records = store.read(e.deviceId(), m.name, 0, Integer.MAX_VALUE);
    long payloadBytes = checkRecords(where, m, records, covered);
    long gapped = checkGaps(where, m, store.gaps(e.deviceId(), m.name), covered);
    int missing = covered.nextClearBit(1);
    if (missing <= last) {
      throw new SimFailure(
          where
              + ": sequence "
              + missing
              + " is neither in the cloud nor reported as a gap"
              + (m.wasHeard(missing) ? " (its append was acknowledged: LOST)" : ""));
    }
    if (last > 0 || summary != null) {
      if (summary == null
          || summary.lastSequence() != last
          || summary.records() != records.size()
          || summary.payloadBytes() != payloadBytes
          || summary.droppedRecords() != gapped) {
        throw new SimFailure(
            where
                + ": the cloud's summary "
                + summary
                + " does not match what it holds: last="
                + last
                + " records="
                + records.size()
                + " bytes="
                + payloadBytes
                + " gapped="
                + gapped);
      }
    }
    checkEdgeDrops(e, m, where, edgeStatus);
  }

  /**
   * The cloud's records of the stream: in strictly rising sequence order, within what the edge
   * stored, each unchanged; marks them in {@code covered} and returns their payload bytes.
   */
  private static long checkRecords(
      String where, StreamLedger.StreamModel m, List<Record> records, BitSet covered) {
    long last = m.lastSeq();
    long previous = 0;
    long payloadBytes = 0;
    for (Record r : records) {
      long seq = r.sequence();
      if (seq <= previous) {
        throw new SimFailure(
            where + ": the cloud returns sequence " + seq + " after " + previous + " (duplicate)");
      }
      if (seq > last) {
        throw new SimFailure(where + ": the cloud holds sequence " + seq + " beyond " + last);
      }
      if (!r.equals(m.record(seq))) {
        throw new SimFailure(
            where + ": sequence " + seq + " differs: cloud " + r + ", appended " + m.record(seq));
      }
      covered.set((int) seq);
      payloadBytes += r.payload().length;
      previous = seq;
    }
    return payloadBytes;
  }

  /**
   * The cloud's gaps of the stream: each sequence in one was stored by the edge, is not also a
   * record, was dropped by the edge for a full queue; marks them in {@code covered} and returns how
   * many.
   */
  private static long checkGaps(
      String where, StreamLedger.StreamModel m, List<CloudStore.StoredGap> gaps, BitSet covered) {
    long last = m.lastSeq();
    long gapped = 0;
    for (CloudStore.StoredGap g : gaps) {
      for (long seq = g.firstSequence(); seq <= g.lastSequence(); seq++) {
        if (seq < 1 || seq > last) {
          throw new SimFailure(
              where
                  + ": gap "
                  + g.firstSequence()
                  + ".."
                  + g.lastSequence()
                  + " is beyond "
                  + last);
        }
        if (covered.get((int) seq)) {
          throw new SimFailure(where + ": sequence " + seq + " is both stored and in a gap");
        }
        if (!m.wasDropped(seq)) {
          throw new SimFailure(
              where
                  + ": the cloud reports sequence "
                  + seq
                  + " lost ("
                  + g.reason()
                  + ") but the edge never dropped it"
                  + (m.wasHeard(seq) ? "; its append was acknowledged" : ""));
        }
        if (g.reason() != GapReason.GAP_REASON_QUEUE_FULL) {
          throw new SimFailure(
              where + ": gap at " + seq + " has reason " + g.reason() + ", expected QUEUE_FULL");
        }
        covered.set((int) seq);
        gapped++;
      }
    }
    return gapped;
  }

  /**
   * The edge's own account of its drops: every dropped sequence is in a gap row of the same reason
   * that covers only dropped sequences, and the drop counter agrees.
   */
  private static void checkEdgeDrops(
      SimEdge e, StreamLedger.StreamModel m, String where, SqliteOutbox.StreamStatus edgeStatus) {
    long droppedOnEdge = m.dropped.cardinality();
    if (edgeStatus != null && edgeStatus.droppedRecords() != droppedOnEdge) {
      throw new SimFailure(
          where
              + ": the edge counts "
              + edgeStatus.droppedRecords()
              + " dropped records, the model "
              + droppedOnEdge);
    }
    for (int seq = m.dropped.nextSetBit(1); seq >= 0; ) {
      int runEnd = m.dropped.nextClearBit(seq) - 1;
      long s = seq;
      while (s <= runEnd) {
        Outbox.Item.Gap g = e.outbox().droppedRange(m.name, s);
        if (g == null
            || g.reason() != GapReason.GAP_REASON_QUEUE_FULL
            || g.lastSequence() > runEnd) {
          throw new SimFailure(
              where
                  + ": the edge dropped "
                  + seq
                  + ".."
                  + runEnd
                  + " but its gap record at "
                  + s
                  + " is "
                  + g);
        }
        s = g.lastSequence() + 1;
      }
      seq = m.dropped.nextSetBit(runEnd + 1);
    }
  }
}
