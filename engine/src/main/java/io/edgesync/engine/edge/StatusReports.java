package io.edgesync.engine.edge;

import io.edgesync.protocol.wire.DeviceStatus;
import io.edgesync.protocol.wire.Frame;
import io.edgesync.protocol.wire.ScopeCursor;
import io.edgesync.protocol.wire.StreamStatus;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * The edge's status reports ({@code DeviceStatus}, docs/protocol.md "Device status"): a full report
 * right after Welcome, then at most one every {@code intervalMs} as a delta against the previous
 * one of the session (counters as increases, gauges only when changed, streams by their session
 * number), which keeps a busy device far below 200 bytes a minute. Also counts what the reports
 * carry beyond the outbox: batches acknowledged and lost with a session, outages (their length, the
 * records appended and dropped during them) and the time of the last acknowledgement.
 *
 * <p>Not thread safe: owned by the engine's thread.
 */
final class StatusReports {
  /** The Hello/Welcome capability of sessions that carry DeviceStatus frames. */
  static final String CAPABILITY = "status";

  private static final long NONE = Long.MIN_VALUE;

  /** One stream as last reported. */
  private record StreamSnap(
      long appended,
      long acknowledged,
      long queued,
      long queuedBytes,
      long dropped,
      long oldestUnsentAtMs) {}

  /** Everything a report carries, as last reported in this session. */
  private record Snapshot(
      Map<String, StreamSnap> streams,
      long rawBytes,
      long wireBytes,
      long batchesAcked,
      long batchesFailed,
      long offlineMs,
      long outageRecords,
      long outageDropped,
      long lastSyncAtMs,
      Map<String, Long> cursors,
      long docsPending) {}

  private static final Snapshot ZERO = new Snapshot(Map.of(), 0, 0, 0, 0, 0, 0, 0, -1, Map.of(), 0);

  private final StatusSource source;
  private final long intervalMs;
  private final Supplier<EdgeSyncEngine.WireStats> wire;
  private final Supplier<Map<String, Long>> cursors;

  private boolean open;
  private long lastSentMs;
  private Snapshot last;
  private final Map<String, Integer> refs = new HashMap<>();

  private long batchesAcked;
  private long batchesFailed;
  private long offlineMs;
  private long outageRecords;
  private long outageDropped;
  private long lastSyncAtMs = -1;
  private long offlineSinceMs = NONE;
  private long appendedAtOffline;
  private long droppedAtOffline;

  StatusReports(
      StatusSource source,
      long intervalMs,
      Supplier<EdgeSyncEngine.WireStats> wire,
      Supplier<Map<String, Long>> cursors) {
    this.source = Objects.requireNonNull(source, "source");
    this.intervalMs = intervalMs;
    this.wire = wire;
    this.cursors = cursors;
  }

  /** An outage begins (the engine started, or its session ended); no-op while one goes on. */
  void onOffline(long nowMs) {
    open = false;
    if (offlineSinceMs == NONE) {
      offlineSinceMs = nowMs;
      long[] sums = sums(source.streams(nowMs));
      appendedAtOffline = sums[0];
      droppedAtOffline = sums[1];
    }
  }

  /** A session ended with {@code inFlight} batches and gaps unacknowledged: they count as lost. */
  void onSessionLost(long nowMs, int inFlight) {
    batchesFailed += inFlight;
    onOffline(nowMs);
  }

  /** {@code batches} batches or gaps were acknowledged. */
  void onAck(long nowMs, int batches) {
    batchesAcked += batches;
    lastSyncAtMs = nowMs;
  }

  /**
   * A session began: the outage before it is counted, and a full report is returned if the cloud
   * accepted the capability (else null, and none is sent in this session).
   */
  Frame onWelcome(long nowMs, List<String> accepted) {
    List<StatusSource.StreamHealth> streams = source.streams(nowMs);
    if (offlineSinceMs != NONE) {
      long[] sums = sums(streams);
      offlineMs += Math.max(0, nowMs - offlineSinceMs);
      outageRecords += Math.max(0, sums[0] - appendedAtOffline);
      outageDropped += Math.max(0, sums[1] - droppedAtOffline);
      offlineSinceMs = NONE;
    }
    open = accepted.contains(CAPABILITY);
    if (!open) {
      return null;
    }
    refs.clear();
    last = null;
    return report(nowMs, streams);
  }

  boolean due(long nowMs) {
    return open && nowMs - lastSentMs >= intervalMs;
  }

  /** When the next report is due, or {@code Long.MAX_VALUE} outside a reporting session. */
  long wakeupMs() {
    return open ? lastSentMs + intervalMs : Long.MAX_VALUE;
  }

  /** The next report: the session's first is full, later ones deltas against the previous. */
  Frame report(long nowMs) {
    return report(nowMs, source.streams(nowMs));
  }

  private Frame report(long nowMs, List<StatusSource.StreamHealth> streams) {
    Snapshot now = snapshot(streams);
    Snapshot prev = last;
    DeviceStatus.Builder b = DeviceStatus.newBuilder().setFull(prev == null);
    for (Map.Entry<String, StreamSnap> e : now.streams().entrySet()) {
      StreamStatus s =
          stream(
              e.getKey(),
              e.getValue(),
              prev == null ? null : prev.streams().get(e.getKey()),
              nowMs);
      if (s != null) {
        b.addStreams(s);
      }
    }
    Snapshot base = prev == null ? ZERO : prev;
    b.setRawBytes(inc(now.rawBytes(), base.rawBytes()))
        .setWireBytes(inc(now.wireBytes(), base.wireBytes()))
        .setBatchesAcked(inc(now.batchesAcked(), base.batchesAcked()))
        .setBatchesFailed(inc(now.batchesFailed(), base.batchesFailed()))
        .setOfflineMs(inc(now.offlineMs(), base.offlineMs()))
        .setOutageRecords(inc(now.outageRecords(), base.outageRecords()))
        .setOutageDropped(inc(now.outageDropped(), base.outageDropped()));
    if (now.lastSyncAtMs() >= 0 && (prev == null || prev.lastSyncAtMs() != now.lastSyncAtMs())) {
      b.setLastSyncAgeMs(Math.max(0, nowMs - now.lastSyncAtMs()));
    }
    for (Map.Entry<String, Long> c : now.cursors().entrySet()) {
      if (prev == null || !c.getValue().equals(prev.cursors().get(c.getKey()))) {
        b.addDocCursors(ScopeCursor.newBuilder().setScope(c.getKey()).setVersion(c.getValue()));
      }
    }
    if (prev == null || prev.docsPending() != now.docsPending()) {
      b.setDocsPending(now.docsPending());
    }
    last = now;
    lastSentMs = nowMs;
    return Frame.newBuilder().setStatus(b).build();
  }

  /** One stream's entry: everything when new to the session, else what changed (null: nothing). */
  private StreamStatus stream(String name, StreamSnap now, StreamSnap prev, long nowMs) {
    StreamStatus.Builder s = StreamStatus.newBuilder();
    Integer ref = refs.get(name);
    if (ref == null) {
      ref = refs.size() + 1;
      refs.put(name, ref);
      s.setStream(name);
    }
    s.setStreamRef(ref);
    boolean changed = prev == null;
    StreamSnap base = prev == null ? new StreamSnap(0, 0, -1, -1, 0, NONE) : prev;
    s.setAppended(inc(now.appended(), base.appended()))
        .setAcknowledged(inc(now.acknowledged(), base.acknowledged()))
        .setDropped(inc(now.dropped(), base.dropped()));
    changed |= s.getAppended() != 0 || s.getAcknowledged() != 0 || s.getDropped() != 0;
    if (now.queued() != base.queued()) {
      s.setQueued(now.queued());
      changed = true;
    }
    if (now.queuedBytes() != base.queuedBytes()) {
      s.setQueuedBytes(now.queuedBytes());
      changed = true;
    }
    if (now.oldestUnsentAtMs() != base.oldestUnsentAtMs()) {
      s.setOldestUnsentAgeMs(
          now.oldestUnsentAtMs() < 0 ? 0 : Math.max(0, nowMs - now.oldestUnsentAtMs()));
      changed = true;
    }
    return changed ? s.build() : null;
  }

  private Snapshot snapshot(List<StatusSource.StreamHealth> streams) {
    Map<String, StreamSnap> byName = new LinkedHashMap<>();
    for (StatusSource.StreamHealth h : streams) {
      byName.put(
          h.stream(),
          new StreamSnap(
              h.appended(),
              h.acknowledged(),
              h.queued(),
              h.queuedBytes(),
              h.dropped(),
              h.queued() == 0 ? -1 : h.oldestUnsentAtMs()));
    }
    EdgeSyncEngine.WireStats w = wire.get();
    return new Snapshot(
        byName,
        w.rawBytes(),
        w.frameBytes(),
        batchesAcked,
        batchesFailed,
        offlineMs,
        outageRecords,
        outageDropped,
        lastSyncAtMs,
        new TreeMap<>(cursors.get()),
        source.docsPending());
  }

  /**
   * A counter's increase; never negative (a count the source lowered, say after its outbox was
   * replaced, reports 0 rather than a number the cloud would refuse).
   */
  private static long inc(long now, long before) {
    return Math.max(0, now - before);
  }

  /** {appended, dropped} summed over the streams. */
  private static long[] sums(List<StatusSource.StreamHealth> streams) {
    long appended = 0;
    long dropped = 0;
    for (StatusSource.StreamHealth h : streams) {
      appended += h.appended();
      dropped += h.dropped();
    }
    return new long[] {appended, dropped};
  }
}
