package io.edgesync.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.edgesync.protocol.ProtocolLimits;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Loading the agent's YAML: the brief's block as written, and clear errors for bad input. */
class AgentConfigTest {
  /** The {@code sync:} block of the brief, section "Configuration Essentials", verbatim. */
  private static final String BRIEF =
      """
      # Edge cloud sync configuration
      sync:
        # Sync direction
        directions:
          edge_to_cloud:
            enabled: true
            data_types: ["sensor_data", "logs", "events"]
            priority: 1
            conflict_resolution: "last_write_wins"

          cloud_to_edge:
            enabled: true
            data_types: ["config", "firmware", "commands"]
            priority: 1
            conflict_resolution: "cloud_wins"

        # Sync strategies
        strategies:
          event_driven:
            enabled: true
            debounce_ms: 1000

          scheduled:
            enabled: true
            interval_minutes: 5

          on_demand:
            enabled: true
            trigger_types: ["manual", "config_change"]

        # Conflict resolution
        conflict_resolution:
          strategy: "last_write_wins"  # last_write_wins, cloud_wins, merge, manual
          merge_function: "timestamp"  # timestamp, custom, manual
          auto_resolve: true
          flag_for_review: false

        # Offline support
        offline:
          enabled: true
          local_storage_path: "/var/lib/edge_sync"
          queue_max_size: 10000
          max_offline_hours: 168  # 7 days

        # Bandwidth optimization
        bandwidth:
          delta_sync: true
          compression: "gzip"  # none, gzip, lzma, zstd
          deduplication: true
          adaptive_sync: true
          min_bandwidth_kbps: 100  # throttle below this

        # Monitoring
        monitoring:
          sync_metrics: true
          conflict_tracking: true
          bandwidth_monitoring: true
          alert_on_failure: true
      """;

  private static final String DEVICE = "device: {id: gw-1}\n";

  @TempDir Path dir;

  @Test
  void briefSyncBlock_loadsAsWritten() {
    AgentConfig config = AgentConfig.fromYaml(BRIEF + DEVICE);

    assertThat(config.deviceId()).isEqualTo("gw-1");
    assertThat(config.serverUrl()).isEqualTo(URI.create("ws://localhost:8470/v1/sync"));
    assertThat(config.streamPriorities())
        .isEqualTo(Map.of("sensor_data", 1, "logs", 1, "events", 1));
    assertThat(config.syncEnabled()).isTrue();
    assertThat(config.offlineBuffering()).isTrue();
    assertThat(config.onDemandEnabled()).isTrue();
    assertThat(config.sync().eventDriven()).isTrue();
    assertThat(config.sync().debounceMs()).isEqualTo(1000);
    assertThat(config.sync().scheduled()).isTrue();
    assertThat(config.sync().intervalMs()).isEqualTo(5 * 60_000);
    assertThat(config.outbox().maxQueueRecords()).isEqualTo(10_000);
    assertThat(config.outbox().maxRecordAgeMs()).isEqualTo(168L * 3_600_000);
    assertThat(config.dataDir()).isEqualTo(Path.of("/var/lib/edge_sync"));
    assertThat(config.brief())
        .isEqualTo(
            new AgentConfig.BriefSettings(
                List.of("config", "firmware", "commands"),
                "last_write_wins",
                "cloud_wins",
                "last_write_wins",
                "timestamp",
                true,
                false,
                "gzip",
                true,
                true,
                true,
                100,
                List.of("manual", "config_change")));
  }

  @Test
  void briefSyncBlock_loadsFromAFile() throws Exception {
    Path file = dir.resolve("agent.yaml");
    Files.writeString(file, BRIEF + DEVICE);

    AgentConfig config = AgentConfig.load(file);

    assertThat(config).isEqualTo(AgentConfig.fromYaml(BRIEF + DEVICE));
  }

  @Test
  void briefKeys_mapOntoStreamsTriggersAndOutboxLimits() {
    // The brief's values equal the defaults, so change each one to see it is really read.
    String yaml =
        BRIEF
                .replaceFirst("priority: 1", "priority: 3")
                .replace(
                    "event_driven:\n      enabled: true", "event_driven:\n      enabled: false")
                .replace("debounce_ms: 1000", "debounce_ms: 250")
                .replace("scheduled:\n      enabled: true", "scheduled:\n      enabled: false")
                .replace("interval_minutes: 5", "interval_minutes: 15")
                .replace("on_demand:\n      enabled: true", "on_demand:\n      enabled: false")
                .replace("queue_max_size: 10000", "queue_max_size: 500")
                .replace("max_offline_hours: 168", "max_offline_hours: 2")
                .replace("\"/var/lib/edge_sync\"", "\"/data/edge\"")
                .replace("offline:\n    enabled: true", "offline:\n    enabled: false")
            + DEVICE;

    AgentConfig config = AgentConfig.fromYaml(yaml);

    assertThat(config.streamPriorities())
        .isEqualTo(Map.of("sensor_data", 3, "logs", 3, "events", 3));
    assertThat(config.sync().eventDriven()).isFalse();
    assertThat(config.sync().debounceMs()).isEqualTo(250);
    assertThat(config.sync().scheduled()).isFalse();
    assertThat(config.sync().intervalMs()).isEqualTo(15 * 60_000);
    assertThat(config.onDemandEnabled()).isFalse();
    assertThat(config.outbox().maxQueueRecords()).isEqualTo(500);
    assertThat(config.outbox().maxRecordAgeMs()).isEqualTo(2 * 3_600_000);
    assertThat(config.dataDir()).isEqualTo(Path.of("/data/edge"));
    assertThat(config.offlineBuffering()).isFalse();
  }

  @Test
  void extensionKeys_setStreamPrioritiesQueuePolicyAndLocalApi() {
    String yaml =
        BRIEF
            + DEVICE
            + """
            server: {url: "wss://cloud.example.com/v1/sync"}
            streams:
              alarms: {priority: 0}
              logs: {priority: 7}
            queue:
              overflow_policy: block
              max_bytes: 4096
              block_timeout_ms: 1500
              undeclared_stream_priority: 20
              durability: normal
            local_api: {port: 0}
            """;

    AgentConfig config = AgentConfig.fromYaml(yaml);

    assertThat(config.serverUrl()).isEqualTo(URI.create("wss://cloud.example.com/v1/sync"));
    assertThat(config.streamPriorities())
        .isEqualTo(Map.of("sensor_data", 1, "logs", 7, "events", 1, "alarms", 0));
    assertThat(config.undeclaredStreamPriority()).isEqualTo(20);
    assertThat(config.outbox().overflowPolicy()).isEqualTo(OverflowPolicy.BLOCK);
    assertThat(config.outbox().maxQueueBytes()).isEqualTo(4096);
    assertThat(config.outbox().blockTimeoutMs()).isEqualTo(1500);
    assertThat(config.outbox().fullSync()).isFalse();
    assertThat(config.localApiPort()).isZero();
  }

  @Test
  void queueMaxSize_unsetLeavesTheByteBoundInCharge_setIsKeptAsWritten() {
    // Regression: the unset default was 10000 records, full after 17 minutes at 10 records/s.
    OutboxLimits unset = AgentConfig.fromYaml(DEVICE).outbox();
    OutboxLimits set =
        AgentConfig.fromYaml(DEVICE + "sync: {offline: {queue_max_size: 10000}}\n").outbox();

    long weekAt10PerSec = 10L * 168 * 3600;
    assertThat(unset.maxQueueRecords()).isGreaterThan(weekAt10PerSec);
    assertThat(unset.maxQueueBytes() / 150).as("150-byte records").isGreaterThan(weekAt10PerSec);
    assertThat(set.maxQueueRecords()).isEqualTo(10_000);
    assertThat(set.maxQueueBytes()).isEqualTo(unset.maxQueueBytes());
  }

  @Test
  void minimalConfig_needsOnlyTheDeviceId_andUsesDocumentedDefaults() {
    AgentConfig config = AgentConfig.fromYaml(DEVICE);

    assertThat(config.streamPriorities()).isEmpty();
    assertThat(config.sync().debounceMs()).isEqualTo(1000);
    assertThat(config.outbox().maxQueueRecords()).isEqualTo(10_000_000);
    assertThat(config.outbox().maxQueueBytes()).isEqualTo(1L << 30);
    assertThat(config.outbox().overflowPolicy()).isEqualTo(OverflowPolicy.DROP_OLDEST);
    assertThat(config.outbox().fullSync()).isTrue();
    assertThat(config.brief().compression()).isEqualTo("auto");
    assertThat(config.sync().bandwidth().compression())
        .isEqualTo(io.edgesync.protocol.codec.CodecSettings.auto());
    assertThat(config.sync().bandwidth().adaptive()).isTrue();
    assertThat(config.sync().bandwidth().minBandwidthKbps()).isZero();
    assertThat(config.sync().bandwidth().dailyBudgetBytes()).isZero();
    assertThat(config.sync().bandwidth().lowBandwidthMaxPriority()).isEqualTo(1);
    assertThat(config.sync().bandwidth().dictionaryMaxBatchRecords()).isEqualTo(32);
    assertThat(config.dedupWindows()).isEmpty();
    assertThat(config.brief().deduplication()).isTrue();
    assertThat(config.localApiPort()).isEqualTo(8471);
  }

  @Test
  void bandwidthKeys_reachTheEnginePolicy_andStreamsDeclareDedupWindows() {
    String yaml =
        BRIEF
                .replace("compression: \"gzip\"", "compression: \"zstd:9\"")
                .replace("adaptive_sync: true", "adaptive_sync: false")
                .replace("min_bandwidth_kbps: 100", "min_bandwidth_kbps: 256")
                .replace("bandwidth:", "bandwidth:\n    daily_budget_bytes: 50000000")
            + DEVICE
            + "tuning: {low_bandwidth_max_priority: 2, dictionary_max_batch_records: 10}\n"
            + "streams:\n  sensor_data: {priority: 1, dedup_window: 100}\n  logs: {priority: 5}\n";

    AgentConfig config = AgentConfig.fromYaml(yaml);

    var b = config.sync().bandwidth();
    assertThat(b.compression().choice())
        .isEqualTo(io.edgesync.protocol.codec.CodecSettings.Choice.ZSTD);
    assertThat(b.compression().level()).isEqualTo(9);
    assertThat(b.adaptive()).isFalse();
    assertThat(b.minBandwidthKbps()).isEqualTo(256);
    assertThat(b.dailyBudgetBytes()).isEqualTo(50_000_000);
    assertThat(b.lowBandwidthMaxPriority()).isEqualTo(2);
    assertThat(b.dictionaryMaxBatchRecords()).isEqualTo(10);
    assertThat(config.dedupWindows()).isEqualTo(Map.of("sensor_data", 100));
    assertThat(config.streamPriorities()).containsEntry("logs", 5);
  }

  static Stream<Arguments> invalidConfigs() {
    return Stream.of(
        Arguments.of(
            "unknown key (typo)",
            BRIEF.replace("debounce_ms:", "debounce_msec:") + DEVICE,
            "sync.strategies.event_driven.debounce_msec",
            List.of("unknown key", "debounce_ms, enabled")),
        Arguments.of(
            "unknown top-level key",
            BRIEF + DEVICE + "sever: {url: \"ws://x/v1/sync\"}\n",
            "sever",
            List.of("unknown key", "server")),
        Arguments.of(
            "wrong type: string for debounce_ms",
            BRIEF.replace("debounce_ms: 1000", "debounce_ms: \"fast\"") + DEVICE,
            "sync.strategies.event_driven.debounce_ms",
            List.of("\"fast\" (a string)", "expected an integer (milliseconds) in 1..86400000")),
        Arguments.of(
            "wrong type: quoted number for queue_max_size",
            BRIEF.replace("queue_max_size: 10000", "queue_max_size: \"10000\"") + DEVICE,
            "sync.offline.queue_max_size",
            List.of("\"10000\" (a string)", "expected an integer")),
        Arguments.of(
            "wrong type: string for a boolean",
            BRIEF.replace("auto_resolve: true", "auto_resolve: \"sometimes\"") + DEVICE,
            "sync.conflict_resolution.auto_resolve",
            List.of("\"sometimes\"", "expected true or false")),
        Arguments.of(
            "out of range: queue_max_size 0",
            BRIEF.replace("queue_max_size: 10000", "queue_max_size: 0") + DEVICE,
            "sync.offline.queue_max_size",
            List.of("0 is out of range", "1..1000000000 (records)")),
        Arguments.of(
            "out of range: negative max_offline_hours",
            BRIEF.replace("max_offline_hours: 168", "max_offline_hours: -5") + DEVICE,
            "sync.offline.max_offline_hours",
            List.of("-5 is out of range", "1..87600 (hours)")),
        Arguments.of(
            "bad enum: compression brotli",
            BRIEF.replace("compression: \"gzip\"", "compression: \"brotli\"") + DEVICE,
            "sync.bandwidth.compression",
            List.of("'brotli' is not allowed", "none, gzip, lzma, zstd")),
        Arguments.of(
            "compression level out of range",
            BRIEF.replace("compression: \"gzip\"", "compression: \"zstd:40\"") + DEVICE,
            "sync.bandwidth.compression",
            List.of("'zstd:40' is not allowed", "zstd level must be -7..22, was 40")),
        Arguments.of(
            "negative daily budget",
            BRIEF.replace("bandwidth:", "bandwidth:\n    daily_budget_bytes: -1") + DEVICE,
            "sync.bandwidth.daily_budget_bytes",
            List.of("-1 is out of range", "bytes per UTC day")),
        Arguments.of(
            "dedup window too large",
            BRIEF + DEVICE + "streams:\n  logs: {dedup_window: 1000000}\n",
            "streams.logs.dedup_window",
            List.of("1000000 is out of range", "0..100000")),
        Arguments.of(
            "unknown key under a stream",
            BRIEF + DEVICE + "streams:\n  logs: {dedupe_window: 10}\n",
            "streams.logs.dedupe_window",
            List.of("unknown key", "dedup_window, priority")),
        Arguments.of(
            "bad enum: conflict strategy",
            BRIEF.replace("strategy: \"last_write_wins\"", "strategy: \"newest_wins\"") + DEVICE,
            "sync.conflict_resolution.strategy",
            List.of("'newest_wins' is not allowed", "last_write_wins", "cloud_wins", "merge")),
        Arguments.of(
            "bad enum in a list: trigger type",
            BRIEF.replace("\"config_change\"", "\"cron\"") + DEVICE,
            "sync.strategies.on_demand.trigger_types[1]",
            List.of("'cron' is not allowed", "manual, config_change")),
        Arguments.of("missing device.id", BRIEF, "device.id", List.of("required", "device's id")),
        Arguments.of(
            "invalid device.id",
            BRIEF + "device: {id: \"gw 1\"}\n",
            "device.id",
            List.of("'gw 1'", ProtocolLimits.DEVICE_ID_PATTERN)),
        Arguments.of(
            "bad server url scheme",
            BRIEF + DEVICE + "server: {url: \"http://cloud.example.com/v1/sync\"}\n",
            "server.url",
            List.of("'http://cloud.example.com/v1/sync'", "ws://", "wss://")),
        Arguments.of(
            "tls without its files",
            BRIEF + DEVICE + "server: {url: \"wss://cloud.example.com/v1/sync\"}\ntls: {}\n",
            "tls.cert_file",
            List.of("required", "this device's certificate")),
        Arguments.of(
            "tls file that does not exist",
            BRIEF
                + DEVICE
                + "server: {url: \"wss://cloud.example.com/v1/sync\"}\n"
                + "tls: {cert_file: /nonexistent/gw.pem}\n",
            "tls.cert_file",
            List.of("no such file", "'/nonexistent/gw.pem'")),
        Arguments.of(
            "enrollment token file that does not exist, and no certificate yet",
            BRIEF
                + DEVICE
                + "server: {url: \"wss://cloud.example.com/v1/sync\"}\n"
                + "tls: {cert_file: /nonexistent/gw.pem, key_file: /nonexistent/gw.key,"
                + " ca_file: "
                + System.getProperty("java.home")
                + "/release, enrollment_token_file: /nonexistent/gw.token}\n",
            "tls.enrollment_token_file",
            List.of("no such file", "'/nonexistent/gw.token'", "needs a token to enroll")),
        Arguments.of(
            "server url without a host",
            BRIEF + DEVICE + "server: {url: \"ws:cloud.example.com\"}\n",
            "server.url",
            List.of("'ws:cloud.example.com'", "host")),
        Arguments.of(
            "empty local_storage_path",
            BRIEF.replace("\"/var/lib/edge_sync\"", "\"\"") + DEVICE,
            "sync.offline.local_storage_path",
            List.of("empty", "directory")),
        Arguments.of(
            "invalid stream name in data_types",
            BRIEF.replace("\"logs\"", "\"app logs\"") + DEVICE,
            "sync.directions.edge_to_cloud.data_types",
            List.of("'app logs' is not a valid stream name", ProtocolLimits.STREAM_NAME_PATTERN)),
        Arguments.of(
            "invalid stream name under streams",
            BRIEF + DEVICE + "streams:\n  \"-bad\": {priority: 2}\n",
            "streams.-bad",
            List.of("'-bad' is not a valid stream name", ProtocolLimits.STREAM_NAME_PATTERN)),
        Arguments.of(
            "bad overflow policy",
            BRIEF + DEVICE + "queue: {overflow_policy: drop_newest}\n",
            "queue.overflow_policy",
            List.of("'drop_newest' is not allowed", "drop_oldest, reject, block")),
        Arguments.of(
            "heartbeat timeout not above the interval",
            BRIEF + DEVICE + "tuning: {heartbeat_interval_ms: 5000, heartbeat_timeout_ms: 5000}\n",
            "tuning.heartbeat_timeout_ms",
            List.of("5000 must be greater than heartbeat_interval_ms (5000)")),
        Arguments.of(
            "unknown section under sync",
            BRIEF.replace("offline:\n", "offline_old:\n") + DEVICE,
            "sync.offline_old",
            List.of("unknown key", "offline")),
        Arguments.of(
            "status interval above a minute",
            BRIEF + DEVICE + "tuning: {status_interval_ms: 120000}\n",
            "tuning.status_interval_ms",
            List.of("120000 is out of range", "0..60000")),
        Arguments.of(
            "status interval below a second",
            BRIEF + DEVICE + "tuning: {status_interval_ms: 500}\n",
            "tuning.status_interval_ms",
            List.of("500 is below 1000 ms", "use 0 for no status reports")),
        Arguments.of(
            "local api port out of range",
            BRIEF + DEVICE + "local_api: {port: 70000}\n",
            "local_api.port",
            List.of("70000 is out of range", "-1..65535")));
  }

  @Test
  void statusInterval_defaultsTo30s_andZeroTurnsReportsOff() {
    assertThat(AgentConfig.fromYaml(DEVICE).sync().statusIntervalMs()).isEqualTo(30_000);
    assertThat(
            AgentConfig.fromYaml(DEVICE + "tuning: {status_interval_ms: 0}\n")
                .sync()
                .statusIntervalMs())
        .isZero();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("invalidConfigs")
  void invalidConfig_failsWithTheDottedKeyTheBadValueAndWhatIsAllowed(
      String name, String yaml, String path, List<String> fragments) {
    InvalidConfigException e =
        catchThrowableOfType(InvalidConfigException.class, () -> AgentConfig.fromYaml(yaml));

    assertThat(e).as("expected an InvalidConfigException for: " + name).isNotNull();
    assertThat(e.code()).isEqualTo(EdgeSyncException.Code.CONFIGURATION);
    assertThat(e.path()).isEqualTo(path);
    assertThat(e.getMessage()).startsWith("config error at '" + path + "': ");
    for (String fragment : fragments) {
      assertThat(e.getMessage()).contains(fragment);
    }
  }

  @Test
  void sectionGivenAsAList_failsNamingTheSection() {
    InvalidConfigException e =
        catchThrowableOfType(
            InvalidConfigException.class,
            () -> AgentConfig.fromYaml(DEVICE + "sync:\n  offline: [1, 2]\n"));

    assertThat(e.path()).isEqualTo("sync.offline");
    assertThat(e.getMessage()).contains("expected a mapping, got a list");
  }

  @Test
  void invalidYaml_failsWithoutAKey() {
    InvalidConfigException e =
        catchThrowableOfType(
            InvalidConfigException.class, () -> AgentConfig.fromYaml("device: {id: gw-1\n"));

    assertThat(e.path()).isEqualTo("(document)");
    assertThat(e.getMessage()).contains("not valid YAML");
  }
}
