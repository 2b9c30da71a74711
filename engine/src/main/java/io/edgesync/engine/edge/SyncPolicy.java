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
 * @param statusIntervalMs how often, at most, the edge reports its status over the session
 *     (DeviceStatus, when the agent reports one); 0 = never. At most 60 s, so that the cloud's view
 *     of a connected device is never older than a minute
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
    BandwidthPolicy bandwidth,
    long statusIntervalMs) {

  /** The default of {@code statusIntervalMs}. */
  public static final long DEFAULT_STATUS_INTERVAL_MS = 30_000;

  /** The bounds of a {@code statusIntervalMs} other than 0 (off). */
  public static final long MIN_STATUS_INTERVAL_MS = 1_000;

  public static final long MAX_STATUS_INTERVAL_MS = 60_000;

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
    requireStatusInterval(statusIntervalMs);
    if (heartbeatTimeoutMs <= heartbeatIntervalMs) {
      throw new IllegalArgumentException(
          "heartbeatTimeoutMs ("
              + heartbeatTimeoutMs
              + ") must exceed heartbeatIntervalMs ("
              + heartbeatIntervalMs
              + ")");
    }
  }

  /** The policy with the default status interval (the constructor before issue 15). */
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
      double backoffMultiplier,
      BandwidthPolicy bandwidth) {
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
        bandwidth,
        DEFAULT_STATUS_INTERVAL_MS);
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

  /** A builder starting from this policy's settings. */
  public Builder toBuilder() {
    return new Builder(this);
  }

  /** A builder starting from {@link #defaults(String)}. */
  public static Builder builder(String deviceId) {
    return defaults(deviceId).toBuilder();
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
    return toBuilder()
        .eventDriven(eventDriven)
        .debounceMs(debounceMs)
        .scheduled(scheduled)
        .intervalMs(intervalMs)
        .batchMinRecords(batchMinRecords)
        .batchMinBytes(batchMinBytes)
        .batchMaxAgeMs(batchMaxAgeMs)
        .build();
  }

  /** The same policy with other batch and window sizes. */
  public SyncPolicy withBatching(
      int maxBatchRecords, long maxBatchBytes, int maxInFlightBatches, long maxInFlightBytes) {
    return toBuilder()
        .maxBatchRecords(maxBatchRecords)
        .maxBatchBytes(maxBatchBytes)
        .maxInFlightBatches(maxInFlightBatches)
        .maxInFlightBytes(maxInFlightBytes)
        .build();
  }

  /** The same policy with other liveness timing: heartbeats, timeouts and reconnect backoff. */
  public SyncPolicy withLiveness(
      long heartbeatIntervalMs,
      long heartbeatTimeoutMs,
      long connectTimeoutMs,
      long handshakeTimeoutMs,
      long backoffInitialMs,
      long backoffMaxMs) {
    return toBuilder()
        .heartbeatIntervalMs(heartbeatIntervalMs)
        .heartbeatTimeoutMs(heartbeatTimeoutMs)
        .connectTimeoutMs(connectTimeoutMs)
        .handshakeTimeoutMs(handshakeTimeoutMs)
        .backoffInitialMs(backoffInitialMs)
        .backoffMaxMs(backoffMaxMs)
        .build();
  }

  /** The same policy with other bandwidth settings. */
  public SyncPolicy withBandwidth(BandwidthPolicy b) {
    return toBuilder().bandwidth(b).build();
  }

  /** The same policy with another status interval (0: the edge reports no status). */
  public SyncPolicy withStatusInterval(long statusIntervalMs) {
    return toBuilder().statusIntervalMs(statusIntervalMs).build();
  }

  /**
   * Builds a {@link SyncPolicy} one setting at a time. Each setter rejects a value out of range at
   * once, with the same message as the record's constructor; {@link #build()} checks what relates
   * two settings ({@code heartbeatTimeoutMs} against {@code heartbeatIntervalMs}). Not thread safe.
   */
  public static final class Builder {
    private String deviceId;
    private String agentVersion;
    private boolean eventDriven;
    private long debounceMs;
    private boolean scheduled;
    private long intervalMs;
    private long batchMinRecords;
    private long batchMinBytes;
    private long batchMaxAgeMs;
    private int maxBatchRecords;
    private long maxBatchBytes;
    private int maxInFlightBatches;
    private long maxInFlightBytes;
    private long heartbeatIntervalMs;
    private long heartbeatTimeoutMs;
    private long connectTimeoutMs;
    private long handshakeTimeoutMs;
    private long backoffInitialMs;
    private long backoffMaxMs;
    private double backoffMultiplier;
    private BandwidthPolicy bandwidth;
    private long statusIntervalMs;

    private Builder(SyncPolicy p) {
      deviceId = p.deviceId;
      agentVersion = p.agentVersion;
      eventDriven = p.eventDriven;
      debounceMs = p.debounceMs;
      scheduled = p.scheduled;
      intervalMs = p.intervalMs;
      batchMinRecords = p.batchMinRecords;
      batchMinBytes = p.batchMinBytes;
      batchMaxAgeMs = p.batchMaxAgeMs;
      maxBatchRecords = p.maxBatchRecords;
      maxBatchBytes = p.maxBatchBytes;
      maxInFlightBatches = p.maxInFlightBatches;
      maxInFlightBytes = p.maxInFlightBytes;
      heartbeatIntervalMs = p.heartbeatIntervalMs;
      heartbeatTimeoutMs = p.heartbeatTimeoutMs;
      connectTimeoutMs = p.connectTimeoutMs;
      handshakeTimeoutMs = p.handshakeTimeoutMs;
      backoffInitialMs = p.backoffInitialMs;
      backoffMaxMs = p.backoffMaxMs;
      backoffMultiplier = p.backoffMultiplier;
      bandwidth = p.bandwidth;
      statusIntervalMs = p.statusIntervalMs;
    }

    public Builder deviceId(String deviceId) {
      this.deviceId = deviceId;
      return this;
    }

    public Builder agentVersion(String agentVersion) {
      this.agentVersion = agentVersion;
      return this;
    }

    public Builder eventDriven(boolean eventDriven) {
      this.eventDriven = eventDriven;
      return this;
    }

    public Builder debounceMs(long debounceMs) {
      this.debounceMs = requirePositive("debounceMs", debounceMs);
      return this;
    }

    public Builder scheduled(boolean scheduled) {
      this.scheduled = scheduled;
      return this;
    }

    public Builder intervalMs(long intervalMs) {
      this.intervalMs = requirePositive("intervalMs", intervalMs);
      return this;
    }

    public Builder batchMinRecords(long batchMinRecords) {
      this.batchMinRecords = requirePositive("batchMinRecords", batchMinRecords);
      return this;
    }

    public Builder batchMinBytes(long batchMinBytes) {
      this.batchMinBytes = requirePositive("batchMinBytes", batchMinBytes);
      return this;
    }

    public Builder batchMaxAgeMs(long batchMaxAgeMs) {
      this.batchMaxAgeMs = requirePositive("batchMaxAgeMs", batchMaxAgeMs);
      return this;
    }

    public Builder maxBatchRecords(int maxBatchRecords) {
      this.maxBatchRecords = (int) requirePositive("maxBatchRecords", maxBatchRecords);
      return this;
    }

    public Builder maxBatchBytes(long maxBatchBytes) {
      this.maxBatchBytes = requirePositive("maxBatchBytes", maxBatchBytes);
      return this;
    }

    public Builder maxInFlightBatches(int maxInFlightBatches) {
      this.maxInFlightBatches = (int) requirePositive("maxInFlightBatches", maxInFlightBatches);
      return this;
    }

    public Builder maxInFlightBytes(long maxInFlightBytes) {
      this.maxInFlightBytes = requirePositive("maxInFlightBytes", maxInFlightBytes);
      return this;
    }

    public Builder heartbeatIntervalMs(long heartbeatIntervalMs) {
      this.heartbeatIntervalMs = requirePositive("heartbeatIntervalMs", heartbeatIntervalMs);
      return this;
    }

    /** Must exceed {@code heartbeatIntervalMs}; checked by {@link #build()}. */
    public Builder heartbeatTimeoutMs(long heartbeatTimeoutMs) {
      this.heartbeatTimeoutMs = heartbeatTimeoutMs;
      return this;
    }

    public Builder connectTimeoutMs(long connectTimeoutMs) {
      this.connectTimeoutMs = requirePositive("connectTimeoutMs", connectTimeoutMs);
      return this;
    }

    public Builder handshakeTimeoutMs(long handshakeTimeoutMs) {
      this.handshakeTimeoutMs = requirePositive("handshakeTimeoutMs", handshakeTimeoutMs);
      return this;
    }

    /** Checked by {@link Backoff} when the engine is built, as before the builder. */
    public Builder backoffInitialMs(long backoffInitialMs) {
      this.backoffInitialMs = backoffInitialMs;
      return this;
    }

    public Builder backoffMaxMs(long backoffMaxMs) {
      this.backoffMaxMs = backoffMaxMs;
      return this;
    }

    public Builder backoffMultiplier(double backoffMultiplier) {
      this.backoffMultiplier = backoffMultiplier;
      return this;
    }

    public Builder bandwidth(BandwidthPolicy bandwidth) {
      this.bandwidth = java.util.Objects.requireNonNull(bandwidth, "bandwidth");
      return this;
    }

    /** 0 (off) or {@value #MIN_STATUS_INTERVAL_MS}..{@value #MAX_STATUS_INTERVAL_MS} ms. */
    public Builder statusIntervalMs(long statusIntervalMs) {
      this.statusIntervalMs = requireStatusInterval(statusIntervalMs);
      return this;
    }

    /** The policy; throws IllegalArgumentException if two settings contradict each other. */
    public SyncPolicy build() {
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
          bandwidth,
          statusIntervalMs);
    }
  }

  private static long requireStatusInterval(long ms) {
    if (ms != 0 && (ms < MIN_STATUS_INTERVAL_MS || ms > MAX_STATUS_INTERVAL_MS)) {
      throw new IllegalArgumentException(
          "statusIntervalMs must be 0 (off) or "
              + MIN_STATUS_INTERVAL_MS
              + ".."
              + MAX_STATUS_INTERVAL_MS
              + " ms, was "
              + ms);
    }
    return ms;
  }

  private static long requirePositive(String name, long value) {
    if (value <= 0) {
      throw new IllegalArgumentException(name + " must be > 0, was " + value);
    }
    return value;
  }
}
