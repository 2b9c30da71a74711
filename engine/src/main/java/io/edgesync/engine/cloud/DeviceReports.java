package io.edgesync.engine.cloud;

import io.edgesync.protocol.wire.DeviceStatus;

/**
 * Where the cloud puts what devices report about themselves over their sessions (docs/protocol.md
 * "Device status"), and what sessions count of their document changes: the server keeps them to
 * show each device's backlog and the fleet's KPIs. Called on session threads, concurrently for
 * different devices: implementations are thread safe and must not block.
 */
public interface DeviceReports {
  /**
   * A valid report of {@code deviceId}, received at {@code nowMs}; {@code streamNames} holds the
   * names of its streams by their session number, already bound for every stream_ref it carries. A
   * full report ({@link DeviceStatus#getFull()}) replaces the device's view; any other adds to it.
   */
  void onStatus(
      String deviceId, DeviceStatus status, java.util.List<String> streamNames, long nowMs);

  /**
   * The session of {@code deviceId} processed {@code changes} new document changes, of which {@code
   * conflicts} were concurrent with a cloud version.
   */
  default void onDocChanges(String deviceId, int changes, int conflicts) {}
}
