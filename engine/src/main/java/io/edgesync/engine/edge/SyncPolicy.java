package io.edgesync.engine.edge;

import io.edgesync.engine.link.BandwidthPolicy;

/**
 * Tuning of the edge sync engine: triggers, batch and window sizes, timeouts and backoff. All
 * durations in milliseconds, all sizes in bytes or records as the names say. Immutable.
 *
 * <p>Triggers combine: a flush starts when any enabled one fires, and then drains everything queued
 * (within the in-flight window). A reconnect with a backlog always starts a flush.
 *
 * @param eventDriven flush after writes went quiet for {@code debounceMs}
 * @param scheduled flush every {@code intervalMs}
 * @param batchMinRecords flush as soon as this many records are unsent
 * @param batchMinBytes flush as soon as this many payload bytes are unsent
 * @param batchMaxAgeMs flush when the oldest unsent write is this old (caps debounce)
 * @param maxBatchRecords records per batch on the wire
 * @param maxBatchBytes payload bytes per batch on the wire
 * @param maxInFlightBatches unacknowledged batches allowed at once
 * @param maxInFlightBytes unacknowledged payload bytes allowed at once
 * @param bandwidth codecs, compact envelope, adaptive sync and the daily byte budget
 */
public record SyncPolicy(
    String deviceId,
    String agentVersion,
    boolean eventDriven,
    long debounceMs,
    boolean scheduled,
    long intervalMs,
    long batchMinRecords,
    long batchMinBytes,
    long batchMaxAgeMs,
    int maxBatchRecords,
    long maxBatchBytes,
    int maxInFlightBatches,
    long maxInFlightBytes,
    long heartbeatIntervalMs,
    long heartbeatTimeoutMs,
    long connectTimeoutMs,
    long handshakeTimeoutMs,
    long backoffInitialMs,
    long backoffMaxMs,
    double backoffMultiplier,
    BandwidthPolicy bandwidth) {

  public SyncPolicy {
    java.util.Objects.requireNonNull(bandwidth, "bandwidth");
    requirePositive("debounceMs", debounceMs);
    requirePositive("intervalMs", intervalMs);
    requirePositive("batchMinRecords", batchMinRecords);
    requirePositive("batchMinBytes", batchMinBytes);
    requirePositive("batchMaxAgeMs", batchMaxAgeMs);
    requirePositive("maxBatchRecords", maxBatchRecords);
    requirePositive("maxBatchBytes", maxBatchBytes);
    requirePositive("maxInFlightBatches", maxInFlightBatches);
    requirePositive("maxInFlightBytes", maxInFlightBytes);
    requirePositive("heartbeatIntervalMs", heartbeatIntervalMs);
    requirePositive("connectTimeoutMs", connectTimeoutMs);
    requirePositive("handshakeTimeoutMs", handshakeTimeoutMs);
    if (heartbeatTimeoutMs <= heartbeatIntervalMs) {
      throw new IllegalArgumentException(
          "heartbeatTimeoutMs ("
              + heartbeatTimeoutMs
              + ") must exceed heartbeatIntervalMs ("
              + heartbeatIntervalMs
              + ")");
    }
  }

  /** The policy with {@link BandwidthPolicy#defaults()} (the constructor before issue 5). */
  public SyncPolicy(
      String deviceId,
      String agentVersion,
      boolean eventDriven,
      long debounceMs,
      boolean scheduled,
      long intervalMs,
      long batchMinRecords,
      long batchMinBytes,
      long batchMaxAgeMs,
      int maxBatchRecords,
      long maxBatchBytes,
      int maxInFlightBatches,
      long maxInFlightBytes,
      long heartbeatIntervalMs,
      long heartbeatTimeoutMs,
      long connectTimeoutMs,
      long handshakeTimeoutMs,
      long backoffInitialMs,
      long backoffMaxMs,
      double backoffMultiplier) {
    this(
        deviceId,
        agentVersion,
        eventDriven,
        debounceMs,
        scheduled,
        intervalMs,
        batchMinRecords,
        batchMinBytes,
        batchMaxAgeMs,
        maxBatchRecords,
        maxBatchBytes,
        maxInFlightBatches,
        maxInFlightBytes,
        heartbeatIntervalMs,
        heartbeatTimeoutMs,
        connectTimeoutMs,
        handshakeTimeoutMs,
        backoffInitialMs,
        backoffMaxMs,
        backoffMultiplier,
        BandwidthPolicy.defaults());
  }

  /** Defaults for a device: the brief's event-driven 1 s debounce and 5 min schedule. */
  public static SyncPolicy defaults(String deviceId) {
    return new SyncPolicy(
        deviceId,
        "edgesync-agent/0.1.0",
        true,
        1_000,
        true,
        5 * 60_000,
        1_000,
        256 * 1024,
        5_000,
        8_192,
        3 * 1024 * 1024,
        8,
        8L * 1024 * 1024,
        15_000,
        45_000,
        10_000,
        10_000,
        500,
        60_000,
        2.0);
  }

  /** The same policy with other triggers. */
  public SyncPolicy withTriggers(
      boolean eventDriven,
      long debounceMs,
      boolean scheduled,
      long intervalMs,
      long batchMinRecords,
      long batchMinBytes,
      long batchMaxAgeMs) {
    return new SyncPolicy(
        deviceId,
        agentVersion,
        eventDriven,
        debounceMs,
        scheduled,
        intervalMs,
        batchMinRecords,
        batchMinBytes,
        batchMaxAgeMs,
        maxBatchRecords,
        maxBatchBytes,
        maxInFlightBatches,
        maxInFlightBytes,
        heartbeatIntervalMs,
        heartbeatTimeoutMs,
        connectTimeoutMs,
        handshakeTimeoutMs,
        backoffInitialMs,
        backoffMaxMs,
        backoffMultiplier,
        bandwidth);
  }

  /** The same policy with other batch and window sizes. */
  public SyncPolicy withBatching(
      int maxBatchRecords, long maxBatchBytes, int maxInFlightBatches, long maxInFlightBytes) {
    return new SyncPolicy(
        deviceId,
        agentVersion,
        eventDriven,
        debounceMs,
        scheduled,
        intervalMs,
        batchMinRecords,
        batchMinBytes,
        batchMaxAgeMs,
        maxBatchRecords,
        maxBatchBytes,
        maxInFlightBatches,
        maxInFlightBytes,
        heartbeatIntervalMs,
        heartbeatTimeoutMs,
        connectTimeoutMs,
        handshakeTimeoutMs,
        backoffInitialMs,
        backoffMaxMs,
        backoffMultiplier,
        bandwidth);
  }

  /** The same policy with other liveness timing: heartbeats, timeouts and reconnect backoff. */
  public SyncPolicy withLiveness(
      long heartbeatIntervalMs,
      long heartbeatTimeoutMs,
      long connectTimeoutMs,
      long handshakeTimeoutMs,
      long backoffInitialMs,
      long backoffMaxMs) {
    return new SyncPolicy(
        deviceId,
        agentVersion,
        eventDriven,
        debounceMs,
        scheduled,
        intervalMs,
        batchMinRecords,
        batchMinBytes,
        batchMaxAgeMs,
        maxBatchRecords,
        maxBatchBytes,
        maxInFlightBatches,
        maxInFlightBytes,
        heartbeatIntervalMs,
        heartbeatTimeoutMs,
        connectTimeoutMs,
        handshakeTimeoutMs,
        backoffInitialMs,
        backoffMaxMs,
        backoffMultiplier,
        bandwidth);
  }

  /** The same policy with other bandwidth settings. */
  public SyncPolicy withBandwidth(BandwidthPolicy b) {
    return new SyncPolicy(
        deviceId,
        agentVersion,
        eventDriven,
        debounceMs,
        scheduled,
        intervalMs,
        batchMinRecords,
        batchMinBytes,
        batchMaxAgeMs,
        maxBatchRecords,
        maxBatchBytes,
        maxInFlightBatches,
        maxInFlightBytes,
        heartbeatIntervalMs,
        heartbeatTimeoutMs,
        connectTimeoutMs,
        handshakeTimeoutMs,
        backoffInitialMs,
        backoffMaxMs,
        backoffMultiplier,
        b);
  }

  private static void requirePositive(String name, long value) {
    if (value <= 0) {
      throw new IllegalArgumentException(name + " must be > 0, was " + value);
    }
  }
}
