package io.edgesync.server.export;

import io.edgesync.support.ConfigNode;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The Kafka export's settings ({@code export.kafka} in the server's YAML; docs/configuration.md):
 *
 * <pre>
 * export:
 *   kafka:
 *     bootstrap_servers: "broker1:9092,broker2:9092"   # required
 *     transactional_id: edgesync-export
 *     topics: {"sensors.*": telemetry, logs: logs}     # stream name or glob (*) → topic
 *     default_topic: edgesync.records                  # null: streams not mapped stay unexported
 *     positions_topic: edgesync.export.positions       # compacted; created if missing
 *     max_batch_records: 10000                         # records per Kafka transaction
 *     poll_interval_ms: 200                            # idle wait between looks at the store
 *     properties: {compression.type: lz4}              # passed to the producer
 * </pre>
 *
 * Immutable; validated when made, so a bad setting fails the server's start naming its key.
 */
public record KafkaExportSettings(
    String bootstrapServers,
    String transactionalId,
    Map<String, String> topics,
    String defaultTopic,
    String positionsTopic,
    int maxBatchRecords,
    long pollIntervalMs,
    Map<String, String> properties) {

  public static final String DEFAULT_TRANSACTIONAL_ID = "edgesync-export";
  public static final String DEFAULT_TOPIC = "edgesync.records";
  public static final String DEFAULT_POSITIONS_TOPIC = "edgesync.export.positions";
  public static final int DEFAULT_MAX_BATCH_RECORDS = 10_000;

  /** A transaction of more would outgrow the producer's buffer for little gain. */
  public static final int MAX_BATCH_RECORDS_CEILING = 1_000_000;

  public static final long DEFAULT_POLL_INTERVAL_MS = 200;

  /** Kafka's own rule for topic names (its {@code Topic.validate}). */
  private static final Pattern TOPIC_NAME = Pattern.compile("[a-zA-Z0-9._-]{1,249}");

  /** A stream name ({@code ProtocolLimits.STREAM_NAME_PATTERN}) with {@code *} wildcards. */
  private static final Pattern STREAM_GLOB = Pattern.compile("[A-Za-z0-9_.*-]{1,64}");

  /** Producer settings the exporter sets itself: exactly once depends on them. */
  static final Set<String> RESERVED_PROPERTIES =
      Set.of(
          "bootstrap.servers",
          "transactional.id",
          "enable.idempotence",
          "acks",
          "key.serializer",
          "value.serializer");

  public KafkaExportSettings {
    Objects.requireNonNull(bootstrapServers, "bootstrapServers");
    Objects.requireNonNull(transactionalId, "transactionalId");
    Objects.requireNonNull(positionsTopic, "positionsTopic");
    topics = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(topics));
    properties = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(properties));
    if (maxBatchRecords < 1 || pollIntervalMs < 1) {
      throw new IllegalArgumentException("maxBatchRecords and pollIntervalMs must be positive");
    }
  }

  /** With the defaults for all but the broker and the topic mapping (tests, the benchmark). */
  public static KafkaExportSettings of(
      String bootstrapServers, Map<String, String> topics, String defaultTopic) {
    return new KafkaExportSettings(
        bootstrapServers,
        DEFAULT_TRANSACTIONAL_ID,
        topics,
        defaultTopic,
        DEFAULT_POSITIONS_TOPIC,
        DEFAULT_MAX_BATCH_RECORDS,
        DEFAULT_POLL_INTERVAL_MS,
        Map.of());
  }

  public KafkaExportSettings withTransactionalId(String id) {
    return new KafkaExportSettings(
        bootstrapServers,
        id,
        topics,
        defaultTopic,
        positionsTopic,
        maxBatchRecords,
        pollIntervalMs,
        properties);
  }

  public KafkaExportSettings withPositionsTopic(String topic) {
    return new KafkaExportSettings(
        bootstrapServers,
        transactionalId,
        topics,
        defaultTopic,
        topic,
        maxBatchRecords,
        pollIntervalMs,
        properties);
  }

  public KafkaExportSettings withBatch(int newMaxBatchRecords, long newPollIntervalMs) {
    return new KafkaExportSettings(
        bootstrapServers,
        transactionalId,
        topics,
        defaultTopic,
        positionsTopic,
        newMaxBatchRecords,
        newPollIntervalMs,
        properties);
  }

  public KafkaExportSettings withProperties(Map<String, String> newProperties) {
    return new KafkaExportSettings(
        bootstrapServers,
        transactionalId,
        topics,
        defaultTopic,
        positionsTopic,
        maxBatchRecords,
        pollIntervalMs,
        newProperties);
  }

  /**
   * {@code export} from the server's YAML: null if there is no {@code export.kafka} section (no
   * export). Every error names its key.
   */
  public static KafkaExportSettings from(ConfigNode export) {
    ConfigNode root = export.allowOnly("kafka");
    ConfigNode k = root.section("kafka");
    if (!k.isPresent()) {
      return null;
    }
    k.allowOnly(
        "bootstrap_servers",
        "transactional_id",
        "topics",
        "default_topic",
        "positions_topic",
        "max_batch_records",
        "poll_interval_ms",
        "properties");
    String servers = k.string("bootstrap_servers", null);
    if (servers == null || servers.isBlank()) {
      throw k.error(
          "bootstrap_servers",
          "required: the Kafka brokers to export to, as host:port[,host:port]");
    }
    String transactionalId = k.string("transactional_id", DEFAULT_TRANSACTIONAL_ID);
    if (transactionalId.isBlank()) {
      throw k.error("transactional_id", "must not be empty");
    }
    return new KafkaExportSettings(
        servers.strip(),
        transactionalId,
        topics(k),
        defaultTopic(k),
        topic(k, "positions_topic", k.string("positions_topic", DEFAULT_POSITIONS_TOPIC)),
        (int)
            k.integer(
                "max_batch_records",
                DEFAULT_MAX_BATCH_RECORDS,
                1,
                MAX_BATCH_RECORDS_CEILING,
                "records per Kafka transaction"),
        k.integer("poll_interval_ms", DEFAULT_POLL_INTERVAL_MS, 1, 60_000, "ms"),
        properties(k));
  }

  /** {@code default_topic}: absent = the default topic; an explicit null = no default. */
  private static String defaultTopic(ConfigNode k) {
    if (k.isExplicitNull("default_topic")) {
      return null;
    }
    return topic(k, "default_topic", k.string("default_topic", DEFAULT_TOPIC));
  }

  private static Map<String, String> topics(ConfigNode k) {
    Map<String, String> topics = k.stringMap("topics");
    for (Map.Entry<String, String> e : topics.entrySet()) {
      if (!STREAM_GLOB.matcher(e.getKey()).matches()) {
        throw k.error(
            "topics",
            "'"
                + e.getKey()
                + "' matches no stream name: a stream name with * wildcards ("
                + STREAM_GLOB.pattern()
                + ")");
      }
      topic(k, "topics." + e.getKey(), e.getValue());
    }
    return topics;
  }

  private static String topic(ConfigNode k, String key, String name) {
    if (!TOPIC_NAME.matcher(name).matches() || name.equals(".") || name.equals("..")) {
      throw k.error(
          key,
          "'"
              + name
              + "' is not a valid Kafka topic name: 1..249 of the characters a-z A-Z 0-9 . _ -"
              + " (and not '.' or '..')");
    }
    return name;
  }

  private static Map<String, String> properties(ConfigNode k) {
    Map<String, String> props = k.stringMap("properties");
    for (String key : props.keySet()) {
      if (RESERVED_PROPERTIES.contains(key)) {
        throw k.error(
            "properties." + key,
            "set by the exporter itself (exactly-once export needs it);"
                + " use bootstrap_servers / transactional_id for those");
      }
    }
    return props;
  }
}
