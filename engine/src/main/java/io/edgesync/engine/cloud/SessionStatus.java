package io.edgesync.engine.cloud;

import io.edgesync.protocol.ProtocolException;
import io.edgesync.protocol.ProtocolLimits;
import io.edgesync.protocol.wire.DeviceStatus;
import io.edgesync.protocol.wire.ErrorCode;
import io.edgesync.protocol.wire.ScopeCursor;
import io.edgesync.protocol.wire.StreamStatus;
import java.util.ArrayList;
import java.util.List;

/**
 * One session's DeviceStatus frames (docs/protocol.md "Device status"): checks each whole before
 * any of it is used, binds the session's stream numbers, and hands valid reports to the {@link
 * DeviceReports}. A report it refuses ({@link ErrorCode#INVALID_STATUS}) changes nothing, and the
 * rest of the session's reports are ignored: they are deltas against a report the cloud did not
 * take.
 *
 * <p>Not thread safe: used under its {@link CloudSession}'s monitor.
 */
final class SessionStatus {
  /** The capability a session must have accepted to carry DeviceStatus frames. */
  static final String CAPABILITY = "status";

  /** Most streams in one report, and most stream numbers one session binds. */
  static final int MAX_STREAMS = 1024;

  /** Most document scopes in one report. */
  static final int MAX_SCOPES = 256;

  /** Largest DeviceStatus frame accepted (a full report of 1024 streams fits in about 80 KiB). */
  static final int MAX_FRAME_BYTES = 128 * 1024;

  /** Longest scope name ("group:" and a collection-like name). */
  private static final int MAX_SCOPE_CHARS = 70;

  private final DeviceReports reports;
  private final List<String> names = new ArrayList<>(); // stream_ref n at index n-1
  private boolean seenFull;
  private boolean refused;

  SessionStatus(DeviceReports reports) {
    this.reports = reports;
  }

  /**
   * A report of {@code deviceId}: passed on if valid; a refusal (thrown once) leaves the device's
   * view as it was, and later reports of the session are dropped silently.
   */
  void onStatus(String deviceId, DeviceStatus status, int frameBytes, long nowMs)
      throws ProtocolException {
    if (refused) {
      return;
    }
    List<String> bound = new ArrayList<>(names);
    try {
      if (frameBytes > MAX_FRAME_BYTES) {
        throw invalid(
            "a DeviceStatus frame of " + frameBytes + " bytes; the limit is " + MAX_FRAME_BYTES);
      }
      check(status, bound);
    } catch (ProtocolException e) {
      refused = true;
      throw e;
    }
    names.clear();
    names.addAll(bound);
    seenFull = true;
    reports.onStatus(deviceId, status, List.copyOf(names), nowMs);
  }

  private void check(DeviceStatus s, List<String> bound) throws ProtocolException {
    if (!s.getFull() && !seenFull) {
      throw invalid("a delta DeviceStatus before the session's full report");
    }
    if (s.getFull()) {
      bound.clear();
    }
    if (s.getStreamsCount() > MAX_STREAMS) {
      throw invalid(
          s.getStreamsCount() + " streams in one DeviceStatus; the limit is " + MAX_STREAMS);
    }
    if (s.getDocCursorsCount() > MAX_SCOPES) {
      throw invalid(
          s.getDocCursorsCount()
              + " document scopes in one DeviceStatus; the limit is "
              + MAX_SCOPES);
    }
    count("raw_bytes", s.getRawBytes());
    count("wire_bytes", s.getWireBytes());
    count("batches_acked", s.getBatchesAcked());
    count("batches_failed", s.getBatchesFailed());
    count("offline_ms", s.getOfflineMs());
    count("outage_records", s.getOutageRecords());
    count("outage_dropped", s.getOutageDropped());
    count("last_sync_age_ms", s.getLastSyncAgeMs());
    count("docs_pending", s.getDocsPending());
    for (ScopeCursor c : s.getDocCursorsList()) {
      if (!isScope(c.getScope())) {
        throw invalid("invalid document scope '" + abbreviate(c.getScope()) + "' in DeviceStatus");
      }
      count("doc_cursors[" + c.getScope() + "]", c.getVersion());
    }
    for (StreamStatus st : s.getStreamsList()) {
      checkStream(st, bound);
    }
  }

  private void checkStream(StreamStatus st, List<String> bound) throws ProtocolException {
    int ref = st.getStreamRef();
    String name = st.getStream();
    if (!name.isEmpty()) {
      if (!ProtocolLimits.isValidStreamName(name)) {
        throw invalid(
            "invalid stream name '"
                + abbreviate(name)
                + "' in DeviceStatus: must match "
                + ProtocolLimits.STREAM_NAME_PATTERN);
      }
      if (ref != bound.size() + 1) {
        throw invalid(
            "stream '"
                + name
                + "' binds stream_ref "
                + ref
                + "; the next free one is "
                + (bound.size() + 1));
      }
      if (bound.contains(name)) {
        throw invalid("stream '" + name + "' is bound twice in one session");
      }
      if (bound.size() >= MAX_STREAMS) {
        throw invalid("more than " + MAX_STREAMS + " streams in one session");
      }
      bound.add(name);
    } else if (ref < 1 || ref > bound.size()) {
      throw invalid("unknown stream_ref " + Integer.toUnsignedString(ref) + " in DeviceStatus");
    }
    String what = "streams[" + bound.get(ref - 1) + "].";
    count(what + "appended", st.getAppended());
    count(what + "acknowledged", st.getAcknowledged());
    count(what + "dropped", st.getDropped());
    count(what + "queued", st.getQueued());
    count(what + "queued_bytes", st.getQueuedBytes());
    count(what + "oldest_unsent_age_ms", st.getOldestUnsentAgeMs());
  }

  /** A count read as a signed long: above 2^63-1 it is negative, and no count is that big. */
  private static void count(String field, long value) throws ProtocolException {
    if (value < 0) {
      throw invalid(
          field
              + " is "
              + Long.toUnsignedString(value)
              + " in DeviceStatus; counts must be 0.."
              + Long.MAX_VALUE);
    }
  }

  private static boolean isScope(String scope) {
    return scope.length() <= MAX_SCOPE_CHARS
        && (scope.equals("device")
            || scope.equals("fleet")
            || scope.startsWith("group:") && ProtocolLimits.isValidCollection(scope.substring(6)));
  }

  private static String abbreviate(String s) {
    return s.length() <= 80 ? s : s.substring(0, 80) + "...";
  }

  private static ProtocolException invalid(String message) {
    return new ProtocolException(ErrorCode.INVALID_STATUS, message);
  }
}
