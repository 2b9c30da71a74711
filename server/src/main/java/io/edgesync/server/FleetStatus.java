package io.edgesync.server;

import io.edgesync.engine.cloud.DeviceReports;
import io.edgesync.protocol.Clock;
import io.edgesync.protocol.wire.DeviceStatus;
import io.edgesync.protocol.wire.ScopeCursor;
import io.edgesync.protocol.wire.StreamStatus;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The cloud's view of each device as the device last reported it over its session (DeviceStatus,
 * docs/protocol.md "Device status"), and the document changes and conflicts its sessions counted:
 * what {@code GET /api/v1/devices} shows as {@code reported}, what the KPIs ({@link Kpis}) and the
 * per-device metrics are computed from.
 *
 * <p>Kept in memory only, on the node that holds the device's session: a report every 30 s per
 * device would cost the store a write per device per half minute (333 writes a second for 10,000
 * devices), for a view that the device sends again in full at its next session. A node restart
 * forgets the views until the devices reconnect, and a node shows only the devices whose sessions
 * it held since it started (docs/metrics.md).
 *
 * <p>Thread safe: one map of devices; each device's view is changed and read under its own monitor.
 */
final class FleetStatus implements DeviceReports {
  /** One stream as last reported; times are the cloud's clock. */
  static final class StreamView {
    long appended;
    long acknowledged;
    long queued;
    long queuedBytes;
    long dropped;
    long oldestUnsentAtMs = -1; // -1: nothing queued

    long oldestUnsentAgeMs(long nowMs) {
      return queued > 0 && oldestUnsentAtMs >= 0 ? Math.max(0, nowMs - oldestUnsentAtMs) : 0;
    }
  }

  /** One device's view; guarded by its own monitor. */
  static final class Reported {
    long atMs;
    final Map<String, StreamView> streams = new TreeMap<>();
    long rawBytes;
    long wireBytes;
    long batchesAcked;
    long batchesFailed;
    long offlineMs;
    long outageRecords;
    long outageDropped;
    long lastSyncAtMs; // 0: never
    final Map<String, Long> docCursors = new TreeMap<>(); // wire scope names
    long docsPending;

    synchronized void apply(DeviceStatus s, List<String> names, long nowMs) {
      if (s.getFull()) {
        streams.clear();
        docCursors.clear();
        rawBytes = wireBytes = batchesAcked = batchesFailed = 0;
        offlineMs = outageRecords = outageDropped = 0;
        lastSyncAtMs = 0;
        docsPending = 0;
      }
      atMs = nowMs;
      rawBytes += s.getRawBytes();
      wireBytes += s.getWireBytes();
      batchesAcked += s.getBatchesAcked();
      batchesFailed += s.getBatchesFailed();
      offlineMs += s.getOfflineMs();
      outageRecords += s.getOutageRecords();
      outageDropped += s.getOutageDropped();
      if (s.hasLastSyncAgeMs()) {
        lastSyncAtMs = nowMs - s.getLastSyncAgeMs();
      }
      for (ScopeCursor c : s.getDocCursorsList()) {
        docCursors.put(c.getScope(), c.getVersion());
      }
      if (s.hasDocsPending()) {
        docsPending = s.getDocsPending();
      }
      for (StreamStatus st : s.getStreamsList()) {
        StreamView v =
            streams.computeIfAbsent(names.get(st.getStreamRef() - 1), k -> new StreamView());
        v.appended += st.getAppended();
        v.acknowledged += st.getAcknowledged();
        v.dropped += st.getDropped();
        if (st.hasQueued()) {
          v.queued = st.getQueued();
        }
        if (st.hasQueuedBytes()) {
          v.queuedBytes = st.getQueuedBytes();
        }
        if (st.hasOldestUnsentAgeMs()) {
          v.oldestUnsentAtMs = nowMs - st.getOldestUnsentAgeMs();
        }
      }
    }

    synchronized long backlogRecords() {
      long n = 0;
      for (StreamView v : streams.values()) {
        n += v.queued;
      }
      return n;
    }

    synchronized long backlogBytes() {
      long n = 0;
      for (StreamView v : streams.values()) {
        n += v.queuedBytes;
      }
      return n;
    }

    synchronized long droppedRecords() {
      long n = 0;
      for (StreamView v : streams.values()) {
        n += v.dropped;
      }
      return n;
    }

    synchronized long oldestUnsentAgeMs(long nowMs) {
      long age = 0;
      for (StreamView v : streams.values()) {
        age = Math.max(age, v.oldestUnsentAgeMs(nowMs));
      }
      return age;
    }

    synchronized Map<String, Long> docCursors() {
      return new TreeMap<>(docCursors);
    }

    /** The counts the KPIs add up, read together. */
    synchronized long[] kpiCounts() {
      return new long[] {
        batchesAcked,
        batchesFailed,
        outageRecords,
        outageDropped,
        offlineMs,
        rawBytes,
        wireBytes,
        docsPending
      };
    }
  }

  /** Document changes and conflicts a device's sessions counted since this node started. */
  static final class DocCounts {
    long changes;
    long conflicts;
  }

  private final Clock clock;
  private final Map<String, Reported> devices = new ConcurrentHashMap<>();
  private final Map<String, DocCounts> docCounts = new ConcurrentHashMap<>();

  FleetStatus(Clock clock) {
    this.clock = clock;
  }

  @Override
  public void onStatus(String deviceId, DeviceStatus status, List<String> names, long nowMs) {
    devices.computeIfAbsent(deviceId, k -> new Reported()).apply(status, names, nowMs);
  }

  /**
   * Drops the device's view: its session moved to another node (which keeps it from now on), or it
   * connected without reporting. Its document counts stay (they are this node's own).
   */
  void forget(String deviceId) {
    devices.remove(deviceId);
  }

  @Override
  public void onDocChanges(String deviceId, int changes, int conflicts) {
    DocCounts c = docCounts.computeIfAbsent(deviceId, k -> new DocCounts());
    synchronized (c) {
      c.changes += changes;
      c.conflicts += conflicts;
    }
  }

  /** The device's view, or null if it has reported nothing since this node started. */
  Reported of(String deviceId) {
    return devices.get(deviceId);
  }

  /** {changes, conflicts} of the device since this node started. */
  long[] docCounts(String deviceId) {
    DocCounts c = docCounts.get(deviceId);
    if (c == null) {
      return new long[2];
    }
    synchronized (c) {
      return new long[] {c.changes, c.conflicts};
    }
  }

  /** Every device with a view. */
  Collection<Map.Entry<String, Reported>> all() {
    return devices.entrySet();
  }

  /**
   * Every device's latest report as the alert rules read it ({@code backlog_age}, {@code
   * device_stalled}): when it came, the backlog, and the oldest unsent record's age then.
   */
  Map<String, io.edgesync.server.alerts.DeviceReports.Report> alertReports() {
    Map<String, io.edgesync.server.alerts.DeviceReports.Report> out = new HashMap<>();
    devices.forEach(
        (id, r) -> {
          synchronized (r) {
            out.put(
                id,
                new io.edgesync.server.alerts.DeviceReports.Report(
                    r.atMs, r.backlogRecords(), r.oldestUnsentAgeMs(r.atMs)));
          }
        });
    return out;
  }

  /** The {@code reported} object of the REST API (docs/api.md), or null. */
  Map<String, Object> reportedJson(String deviceId) {
    Reported r = devices.get(deviceId);
    if (r == null) {
      return null;
    }
    long now = clock.nowMs();
    synchronized (r) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("atMs", r.atMs);
      m.put("backlogRecords", r.backlogRecords());
      m.put("backlogBytes", r.backlogBytes());
      m.put("oldestUnsentAgeMs", r.oldestUnsentAgeMs(now));
      m.put("droppedRecords", r.droppedRecords());
      m.put("rawBytes", r.rawBytes);
      m.put("wireBytes", r.wireBytes);
      m.put("lastSyncAtMs", r.lastSyncAtMs);
      m.put("batchesAcked", r.batchesAcked);
      m.put("batchesFailed", r.batchesFailed);
      m.put("offlineMs", r.offlineMs);
      m.put("outageRecords", r.outageRecords);
      m.put("outageDroppedRecords", r.outageDropped);
      m.put("docsPending", r.docsPending);
      m.put("docCursors", new TreeMap<>(r.docCursors));
      return m;
    }
  }

  /** The {@code reportedStreams} array of {@code GET /api/v1/devices/{id}}, or null. */
  List<Map<String, Object>> reportedStreamsJson(String deviceId) {
    Reported r = devices.get(deviceId);
    if (r == null) {
      return null;
    }
    long now = clock.nowMs();
    List<Map<String, Object>> out = new ArrayList<>();
    synchronized (r) {
      for (Map.Entry<String, StreamView> e : r.streams.entrySet()) {
        StreamView v = e.getValue();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("stream", e.getKey());
        m.put("appended", v.appended);
        m.put("acknowledged", v.acknowledged);
        m.put("queued", v.queued);
        m.put("queuedBytes", v.queuedBytes);
        m.put("dropped", v.dropped);
        m.put("oldestUnsentAgeMs", v.oldestUnsentAgeMs(now));
        out.add(m);
      }
    }
    return out;
  }
}
