package io.edgesync.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgesync.support.ConfigException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServerConfigTest {
  @Test
  void filesSection_defaultsAndValues_andEachBadKeyIsNamed(@TempDir Path dir) throws Exception {
    ServerConfig d = ServerConfig.fromYaml("server: {data_dir: /tmp/x}");
    assertThat(d.files().uploadCollections()).containsExactly("uploads");
    assertThat(d.files().maxUploadBytes()).isEqualTo(4L << 30);
    assertThat(d.files().dirIn(d.dataDir())).isEqualTo(Path.of("/tmp/x/files"));
    assertThat(d.files().releaseKeyFile()).isNull();

    Files.writeString(dir.resolve("release.key"), "x");
    ServerConfig c =
        ServerConfig.fromYaml(
            ("server: {files: {release_key_file: '%s/release.key', upload_collections: [logs,"
                    + " clips], max_upload_bytes: 1000, max_file_bytes: 2000, dir: /srv/f}}")
                .formatted(dir));
    assertThat(c.files().releaseKeyFile()).isEqualTo(dir.resolve("release.key"));
    assertThat(c.files().uploadCollections()).containsExactly("logs", "clips");
    assertThat(c.files().maxUploadBytes()).isEqualTo(1000);
    assertThat(c.files().maxFileBytes()).isEqualTo(2000);
    assertThat(c.files().dirIn(c.dataDir())).isEqualTo(Path.of("/srv/f"));

    refused("server: {files: {release_public_keys_file: '/no/such.pub'}}")
        .hasMessageContaining("server.files.release_public_keys_file")
        .hasMessageContaining("no such file");
    refused("server: {files: {max_upload_bytes: 0}}")
        .hasMessageContaining("server.files.max_upload_bytes");
    refused("server: {files: {upload_collections: ['bad name']}}")
        .hasMessageContaining("server.files.upload_collections");
    refused("server: {files: {release_keyfile: x}}").hasMessageContaining("release_keyfile");
  }

  @Test
  void validConfigLoads() {
    ServerConfig c =
        ServerConfig.fromYaml(
            "server: {port: 9000, data_dir: /tmp/x, unknown_devices: reject, max_frame_bytes: 2097152}");
    assertThat(c.port()).isEqualTo(9000);
    assertThat(c.policy().autoRegister()).isFalse();
    assertThat(c.policy().maxFrameBytes()).isEqualTo(2097152);
  }

  @Test
  void tlsSection_readsItsFiles_andEachMissingOneIsNamed(@TempDir Path dir) throws Exception {
    for (String f : new String[] {"s.pem", "s.key", "ca.pem", "crl.pem"}) {
      Files.writeString(dir.resolve(f), "x");
    }
    String files =
        "cert_file: '%s/s.pem', key_file: '%s/s.key', client_ca_file: '%s/ca.pem'"
            .formatted(dir, dir, dir);
    ServerConfig c = ServerConfig.fromYaml("server: {tls: {" + files + "}}");
    assertThat(c.tls().certFile()).isEqualTo(dir.resolve("s.pem"));
    assertThat(c.tls().crlFile()).isNull();
    assertThat(
            ServerConfig.fromYaml("server: {tls: {" + files + ", crl_file: '" + dir + "/crl.pem'}}")
                .tls()
                .crlFile())
        .isEqualTo(dir.resolve("crl.pem"));
    assertThat(ServerConfig.fromYaml("server: {port: 1}").tls()).isNull();
    refused("server: {tls: {key_file: x}}")
        .hasMessageContaining("'server.tls.cert_file': required with server.tls");
    refused("server: {tls: {" + files.replace("s.key", "nope.key") + "}}")
        .hasMessageContaining("'server.tls.key_file'")
        .hasMessageContaining("no such file");
    refused("server: {tls: {ca_file: x}}")
        .hasMessageContaining("'server.tls.ca_file': unknown key");
  }

  @Test
  void tlsCaDir_givesTheClientCaAndCrl_andMustHoldACa(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("s.pem"), "x");
    Files.writeString(dir.resolve("s.key"), "x");
    Path ca = Files.createDirectory(dir.resolve("ca"));
    String server = "cert_file: '%s/s.pem', key_file: '%s/s.key'".formatted(dir, dir);
    String yaml = "server: {tls: {" + server + ", ca_dir: '" + ca + "'}}";
    refused(yaml)
        .hasMessageContaining("'server.tls.ca_dir'")
        .hasMessageContaining("is not a CA directory: no ca.pem");
    for (String f : new String[] {"ca.pem", "ca.key", "crl.pem"}) {
      Files.writeString(ca.resolve(f), "x");
    }
    ServerConfig.TlsFiles tls = ServerConfig.fromYaml(yaml).tls();
    assertThat(tls.caDir()).isEqualTo(ca);
    assertThat(tls.clientCaFile()).isEqualTo(ca.resolve("ca.pem"));
    assertThat(tls.crlFile()).isEqualTo(ca.resolve("crl.pem"));
    refused("server: {tls: {" + server + "}}")
        .hasMessageContaining("'server.tls.client_ca_file': required with server.tls");
  }

  @Test
  void deviceCertDays_defaultsToThirty_andMustBeOneTo397(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("s.pem"), "x");
    Files.writeString(dir.resolve("s.key"), "x");
    Files.writeString(dir.resolve("ca.pem"), "x");
    String tls = "cert_file: '%s/s.pem', key_file: '%s/s.key', client_ca_file: '%s/ca.pem'";
    String files = tls.formatted(dir, dir, dir);
    assertThat(ServerConfig.fromYaml("server: {tls: {" + files + "}}").tls().deviceCertDays())
        .isEqualTo(30);
    assertThat(
            ServerConfig.fromYaml("server: {tls: {" + files + ", device_cert_days: 7}}")
                .tls()
                .deviceCertDays())
        .isEqualTo(7);
    refused("server: {tls: {" + files + ", device_cert_days: 0}}")
        .hasMessageContaining("'server.tls.device_cert_days'")
        .hasMessageContaining("397");
  }

  @Test
  void invalidValues_nameKeyValueAndAllowed() {
    refused("server: {unknown_devices: maybe}")
        .hasMessage(
            "config error at 'server.unknown_devices': 'maybe' is not allowed; allowed: register, reject");
    refused("server: {port: 70000}")
        .hasMessageContaining("'server.port'")
        .hasMessageContaining("70000 is out of range; allowed: 0..65535");
    refused("server: {prot: 1}").hasMessageContaining("'server.prot': unknown key; allowed here:");
    refused("server: {max_frame_bytes: big}")
        .hasMessageContaining("expected an integer (bytes)")
        .hasMessageContaining("\"big\" (a string)");
  }

  @Test
  void heartbeatTimeout_defaultsToThreeIntervals_andMustBeAtLeastTwo() {
    ServerConfig d = ServerConfig.fromYaml("server: {port: 1}");
    assertThat(d.policy().heartbeatIntervalMs()).isEqualTo(15_000);
    assertThat(d.policy().heartbeatTimeoutMs()).isEqualTo(45_000);
    ServerConfig slower = ServerConfig.fromYaml("server: {heartbeat_interval_ms: 30000}");
    assertThat(slower.policy().heartbeatTimeoutMs()).isEqualTo(90_000);
    ServerConfig set =
        ServerConfig.fromYaml("server: {heartbeat_interval_ms: 500, heartbeat_timeout_ms: 1000}");
    assertThat(set.policy().heartbeatTimeoutMs()).isEqualTo(1_000);
    refused("server: {heartbeat_interval_ms: 15000, heartbeat_timeout_ms: 20000}")
        .hasMessage(
            "config error at 'server.heartbeat_timeout_ms': 20000 must be at least twice"
                + " heartbeat_interval_ms (15000): a device heartbeats once an interval, and one"
                + " late heartbeat must not end its session");
    refused("server: {heartbeat_timeout_ms: 100}")
        .hasMessageContaining("'server.heartbeat_timeout_ms'")
        .hasMessageContaining("100 is out of range");
  }

  @Test
  void codecsAndCompactBatches_andTheBriefsDeduplication() {
    ServerConfig all = ServerConfig.fromYaml("server: {port: 1}");
    assertThat(all.policy().codecs())
        .containsExactlyInAnyOrder(io.edgesync.protocol.codec.Codec.values());
    assertThat(all.policy().compactBatches()).isTrue();
    assertThat(all.documents().deduplicate()).isTrue();

    ServerConfig some =
        ServerConfig.fromYaml(
            "server: {codecs: [gzip, columnar], compact_batches: false}\n"
                + "sync: {bandwidth: {deduplication: false, compression: zstd}}\n");
    assertThat(some.policy().codecs())
        .containsExactlyInAnyOrder(
            io.edgesync.protocol.codec.Codec.NONE,
            io.edgesync.protocol.codec.Codec.GZIP,
            io.edgesync.protocol.codec.Codec.COLUMNAR);
    assertThat(some.policy().compactBatches()).isFalse();
    assertThat(some.documents().deduplicate()).isFalse();

    refused("server: {codecs: [brotli]}")
        .hasMessage(
            "config error at 'server.codecs': unknown codec 'brotli'; allowed: all, none, gzip,"
                + " lzma, zstd, zstd_stream, columnar, template_stream");
  }

  @Test
  void dictionaries_defaultsAndKeys_andBadValuesNameTheKey() {
    ServerConfig d = ServerConfig.fromYaml("server: {port: 1}");
    assertThat(d.dictionaries()).isEqualTo(io.edgesync.engine.dict.DictionaryRules.defaults());

    ServerConfig c =
        ServerConfig.fromYaml(
            "server:\n"
                + "  dictionaries: {enabled: false, sample_bytes: 65536, dictionary_bytes: 4096,"
                + " min_interval_ms: 0, keep_per_stream: 2, max_streams: 8}\n");
    assertThat(c.dictionaries())
        .isEqualTo(new io.edgesync.engine.dict.DictionaryRules(false, 65536, 4096, 0, 2, 8));

    refused("server: {dictionaries: {dictionary_bytes: 2097152}}")
        .hasMessageContaining("'server.dictionaries.dictionary_bytes'")
        .hasMessageContaining("2097152 is out of range; allowed: 256..1048576");
    refused("server: {dictionaries: {keep_per_stream: 1}}")
        .hasMessageContaining("'server.dictionaries.keep_per_stream'")
        .hasMessageContaining("allowed: 2..64");
    refused("server: {dictionaries: {samples: 1}}")
        .hasMessageContaining("'server.dictionaries.samples': unknown key; allowed here:");
  }

  @Test
  void withCopies_changeOneSetting_andKeepEveryOther() {
    ServerConfig loaded =
        ServerConfig.fromYaml(
            "server: {dictionaries: {enabled: false}}\ndocuments: {collections: {a: {}}}\n");
    ServerConfig changed =
        loaded
            .withAddress("127.0.0.1", 0)
            .withDataDir(Path.of("/tmp/elsewhere"))
            .withPolicy(loaded.policy().withHeartbeat(500, 1_000));
    assertThat(changed.host()).isEqualTo("127.0.0.1");
    assertThat(changed.port()).isZero();
    assertThat(changed.dataDir()).isEqualTo(Path.of("/tmp/elsewhere"));
    assertThat(changed.policy().heartbeatTimeoutMs()).isEqualTo(1_000);
    assertThat(changed.dictionaries()).isEqualTo(loaded.dictionaries());
    assertThat(changed.dictionaries().enabled()).isFalse();
    assertThat(changed.documents()).isSameAs(loaded.documents());
    assertThat(changed.documents().collections()).containsKey("a");
  }

  @Test
  void canonicalConstructor_refusesAPortOutsideTcpRange() {
    ServerConfig d = ServerConfig.defaults(Path.of("x"));
    assertThatThrownBy(() -> d.withPort(70_000))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("port must be in 0..65535 (0 picks a free one), not 70000");
    assertThatThrownBy(() -> d.withAddress(null, 0)).isInstanceOf(NullPointerException.class);
  }

  @Test
  void duplicateKey_isAnErrorNotASilentOverride() {
    refused("server: {port: 1}\nserver: {port: 2}\n")
        .hasMessageContaining("Duplicate field 'server'");
  }

  @Test
  void retention_absentKeepsForever_andEachStreamInheritsTheLimitsItDoesNotSet() {
    assertThat(ServerConfig.fromYaml("server: {}").retention().keepsEverythingForever()).isTrue();
    RetentionRules r =
        ServerConfig.fromYaml(
                """
                server:
                  retention:
                    interval_ms: 5000
                    default: {max_age_days: 30, max_bytes: 1000000}
                    streams:
                      logs: {max_age_days: 7}
                      "sensors.*": {max_bytes: 0}
                      audit: {max_age_ms: 0, max_bytes: 0}
                """)
            .retention();
    assertThat(r.intervalMs()).isEqualTo(5000);
    assertThat(r.policyFor("logs")).isEqualTo(new RetentionRules.Policy(7 * 86_400_000L, 1000000));
    assertThat(r.policyFor("sensors.t1")).isEqualTo(new RetentionRules.Policy(30 * 86_400_000L, 0));
    assertThat(r.policyFor("audit").keepsForever()).isTrue();
    assertThat(r.policyFor("other"))
        .isEqualTo(new RetentionRules.Policy(30 * 86_400_000L, 1000000));
  }

  @Test
  void retention_badSettings_areRefusedNamingTheKey() {
    refused("server: {retention: {default: {max_age_ms: 1, max_age_days: 1}}}")
        .hasMessageContaining("server.retention.default.max_age_days")
        .hasMessageContaining("not both");
    refused("server: {retention: {streams: {\"a/b\": {max_bytes: 1}}}}")
        .hasMessageContaining("server.retention.streams.a/b")
        .hasMessageContaining("not a stream name or glob");
    refused("server: {retention: {default: {max_bytes: -1}}}")
        .hasMessageContaining("server.retention.default.max_bytes");
    refused("server: {retention: {interval_ms: 10}}")
        .hasMessageContaining("server.retention.interval_ms");
    refused("server: {retention: {default: {max_age: 7d}}}")
        .hasMessageContaining("server.retention.default.max_age");
  }

  @Test
  void metricsSection_boundsTheDevicesWithSeriesOfTheirOwn() {
    assertThat(ServerConfig.fromYaml("server: {}").maxDeviceSeries())
        .isEqualTo(ServerConfig.DEFAULT_MAX_DEVICE_SERIES);
    assertThat(
            ServerConfig.fromYaml("server: {metrics: {max_device_series: 20}}").maxDeviceSeries())
        .isEqualTo(20);
    refused("server: {metrics: {max_device_series: -1}}")
        .hasMessageContaining("server.metrics.max_device_series");
    refused("server: {metrics: {max_series: 5}}").hasMessageContaining("max_series");
  }

  private static AbstractThrowableAssert<?, ? extends Throwable> refused(String yaml) {
    return assertThatThrownBy(() -> ServerConfig.fromYaml(yaml))
        .isInstanceOf(ConfigException.class);
  }
}
