package io.edgesync.agent;

import java.util.List;
import java.util.Map;

/**
 * A point-in-time view of an agent.
 *
 * <p>{@code activity} is the coarse state: OFFLINE, CONNECTING, IDLE (connected, nothing in
 * flight), BUSY (connected, sending), STOPPED, or DISABLED (edge_to_cloud off). {@code connection}
 * says plainly whether the agent is connected and since when; {@code lastError} is the last error
 * with its time, {@code past} once a session was established after it.
 *
 * <p>Per stream, "queued" means appended and not yet acknowledged by the cloud, and {@code
 * oldestQueuedAgeMs} is -1 when nothing is queued, {@code deferred} says why a stream with records
 * to send is held back (null when it is not), {@code wire} is what its batches cost on the wire
 * since the outbox was created (kept in it across restarts, like the cloud's counts), and the
 * append rates are measured over the last minutes (-1 until a minute of appends). {@code capacity}:
 * how long an outage the queue holds at the agent's append rate; {@code capacityWarning} (null when
 * none) says that it is shorter than {@code max_offline_hours}. {@code documents}: local edits
 * waiting for the cloud's outcome, documents in an open manual conflict, and puts that changed
 * nothing (not sent). {@code bandwidth}: the codec in use, what adaptive sync measured and chose,
 * the daily budget, and the device's wire totals. {@code lastSyncAt}: ISO-8601 UTC, when the cloud
 * last acknowledged data from this agent (records or a gap) since it started; null if it has not.
 */
public record AgentStatus(
    String deviceId,
    String activity,
    ConnectionView connection,
    String serverUrl,
    ErrorView lastError,
    long sessionsEstablished,
    List<StreamView> streams,
    Map<String, String> blockedStreams,
    CapacityView capacity,
    String capacityWarning,
    DocumentsView documents,
    BandwidthView bandwidth,
    String lastSyncAt) {

  /**
   * @param state {@code connected}, {@code connecting} (an attempt is under way), {@code
   *     disconnected} (waiting to retry), {@code stopped} or {@code disabled}
   * @param since ISO-8601 UTC: for {@code connected}, when the session was established; otherwise
   *     when the agent was last connected, or started (failed attempts do not move it)
   * @param server the URL the agent connects to
   */
  public record ConnectionView(String state, String since, String server) {}

  /**
   * @param at ISO-8601 UTC, when the agent saw it (a repeated failure moves it)
   * @param past a session was established after it: it no longer holds
   */
  public record ErrorView(String message, String at, boolean past) {}

  /**
   * The outbox's capacity in time at the agent's append rate (all streams; the bounds are shared).
   *
   * @param appendRecordsPerSec measured over the last minutes; -1 until a minute of appends
   * @param appendBytesPerSec payload bytes, likewise
   * @param maxQueueRecords {@code sync.offline.queue_max_size}
   * @param maxQueueBytes {@code queue.max_bytes} (payload bytes)
   * @param holdsMs how long an outage the empty queue holds at this rate before a bound is reached;
   *     -1 without a rate
   * @param boundBy the bound reached first: {@code queue_max_size} or {@code max_bytes}; null
   *     without a rate
   * @param fullInMs from what is queued now, when the queue is full if nothing is sent; -1 without
   *     a rate
   * @param summary the same in words
   */
  public record CapacityView(
      double appendRecordsPerSec,
      double appendBytesPerSec,
      long maxQueueRecords,
      long maxQueueBytes,
      double maxOfflineHours,
      long holdsMs,
      String boundBy,
      long fullInMs,
      String summary) {}

  /** {@code refused}: local changes the cloud refused (not authorized); nothing of them synced. */
  public record DocumentsView(
      long pending, long conflicted, String lastHlc, long deduplicated, long refused) {}

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

  /**
   * @param droppedByReason {@code droppedRecords} by why: {@code queue_full} (the overflow policy)
   *     and {@code expired} ({@code max_offline_hours}); and {@code not_retained}, records the
   *     cloud lost (restored from an older backup) that the agent no longer held, which are not in
   *     {@code droppedRecords}
   * @param ackRecordsPerSec records the cloud acknowledged per second over the last minutes; -1
   *     until a minute of samples
   * @param drainEtaSeconds when the queue is empty at the measured rates: 0 when nothing is queued,
   *     -1 when unknown or not shrinking (offline, or appends outpace sends)
   */
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
      double appendRecordsPerSec,
      double appendBytesPerSec,
      String deferred,
      WireView wire,
      Map<String, Long> droppedByReason,
      double ackRecordsPerSec,
      double drainEtaSeconds) {}
}
