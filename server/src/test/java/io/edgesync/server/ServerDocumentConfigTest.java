package io.edgesync.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgesync.engine.docs.ConflictPolicy;
import io.edgesync.engine.docs.ConflictStrategy;
import io.edgesync.engine.docs.DocumentRules;
import io.edgesync.support.ConfigException;
import org.junit.jupiter.api.Test;

class ServerDocumentConfigTest {
  /** The brief's sync block, verbatim. */
  private static final String BRIEF =
      """
      sync:
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
        strategies:
          event_driven: {enabled: true, debounce_ms: 1000}
          scheduled: {enabled: true, interval_minutes: 5}
          on_demand: {enabled: true, trigger_types: ["manual", "config_change"]}
        conflict_resolution:
          strategy: "last_write_wins"
          merge_function: "timestamp"
          auto_resolve: true
          flag_for_review: false
        offline: {enabled: true, local_storage_path: "/var/lib/edge_sync", queue_max_size: 10000, max_offline_hours: 168}
        bandwidth: {delta_sync: true, compression: "gzip", deduplication: true, adaptive_sync: true, min_bandwidth_kbps: 100}
        monitoring: {sync_metrics: true, conflict_tracking: true, bandwidth_monitoring: true, alert_on_failure: true}
      """;

  @Test
  void theBriefsBlock_declaresCloudToEdgeCollectionsWithTheirDirectionsStrategy() {
    DocumentRules rules =
        ServerConfig.fromYaml(
                BRIEF
                    + "documents:\n  collections:\n    settings: {}\n    shadow: {strategy: merge, on_field_conflict: flag}\n")
            .documents();
    assertThat(rules.collections().keySet())
        .containsExactlyInAnyOrder("config", "firmware", "settings", "shadow");
    assertThat(rules.policy("config").strategy()).isEqualTo(ConflictStrategy.CLOUD_WINS);
    assertThat(rules.policy("settings").strategy()).isEqualTo(ConflictStrategy.LAST_WRITE_WINS);
    ConflictPolicy shadow = rules.policy("shadow");
    assertThat(shadow.strategy()).isEqualTo(ConflictStrategy.MERGE);
    assertThat(shadow.flagFieldConflicts()).isTrue();
    assertThat(rules.policy("commands")).isNull();
  }

  @Test
  void autoResolveOff_flagForReview_andManualMergeFunction_reachEveryPolicy() {
    DocumentRules rules =
        ServerConfig.fromYaml(
                "sync:\n  conflict_resolution: {strategy: merge, merge_function: manual, auto_resolve: false, flag_for_review: true}\n"
                    + "documents: {collections: {a: {}}}\n")
            .documents();
    ConflictPolicy a = rules.policy("a");
    assertThat(a.strategy()).isEqualTo(ConflictStrategy.MERGE);
    assertThat(a.flagFieldConflicts()).isTrue();
    assertThat(a.autoResolve()).isFalse();
    assertThat(a.flagForReview()).isTrue();
  }

  @Test
  void noDocumentsSection_servesConfigAndFirmwareWithCloudWins() {
    DocumentRules rules = ServerConfig.fromYaml("server: {port: 0}").documents();
    assertThat(rules.collections().keySet()).containsExactly("config", "firmware");
    assertThat(rules.policy("config").strategy()).isEqualTo(ConflictStrategy.CLOUD_WINS);
  }

  @Test
  void deviceWritable_namesSharedDocumentsDevicesMayWrite_noneByDefault() {
    DocumentRules none = ServerConfig.fromYaml("server: {port: 0}").documents();
    assertThat(none.deviceWritable().patterns()).isEmpty();
    assertThat(none.deviceWritable().allows("fleet", "config")).isFalse();

    DocumentRules rules =
        ServerConfig.fromYaml(
                "documents:\n"
                    + "  collections: {config: {}, notes: {}}\n"
                    + "  device_writable: [fleet/notes, \"group:*/config\", group:north/*]\n")
            .documents();
    assertThat(rules.deviceWritable().allows("fleet", "notes")).isTrue();
    assertThat(rules.deviceWritable().allows("fleet", "config")).isFalse();
    assertThat(rules.deviceWritable().allows("group:south", "config")).isTrue();
    assertThat(rules.deviceWritable().allows("group:south", "notes")).isFalse();
    assertThat(rules.deviceWritable().allows("group:north", "notes")).isTrue();
  }

  @Test
  void badDeviceWritable_namesTheEntryAndWhatIsAllowed() {
    assertThatThrownBy(
            () ->
                ServerConfig.fromYaml(
                    "documents: {collections: {config: {}}, device_writable: [device/config]}"))
        .hasMessageContaining("'documents.device_writable'")
        .hasMessageContaining("'device/config' is not <scope>/<collection>")
        .hasMessageContaining("another device's never");
    assertThatThrownBy(
            () ->
                ServerConfig.fromYaml(
                    "documents: {collections: {config: {}}, device_writable: [fleet/other]}"))
        .hasMessageContaining("'fleet/other' names collection 'other', which is not declared");
    assertThatThrownBy(
            () ->
                ServerConfig.fromYaml(
                    "documents: {collections: {config: {}}, device_writable: [fleet]}"))
        .hasMessageContaining("'fleet' is not <scope>/<collection>");
  }

  @Test
  void badDocumentSettings_nameTheKeyAndWhatIsAllowed() {
    assertThatThrownBy(
            () -> ServerConfig.fromYaml("documents: {collections: {a: {strategy: newest}}}"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("'documents.collections.a.strategy'")
        .hasMessageContaining("'newest' is not allowed");
    assertThatThrownBy(
            () -> ServerConfig.fromYaml("documents: {collections: {a: {strategy: custom}}}"))
        .hasMessageContaining("'documents.collections.a.resolver'")
        .hasMessageContaining("name a class implementing io.edgesync.engine.docs.ConflictResolver");
    assertThatThrownBy(
            () ->
                ServerConfig.fromYaml(
                    "documents: {collections: {a: {strategy: custom, resolver: com.example.Missing}}}"))
        .hasMessageContaining("cannot load 'com.example.Missing'");
    assertThatThrownBy(
            () ->
                ServerConfig.fromYaml(
                    "documents: {collections: {a: {strategy: custom, resolver: java.lang.String}}}"))
        .hasMessageContaining("does not implement io.edgesync.engine.docs.ConflictResolver");
    assertThatThrownBy(() -> ServerConfig.fromYaml("documents: {on_clock_drift: ignore}"))
        .hasMessageContaining("allowed: flag, reject");
    assertThatThrownBy(() -> ServerConfig.fromYaml("documents: {max_document_bytes: 0}"))
        .hasMessageContaining("'documents.max_document_bytes'");
    assertThatThrownBy(() -> ServerConfig.fromYaml("documents: {collections: {\"-x\": {}}}"))
        .hasMessageContaining("'-x' is not a valid collection name");
  }
}
