package io.edgesync.server.alerts;

import java.util.List;
import java.util.Map;

/**
 * What the rules read, at each evaluation: the server's view of its devices, sessions, conflicts,
 * certificates, rollouts and export. A part the server does not have (no documents, no files, no
 * export, no TLS) answers empty or null, and its rule stays quiet. Called on the alert timer's
 * thread only.
 */
public interface AlertInputs {
  /** Every registered device, with when it was last seen and whether this node serves it now. */
  List<Device> devices();

  /** The devices with a session on this node, with what their session moved so far. */
  Map<String, SessionProgress> sessions();

  /** The devices' latest reports ({@link DeviceReports}). */
  Map<String, DeviceReports.Report> reports();

  /** The creation times of the oldest {@code limit} open conflicts, oldest first. */
  List<Long> openConflictsCreatedMs(int limit);

  /** Each known device certificate's expiry ({@link DeviceCertificates}). */
  Map<String, Long> certificateNotAfterMs();

  /** The rollouts that are paused now. */
  List<PausedRollout> pausedRollouts();

  /** The Kafka export's state on this node; null when this node does not export. */
  Export export();

  record Device(String id, long lastSeenMs, boolean connected) {}

  /**
   * A session's counts since it started ({@code session}: its id, new for every connection).
   *
   * @param progress records stored plus document versions pushed: anything that moved
   * @param bytesIn batch bytes the device sent
   */
  record SessionProgress(String session, long progress, long bytesIn) {}

  record PausedRollout(long id, String path, long version, String reason, long pausedAtMs) {}

  /**
   * @param lagRecords committed and not yet exported (null: not known yet)
   * @param lastExportAtMs when records were last exported (0: never since this node started it)
   * @param startedAtMs when this node started exporting
   */
  record Export(Long lagRecords, long lastExportAtMs, long startedAtMs, String lastError) {}
}
