package io.edgesync.it;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgesync.agent.AgentConfig;
import io.edgesync.agent.AgentStatus;
import io.edgesync.agent.EdgeAgent;
import io.edgesync.engine.link.BandwidthPolicy;
import io.edgesync.protocol.Record;
import io.edgesync.protocol.codec.Codec;
import io.edgesync.protocol.codec.CodecSettings;
import io.edgesync.server.ServerConfig;
import io.edgesync.server.SyncServer;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Batch codecs end to end over a real WebSocket and real SQLite files: every record arrives as it
 * was appended whatever the codec, and the bytes on the wire are accounted the same on both sides
 * (agent status and metrics, the server's device view).
 */
class WireCodecTest {
  @TempDir Path dir;

  private static List<byte[]> telemetry(int from, int n) {
    List<byte[]> out = new ArrayList<>();
    for (int i = from; i < from + n; i++) {
      out.add(
          String.format(
                  Locale.ROOT,
                  "{\"device_id\":\"gw-7\",\"ts\":%d,\"temperature_c\":%.2f,\"status\":\"%s\"}",
                  1_767_225_600_000L + i * 1000L,
                  21 + Math.sin(i / 50.0),
                  i % 97 == 0 ? "warn" : "ok")
              .getBytes(UTF_8));
    }
    return out;
  }

  private record Outcome(AgentStatus status, JsonNode device, long frameBytes) {}

  /** Appends 2,000 records (batches of 400 and single records) and waits until all are synced. */
  private Outcome sync(ServerConfig serverConfig, CodecSettings codec) {
    try (SyncServer server = SyncServer.start(serverConfig.withPort(0));
        EdgeAgent agent =
            EdgeAgent.open(
                withCodec(
                    Testbed.fastSync(
                        AgentConfig.simple(
                            "dev-1", URI.create(server.syncUrl()), dir.resolve("edge-" + codec))),
                    codec))) {
      List<byte[]> all = new ArrayList<>();
      for (int call = 0; call < 5; call++) {
        List<byte[]> part = telemetry(call * 400, 400);
        agent.appendAll("sensor_data", part);
        all.addAll(part);
      }
      for (byte[] one : telemetry(2_000, 20)) {
        agent.append("sensor_data", one);
        all.add(one);
      }
      await().atMost(Duration.ofSeconds(30)).until(() -> agent.metrics().synced() == all.size());
      List<Record> stored = server.store().read("dev-1", "sensor_data", 0, 10_000);
      assertThat(stored).hasSize(all.size());
      for (int i = 0; i < all.size(); i++) {
        assertThat(stored.get(i).sequence()).isEqualTo(i + 1);
        assertThat(new String(stored.get(i).payload(), UTF_8))
            .isEqualTo(new String(all.get(i), UTF_8));
      }
      JsonNode device = new Rest(server).ok(new Rest(server).get("/api/v1/devices/dev-1"));
      return new Outcome(agent.status(), device, agent.metrics().batchFrameBytes());
    }
  }

  private static AgentConfig withCodec(AgentConfig c, CodecSettings codec) {
    BandwidthPolicy b = c.sync().bandwidth().withCompression(codec);
    return c.withSync(c.sync().withBandwidth(b));
  }

  @Test
  void auto_negotiatesEveryCodec_andBothSidesAccountTheSameBytes() {
    Outcome o = sync(ServerConfig.defaults(dir.resolve("cloud-auto")), CodecSettings.auto());

    AgentStatus.BandwidthView bw = o.status().bandwidth();
    assertThat(bw.compression()).isEqualTo("auto");
    assertThat(bw.codec()).isEqualTo("auto");
    assertThat(bw.accepted()).contains("codec:columnar", "codec:template_stream", "batch:compact");
    AgentStatus.WireView edge = bw.total();
    assertThat(edge.records()).isEqualTo(2_020);
    assertThat(edge.ratio()).isGreaterThan(8.0);
    assertThat(o.status().streams().get(0).wire()).isEqualTo(edge);

    JsonNode cloud = o.device().get("wire");
    assertThat(cloud.get("batches").asLong()).isEqualTo(edge.batches());
    assertThat(cloud.get("rawBytes").asLong()).isEqualTo(edge.rawBytes());
    assertThat(cloud.get("encodedBytes").asLong()).isEqualTo(edge.encodedBytes());
    assertThat(cloud.get("frameBytes").asLong())
        .isEqualTo(edge.frameBytes())
        .isEqualTo(o.frameBytes());
    assertThat(o.device().get("streams").get(0).get("wire")).isEqualTo(cloud);
    assertThat(cloud.get("ratio").asDouble()).isGreaterThan(8.0);
  }

  /**
   * The agent's wire counters are kept in its outbox: after a restart they go on from where they
   * were (not from zero), and still equal the cloud's per stream and for the device.
   */
  @Test
  void agentRestart_keepsTheWireCounters_stillEqualToTheCloudsPerStreamAndDevice() {
    try (SyncServer server =
        SyncServer.start(ServerConfig.defaults(dir.resolve("cloud-restart")).withPort(0))) {
      AgentConfig config =
          Testbed.fastSync(
              AgentConfig.simple(
                  "dev-1", URI.create(server.syncUrl()), dir.resolve("edge-restart")));
      AgentStatus before;
      try (EdgeAgent agent = EdgeAgent.open(config)) {
        agent.appendAll("sensor_data", telemetry(0, 600));
        agent.appendAll("logs", telemetry(5_000, 50));
        awaitCloud(server, 600, 50);
        before = agent.status();
        assertThat(before.bandwidth().total().records()).isEqualTo(650);
      }
      try (EdgeAgent agent = EdgeAgent.open(config)) {
        assertThat(agent.status().bandwidth().total())
            .as("counters right after the restart, before any new batch")
            .isEqualTo(before.bandwidth().total());
        assertThat(wireByStream(agent.status())).isEqualTo(wireByStream(before));

        agent.appendAll("sensor_data", telemetry(600, 400));
        for (byte[] one : telemetry(6_000, 5)) {
          agent.append("logs", one);
        }
        awaitCloud(server, 1_000, 55);
        AgentStatus after = agent.status();
        AgentStatus.WireView edge = after.bandwidth().total();
        assertThat(edge.records()).isEqualTo(1_055);
        assertThat(edge.batches()).isGreaterThan(before.bandwidth().total().batches());

        JsonNode device = new Rest(server).ok(new Rest(server).get("/api/v1/devices/dev-1"));
        assertSameBytes(device.get("wire"), edge);
        Map<String, AgentStatus.WireView> perStream = wireByStream(after);
        assertThat(device.get("streams")).hasSize(2);
        for (JsonNode st : device.get("streams")) {
          assertSameBytes(st.get("wire"), perStream.get(st.get("stream").asText()));
        }
      }
    }
  }

  private static void awaitCloud(SyncServer server, long sensorData, long logs) {
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> {
              Map<String, Long> cp = server.store().checkpoints("dev-1");
              return cp.getOrDefault("sensor_data", 0L) == sensorData
                  && cp.getOrDefault("logs", 0L) == logs;
            });
  }

  private static Map<String, AgentStatus.WireView> wireByStream(AgentStatus status) {
    Map<String, AgentStatus.WireView> m = new TreeMap<>();
    for (AgentStatus.StreamView s : status.streams()) {
      m.put(s.name(), s.wire());
    }
    return m;
  }

  private static void assertSameBytes(JsonNode cloud, AgentStatus.WireView edge) {
    assertThat(cloud.get("batches").asLong()).as("batches").isEqualTo(edge.batches());
    assertThat(cloud.get("rawBytes").asLong()).as("raw bytes").isEqualTo(edge.rawBytes());
    assertThat(cloud.get("encodedBytes").asLong())
        .as("encoded bytes")
        .isEqualTo(edge.encodedBytes());
    assertThat(cloud.get("frameBytes").asLong()).as("frame bytes").isEqualTo(edge.frameBytes());
  }

  @Test
  void aServerTakingOnlyGzip_getsGzip() {
    ServerConfig gzipOnly =
        ServerConfig.defaults(dir.resolve("cloud-gzip"))
            .withPolicy(
                ServerConfig.defaults(dir).policy().withCodecs(EnumSet.of(Codec.GZIP), false));

    Outcome o = sync(gzipOnly, CodecSettings.auto());

    assertThat(o.status().bandwidth().codec()).isEqualTo("gzip");
    assertThat(o.status().bandwidth().accepted()).containsExactly("codec:gzip");
    assertThat(o.status().bandwidth().total().ratio()).isGreaterThan(2.0);
  }

  @Test
  void compressionNone_sendsTheRecordLayoutAsIs() {
    Outcome o = sync(ServerConfig.defaults(dir.resolve("cloud-none")), CodecSettings.parse("none"));

    AgentStatus.WireView w = o.status().bandwidth().total();
    assertThat(o.status().bandwidth().codec()).isEqualTo("none");
    assertThat(w.encodedBytes()).isEqualTo(w.rawBytes());
    assertThat(w.ratio()).isBetween(0.8, 1.0);
  }
}
