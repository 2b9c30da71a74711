package io.edgesync.server.export;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgesync.server.ServerConfig;
import io.edgesync.support.ConfigException;
import java.util.Map;
import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.Test;

class KafkaExportConfigTest {
  @Test
  void noExportSection_exportsNothing() {
    assertThat(ServerConfig.fromYaml("server: {port: 0}").export()).isNull();
    assertThat(ServerConfig.fromYaml("export: {}").export()).isNull();
  }

  @Test
  void fullSection_isReadAsWritten_andDefaultsFillTheRest() {
    KafkaExportSettings s =
        ServerConfig.fromYaml(
                """
                export:
                  kafka:
                    bootstrap_servers: "k1:9092,k2:9092"
                    transactional_id: export-eu
                    topics: {"sensors.*": telemetry, logs: logs}
                    default_topic: null
                    positions_topic: eu.positions
                    max_batch_records: 500
                    poll_interval_ms: 50
                    properties: {compression.type: lz4, linger.ms: 20}
                """)
            .export();
    assertThat(s.bootstrapServers()).isEqualTo("k1:9092,k2:9092");
    assertThat(s.transactionalId()).isEqualTo("export-eu");
    assertThat(s.topics())
        .containsExactly(Map.entry("sensors.*", "telemetry"), Map.entry("logs", "logs"));
    assertThat(s.defaultTopic()).isNull();
    assertThat(s.positionsTopic()).isEqualTo("eu.positions");
    assertThat(s.maxBatchRecords()).isEqualTo(500);
    assertThat(s.pollIntervalMs()).isEqualTo(50);
    assertThat(s.properties())
        .containsEntry("linger.ms", "20")
        .containsEntry("compression.type", "lz4");

    KafkaExportSettings d =
        ServerConfig.fromYaml("export: {kafka: {bootstrap_servers: 'k:9092'}}").export();
    assertThat(d.transactionalId()).isEqualTo("edgesync-export");
    assertThat(d.defaultTopic()).isEqualTo("edgesync.records");
    assertThat(d.positionsTopic()).isEqualTo("edgesync.export.positions");
    assertThat(d.maxBatchRecords()).isEqualTo(10_000);
    assertThat(d.pollIntervalMs()).isEqualTo(200);
  }

  @Test
  void badSettings_failAtLoad_namingTheKey() {
    refused("export: {kafka: {topics: {logs: logs}}}")
        .hasMessageContaining("export.kafka.bootstrap_servers")
        .hasMessageContaining("required");
    refused("export: {kafka: {bootstrap_servers: ' '}}")
        .hasMessageContaining("export.kafka.bootstrap_servers");
    refused("export: {kafka: {bootstrap_servers: 'k:9092', topics: {'sensors.*': 'bad topic!'}}}")
        .hasMessageContaining("export.kafka.topics.sensors.*")
        .hasMessageContaining("'bad topic!' is not a valid Kafka topic name");
    refused("export: {kafka: {bootstrap_servers: 'k:9092', topics: {'a/b': t}}}")
        .hasMessageContaining("export.kafka.topics")
        .hasMessageContaining("'a/b' matches no stream name");
    refused("export: {kafka: {bootstrap_servers: 'k:9092', default_topic: '..'}}")
        .hasMessageContaining("export.kafka.default_topic");
    refused("export: {kafka: {bootstrap_servers: 'k:9092', positions_topic: ''}}")
        .hasMessageContaining("export.kafka.positions_topic");
    refused("export: {kafka: {bootstrap_servers: 'k:9092', max_batch_records: 0}}")
        .hasMessageContaining("export.kafka.max_batch_records");
    refused("export: {kafka: {bootstrap_servers: 'k:9092', properties: {transactional.id: x}}}")
        .hasMessageContaining("export.kafka.properties.transactional.id")
        .hasMessageContaining("set by the exporter");
    refused("export: {kafka: {bootstrap_servers: 'k:9092', topic: x}}")
        .hasMessageContaining("export.kafka.topic")
        .hasMessageContaining("unknown key");
    refused("export: {s3: {}}").hasMessageContaining("export.s3");
  }

  private static AbstractThrowableAssert<?, ? extends Throwable> refused(String yaml) {
    return assertThatThrownBy(() -> ServerConfig.fromYaml(yaml))
        .isInstanceOf(ConfigException.class);
  }

  @Test
  void topicMapping_exactNameBeforeGlobs_firstGlobWins_thenTheDefault() {
    Map<String, String> topics = new java.util.LinkedHashMap<>();
    topics.put("sensors.*", "telemetry");
    topics.put("*.raw", "raw");
    topics.put("sensors.raw", "special");
    TopicMapping withDefault = new TopicMapping(topics, "rest");
    assertThat(withDefault.topicOf("sensors.raw")).isEqualTo("special");
    assertThat(withDefault.topicOf("sensors.temp")).isEqualTo("telemetry");
    assertThat(withDefault.topicOf("audio.raw")).isEqualTo("raw");
    assertThat(withDefault.topicOf("sensorsXtemp")).as("'.' is literal").isEqualTo("rest");
    assertThat(withDefault.topicOf("logs")).isEqualTo("rest");
    assertThat(new TopicMapping(topics, null).topicOf("logs")).as("not exported").isNull();
  }
}
