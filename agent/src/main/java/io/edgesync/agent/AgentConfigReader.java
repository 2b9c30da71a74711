package io.edgesync.agent;

import io.edgesync.agent.AgentConfig.BriefSettings;
import io.edgesync.agent.AgentConfig.DocumentSettings;
import io.edgesync.agent.AgentConfig.TlsFiles;
import io.edgesync.engine.edge.SyncPolicy;
import io.edgesync.engine.link.BandwidthPolicy;
import io.edgesync.protocol.ProtocolLimits;
import io.edgesync.protocol.codec.CodecSettings;
import io.edgesync.support.ConfigException;
import io.edgesync.support.ConfigNode;
import java.net.URI;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads an {@link AgentConfig} from its YAML tree, one method per section, in the order of the
 * file, so that the first error reported is the first in the file. Errors name the key, the bad
 * value and what is allowed (docs/configuration.md has every key).
 */
final class AgentConfigReader {
  private static final String[] STRATEGIES = {
    "last_write_wins", "cloud_wins", "edge_wins", "merge", "manual", "custom"
  };

  private AgentConfigReader() {}

  // ---------------------------------------------------------------- reading a config file
  // One method per section, called in the order of the file so that the first error reported is
  // the same one as always.

  /** {@code sync.directions}: what goes up (with its streams' priorities) and what comes down. */
  private record Directions(
      boolean upEnabled,
      int upPriority,
      Map<String, Integer> priorities,
      String upConflict,
      List<String> downTypes,
      String downConflict) {}

  /** {@code sync.strategies}. */
  private record Strategies(
      boolean eventDriven,
      long debounceMs,
      boolean scheduledOn,
      long intervalMinutes,
      boolean onDemandOn,
      List<String> triggerTypes) {}

  /** {@code sync.conflict_resolution}. */
  private record Conflict(
      String strategy, String mergeFunction, boolean autoResolve, boolean flagForReview) {}

  /** {@code sync.offline}. */
  private record Offline(boolean enabled, Path dataDir, long queueMax, long maxOfflineHours) {}

  /** {@code sync.bandwidth}. */
  private record Bandwidth(
      String compression,
      CodecSettings codec,
      boolean deltaSync,
      boolean dedup,
      boolean adaptive,
      long minKbps,
      long dailyBudget) {}

  /** {@code queue}. */
  private record Queue(
      String overflow,
      long maxBytes,
      long blockTimeoutMs,
      long expiryCheckMs,
      int undeclaredPriority,
      String durability) {}

  private static final String[] TUNING_KEYS = {
    "batch_min_records",
    "batch_min_bytes",
    "batch_max_age_ms",
    "max_batch_records",
    "max_batch_bytes",
    "max_in_flight_batches",
    "max_in_flight_bytes",
    "heartbeat_interval_ms",
    "heartbeat_timeout_ms",
    "backoff_initial_ms",
    "backoff_max_ms",
    "low_bandwidth_max_priority",
    "dictionary_max_batch_records",
    "status_interval_ms"
  };

  static AgentConfig from(ConfigNode root) {
    root.allowOnly(
        "device",
        "server",
        "sync",
        "streams",
        "queue",
        "local_api",
        "tuning",
        "documents",
        "tls",
        "storage",
        "files",
        "mqtt");
    String deviceId = deviceId(root.section("device"));
    URI serverUrl = serverUrl(root.section("server"));
    ConfigNode sync =
        root.section("sync")
            .allowOnly(
                "directions",
                "strategies",
                "conflict_resolution",
                "offline",
                "bandwidth",
                "monitoring");
    Directions directions = directions(sync.section("directions"));
    Strategies strategies = strategies(sync.section("strategies"));
    Conflict conflict = conflict(sync.section("conflict_resolution"));
    Offline offline = offline(sync.section("offline"));
    Bandwidth bandwidth = bandwidth(sync.section("bandwidth"));
    monitoring(sync.section("monitoring"));
    // Our extensions.
    Map<String, Integer> priorities = directions.priorities();
    Map<String, Integer> dedupWindows =
        streams(root.section("streams"), priorities, directions.upPriority());
    Queue queue = queue(root.section("queue"));
    SyncPolicy policy = syncPolicy(root.section("tuning"), deviceId, strategies, bandwidth);
    OutboxLimits limits = outboxLimits(offline, queue);
    ConfigNode localApi = root.section("local_api").allowOnly("port", "token_file");
    int port = (int) localApi.integer("port", 8471, -1, 65_535, "TCP port; 0 = any, -1 = off");
    String tokenFile = localApi.string("token_file", "");
    TlsFiles tls = tls(root.section("tls"), serverUrl);
    return new AgentConfig(
        deviceId,
        serverUrl,
        offline.dataDir(),
        Map.copyOf(priorities),
        queue.undeclaredPriority(),
        directions.upEnabled(),
        offline.enabled(),
        strategies.onDemandOn(),
        limits,
        policy,
        port,
        new BriefSettings(
            directions.downTypes(),
            directions.upConflict(),
            directions.downConflict(),
            conflict.strategy(),
            conflict.mergeFunction(),
            conflict.autoResolve(),
            conflict.flagForReview(),
            bandwidth.compression(),
            bandwidth.deltaSync(),
            bandwidth.dedup(),
            bandwidth.adaptive(),
            bandwidth.minKbps(),
            strategies.triggerTypes()),
        documents(root.section("documents"), directions.downTypes()),
        Map.copyOf(dedupWindows),
        tls,
        storageKeyFile(root.section("storage")),
        tokenFile.isBlank() ? null : Path.of(tokenFile),
        FilesConfigReader.files(root.section("files"), offline.dataDir()),
        MqttConfigReader.mqtt(root.section("mqtt")));
  }

  /**
   * {@code tls}: the three files, and only with a {@code wss://} server. The certificate and key
   * must exist unless {@code enrollment_token_file} names an existing token to enroll with.
   */
  private static TlsFiles tls(ConfigNode node, URI serverUrl) {
    if (!node.isPresent()) {
      return null;
    }
    ConfigNode tls = node.allowOnly("cert_file", "key_file", "ca_file", "enrollment_token_file");
    String tokenValue = tls.string("enrollment_token_file", null);
    Path token = tokenValue == null ? null : Path.of(tokenValue);
    String certWhat = "this device's certificate (PEM)";
    String keyWhat = "this device's private key (PEM)";
    // Without a token both must exist; with one they are made by enrollment if they do not.
    Path cert =
        token == null
            ? existingFile(tls, "cert_file", certWhat)
            : configuredFile(tls, "cert_file", certWhat);
    Path key =
        token == null
            ? existingFile(tls, "key_file", keyWhat)
            : configuredFile(tls, "key_file", keyWhat);
    Path ca = existingFile(tls, "ca_file", "the CA certificate the server's must chain to (PEM)");
    if (!"wss".equals(serverUrl.getScheme())) {
      throw tls.error(
          "cert_file", "TLS files are set but server.url is '" + serverUrl + "'; use wss://");
    }
    TlsFiles files = new TlsFiles(cert, key, ca, token);
    if (files.needsEnrollment()) {
      if (!java.nio.file.Files.isRegularFile(token)) {
        throw tls.error(
            "enrollment_token_file",
            "no such file: '"
                + tokenValue
                + "'; this device has no certificate yet and needs a token to enroll");
      }
    }
    return files;
  }

  private static Path configuredFile(ConfigNode node, String key, String what) {
    String value = node.string(key, null);
    if (value == null) {
      throw node.error(key, "required: " + what);
    }
    return Path.of(value);
  }

  private static Path existingFile(ConfigNode node, String key, String what) {
    String value = node.string(key, null);
    if (value == null) {
      throw node.error(key, "required: " + what);
    }
    Path file = Path.of(value);
    if (!java.nio.file.Files.isRegularFile(file)) {
      throw node.error(key, "no such file: '" + value + "'");
    }
    return file;
  }

  /** {@code storage.encryption.key_file}, or null. */
  private static Path storageKeyFile(ConfigNode node) {
    ConfigNode encryption = node.allowOnly("encryption").section("encryption");
    encryption.allowOnly("key_file");
    String keyFile = encryption.string("key_file", "");
    return keyFile.isBlank() ? null : Path.of(keyFile);
  }

  private static String deviceId(ConfigNode node) {
    ConfigNode device = node.allowOnly("id");
    String deviceId = device.string("id", null);
    if (deviceId == null) {
      throw device.error("id", "required: the device's id, e.g. gw-0042");
    }
    if (!ProtocolLimits.isValidDeviceId(deviceId)) {
      throw device.error(
          "id",
          "'"
              + deviceId
              + "' is not a valid device id; allowed: "
              + ProtocolLimits.DEVICE_ID_PATTERN);
    }
    return deviceId;
  }

  private static URI serverUrl(ConfigNode node) {
    ConfigNode server = node.allowOnly("url");
    String url = server.string("url", "ws://localhost:8470/v1/sync");
    URI serverUrl;
    try {
      serverUrl = URI.create(url);
    } catch (IllegalArgumentException e) {
      throw server.error("url", "'" + url + "' is not a URL: " + e.getMessage());
    }
    if (!"ws".equals(serverUrl.getScheme()) && !"wss".equals(serverUrl.getScheme())) {
      throw server.error("url", "'" + url + "' must start with ws:// or wss://");
    }
    if (serverUrl.getHost() == null) {
      throw server.error(
          "url", "'" + url + "' names no host; expected ws://host[:port]/path or wss://...");
    }
    return serverUrl;
  }

  private static Directions directions(ConfigNode node) {
    ConfigNode directions = node.allowOnly("edge_to_cloud", "cloud_to_edge");
    ConfigNode up =
        directions
            .section("edge_to_cloud")
            .allowOnly("enabled", "data_types", "priority", "conflict_resolution");
    ConfigNode down =
        directions
            .section("cloud_to_edge")
            .allowOnly("enabled", "data_types", "priority", "conflict_resolution");
    boolean upEnabled = up.bool("enabled", true);
    int upPriority = (int) up.integer("priority", 1, 0, 1000, "lower = more important");
    Map<String, Integer> priorities = new LinkedHashMap<>();
    for (String type : up.strings("data_types", List.of())) {
      checkStreamName(up, "data_types", type);
      priorities.put(type, upPriority);
    }
    String upConflict = up.choice("conflict_resolution", "last_write_wins", STRATEGIES);
    down.bool("enabled", true);
    down.integer("priority", 1, 0, 1000, "lower = more important");
    List<String> downTypes = down.strings("data_types", List.of());
    String downConflict = down.choice("conflict_resolution", "cloud_wins", STRATEGIES);
    return new Directions(upEnabled, upPriority, priorities, upConflict, downTypes, downConflict);
  }

  private static Strategies strategies(ConfigNode node) {
    ConfigNode strategies = node.allowOnly("event_driven", "scheduled", "on_demand");
    ConfigNode event = strategies.section("event_driven").allowOnly("enabled", "debounce_ms");
    ConfigNode scheduled = strategies.section("scheduled").allowOnly("enabled", "interval_minutes");
    ConfigNode onDemand = strategies.section("on_demand").allowOnly("enabled", "trigger_types");
    boolean eventDriven = event.bool("enabled", true);
    long debounceMs = event.integer("debounce_ms", 1000, 1, 86_400_000, "milliseconds");
    boolean scheduledOn = scheduled.bool("enabled", true);
    long intervalMinutes = scheduled.integer("interval_minutes", 5, 1, 10_080, "minutes");
    boolean onDemandOn = onDemand.bool("enabled", true);
    List<String> triggerTypes =
        onDemand.strings("trigger_types", List.of("manual"), "manual", "config_change");
    return new Strategies(
        eventDriven, debounceMs, scheduledOn, intervalMinutes, onDemandOn, triggerTypes);
  }

  private static Conflict conflict(ConfigNode node) {
    ConfigNode conflict =
        node.allowOnly("strategy", "merge_function", "auto_resolve", "flag_for_review");
    String strategy = conflict.choice("strategy", "last_write_wins", STRATEGIES);
    String mergeFunction =
        conflict.choice("merge_function", "timestamp", "timestamp", "custom", "manual");
    boolean autoResolve = conflict.bool("auto_resolve", true);
    boolean flagForReview = conflict.bool("flag_for_review", false);
    return new Conflict(strategy, mergeFunction, autoResolve, flagForReview);
  }

  private static Offline offline(ConfigNode node) {
    ConfigNode offline =
        node.allowOnly("enabled", "local_storage_path", "queue_max_size", "max_offline_hours");
    boolean offlineOn = offline.bool("enabled", true);
    String storagePath = offline.string("local_storage_path", "/var/lib/edge_sync");
    if (storagePath.isBlank()) {
      throw offline.error(
          "local_storage_path", "is empty; expected the directory for the outbox file");
    }
    Path dataDir = Path.of(storagePath);
    // Unset, the count bound is far away and queue.max_bytes decides: the brief's 10000 would be
    // full after 17 minutes at 10 records/s. A value the user sets is kept as written.
    long queueMax =
        offline.integer(
            "queue_max_size", OutboxLimits.DEFAULT_MAX_QUEUE_RECORDS, 1, 1_000_000_000L, "records");
    long maxOfflineHours = offline.integer("max_offline_hours", 168, 1, 87_600, "hours");
    return new Offline(offlineOn, dataDir, queueMax, maxOfflineHours);
  }

  private static Bandwidth bandwidth(ConfigNode node) {
    ConfigNode bandwidth =
        node.allowOnly(
            "delta_sync",
            "compression",
            "deduplication",
            "adaptive_sync",
            "min_bandwidth_kbps",
            "daily_budget_bytes");
    String compression = bandwidth.string("compression", "auto");
    CodecSettings codec;
    try {
      codec = CodecSettings.parse(compression);
    } catch (IllegalArgumentException e) {
      throw bandwidth.error(
          "compression",
          "'"
              + compression
              + "' is not allowed; allowed: none, gzip, lzma, zstd, auto (optionally"
              + " with a level, e.g. zstd:9): "
              + e.getMessage());
    }
    boolean deltaSync = bandwidth.bool("delta_sync", true);
    boolean dedup = bandwidth.bool("deduplication", true);
    boolean adaptive = bandwidth.bool("adaptive_sync", true);
    long minKbps = bandwidth.integer("min_bandwidth_kbps", 0, 0, 10_000_000, "kbit/s");
    long dailyBudget =
        bandwidth.integer("daily_budget_bytes", 0, 0, 1L << 50, "bytes per UTC day; 0 = none");
    return new Bandwidth(compression, codec, deltaSync, dedup, adaptive, minKbps, dailyBudget);
  }

  /** {@code sync.monitoring}: accepted and checked; the agent always reports all of it. */
  private static void monitoring(ConfigNode node) {
    ConfigNode monitoring =
        node.allowOnly(
            "sync_metrics", "conflict_tracking", "bandwidth_monitoring", "alert_on_failure");
    monitoring.bool("sync_metrics", true);
    monitoring.bool("conflict_tracking", true);
    monitoring.bool("bandwidth_monitoring", true);
    monitoring.bool("alert_on_failure", true);
  }

  /**
   * {@code streams}: per stream, a priority (into {@code priorities}, default the edge_to_cloud
   * one) and a dedup window; returns the windows of the streams that declare one.
   */
  private static Map<String, Integer> streams(
      ConfigNode streams, Map<String, Integer> priorities, int upPriority) {
    Map<String, Integer> dedupWindows = new LinkedHashMap<>();
    for (Map.Entry<String, ConfigNode> e : streams.children().entrySet()) {
      checkStreamName(streams, e.getKey(), e.getKey());
      ConfigNode s = e.getValue().allowOnly("priority", "dedup_window");
      int window =
          (int)
              s.integer(
                  "dedup_window", 0, 0, 100_000, "records compared with each append; 0 = off");
      if (window > 0) {
        dedupWindows.put(e.getKey(), window);
      }
      priorities.put(
          e.getKey(),
          (int)
              s.integer(
                  "priority",
                  priorities.getOrDefault(e.getKey(), upPriority),
                  0,
                  1000,
                  "lower = more important"));
    }
    return dedupWindows;
  }

  private static Queue queue(ConfigNode node) {
    ConfigNode queue =
        node.allowOnly(
            "overflow_policy",
            "max_bytes",
            "block_timeout_ms",
            "undeclared_stream_priority",
            "durability",
            "expiry_check_interval_ms");
    String overflow =
        queue.choice("overflow_policy", "drop_oldest", "drop_oldest", "reject", "block");
    long maxBytes =
        queue.integer("max_bytes", OutboxLimits.DEFAULT_MAX_QUEUE_BYTES, 1024, 1L << 42, "bytes");
    long blockTimeoutMs = queue.integer("block_timeout_ms", 30_000, 0, 3_600_000, "milliseconds");
    long expiryCheckMs =
        queue.integer("expiry_check_interval_ms", 60_000, 10, 86_400_000, "milliseconds");
    int undeclaredPriority =
        (int) queue.integer("undeclared_stream_priority", 10, 0, 1000, "lower = more important");
    String durability = queue.choice("durability", "full", "full", "normal");
    return new Queue(
        overflow, maxBytes, blockTimeoutMs, expiryCheckMs, undeclaredPriority, durability);
  }

  /** {@code tuning}, with the strategies and bandwidth sections, as the engine's policy. */
  private static SyncPolicy syncPolicy(
      ConfigNode node, String deviceId, Strategies strategies, Bandwidth bandwidth) {
    ConfigNode tuning = node.allowOnly(TUNING_KEYS);
    SyncPolicy d = SyncPolicy.defaults(deviceId);
    long hbInterval =
        tuning.integer("heartbeat_interval_ms", d.heartbeatIntervalMs(), 100, 3_600_000, "ms");
    long hbTimeout =
        tuning.integer("heartbeat_timeout_ms", d.heartbeatTimeoutMs(), 200, 3_600_000, "ms");
    if (hbTimeout <= hbInterval) {
      throw tuning.error(
          "heartbeat_timeout_ms",
          hbTimeout + " must be greater than heartbeat_interval_ms (" + hbInterval + ")");
    }
    long backoffInitial =
        tuning.integer("backoff_initial_ms", d.backoffInitialMs(), 1, 3_600_000, "ms");
    long backoffMax = tuning.integer("backoff_max_ms", d.backoffMaxMs(), 1, 86_400_000, "ms");
    if (backoffMax < backoffInitial) {
      throw tuning.error(
          "backoff_max_ms", backoffMax + " is below backoff_initial_ms (" + backoffInitial + ")");
    }
    long batchMinRecords =
        tuning.integer("batch_min_records", d.batchMinRecords(), 1, 10_000_000, "records");
    long batchMinBytes = tuning.integer("batch_min_bytes", d.batchMinBytes(), 1, 1L << 34, "bytes");
    long batchMaxAgeMs = tuning.integer("batch_max_age_ms", d.batchMaxAgeMs(), 1, 86_400_000, "ms");
    int maxBatchRecords =
        (int)
            tuning.integer(
                "max_batch_records",
                d.maxBatchRecords(),
                1,
                ProtocolLimits.DEFAULT_MAX_RECORDS_PER_BATCH,
                "records");
    long maxBatchBytes =
        tuning.integer(
            "max_batch_bytes",
            d.maxBatchBytes(),
            1024,
            ProtocolLimits.MAX_FRAME_BYTES_CEILING / 2,
            "bytes");
    int maxInFlightBatches =
        (int) tuning.integer("max_in_flight_batches", d.maxInFlightBatches(), 1, 1024, "batches");
    long maxInFlightBytes =
        tuning.integer("max_in_flight_bytes", d.maxInFlightBytes(), 1024, 1L << 32, "bytes");
    long statusIntervalMs =
        tuning.integer(
            "status_interval_ms",
            SyncPolicy.DEFAULT_STATUS_INTERVAL_MS,
            0,
            SyncPolicy.MAX_STATUS_INTERVAL_MS,
            "ms; 0 = no status reports");
    if (statusIntervalMs != 0 && statusIntervalMs < SyncPolicy.MIN_STATUS_INTERVAL_MS) {
      throw tuning.error(
          "status_interval_ms",
          statusIntervalMs
              + " is below "
              + SyncPolicy.MIN_STATUS_INTERVAL_MS
              + " ms; use 0 for no status reports");
    }
    return new SyncPolicy(
        deviceId,
        d.agentVersion(),
        strategies.eventDriven(),
        strategies.debounceMs(),
        strategies.scheduledOn(),
        strategies.intervalMinutes() * 60_000,
        batchMinRecords,
        batchMinBytes,
        batchMaxAgeMs,
        maxBatchRecords,
        maxBatchBytes,
        maxInFlightBatches,
        maxInFlightBytes,
        hbInterval,
        hbTimeout,
        d.connectTimeoutMs(),
        d.handshakeTimeoutMs(),
        backoffInitial,
        backoffMax,
        d.backoffMultiplier(),
        bandwidthPolicy(tuning, bandwidth),
        statusIntervalMs);
  }

  /** The bandwidth section with its two {@code tuning} settings, read after the others. */
  private static BandwidthPolicy bandwidthPolicy(ConfigNode tuning, Bandwidth bandwidth) {
    return BandwidthPolicy.defaults()
        .withCompression(bandwidth.codec())
        .withAdaptive(
            bandwidth.adaptive(),
            bandwidth.minKbps(),
            (int)
                tuning.integer(
                    "low_bandwidth_max_priority",
                    1,
                    0,
                    1000,
                    "the least important priority sent below min_bandwidth_kbps"))
        .withDailyBudget(bandwidth.dailyBudget())
        .withDictionaryMaxBatchRecords(
            (int)
                tuning.integer(
                    "dictionary_max_batch_records",
                    BandwidthPolicy.DEFAULT_DICTIONARY_MAX_BATCH_RECORDS,
                    0,
                    ProtocolLimits.DEFAULT_MAX_RECORDS_PER_BATCH,
                    "records; stateless zstd batches up to this size use the stream's"
                        + " trained dictionary, 0 = never"));
  }

  private static OutboxLimits outboxLimits(Offline offline, Queue queue) {
    OutboxLimits defaults = OutboxLimits.defaults();
    return new OutboxLimits(
        offline.queueMax(),
        queue.maxBytes(),
        offline.maxOfflineHours() * 3_600_000,
        OverflowPolicy.valueOf(queue.overflow().toUpperCase()),
        queue.blockTimeoutMs(),
        queue.expiryCheckMs(),
        defaults.maxGroupRecords(),
        defaults.maxPendingAppends(),
        queue.durability().equals("full"));
  }

  private static DocumentSettings documents(ConfigNode node, List<String> downTypes) {
    node.allowOnly("collections", "max_document_bytes", "max_clock_drift_ms");
    java.util.Set<String> collections = new java.util.TreeSet<>();
    for (String c : downTypes) {
      if (!c.equals("commands")) {
        checkStreamName(node, "collections", c);
        collections.add(c);
      }
    }
    for (String c : node.strings("collections", List.of())) {
      if (!ProtocolLimits.isValidCollection(c)) {
        throw new ConfigException(
            node.path() + ".collections",
            "'"
                + c
                + "' is not a valid collection name; allowed: "
                + ProtocolLimits.COLLECTION_PATTERN);
      }
      collections.add(c);
    }
    if (collections.isEmpty()) {
      // What a server without a documents section serves (the brief's cloud_to_edge types).
      collections.addAll(List.of("config", "firmware"));
    }
    return new DocumentSettings(
        java.util.Set.copyOf(collections),
        (int)
            node.integer(
                "max_document_bytes",
                ProtocolLimits.DEFAULT_MAX_DOCUMENT_BYTES,
                2,
                ProtocolLimits.MAX_DOCUMENT_BYTES_CEILING,
                "bytes"),
        node.integer("max_clock_drift_ms", 300_000, 1, 86_400_000L * 365, "ms"));
  }

  private static void checkStreamName(ConfigNode at, String key, String name) {
    if (!ProtocolLimits.isValidStreamName(name)) {
      throw new ConfigException(
          at.path() + "." + key,
          "'"
              + name
              + "' is not a valid stream name; allowed: "
              + ProtocolLimits.STREAM_NAME_PATTERN);
    }
  }
}
