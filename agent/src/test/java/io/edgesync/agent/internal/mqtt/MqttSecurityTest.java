package io.edgesync.agent.internal.mqtt;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.edgesync.agent.MqttSettings;
import io.edgesync.security.CertificateAuthority;
import io.edgesync.security.KeyAndCertificate;
import io.edgesync.security.Pem;
import io.edgesync.security.TlsContexts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The listener's TLS (PEM files from the project's CA) and credentials (a users file): a client
 * that trusts the CA publishes over TLS; wrong or missing credentials are refused at CONNACK with
 * the code of their protocol version and store nothing.
 */
class MqttSecurityTest {
  @TempDir Path dir;

  private AgentWithMqtt agent;

  @AfterEach
  void close() {
    if (agent != null) {
      agent.close();
    }
  }

  private MqttSettings with(MqttSettings.Tls tls, Path usersFile) {
    MqttSettings s = AgentWithMqtt.settings(10, "sensors/#", "telemetry");
    return new MqttSettings(
        true,
        s.host(),
        0,
        s.maxInflightMessages(),
        s.maxPacketBytes(),
        s.maxConnections(),
        s.connectTimeoutMs(),
        tls,
        usersFile,
        null,
        null,
        s.topics(),
        s.prefix());
  }

  @Test
  void overTls_aClientTrustingTheCa_publishesDurably() throws Exception {
    CertificateAuthority ca =
        CertificateAuthority.init(
            dir.resolve("ca"), "test CA", Duration.ofDays(1), java.time.Clock.systemUTC());
    KeyAndCertificate server =
        ca.issueServer(List.of("127.0.0.1", "localhost"), Duration.ofDays(1));
    Path cert = dir.resolve("mqtt.pem");
    Path key = dir.resolve("mqtt.key");
    Pem.writeCertificates(cert, server.certificate());
    Pem.writePrivateKey(key, server.privateKey());
    agent = new AgentWithMqtt(dir, with(new MqttSettings.Tls(cert, key), null));

    MqttClient c =
        new MqttClient("ssl://127.0.0.1:" + agent.port(), "tls-1", new MemoryPersistence());
    MqttConnectOptions o = new MqttConnectOptions();
    o.setSocketFactory(TlsContexts.trusting(List.of(ca.certificate())).getSocketFactory());
    c.connect(o);
    c.publish("sensors/a", "{\"tls\":true}".getBytes(UTF_8), 1, false);
    c.disconnect();
    c.close();
    try (RawMqtt plain = new RawMqtt(agent.port())) {
      plain.send(RawMqtt.connect(4, "no-tls")); // plain MQTT to the TLS port
      assertThat(plain.closedByServer()).isTrue();
    }
    assertThat(agent.awaitMetric("connections_refused_total{reason=\"tls_error\"}", 1))
        .isEqualTo(1);
    assertThat(agent.stored("telemetry")).hasSize(1);
  }

  @Test
  void wrongOrMissingCredentials_areRefusedAtConnack_311And5() throws Exception {
    Path users = Files.writeString(dir.resolve("users"), "alice:s3cret\n");
    agent = new AgentWithMqtt(dir, with(null, users));
    String url = "tcp://127.0.0.1:" + agent.port();

    assertThat(v3Refusal(url, "alice", "wrong")).isEqualTo(4); // bad user name or password
    assertThat(v3Refusal(url, "mallory", "s3cret")).isEqualTo(4);
    assertThat(v3Refusal(url, null, null)).isEqualTo(5); // not authorized
    assertThat(v5Refusal(url, "alice", "wrong")).isEqualTo(0x86);
    assertThat(v5Refusal(url, null, null)).isEqualTo(0x87);

    MqttClient ok = new MqttClient(url, "good", new MemoryPersistence());
    MqttConnectOptions o = new MqttConnectOptions();
    o.setUserName("alice");
    o.setPassword("s3cret".toCharArray());
    ok.connect(o);
    ok.publish("sensors/a", "{}".getBytes(UTF_8), 1, false);
    ok.disconnect();
    ok.close();
    assertThat(agent.metric("connections_refused_total{reason=\"bad_credentials\"}")).isEqualTo(3);
    assertThat(agent.metric("connections_refused_total{reason=\"no_credentials\"}")).isEqualTo(2);
    assertThat(agent.stored("telemetry")).hasSize(1);
  }

  private static int v3Refusal(String url, String user, String password) throws Exception {
    MqttClient c = new MqttClient(url, "v3-" + user, new MemoryPersistence());
    MqttConnectOptions o = new MqttConnectOptions();
    o.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1); // no retry as MQTT 3.1
    if (user != null) {
      o.setUserName(user);
      o.setPassword(password.toCharArray());
    }
    MqttException e = catchThrowableOfType(MqttException.class, () -> c.connect(o));
    c.close();
    assertThat(e).isNotNull();
    return e.getReasonCode();
  }

  private static int v5Refusal(String url, String user, String password) throws Exception {
    MqttAsyncClient c =
        new MqttAsyncClient(
            url, "v5-" + user, new org.eclipse.paho.mqttv5.client.persist.MemoryPersistence());
    MqttConnectionOptions o = new MqttConnectionOptions();
    if (user != null) {
      o.setUserName(user);
      o.setPassword(password.getBytes(UTF_8));
    }
    org.eclipse.paho.mqttv5.common.MqttException e =
        catchThrowableOfType(
            org.eclipse.paho.mqttv5.common.MqttException.class,
            () -> c.connect(o).waitForCompletion(5_000));
    c.close();
    assertThat(e).isNotNull();
    return e.getReasonCode();
  }
}
