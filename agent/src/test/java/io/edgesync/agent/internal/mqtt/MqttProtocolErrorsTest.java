package io.edgesync.agent.internal.mqtt;

import static io.edgesync.agent.internal.mqtt.RawMqtt.connect;
import static io.edgesync.agent.internal.mqtt.RawMqtt.hex;
import static io.edgesync.agent.internal.mqtt.RawMqtt.packet;
import static io.edgesync.agent.internal.mqtt.RawMqtt.publish;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad input on the MQTT listener, fed as raw bytes over a real socket: every case closes the
 * connection with its reason (MQTT 5: a DISCONNECT with the reason code; 3.1.1: the close), is
 * counted, and stores nothing it should not.
 */
class MqttProtocolErrorsTest {
  @TempDir Path dir;

  private AgentWithMqtt agent;

  @AfterEach
  void close() {
    if (agent != null) {
      agent.close();
    }
  }

  private RawMqtt connected(int version, int maxInflight) throws Exception {
    agent = new AgentWithMqtt(dir, AgentWithMqtt.settings(maxInflight, "sensors/#", "telemetry"));
    RawMqtt c = new RawMqtt(agent.port());
    c.send(connect(version, "raw-" + version));
    byte[] connack = c.read();
    assertThat(connack[0]).isEqualTo((byte) 0x20);
    assertThat(connack[3]).as("CONNACK return code").isEqualTo((byte) 0);
    return c;
  }

  @Test
  void garbageInsteadOfConnect_closesTheConnection_andIsCounted() throws Exception {
    agent = new AgentWithMqtt(dir, AgentWithMqtt.settings(10, "sensors/#", "telemetry"));
    try (RawMqtt c = new RawMqtt(agent.port())) {
      c.send(new byte[] {0x00, 0x01, 0x02, (byte) 0xFF});
      assertThat(c.closedByServer()).isTrue();
    }
    assertThat(agent.awaitMetric("connections_refused_total{reason=\"malformed_packet\"}", 1))
        .isEqualTo(1);
  }

  @Test
  void malformedPacketAfterConnect_mqtt5_getsDisconnect0x81_andNothingIsStored() throws Exception {
    try (RawMqtt c = connected(5, 10)) {
      c.send(packet(0x00, new byte[0])); // packet type 0 is reserved
      byte[] disconnect = c.read();
      assertThat(hex(disconnect)).startsWith("e0").contains("81");
      assertThat(disconnect[2]).isEqualTo((byte) 0x81);
      assertThat(c.closedByServer()).isTrue();
    }
    assertThat(agent.awaitMetric("disconnects_total{reason=\"malformed_packet\"}", 1)).isEqualTo(1);
    assertThat(agent.stored("telemetry")).isEmpty();
  }

  @Test
  void packetOverMaxPacketBytes_mqtt5_getsDisconnect0x95_beforeItsBodyArrives() throws Exception {
    try (RawMqtt c = connected(5, 10)) {
      // A PUBLISH announcing 100,000 bytes (limit 4096): refused from its header alone.
      c.send(new byte[] {0x32, (byte) 0xA0, (byte) 0x8D, 0x06, 0x00, 0x09});
      byte[] disconnect = c.read();
      assertThat(disconnect[0]).isEqualTo((byte) 0xE0);
      assertThat(disconnect[2]).isEqualTo((byte) 0x95);
      assertThat(c.closedByServer()).isTrue();
    }
    assertThat(agent.awaitMetric("disconnects_total{reason=\"packet_too_large\"}", 1)).isEqualTo(1);
    assertThat(agent.stored("telemetry")).isEmpty();
  }

  @Test
  void packetOverMaxPacketBytes_mqtt311_closesTheConnection_afterAcknowledgingWhatCameBefore()
      throws Exception {
    try (RawMqtt c = connected(4, 10)) {
      byte[] big = publish(4, 1, 2, "sensors/a", "x".repeat(5000));
      c.send(publish(4, 1, 1, "sensors/a", "{\"ok\":1}"), big);
      assertThat(hex(c.read())).isEqualTo("40020001"); // PUBACK of the first, then the close
      assertThat(c.closedByServer()).isTrue();
    }
    assertThat(agent.stored("telemetry")).hasSize(1);
  }

  @Test
  void qos2_mqtt5_getsDisconnect0x9B() throws Exception {
    try (RawMqtt c = connected(5, 10)) {
      c.send(publish(5, 2, 1, "sensors/a", "{}"));
      byte[] disconnect = c.read();
      assertThat(disconnect[0]).isEqualTo((byte) 0xE0);
      assertThat(disconnect[2]).isEqualTo((byte) 0x9B);
      assertThat(c.closedByServer()).isTrue();
    }
    assertThat(
            agent.awaitMetric("messages_refused_total{qos=\"2\",reason=\"qos_not_supported\"}", 1))
        .isEqualTo(1);
    assertThat(agent.stored("telemetry")).isEmpty();
  }

  @Test
  void qos2_mqtt311_closesTheConnection() throws Exception {
    try (RawMqtt c = connected(4, 10)) {
      c.send(publish(4, 2, 1, "sensors/a", "{}"));
      assertThat(c.closedByServer()).isTrue();
    }
    assertThat(agent.stored("telemetry")).isEmpty();
  }

  @Test
  void moreUnacknowledgedThanReceiveMaximum_mqtt5_getsDisconnect0x93_afterTheAcceptedOnesAreAcked()
      throws Exception {
    try (RawMqtt c = connected(5, 2)) {
      // Three QoS 1 messages in one write: read in one pass, before any can be acknowledged.
      c.send(
          publish(5, 1, 1, "sensors/a", "{\"i\":1}"),
          publish(5, 1, 2, "sensors/a", "{\"i\":2}"),
          publish(5, 1, 3, "sensors/a", "{\"i\":3}"));
      assertThat(hex(c.read())).isEqualTo("40020001");
      assertThat(hex(c.read())).isEqualTo("40020002");
      byte[] disconnect = c.read();
      assertThat(disconnect[0]).isEqualTo((byte) 0xE0);
      assertThat(disconnect[2]).isEqualTo((byte) 0x93);
      assertThat(c.closedByServer()).isTrue();
    }
    assertThat(
            agent.awaitMetric(
                "messages_refused_total{qos=\"1\",reason=\"receive_maximum_exceeded\"}", 1))
        .isEqualTo(1);
    assertThat(agent.stored("telemetry")).hasSize(2);
  }

  @Test
  void silenceFor1point5TimesTheKeepAlive_mqtt5_getsDisconnect0x8D() throws Exception {
    agent = new AgentWithMqtt(dir, AgentWithMqtt.settings(10, "sensors/#", "telemetry"));
    try (RawMqtt c = new RawMqtt(agent.port())) {
      c.send(connect(5, "sleepy", 1)); // keep-alive 1 s: closed after 1.5 s without a packet
      assertThat(c.read()[0]).isEqualTo((byte) 0x20);
      long start = System.nanoTime();
      c.send(packet(0xC0, new byte[0])); // one PINGREQ restarts the clock
      assertThat(hex(c.read())).isEqualTo("d000");
      byte[] disconnect = c.read();
      long waitedMs = (System.nanoTime() - start) / 1_000_000;
      assertThat(disconnect[0]).isEqualTo((byte) 0xE0);
      assertThat(disconnect[2]).isEqualTo((byte) 0x8D);
      assertThat(waitedMs).isBetween(1_300L, 4_000L);
      assertThat(c.closedByServer()).isTrue();
    }
    assertThat(agent.awaitMetric("disconnects_total{reason=\"keep_alive_timeout\"}", 1))
        .isEqualTo(1);
  }

  @Test
  void noConnectWithinTheTimeout_closesTheConnection() throws Exception {
    agent = new AgentWithMqtt(dir, AgentWithMqtt.settings(10, "sensors/#", "telemetry"));
    try (RawMqtt c = new RawMqtt(agent.port())) {
      assertThat(c.closedByServer()).isTrue(); // connect_timeout_ms is 1 s in the fixture
    }
    assertThat(agent.awaitMetric("connections_refused_total{reason=\"connect_timeout\"}", 1))
        .isEqualTo(1);
  }
}
