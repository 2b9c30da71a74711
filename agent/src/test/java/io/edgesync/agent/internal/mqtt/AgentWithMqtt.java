package io.edgesync.agent.internal.mqtt;

import io.edgesync.agent.AgentConfig;
import io.edgesync.agent.EdgeAgent;
import io.edgesync.agent.MqttSettings;
import io.edgesync.agent.OutboxLimits;
import io.edgesync.agent.internal.outbox.SqliteOutbox;
import io.edgesync.engine.edge.Outbox;
import io.edgesync.protocol.Clock;
import io.edgesync.protocol.Record;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** A real agent (no cloud reachable) with its MQTT listener on a free port, for tests. */
final class AgentWithMqtt implements AutoCloseable {
  private final Path dir;
  private EdgeAgent agent;

  AgentWithMqtt(Path dir, MqttSettings mqtt) {
    this.dir = dir;
    this.agent =
        EdgeAgent.open(
            AgentConfig.fromYaml(
                    "device: {id: gw-1}\nserver: {url: \"ws://127.0.0.1:1/v1/sync\"}\n"
                        + "sync: {offline: {local_storage_path: \""
                        + dir.resolve("data").toString().replace("\\", "/")
                        + "\"}}\nlocal_api: {port: -1}\ndocuments: {collections: [config]}\n")
                .withMqtt(mqtt));
  }

  /** Settings: listener on a free loopback port, 4 KiB packets, the given filter → stream pairs. */
  static MqttSettings settings(int maxInflight, String... filterStream) {
    List<MqttSettings.Route> routes = new ArrayList<>();
    for (int i = 0; i < filterStream.length; i += 2) {
      routes.add(new MqttSettings.Route(filterStream[i], filterStream[i + 1]));
    }
    return new MqttSettings(
        true,
        "127.0.0.1",
        0,
        maxInflight,
        4096,
        10,
        1_000,
        null,
        null,
        null,
        null,
        routes,
        "edgesync/");
  }

  EdgeAgent agent() {
    return agent;
  }

  int port() {
    return agent.mqttPort();
  }

  long metric(String sample) {
    return MqttListenerTest.metric(agent, sample);
  }

  /**
   * The sample once it reached {@code expected} (at most 5 s): counts of closed connections are
   * taken when the server's side of the close has run, a moment after the client saw it.
   */
  long awaitMetric(String sample, long expected) throws InterruptedException {
    long deadline = System.nanoTime() + 5_000_000_000L;
    long v = metric(sample);
    while (v < expected && System.nanoTime() < deadline) {
      Thread.sleep(20);
      v = metric(sample);
    }
    return v;
  }

  /** The stream's records in the outbox file, read after the agent closed. */
  List<Record> stored(String stream) throws Exception {
    close();
    try (SqliteOutbox o =
        new SqliteOutbox(
            dir.resolve("data/edgesync-agent.db"),
            OutboxLimits.defaults(),
            Map.of(),
            Map.of(),
            10,
            Clock.SYSTEM)) {
      Outbox.Item item = o.read(stream, 1, 100_000, Long.MAX_VALUE);
      return item instanceof Outbox.Item.Records r ? r.records() : List.of();
    }
  }

  @Override
  public void close() {
    if (agent != null) {
      agent.close();
      agent = null;
    }
  }
}
