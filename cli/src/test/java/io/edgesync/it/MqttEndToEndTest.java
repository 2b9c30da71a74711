package io.edgesync.it;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgesync.agent.AgentConfig;
import io.edgesync.agent.EdgeAgent;
import io.edgesync.protocol.Record;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The agent's MQTT listener end to end, with a real cloud server: QoS 1 from Paho and from Debian's
 * {@code mosquitto_pub} reaches the cloud with its topic and accept time; a command queued in the
 * cloud reaches an MQTT subscriber (and not the local API's pollers) and the result it publishes
 * reaches the cloud; {@code mosquitto_sub} gets a document's current value retained and then its
 * changes; wrong credentials are refused with the right code on 3.1.1 and 5. The tests that run
 * mosquitto's clients skip with a notice where they are not installed.
 */
class MqttEndToEndTest extends RelayedServerTest {
  private static final String DEVICE = "gw-mq";
  private EdgeAgent agent;
  private final List<AutoCloseable> clients = new ArrayList<>();

  @AfterEach
  void closeAgent() throws Exception {
    for (AutoCloseable c : clients) {
      try {
        c.close();
      } catch (Exception ignored) {
        // already closed
      }
    }
    if (agent != null) {
      agent.close();
    }
  }

  private EdgeAgent start(String moreMqtt) {
    AgentConfig c =
        AgentConfig.fromYaml(
            "device: {id: "
                + DEVICE
                + "}\nserver: {url: \""
                + Testbed.syncUrl(relay.port())
                + "\"}\nlocal_api: {port: 0}\n"
                + "sync: {offline: {local_storage_path: \""
                + dir.resolve("edge")
                + "\"}}\n"
                + "documents: {collections: [config]}\n"
                + "mqtt:\n  enabled: true\n  port: 0\n"
                + "  topics: [{filter: \"sensors/#\", stream: telemetry}]\n"
                + moreMqtt);
    agent = EdgeAgent.open(Testbed.neverDrop(Testbed.fastSync(c)));
    return agent;
  }

  private MqttClient paho(String id) throws Exception {
    MqttClient c =
        new MqttClient("tcp://127.0.0.1:" + agent.mqttPort(), id, new MemoryPersistence());
    MqttConnectOptions o = new MqttConnectOptions();
    o.setCleanSession(true);
    c.connect(o);
    clients.add(
        () -> {
          c.disconnect();
          c.close();
        });
    return c;
  }

  @Test
  void qos1FromPahoAndMosquittoPub_reachesTheCloud_withItsTopicAndAcceptTime() throws Exception {
    start("");
    awaitConnected(DEVICE);
    long before = System.currentTimeMillis();
    paho("p1").publish("sensors/n1/temp", "{\"t\":20.5}".getBytes(UTF_8), 1, false);
    int records = 1;
    if (mosquittoPresent()) {
      run(
          "mosquitto_pub",
          "-h",
          "127.0.0.1",
          "-p",
          port(),
          "-q",
          "1",
          "-V",
          "mqttv5",
          "-t",
          "sensors/n2/temp",
          "-m",
          "{\"t\":21}");
      run(
          "mosquitto_pub",
          "-h",
          "127.0.0.1",
          "-p",
          port(),
          "-q",
          "1",
          "-V",
          "mqttv311",
          "-t",
          "sensors/n3/raw",
          "-m",
          "not json");
      records = 3;
    } else {
      assumeMosquittoNotice();
    }
    long after = System.currentTimeMillis();
    int expected = records;
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> server.store().checkpoints(DEVICE).getOrDefault("telemetry", 0L) >= expected);
    List<Record> inCloud = server.store().read(DEVICE, "telemetry", 0, 10);
    assertThat(new String(inCloud.get(0).payload(), UTF_8))
        .isEqualTo("{\"topic\":\"sensors/n1/temp\",\"payload\":{\"t\":20.5}}");
    assertThat(inCloud.get(0).originMs()).isBetween(before, after);
    if (records == 3) {
      assertThat(new String(inCloud.get(1).payload(), UTF_8))
          .isEqualTo("{\"topic\":\"sensors/n2/temp\",\"payload\":{\"t\":21}}");
      assertThat(new String(inCloud.get(2).payload(), UTF_8))
          .isEqualTo("{\"topic\":\"sensors/n3/raw\",\"payload_base64\":\"bm90IGpzb24=\"}");
    }
    assertThat(metricsText())
        .contains("edgesync_agent_mqtt_messages_acknowledged_total " + records + "\n");
  }

  @Test
  void aCloudCommand_reachesAnMqttSubscriberNotAnHttpPoller_andItsPublishedResultReachesTheCloud()
      throws Exception {
    start("");
    awaitConnected(DEVICE);
    BlockingQueue<String> got = new LinkedBlockingQueue<>();
    MqttClient c = paho("worker");
    c.subscribe(
        "edgesync/commands/reboot", 1, (topic, m) -> got.add(new String(m.getPayload(), UTF_8)));
    String id =
        rest.ok(
                rest.post(
                    "/api/v1/devices/" + DEVICE + "/commands",
                    "{\"name\":\"reboot\",\"payload\":{\"delay_s\":5},\"ttlSeconds\":600}"))
            .get("id")
            .asText();
    // A program polling the local API does not get the command an MQTT subscriber claimed.
    Rest local = new Rest(agent.localApiPort());
    assertThat(local.get("/v1/commands/next?waitMs=1500").status()).isEqualTo(204);
    String delivered = got.poll(10, TimeUnit.SECONDS);
    assertThat(delivered).isNotNull();
    JsonNode cmd = Rest.json(delivered);
    assertThat(cmd.get("id").asText()).isEqualTo(id);
    assertThat(cmd.get("name").asText()).isEqualTo("reboot");
    assertThat(cmd.get("payload")).isEqualTo(Rest.json("{\"delay_s\":5}"));

    c.publish(
        "edgesync/commands/" + id + "/result",
        "{\"succeeded\":true,\"result\":{\"rebooted\":true}}".getBytes(UTF_8),
        1,
        false);
    rest.awaitField("/api/v1/commands/" + id, "state", "succeeded");
    assertThat(rest.ok(rest.get("/api/v1/commands/" + id)).get("result"))
        .isEqualTo(Rest.json("{\"rebooted\":true}"));
  }

  @Test
  void mosquittoSub_getsTheCurrentDocumentRetained_thenItsChange() throws Exception {
    assumeMosquitto();
    start("");
    agent.documents().put("config", "rate", "{\"hz\":5}");
    Process sub =
        new ProcessBuilder(
                "mosquitto_sub",
                "-h",
                "127.0.0.1",
                "-p",
                port(),
                "-V",
                "mqttv5",
                "-q",
                "1",
                "-t",
                "edgesync/docs/device/config/#",
                "-v",
                "-C",
                "2",
                "-W",
                "20")
            .redirectErrorStream(true)
            .start();
    try (BufferedReader out =
        new BufferedReader(new InputStreamReader(sub.getInputStream(), UTF_8))) {
      assertThat(out.readLine()).isEqualTo("edgesync/docs/device/config/rate {\"hz\":5}");
      agent.documents().put("config", "rate", "{\"hz\":50}");
      assertThat(out.readLine()).isEqualTo("edgesync/docs/device/config/rate {\"hz\":50}");
    } finally {
      sub.destroy();
    }
    assertThat(sub.waitFor(10, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void wrongPassword_isRefusedWithItsReturnCode_on311And5() throws Exception {
    assumeMosquitto();
    Path password = Files.writeString(dir.resolve("mqtt.password"), "right-one\n");
    start("  username: sensor\n  password_file: \"" + password + "\"\n");
    Result v311 =
        run(
            "mosquitto_pub",
            "-h",
            "127.0.0.1",
            "-p",
            port(),
            "-V",
            "mqttv311",
            "-u",
            "sensor",
            "-P",
            "wrong",
            "-q",
            "1",
            "-t",
            "sensors/x",
            "-m",
            "{}");
    assertThat(v311.exit()).isNotZero();
    assertThat(v311.output()).containsIgnoringCase("bad user name or password");
    Result v5 =
        run(
            "mosquitto_pub",
            "-h",
            "127.0.0.1",
            "-p",
            port(),
            "-V",
            "mqttv5",
            "-u",
            "sensor",
            "-P",
            "wrong",
            "-q",
            "1",
            "-t",
            "sensors/x",
            "-m",
            "{}");
    assertThat(v5.exit()).isNotZero();
    assertThat(v5.output()).containsIgnoringCase("bad user name or password");
    Result ok =
        run(
            "mosquitto_pub",
            "-h",
            "127.0.0.1",
            "-p",
            port(),
            "-V",
            "mqttv5",
            "-u",
            "sensor",
            "-P",
            "right-one",
            "-q",
            "1",
            "-t",
            "sensors/x",
            "-m",
            "{}");
    assertThat(ok.exit()).as(ok.output()).isZero();
    assertThat(metricsText())
        .contains("edgesync_agent_mqtt_connections_refused_total{reason=\"bad_credentials\"} 2\n")
        .contains("edgesync_agent_mqtt_messages_acknowledged_total 1\n");
  }

  @Test
  void qos0FromMosquittoPub_isStoredAndCounted() throws Exception {
    assumeMosquitto();
    start("");
    Path lines = Files.write(dir.resolve("lines"), List.of("{\"i\":1}", "{\"i\":2}", "{\"i\":3}"));
    Result r =
        run(
            "mosquitto_pub",
            "-h",
            "127.0.0.1",
            "-p",
            port(),
            "-q",
            "0",
            "-t",
            "sensors/q0",
            "-f",
            lines.toString());
    assertThat(r.exit()).as(r.output()).isZero();
    Result unmapped =
        run(
            "mosquitto_pub",
            "-h",
            "127.0.0.1",
            "-p",
            port(),
            "-q",
            "0",
            "-t",
            "elsewhere/q0",
            "-m",
            "{}");
    assertThat(unmapped.exit()).isZero(); // QoS 0 has no answer: counted, not stored
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                metricsText().contains("edgesync_agent_mqtt_messages_stored_total{qos=\"0\"} 1\n"));
    assertThat(metricsText())
        .contains("edgesync_agent_mqtt_messages_received_total{qos=\"0\"} 2\n")
        .contains(
            "edgesync_agent_mqtt_messages_refused_total{qos=\"0\",reason=\"unmapped_topic\"} 1\n");
  }

  // ---------------------------------------------------------------- helpers

  private String port() {
    return Integer.toString(agent.mqttPort());
  }

  private String metricsText() throws Exception {
    HttpResponse<String> r =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + agent.localApiPort() + "/metrics"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    return r.body();
  }

  private record Result(int exit, String output) {}

  private static Result run(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).as(String.join(" ", cmd)).isTrue();
    return new Result(p.exitValue(), out);
  }

  static boolean mosquittoPresent() {
    return Files.isExecutable(Path.of("/usr/bin/mosquitto_pub"))
        && Files.isExecutable(Path.of("/usr/bin/mosquitto_sub"));
  }

  static void assumeMosquitto() {
    assumeMosquittoNotice();
    Assumptions.assumeTrue(mosquittoPresent(), "mosquitto-clients is not installed");
  }

  private static void assumeMosquittoNotice() {
    if (!mosquittoPresent()) {
      System.err.println(
          "notice: mosquitto_pub/mosquitto_sub not found; skipping their part. Install them with"
              + " `apt-get install mosquitto-clients` (.ci/run does).");
    }
  }
}
