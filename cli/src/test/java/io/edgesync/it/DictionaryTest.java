package io.edgesync.it;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.ByteString;
import io.edgesync.agent.AgentConfig;
import io.edgesync.agent.AgentStatus;
import io.edgesync.agent.EdgeAgent;
import io.edgesync.engine.dict.DictionaryRules;
import io.edgesync.engine.link.BandwidthPolicy;
import io.edgesync.protocol.FrameCodec;
import io.edgesync.protocol.Record;
import io.edgesync.protocol.codec.BatchEncoder;
import io.edgesync.protocol.codec.Codec;
import io.edgesync.protocol.codec.CodecCapabilities;
import io.edgesync.protocol.codec.CodecSettings;
import io.edgesync.protocol.codec.Dictionary;
import io.edgesync.protocol.codec.EncodedBatch;
import io.edgesync.protocol.wire.ErrorCode;
import io.edgesync.protocol.wire.Frame;
import io.edgesync.protocol.wire.RecordBatch;
import io.edgesync.protocol.wire.StreamCheckpoint;
import io.edgesync.protocol.wire.StreamDictionary;
import io.edgesync.protocol.wire.Welcome;
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
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Trained dictionaries end to end, over a real WebSocket and real SQLite files: the cloud trains
 * one from what devices sent, ships it, the device keeps it across a restart and names it in small
 * zstd batches, which shrink; a newer version supersedes the old while a batch naming the old one
 * still decodes; a batch naming a dictionary the cloud does not keep is refused and nothing of it
 * is stored.
 */
class DictionaryTest {
  private static final String STREAM = "sensor_data";
  private static final long T0 = 1_767_225_600_000L;

  @TempDir Path dir;

  /** BME280-like telemetry as in the bench: one reading a second, noisy, mostly "ok". */
  static List<byte[]> telemetry(String device, int from, int n) {
    SplittableRandom r = new SplittableRandom(from * 31L + device.hashCode());
    List<byte[]> out = new ArrayList<>();
    for (int i = from; i < from + n; i++) {
      double day = Math.sin(i / 3600.0);
      out.add(
          String.format(
                  Locale.ROOT,
                  "{\"device_id\":\"%s\",\"sensor_type\":\"bme280\",\"ts\":%d,\"temperature_c\":%s,"
                      + "\"humidity_pct\":%s,\"pressure_hpa\":%s,\"status\":\"%s\"}",
                  device,
                  T0 + i * 1000L,
                  round(21 + 2 * day + r.nextGaussian() * 0.1),
                  round(45 - 5 * day + r.nextGaussian() * 0.3),
                  round(1013 + day + r.nextGaussian() * 0.1),
                  r.nextInt(200) == 0 ? "warn" : "ok")
              .getBytes(UTF_8));
    }
    return out;
  }

  private static String round(double v) {
    return Double.toString(Math.round(v * 100) / 100.0);
  }

  /** Trains once 64 KiB of a stream arrived, at once (no interval), 8 KiB dictionaries. */
  private ServerConfig server(String name, EnumSet<Codec> codecs) {
    ServerConfig d = ServerConfig.defaults(dir.resolve(name));
    return d.withPort(0)
        .withPolicy(d.policy().withCodecs(codecs, true))
        .withDictionaries(new DictionaryRules(true, 64 * 1024, 8 * 1024, 0, 2, 16));
  }

  private EdgeAgent agent(SyncServer server, String device) {
    AgentConfig c =
        Testbed.fastSync(
            AgentConfig.simple(
                device, URI.create(server.syncUrl()), dir.resolve("edge-" + device)));
    BandwidthPolicy b = c.sync().bandwidth().withCompression(CodecSettings.parse("zstd"));
    return EdgeAgent.open(c.withSync(c.sync().withBandwidth(b)));
  }

  /** Appends records one at a time, each synced before the next: batches of one record. */
  private static void sendSingly(EdgeAgent agent, List<byte[]> records, List<byte[]> all) {
    for (byte[] p : records) {
      long before = agent.metrics().synced();
      agent.append(STREAM, p);
      all.add(p);
      await().atMost(Duration.ofSeconds(10)).until(() -> agent.metrics().synced() == before + 1);
    }
  }

  /**
   * Appends {@code bulk} in one call and waits until the cloud shipped the device a dictionary for
   * the stream with an id above {@code newerThan} (0: any) and every record so far is synced;
   * returns the dictionary's id.
   */
  private static int appendUntilDictionary(
      EdgeAgent agent, List<byte[]> bulk, List<byte[]> all, int newerThan) {
    agent.appendAll(STREAM, bulk);
    all.addAll(bulk);
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> agent.dictionaries().getOrDefault(STREAM, 0) > newerThan);
    int id = agent.dictionaries().get(STREAM);
    await().atMost(Duration.ofSeconds(10)).until(() -> agent.metrics().synced() == all.size());
    return id;
  }

  private static AgentStatus.WireView wire(EdgeAgent agent) {
    return agent.status().bandwidth().total();
  }

  private static JsonNode dictionaries(SyncServer server) {
    Rest rest = new Rest(server);
    return rest.ok(rest.get("/api/v1/dictionaries"));
  }

  private static JsonNode dictionary(SyncServer server, int id) {
    for (JsonNode d : dictionaries(server).get("dictionaries")) {
      if (d.get("id").asInt() == id) {
        return d;
      }
    }
    return null;
  }

  private static void assertStoredAsSent(SyncServer server, String device, List<byte[]> all) {
    List<Record> stored = server.store().read(device, STREAM, 0, 100_000);
    assertThat(stored).hasSize(all.size());
    for (int i = 0; i < all.size(); i++) {
      assertThat(stored.get(i).sequence()).isEqualTo(i + 1);
      assertThat(stored.get(i).payload()).as("record %d", i + 1).isEqualTo(all.get(i));
    }
  }

  @Test
  void zstdDevice_getsTheCloudsDictionary_namesIt_sendsFewerBytes_andKeepsItAcrossARestart() {
    // A cloud that takes stateless zstd only: every batch names its dictionary.
    try (SyncServer server = SyncServer.start(server("cloud", EnumSet.of(Codec.ZSTD)))) {
      List<byte[]> all = new ArrayList<>();
      int id;
      double beforePayload;
      double beforeFrame;
      double afterPayload;
      double afterFrame;
      try (EdgeAgent agent = agent(server, "gw-1")) {
        // Single-record batches before the cloud has a dictionary.
        sendSingly(agent, telemetry("gw-1", 0, 40), all);
        AgentStatus.WireView w0 = wire(agent);
        assertThat(agent.dictionaries()).isEmpty();
        beforePayload = w0.encodedBytes() / 40.0;
        beforeFrame = w0.frameBytes() / 40.0;

        // Enough records for the cloud to train (64 KiB): it trains and ships to the device.
        id = appendUntilDictionary(agent, telemetry("gw-1", 40, 600), all, 0);

        AgentStatus.WireView w1 = wire(agent);
        sendSingly(agent, telemetry("gw-1", 640, 40), all);
        AgentStatus.WireView w2 = wire(agent);
        afterPayload = (w2.encodedBytes() - w1.encodedBytes()) / 40.0;
        afterFrame = (w2.frameBytes() - w1.frameBytes()) / 40.0;
      }
      System.out.printf(
          Locale.ROOT,
          "dictionary %d: batch 1, payload %.1f -> %.1f B/record, frame %.1f -> %.1f B/record%n",
          id,
          beforePayload,
          afterPayload,
          beforeFrame,
          afterFrame);
      // Measured 151 -> 41 B payload (3.7x) and 169 -> 56 B frame (3.0x) per record.
      assertThat(beforePayload / afterPayload).isGreaterThan(2.5);
      assertThat(beforeFrame / afterFrame).isGreaterThan(2.2);
      JsonNode d = dictionary(server, id);
      assertThat(d.get("stream").asText()).isEqualTo(STREAM);
      assertThat(d.get("newest").asBoolean()).isTrue();
      assertThat(d.get("batchesDecoded").asLong()).isGreaterThanOrEqualTo(40);
      assertThat(d.get("shipped").asLong()).isEqualTo(1);
      assertStoredAsSent(server, "gw-1", all);
      long decodedBefore = d.get("batchesDecoded").asLong();

      // A restart: the device still holds the dictionary, the cloud does not send it again, and
      // the first batches of the new session already name it.
      try (EdgeAgent agent = agent(server, "gw-1")) {
        assertThat(agent.dictionaries()).containsExactlyEntriesOf(Map.of(STREAM, id));
        assertThat(agent.status().bandwidth().dictionaries()).isEqualTo(Map.of(STREAM, id));
        AgentStatus.WireView w0 = wire(agent);
        sendSingly(agent, telemetry("gw-1", 680, 20), all);
        AgentStatus.WireView w1 = wire(agent);
        double restarted = (w1.encodedBytes() - w0.encodedBytes()) / 20.0;
        assertThat(restarted).isLessThan(beforePayload / 2.5);
      }
      JsonNode again = dictionary(server, id);
      assertThat(again.get("batchesDecoded").asLong()).isGreaterThanOrEqualTo(decodedBefore + 20);
      assertThat(again.get("shipped").asLong()).isEqualTo(1);
      assertStoredAsSent(server, "gw-1", all);
    }
  }

  @Test
  void zstdStream_aSessionStartedAfterTheDictionaryArrived_compressesItsStreamWithIt() {
    try (SyncServer server =
        SyncServer.start(server("cloud", EnumSet.of(Codec.ZSTD, Codec.ZSTD_STREAM)))) {
      List<byte[]> all = new ArrayList<>();
      int id;
      double before;
      double after;
      try (EdgeAgent agent = agent(server, "gw-2")) {
        // The first 20 single-record batches of a session, before there is a dictionary.
        sendSingly(agent, telemetry("gw-2", 0, 20), all);
        before = wire(agent).encodedBytes() / 20.0;
        id = appendUntilDictionary(agent, telemetry("gw-2", 20, 600), all, 0);
      }
      try (EdgeAgent agent = agent(server, "gw-2")) {
        // The first 20 of the next session: its stream starts with the dictionary. (The wire
        // counts are kept across restarts: take the difference.)
        long sentBefore = wire(agent).encodedBytes();
        sendSingly(agent, telemetry("gw-2", 620, 20), all);
        after = (wire(agent).encodedBytes() - sentBefore) / 20.0;
        assertThat(agent.status().bandwidth().codec()).isEqualTo("zstd");
      }
      System.out.printf(
          Locale.ROOT,
          "ZSTD_STREAM, first 20 batches of a session: %.1f -> %.1f B/record%n",
          before,
          after);
      assertThat(after).isLessThan(before * 0.85);
      // Every ZSTD_STREAM batch of the new session decoded through the dictionary.
      assertThat(dictionary(server, id).get("batchesDecoded").asLong()).isGreaterThanOrEqualTo(20);
      assertStoredAsSent(server, "gw-2", all);
    }
  }

  @Test
  void aNewVersionSupersedesTheOld_aBatchStillNamingTheOldOneDecodes_anUnknownOneIsRefused()
      throws Exception {
    try (SyncServer server = SyncServer.start(server("cloud", EnumSet.of(Codec.ZSTD)))) {
      List<byte[]> all = new ArrayList<>();
      int first;
      int second;
      try (EdgeAgent agent = agent(server, "gw-3")) {
        first = appendUntilDictionary(agent, telemetry("gw-3", 0, 600), all, 0);
        // Another 64 KiB: the cloud trains again, a new id, shipped to the connected device.
        second = appendUntilDictionary(agent, telemetry("gw-3", 600, 600), all, first);
        sendSingly(agent, telemetry("gw-3", 1200, 5), all);
      }
      assertThat(dictionary(server, second).get("newest").asBoolean()).isTrue();
      assertThat(dictionary(server, second).get("batchesDecoded").asLong())
          .isGreaterThanOrEqualTo(5);
      assertThat(dictionary(server, first).get("newest").asBoolean()).isFalse();
      assertStoredAsSent(server, "gw-3", all);

      // A device whose batch was encoded with the old version before the new one arrived.
      Dictionary old = server.dictionaries().byId(first);
      RawClient c = RawClient.connect(server.syncUrl());
      c.send(
          Frame.newBuilder()
              .setHello(
                  RawClient.hello("raw-1")
                      .addCapabilities("codec:zstd")
                      .addCheckpoints(StreamCheckpoint.newBuilder().setStream(STREAM))
                      .addDictionaryIds(first)));
      Welcome welcome = c.next().getWelcome();
      assertThat(welcome.getDictionaryIdsList()).containsExactly(first);
      assertThat(welcome.getDictionariesList())
          .extracting(StreamDictionary::getId)
          .containsExactly(second);
      c.send(batch(1, telemetry("raw-1", 0, 3), old));
      assertThat(c.next().getAck().getSequence()).isEqualTo(3);
      assertThat(server.store().read("raw-1", STREAM, 0, 10)).hasSize(3);

      // A batch naming a dictionary the cloud never had: refused, nothing of it stored.
      Dictionary stranger = Dictionary.of(999_999, old.bytes());
      c.send(batch(4, telemetry("raw-1", 3, 2), stranger));
      Frame error = c.next();
      assertThat(error.getError().getCode()).isEqualTo(ErrorCode.INVALID_BATCH);
      assertThat(error.getError().getMessage())
          .isEqualTo(
              "invalid ZSTD payload: names dictionary 999999, which this decoder does not have");
      assertThat(server.store().read("raw-1", STREAM, 0, 10)).hasSize(3);
      assertThat(server.store().checkpoints("raw-1")).containsEntry(STREAM, 3L);

      // A device may not send a dictionary to the cloud.
      RawClient d = RawClient.welcomed(server.syncUrl(), RawClient.hello("raw-2"));
      d.send(
          Frame.newBuilder()
              .setDictionary(
                  StreamDictionary.newBuilder()
                      .setStream(STREAM)
                      .setId(5)
                      .setData(ByteString.copyFrom(old.bytes()))));
      Frame refused = d.next();
      assertThat(refused.getError().getCode()).isEqualTo(ErrorCode.PROTOCOL_VIOLATION);
      assertThat(refused.getError().getMessage())
          .isEqualTo("a device may not send DICTIONARY frames");
      assertThat(server.dictionaries().byId(5)).isNull();
    }
  }

  @Test
  void aMalformedDictionaryFromTheCloud_isRefusedByTheDevice_withAClearError_andNothingIsKept()
      throws Exception {
    ServerConfig config = server("cloud", EnumSet.of(Codec.ZSTD));
    SyncServer.start(config).close(); // creates the cloud's store
    // A dictionary row whose bytes carry the zstd header of another id (a damaged or tampered
    // store): the cloud ships it as dictionary 1.
    byte[] bad = Dictionary.train(77, telemetry("gw-4", 0, 2000), 4096).bytes();
    try (java.sql.Connection db =
            java.sql.DriverManager.getConnection(
                "jdbc:sqlite:" + dir.resolve("cloud").resolve("edgesync-cloud.db"));
        java.sql.PreparedStatement ps =
            db.prepareStatement(
                "INSERT INTO dictionaries(stream, data, trained_at_ms) VALUES (?,?,1)")) {
      ps.setString(1, STREAM);
      ps.setBytes(2, bad);
      ps.executeUpdate();
    }
    try (SyncServer server = SyncServer.start(config)) {
      assertThat(server.dictionaries().byId(1)).isNotNull();
      try (EdgeAgent agent = agent(server, "gw-4")) {
        agent.append(STREAM, telemetry("gw-4", 0, 1).get(0));
        await()
            .atMost(Duration.ofSeconds(10))
            .until(
                () ->
                    String.valueOf(agent.status().lastError())
                        .contains(
                            "invalid dictionary in Welcome: dictionary 1 carries the zstd header"
                                + " of dictionary 77"));
        assertThat(agent.dictionaries()).isEmpty();
        assertThat(agent.metrics().synced()).isZero();
      }
      // Nothing was kept on the device, across a restart too, and the cloud stored nothing.
      try (EdgeAgent agent = agent(server, "gw-4")) {
        assertThat(agent.dictionaries()).isEmpty();
      }
      assertThat(server.store().read("gw-4", STREAM, 0, 10)).isEmpty();
    }
  }

  private static byte[] batch(long first, List<byte[]> payloads, Dictionary d) {
    List<Record> records = new ArrayList<>();
    for (int i = 0; i < payloads.size(); i++) {
      records.add(new Record(first + i, T0 + i, payloads.get(i)));
    }
    try (BatchEncoder enc =
        new BatchEncoder(CodecSettings.parse("zstd").withContextTakeover(false))) {
      EncodedBatch e = enc.encode(records, d);
      return FrameCodec.encode(
          Frame.newBuilder()
              .setBatch(
                  RecordBatch.newBuilder()
                      .setStream(STREAM)
                      .setFirstSequence(first)
                      .setCount(records.size())
                      .setCodec(CodecCapabilities.toWire(e.codec()))
                      .setPayload(ByteString.copyFrom(e.payload())))
              .build());
    }
  }
}
