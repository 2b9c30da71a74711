package io.edgesync.agent;

import java.util.List;
import java.util.Map;

/**
 * A point-in-time view of an agent. {@code connection} is OFFLINE, CONNECTING, IDLE, BUSY or
 * STOPPED. Per stream, "queued" means appended and not yet acknowledged by the cloud, and {@code
 * oldestQueuedAgeMs} is -1 when nothing is queued, {@code deferred} says why a stream with records
 * to send is held back (null when it is not), and {@code wire} is what its batches cost on the wire
 * since the outbox was created (kept in it across restarts, like the cloud's counts). {@code
 * documents}: local edits waiting for the cloud's outcome, documents in an open manual conflict,
 * and puts that changed nothing (not sent). {@code bandwidth}: the codec in use, what adaptive sync
 * measured and chose, the daily budget, and the device's wire totals.
 */
public record AgentStatus(
    String deviceId,
    String connection,
    String serverUrl,
    String lastError,
    long sessionsEstablished,
    List<StreamView> streams,
    Map<String, String> blockedStreams,
    DocumentsView documents,
    BandwidthView bandwidth) {

  public record DocumentsView(long pending, long conflicted, String lastHlc, long deduplicated) {}

  /**
   * Bytes on the wire: raw = the records in the uncompressed record layout, encoded = the batch
   * payloads, frames = whole frames; {@code ratio} = raw / frames (0 before the first batch).
   */
  public record WireView(
      long batches,
      long records,
      long rawBytes,
      long encodedBytes,
      long frameBytes,
      double ratio) {}

  /** The daily byte budget: per UTC day, spent today (every frame), and when it starts over. */
  public record BudgetView(long dailyBudgetBytes, long spentTodayBytes, String resetsAt) {}

  /**
   * @param compression as configured ({@code auto}, {@code zstd}, ...)
   * @param codec the family in use this session after negotiation (null when not connected)
   * @param accepted what the cloud accepted: {@code codec:*} and {@code batch:compact}
   * @param level the compression level batches are encoded with now
   * @param encoding with {@code auto}: how much of the compression batches get now and why ({@code
   *     configured}, {@code fast} = zstd level 1, {@code none}); cheaper when the encoder and not
   *     the link held records back
   * @param bandwidthKbps the measured delivery rate, -1 before the first measurement
   * @param rttMs the smoothed round trip, -1 before the first
   * @param lowBandwidth below {@code min_bandwidth_kbps}: less important streams are deferred
   * @param deferredStreams streams held back now, with the reason
   * @param budget null without {@code daily_budget_bytes}
   * @param total the device's record batches on the wire, all time (kept across restarts)
   * @param duplicateRecords records that dedup windows left out since start
   * @param dictionaries the trained dictionary id held per stream (shipped by the cloud; small zstd
   *     batches name it)
   */
  public record BandwidthView(
      String compression,
      String codec,
      java.util.List<String> accepted,
      int level,
      String encoding,
      boolean adaptive,
      long bandwidthKbps,
      long rttMs,
      boolean lowBandwidth,
      long minBandwidthKbps,
      Map<String, String> deferredStreams,
      BudgetView budget,
      WireView total,
      long duplicateRecords,
      Map<String, Integer> dictionaries) {}

  public record StreamView(
      String name,
      int priority,
      long lastSequence,
      long ackedSequence,
      long queuedRecords,
      long queuedBytes,
      long oldestQueuedAgeMs,
      long syncedRecords,
      long droppedRecords,
      String deferred,
      WireView wire) {}
}
