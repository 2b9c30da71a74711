package io.edgesync.it;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgesync.agent.OutboxLimits;
import io.edgesync.agent.internal.outbox.SqliteOutbox;
import io.edgesync.engine.edge.Outbox;
import io.edgesync.protocol.Clock;
import io.edgesync.protocol.Record;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.eclipse.paho.client.mqttv3.IMqttActionListener;
import org.eclipse.paho.client.mqttv3.IMqttToken;
import org.eclipse.paho.client.mqttv3.MqttAsyncClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 of an agent while MQTT clients publish QoS 1 to it: a child JVM runs the agent with its
 * listener; three Paho clients publish without pause (up to 50 messages in flight each) and record
 * every message whose PUBACK arrived; the agent is SIGKILLed at a seeded random moment, restarted
 * on the same files, several times. Afterwards every acknowledged message is in the outbox, with
 * its topic; messages sent but not acknowledged may be there too, and may be there twice if the
 * client sent them again (at-least-once, as MQTT's QoS 1 is).
 */
class MqttCrashTest {
  private static final int ROUNDS = Integer.getInteger("mqtt.crash.rounds", 3);
  private static final int CLIENTS = 3;
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  /** "client/n" of every message whose PUBACK arrived. */
  private final Set<String> acknowledged = ConcurrentHashMap.newKeySet();

  @Test
  void afterRepeatedSigkills_everyAcknowledgedQos1Message_isInTheOutbox() throws Exception {
    Path data = dir.resolve("edge");
    SplittableRandom random = new SplittableRandom(1616);
    long[] next = new long[CLIENTS];
    for (int round = 0; round < ROUNDS; round++) {
      int port = Testbed.freePort();
      ChildJvm agent =
          ChildJvm.start(
              "mqtt-agent-" + round,
              dir.resolve("agent-" + round + ".log"),
              line -> {},
              MqttAgentChild.class,
              data.toString(),
              Integer.toString(port));
      agent.awaitReady(Duration.ofSeconds(60));
      AtomicBoolean stop = new AtomicBoolean();
      List<Thread> publishers = new ArrayList<>();
      for (int c = 0; c < CLIENTS; c++) {
        int client = c;
        Thread t = new Thread(() -> publish(port, client, next, stop), "publisher-" + c);
        t.start();
        publishers.add(t);
      }
      Thread.sleep(random.nextLong(800, 2000));
      int before = acknowledged.size();
      agent.sigkill();
      stop.set(true);
      for (Thread t : publishers) {
        t.join(10_000);
      }
      assertThat(acknowledged.size()).as("round " + round + " acknowledged some").isGreaterThan(0);
      System.err.println(
          "round "
              + round
              + ": "
              + acknowledged.size()
              + " acknowledged so far ("
              + before
              + " before the kill)");
    }
    Map<String, Integer> stored = storedMessages(data);
    List<String> lost = new ArrayList<>();
    for (String m : acknowledged) {
      if (!stored.containsKey(m)) {
        lost.add(m);
      }
    }
    assertThat(lost).as("acknowledged messages missing from the outbox").isEmpty();
    long duplicates = stored.values().stream().filter(n -> n > 1).count();
    System.err.println(
        acknowledged.size()
            + " acknowledged, "
            + stored.size()
            + " stored, "
            + duplicates
            + " stored twice (sent again after a lost PUBACK)");
  }

  /** Publishes QoS 1 until stopped or the connection dies; records each PUBACK. */
  private void publish(int port, int client, long[] next, AtomicBoolean stop) {
    try {
      MqttAsyncClient c =
          new MqttAsyncClient(
              "tcp://127.0.0.1:" + port, "crash-" + client, new MemoryPersistence());
      MqttConnectOptions o = new MqttConnectOptions();
      o.setMaxInflight(50);
      o.setAutomaticReconnect(false);
      c.connect(o).waitForCompletion(10_000);
      while (!stop.get() && c.isConnected()) {
        String key = client + "/" + next[client];
        MqttMessage m =
            new MqttMessage(("{\"c\":" + client + ",\"n\":" + next[client] + "}").getBytes(UTF_8));
        m.setQos(1);
        try {
          c.publish("bench/c" + client, m, null, acked(key));
          next[client]++;
        } catch (MqttException e) {
          if (e.getReasonCode() != MqttException.REASON_CODE_MAX_INFLIGHT) {
            return; // the agent is gone
          }
          Thread.sleep(1);
        }
      }
      c.close(true);
    } catch (MqttException | InterruptedException e) {
      // the agent was killed under it
    }
  }

  private IMqttActionListener acked(String key) {
    return new IMqttActionListener() {
      @Override
      public void onSuccess(IMqttToken token) {
        acknowledged.add(key);
      }

      @Override
      public void onFailure(IMqttToken token, Throwable e) {}
    };
  }

  /** "client/n" → how often it is in the outbox, opened as a restarted agent opens it. */
  private static Map<String, Integer> storedMessages(Path data) throws Exception {
    Map<String, Integer> out = new HashMap<>();
    try (SqliteOutbox o =
        new SqliteOutbox(
            data.resolve("edgesync-agent.db"),
            OutboxLimits.defaults(),
            Map.of(),
            Map.of(),
            10,
            Clock.SYSTEM)) {
      long from = 1;
      while (true) {
        Outbox.Item item = o.read(MqttAgentChild.STREAM, from, 10_000, Long.MAX_VALUE);
        if (!(item instanceof Outbox.Item.Records r) || r.records().isEmpty()) {
          break;
        }
        for (Record rec : r.records()) {
          JsonNode env = JSON.readTree(rec.payload());
          JsonNode p = env.get("payload");
          assertThat(env.get("topic").asText()).isEqualTo("bench/c" + p.get("c").asInt());
          out.merge(p.get("c").asInt() + "/" + p.get("n").asLong(), 1, Integer::sum);
          from = rec.sequence() + 1;
        }
      }
    }
    return out;
  }
}
