package io.edgesync.agent.internal.mqtt;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgesync.agent.AgentConfig;
import io.edgesync.agent.EdgeAgent;
import io.edgesync.agent.MqttSettings;
import io.edgesync.agent.OutboxLimits;
import io.edgesync.agent.OverflowPolicy;
import io.edgesync.agent.internal.outbox.SqliteOutbox;
import io.edgesync.engine.edge.Outbox;
import io.edgesync.protocol.Clock;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent's MQTT listener with real clients (Eclipse Paho, MQTT 3.1.1 and 5) over a real socket
 * into a real agent and its SQLite outbox: what is acknowledged is in the outbox file, with its
 * topic and time; refusals carry their reason codes (5) or close the connection (3.1.1).
 */
class MqttListenerTest {
  @TempDir Path dir;

  private EdgeAgent agent;
  private final List<AutoCloseable> clients = new ArrayList<>();

  @AfterEach
  void close() throws Exception {
    for (AutoCloseable c : clients) {
      try {
        c.close();
      } catch (Exception ignored) {
        // already closed by the test
      }
    }
    if (agent != null) {
      agent.close();
    }
  }

  static MqttSettings settings(String... filterStream) {
    List<MqttSettings.Route> routes = new ArrayList<>();
    for (int i = 0; i < filterStream.length; i += 2) {
      routes.add(new MqttSettings.Route(filterStream[i], filterStream[i + 1]));
    }
    return new MqttSettings(
        true, "127.0.0.1", 0, 100, 4096, 10, 5_000, null, null, null, null, routes, "edgesync/");
  }

  /** {@link #settings} with {@code max_connections} 1. */
  private static MqttSettings oneConnection() {
    MqttSettings s = settings("sensors/#", "telemetry");
    return new MqttSettings(
        true, "127.0.0.1", 0, 100, 4096, 1, 5_000, null, null, null, null, s.topics(), "edgesync/");
  }

  private EdgeAgent start(MqttSettings mqtt, OutboxLimits limits) {
    AgentConfig c =
        AgentConfig.fromYaml(
                "device: {id: gw-1}\nserver: {url: \"ws://127.0.0.1:1/v1/sync\"}\n"
                    + "sync: {offline: {local_storage_path: \""
                    + dir.resolve("data").toString().replace("\\", "/")
                    + "\"}}\nlocal_api: {port: -1}\ndocuments: {collections: [config]}\n")
            .withMqtt(mqtt);
    if (limits != null) {
      c = c.withOutbox(limits);
    }
    agent = EdgeAgent.open(c);
    return agent;
  }

  private String url() {
    return "tcp://127.0.0.1:" + agent.mqttPort();
  }

  private MqttClient v3(String id) throws MqttException {
    MqttClient c = new MqttClient(url(), id, new MemoryPersistence());
    MqttConnectOptions o = new MqttConnectOptions();
    o.setCleanSession(true);
    c.connect(o);
    clients.add(c::close);
    return c;
  }

  private MqttAsyncClient v5(String id) throws Exception {
    MqttAsyncClient c =
        new MqttAsyncClient(
            url(), id, new org.eclipse.paho.mqttv5.client.persist.MemoryPersistence());
    c.connect(new MqttConnectionOptions()).waitForCompletion(5_000);
    clients.add(c::close);
    return c;
  }

  /** The stream's records in the outbox file, read after the agent closed. */
  private List<io.edgesync.protocol.Record> stored(String stream) throws Exception {
    agent.close();
    agent = null;
    try (SqliteOutbox o =
        new SqliteOutbox(
            dir.resolve("data/edgesync-agent.db"),
            OutboxLimits.defaults(),
            Map.of(),
            Map.of(),
            10,
            Clock.SYSTEM)) {
      Outbox.Item item = o.read(stream, 1, 10_000, Long.MAX_VALUE);
      return item instanceof Outbox.Item.Records r ? r.records() : List.of();
    }
  }

  @Test
  void qos1_isAcknowledgedOnceDurable_andTheRecordKeepsTopicPayloadAndAcceptTime()
      throws Exception {
    start(settings("sensors/#", "telemetry"), null);
    MqttClient c = v3("pub-1");
    long before = System.currentTimeMillis();
    c.publish("sensors/n7/temp", "{\"t\":21.5}".getBytes(UTF_8), 1, false); // returns at PUBACK
    c.publish("sensors/n7/raw", new byte[] {0, 1, 2}, 1, false);
    long after = System.currentTimeMillis();

    List<io.edgesync.protocol.Record> records = stored("telemetry");
    assertThat(records).hasSize(2);
    assertThat(new String(records.get(0).payload(), UTF_8))
        .isEqualTo("{\"topic\":\"sensors/n7/temp\",\"payload\":{\"t\":21.5}}");
    assertThat(new String(records.get(1).payload(), UTF_8))
        .isEqualTo("{\"topic\":\"sensors/n7/raw\",\"payload_base64\":\"AAEC\"}");
    assertThat(records.get(0).originMs()).isBetween(before, after);
  }

  @Test
  void qos0_isStoredAndCounted() throws Exception {
    start(settings("sensors/#", "telemetry"), null);
    MqttClient c = v3("pub-0");
    for (int i = 0; i < 5; i++) {
      c.publish("sensors/a", ("{\"i\":" + i + "}").getBytes(UTF_8), 0, false);
    }
    c.publish("sensors/a", "{\"last\":1}".getBytes(UTF_8), 1, false); // orders after the QoS 0s
    assertThat(metric("messages_received_total{qos=\"0\"}")).isEqualTo(5);
    assertThat(metric("messages_stored_total{qos=\"0\"}")).isEqualTo(5);
    assertThat(metric("messages_acknowledged_total")).isEqualTo(1);
    assertThat(stored("telemetry")).hasSize(6);
  }

  @Test
  void unmappedTopic_mqtt5GetsPubAck0x90_andNothingIsStored() throws Exception {
    start(settings("sensors/#", "telemetry"), null);
    MqttAsyncClient c = v5("pub-5");
    IMqttToken t = c.publish("other/x", new MqttMessage("{}".getBytes(UTF_8), 1, false, null));
    t.waitForCompletion(5_000);
    assertThat(t.getReasonCodes()).containsExactly(0x90);
    assertThat(metric("messages_refused_total{qos=\"1\",reason=\"unmapped_topic\"}")).isEqualTo(1);
    IMqttToken ok = c.publish("sensors/y", new MqttMessage("{}".getBytes(UTF_8), 1, false, null));
    ok.waitForCompletion(5_000);
    assertThat(ok.getReasonCodes()).containsExactly(0);
    assertThat(stored("telemetry")).hasSize(1);
  }

  @Test
  void unmappedTopic_mqtt311ClosesTheConnection() throws Exception {
    start(settings("sensors/#", "telemetry"), null);
    MqttClient c = v3("pub-3");
    c.setTimeToWait(5_000);
    assertThatThrownBy(() -> c.publish("other/x", "{}".getBytes(UTF_8), 1, false))
        .isInstanceOf(MqttException.class);
    assertThat(metric("messages_refused_total{qos=\"1\",reason=\"unmapped_topic\"}")).isEqualTo(1);
    assertThat(stored("telemetry")).isEmpty();
  }

  @Test
  void fullQueueUnderReject_mqtt5GetsPubAck0x97QuotaExceeded() throws Exception {
    start(
        settings("sensors/#", "telemetry"),
        OutboxLimits.defaults().withQueue(2, 1 << 20, OverflowPolicy.REJECT));
    MqttAsyncClient c = v5("pub-full");
    List<Integer> codes = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      IMqttToken t =
          c.publish(
              "sensors/z", new MqttMessage(("{\"i\":" + i + "}").getBytes(UTF_8), 1, false, null));
      t.waitForCompletion(5_000);
      codes.add(t.getReasonCodes()[0]);
    }
    assertThat(codes).containsExactly(0, 0, 0x97, 0x97);
    assertThat(metric("messages_refused_total{qos=\"1\",reason=\"queue_full\"}")).isEqualTo(2);
    assertThat(stored("telemetry")).hasSize(2);
  }

  @Test
  void fullQueueUnderReject_mqtt311IsDisconnected_andItsSessionIsReleased() throws Exception {
    start(
        settings("sensors/#", "telemetry"),
        OutboxLimits.defaults().withQueue(1, 1 << 20, OverflowPolicy.REJECT));
    MqttClient c = v3("pub-full-3");
    c.setTimeToWait(5_000);
    c.publish("sensors/a", "{\"i\":0}".getBytes(UTF_8), 1, false);
    assertThatThrownBy(() -> c.publish("sensors/a", "{\"i\":1}".getBytes(UTF_8), 1, false))
        .isInstanceOf(MqttException.class);
    // The session ends as any other: gauge down, disconnect counted, client id free again.
    long deadline = System.nanoTime() + 5_000_000_000L;
    while (metric("connections") != 0 && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(metric("connections")).isZero();
    assertThat(metric("disconnects_total{reason=\"queue_full\"}")).isEqualTo(1);
    assertThat(metric("messages_refused_total{qos=\"1\",reason=\"queue_full\"}")).isEqualTo(1);
    assertThat(metric("messages_acknowledged_total")).isEqualTo(1);
  }

  @Test
  void whenFull_aClientTakingOverItsOwnSessionGetsIn_andANewOneIsRefused() throws Exception {
    start(oneConnection(), null);
    v3("dev-1");
    assertThatThrownBy(() -> v3("dev-2")).isInstanceOf(MqttException.class);
    // dev-1 again (its old connection may be half open): it takes its own slot over.
    MqttClient again = v3("dev-1");
    assertThat(again.isConnected()).isTrue();
    // dev-2 only (Paho's default tries 3.1.1, then 3.1: one or two refusals).
    assertThat(metric("connections_refused_total{reason=\"max_connections\"}")).isBetween(1L, 2L);
    assertThat(metric("connections")).isEqualTo(1);
  }

  @Test
  void socketsThatNeverSendConnect_areBoundedToo() throws Exception {
    MqttSettings one = oneConnection();
    start(one, null);
    List<java.net.Socket> idle = new ArrayList<>();
    try {
      for (int i = 0; i < MqttListener.maxSockets(one); i++) {
        idle.add(new java.net.Socket("127.0.0.1", agent.mqttPort()));
      }
      try (java.net.Socket extra = new java.net.Socket("127.0.0.1", agent.mqttPort())) {
        extra.setSoTimeout(3_000);
        assertThat(extra.getInputStream().read()).as("closed at once").isEqualTo(-1);
      }
      assertThat(metric("connections_refused_total{reason=\"max_connections\"}")).isEqualTo(1);
    } finally {
      for (java.net.Socket x : idle) {
        x.close();
      }
    }
  }

  @Test
  void docSubscription_getsTheCurrentValueRetained_thenEveryChange_andADeleteAsEmptyPayload()
      throws Exception {
    start(settings("sensors/#", "telemetry"), null);
    agent.documents().put("config", "rate", "{\"hz\":5}");
    java.util.concurrent.BlockingQueue<String> got =
        new java.util.concurrent.LinkedBlockingQueue<>();
    MqttClient c = v3("sub-1");
    c.subscribe(
        "edgesync/docs/device/config/+",
        1,
        (topic, m) ->
            got.add(
                topic + " " + new String(m.getPayload(), UTF_8) + " retained=" + m.isRetained()));
    assertThat(got.poll(5, java.util.concurrent.TimeUnit.SECONDS))
        .isEqualTo("edgesync/docs/device/config/rate {\"hz\":5} retained=true");
    agent.documents().put("config", "rate", "{\"hz\":10}");
    assertThat(got.poll(5, java.util.concurrent.TimeUnit.SECONDS))
        .isEqualTo("edgesync/docs/device/config/rate {\"hz\":10} retained=false");
    agent.documents().delete("config", "rate");
    assertThat(got.poll(5, java.util.concurrent.TimeUnit.SECONDS))
        .isEqualTo("edgesync/docs/device/config/rate  retained=false");
    assertThat(metric("messages_sent_total{kind=\"document\"}")).isEqualTo(3);
  }

  @Test
  void aDocumentAboveTheMqtt5ClientsMaximumPacketSize_isNotSentToIt() throws Exception {
    start(settings("sensors/#", "telemetry"), null);
    agent.documents().put("config", "big", "{\"blob\":\"" + "x".repeat(300) + "\"}");
    agent.documents().put("config", "small", "{\"hz\":1}");
    java.util.concurrent.BlockingQueue<String> got =
        new java.util.concurrent.LinkedBlockingQueue<>();
    MqttAsyncClient c =
        new MqttAsyncClient(
            url(), "tiny", new org.eclipse.paho.mqttv5.client.persist.MemoryPersistence());
    c.setCallback(
        new org.eclipse.paho.mqttv5.client.MqttCallback() {
          @Override
          public void messageArrived(String topic, MqttMessage m) {
            got.add(topic);
          }

          @Override
          public void disconnected(org.eclipse.paho.mqttv5.client.MqttDisconnectResponse r) {}

          @Override
          public void mqttErrorOccurred(org.eclipse.paho.mqttv5.common.MqttException e) {}

          @Override
          public void deliveryComplete(IMqttToken token) {}

          @Override
          public void connectComplete(boolean reconnect, String serverUri) {}

          @Override
          public void authPacketArrived(
              int reasonCode, org.eclipse.paho.mqttv5.common.packet.MqttProperties p) {}
        });
    MqttConnectionOptions o = new MqttConnectionOptions();
    o.setMaximumPacketSize(200L);
    c.connect(o).waitForCompletion(5_000);
    clients.add(c::close);
    c.subscribe("edgesync/docs/device/config/+", 1).waitForCompletion(5_000);
    assertThat(got.poll(5, java.util.concurrent.TimeUnit.SECONDS))
        .isEqualTo("edgesync/docs/device/config/small");
    assertThat(got.poll(300, java.util.concurrent.TimeUnit.MILLISECONDS)).isNull();
    assertThat(metric("messages_sent_total{kind=\"too_large_for_client\"}")).isEqualTo(1);
  }

  @Test
  void publishingToADocument_isRefusedAsNotAuthorized() throws Exception {
    start(settings("sensors/#", "telemetry"), null);
    MqttAsyncClient c = v5("writer");
    IMqttToken t =
        c.publish(
            "edgesync/docs/device/config/rate",
            new MqttMessage("{}".getBytes(UTF_8), 1, false, null));
    t.waitForCompletion(5_000);
    assertThat(t.getReasonCodes()).containsExactly(0x87);
    assertThat(agent.documents().get("config", "rate")).isEmpty();
  }

  @Test
  void subscribingOutsideDocsAndCommands_isRefused() throws Exception {
    start(settings("sensors/#", "telemetry"), null);
    MqttClient c = v3("sub-2");
    int[] granted =
        c.subscribeWithResponse(new String[] {"sensors/#"}, new int[] {1}).getGrantedQos();
    assertThat(granted).containsExactly(0x80);
  }

  /** A sample of the listener's metrics as GET /metrics shows them (0 if absent). */
  static long metric(EdgeAgent agent, String sample) {
    for (String line : agent.mqttMetricsText().split("\n")) {
      if (line.startsWith("edgesync_agent_mqtt_" + sample + " ")) {
        return Long.parseLong(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return 0;
  }

  private long metric(String sample) {
    return metric(agent, sample);
  }
}
