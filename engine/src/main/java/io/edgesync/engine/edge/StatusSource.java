package io.edgesync.engine.edge;

import java.util.List;

/**
 * What an edge reports about its streams over its session ({@code DeviceStatus}, docs/protocol.md
 * "Device status"): the adapter reads it from its outbox. Called on the engine's thread when a
 * report is due (at most every {@link SyncPolicy#statusIntervalMs()}, and when an outage begins and
 * ends), so it may read the outbox but must not block for long.
 */
public interface StatusSource {
  /** Every stream of the outbox, now. */
  List<StreamHealth> streams(long nowMs);

  /** Local document changes waiting for their outcome. */
  default long docsPending() {
    return 0;
  }

  /**
   * One stream's accounting. Every count is at least 0; appended = acknowledged + queued + dropped
   * holds to the record when the adapter counts exactly.
   *
   * @param appended records appended (the stream's last sequence)
   * @param acknowledged records the cloud acknowledged as stored
   * @param queued records appended and not acknowledged
   * @param queuedBytes their payload bytes
   * @param dropped records dropped unsent by the queue's bounds
   * @param oldestUnsentAtMs when the oldest queued record was appended (the engine's clock), -1
   *     when none is queued
   */
  record StreamHealth(
      String stream,
      long appended,
      long acknowledged,
      long queued,
      long queuedBytes,
      long dropped,
      long oldestUnsentAtMs) {}
}
