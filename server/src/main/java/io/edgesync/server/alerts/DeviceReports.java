package io.edgesync.server.alerts;

import java.util.Map;

/**
 * What devices last reported about themselves over their sessions (their compact status): the input
 * of the {@code backlog_age} rule and part of {@code device_stalled}. Implementations are thread
 * safe; the alert timer calls {@link #latest} once per evaluation.
 */
@FunctionalInterface
public interface DeviceReports {
  /** The latest report of every device that sent one, by device id. */
  Map<String, Report> latest();

  /**
   * One device's report.
   *
   * @param atMs when the server received it (server clock)
   * @param backlogRecords records queued on the device, not yet acknowledged
   * @param oldestUnsentAgeMs the age of its oldest unacknowledged record at {@code atMs} (0: none)
   */
  record Report(long atMs, long backlogRecords, long oldestUnsentAgeMs) {}

  /** No reports: the server has none yet (the rules that need them stay quiet). */
  DeviceReports NONE = Map::of;
}
