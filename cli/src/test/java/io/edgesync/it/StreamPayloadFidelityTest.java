package io.edgesync.it;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgesync.agent.AgentConfig;
import io.edgesync.agent.EdgeAgent;
import io.edgesync.protocol.Record;
import io.edgesync.protocol.wire.GapReason;
import io.edgesync.server.ServerConfig;
import io.edgesync.server.SyncServer;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Issue 10, item 2: the cloud's REST API gives back exactly the bytes a device sent. A real agent
 * appends payloads that a JSON parser would normalise; they cross a real WebSocket into the cloud's
 * SQLite store and are read back over HTTP, byte for byte: embedded verbatim in the stream read
 * when they are strict JSON, base64 otherwise, and as the whole body of the one-record read, whose
 * SHA-256 header matches the test's own.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StreamPayloadFidelityTest {
  private static final String DEVICE = "fidelity-1";
  private static final String STREAM = "readings";
  private static final ObjectMapper JSON = new ObjectMapper();

  private SyncServer server;
  private EdgeAgent agent;
  private final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  void start(@TempDir Path dir) {
    server =
        SyncServer.start(ServerConfig.defaults(dir.resolve("cloud")).withAddress("127.0.0.1", 0));
    agent =
        EdgeAgent.open(
            Testbed.fastSync(
                AgentConfig.simple(DEVICE, URI.create(server.syncUrl()), dir.resolve("edge"))));
  }

  @AfterAll
  void stop() {
    if (agent != null) {
      agent.close();
    }
    if (server != null) {
      server.close();
    }
  }

  static Stream<Arguments> payloads() {
    return Stream.of(
        json("exponent", "{\"v\":1.0e2,\"w\":-2E-3}"),
        json("duplicate keys", "{\"a\":1,\"a\":2}"),
        json("unicode escapes", "{\"name\":\"caf\\u00e9\",\"s\":\"\\ud83d\\ude00\"}"),
        json("odd whitespace and newlines", " {\r\n\t\"b\" : 1 ,\n  \"a\":[ 1 , 2 ]\n}\n"),
        json("integer beyond 2^53", "{\"id\":12345678901234567890123}"),
        json("top-level integer beyond 2^53", "12345678901234567890123"),
        json("key order and spacing", "{\"z\": 1, \"a\": 2, \"m\": 3}"),
        json("non-ASCII text as UTF-8", "{\"t\":\"Zürich 21.5 °C\"}"),
        binary("trailing text", "{\"a\":1} trailing".getBytes(UTF_8)),
        binary("two JSON values", "{\"a\":1} {\"b\":2}".getBytes(UTF_8)),
        binary("overlong UTF-8 inside a JSON string", bytes("{\"a\":\"", "c080", "\"}")),
        binary("UTF-16 JSON with a byte order mark", utf16WithBom("{\"a\":1.0e2}")),
        binary("NUL inside a JSON string", bytes("{\"a\":\"", "00", "\"}")),
        binary("binary", HexFormat.of().parseHex("00ff fe80 0a7b".replace(" ", ""))));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("payloads")
  void payloadAParserWouldNormalise_comesBackByteForByte(
      String name, byte[] payload, boolean embedded) throws Exception {
    long sequence = agent.append(STREAM, payload).firstSequence();
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> server.store().checkpoints(DEVICE).getOrDefault(STREAM, 0L) >= sequence);
    Record stored = server.store().read(DEVICE, STREAM, sequence - 1, 1).get(0);
    assertThat(stored.payload()).as("stored as sent").isEqualTo(payload);

    byte[] body = get("/streams/" + STREAM + "?after=" + (sequence - 1) + "&limit=1").body();
    JsonNode page = JSON.readTree(body); // the whole answer stays valid JSON
    JsonNode record = page.get("records").get(0);
    assertThat(record.get("sequence").asLong()).isEqualTo(sequence);
    assertThat(record.get("originMs").asLong()).isEqualTo(stored.originMs());
    if (embedded) {
      byte[] expected =
          concat(
              ("{\"device\":\""
                      + DEVICE
                      + "\",\"stream\":\""
                      + STREAM
                      + "\",\"records\":[{\"sequence\":"
                      + sequence
                      + ",\"originMs\":"
                      + stored.originMs()
                      + ",\"payload\":")
                  .getBytes(UTF_8),
              payload,
              ("}],\"nextAfter\":" + sequence + "}").getBytes(UTF_8));
      assertThat(new String(body, UTF_8)).isEqualTo(new String(expected, UTF_8));
      assertThat(body).isEqualTo(expected);
    } else {
      assertThat(record.has("payload")).as("no parsed payload").isFalse();
      assertThat(Base64.getDecoder().decode(record.get("payloadBase64").asText()))
          .isEqualTo(payload);
    }

    HttpResponse<byte[]> one = get("/streams/" + STREAM + "/records/" + sequence);
    assertThat(one.statusCode()).isEqualTo(200);
    assertThat(one.body()).isEqualTo(payload);
    assertThat(one.headers().firstValue("X-Edgesync-Sequence")).hasValue(Long.toString(sequence));
    assertThat(one.headers().firstValue("X-Edgesync-Origin-Ms"))
        .hasValue(Long.toString(stored.originMs()));
    assertThat(one.headers().firstValue("X-Edgesync-Sha256"))
        .hasValue(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(payload)));
    assertThat(one.headers().firstValue("Content-Type").orElse(""))
        .startsWith(embedded ? "application/json" : "application/octet-stream");
  }

  @Test
  void oneRecordRead_unknownDeviceStreamOrSequence_404NamingIt() throws Exception {
    long sequence = agent.append("known", "{}".getBytes(UTF_8)).firstSequence();
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> server.store().checkpoints(DEVICE).getOrDefault("known", 0L) >= sequence);
    assertError(get("/streams/known/records/1", "nobody"), 404, "unknown device 'nobody'");
    assertError(
        get("/streams/unheard/records/1"), 404, "device '" + DEVICE + "' has no stream 'unheard'");
    assertError(
        get("/streams/known/records/" + (sequence + 1)),
        404,
        "no record "
            + (sequence + 1)
            + " of stream 'known' of device '"
            + DEVICE
            + "': the stream's last sequence is "
            + sequence);
  }

  @Test
  void oneRecordRead_sequenceInAGap_404SaysItWasDroppedOnTheDevice() throws Exception {
    server.store().registerDevice("gappy", 0);
    server.store().commitGap("gappy", "s", 1, 4, GapReason.GAP_REASON_QUEUE_FULL, 7, 8);
    assertError(
        get("/streams/s/records/3", "gappy"),
        404,
        "record 3 of stream 's' of device 'gappy' was dropped on the device and never sent"
            + " (gap 1..4, queue_full)");
  }

  @Test
  void oneRecordRead_sequenceNotAPositiveInteger_400() throws Exception {
    for (String bad : List.of("abc", "0", "-1", "1.5", "99999999999999999999")) {
      assertError(
          get("/streams/" + STREAM + "/records/" + bad),
          400,
          "sequence must be an integer in 1..9223372036854775807, was '" + bad + "'");
    }
    assertError(get("/streams/-bad/records/1"), 400, "invalid stream name '-bad'");
  }

  private void assertError(HttpResponse<byte[]> r, int status, String message) throws Exception {
    assertThat(r.statusCode()).as(new String(r.body(), UTF_8)).isEqualTo(status);
    assertThat(JSON.readTree(r.body()).get("error").asText()).contains(message);
  }

  private HttpResponse<byte[]> get(String pathInDevice) throws Exception {
    return get(pathInDevice, DEVICE);
  }

  private HttpResponse<byte[]> get(String pathInDevice, String device) throws Exception {
    URI uri =
        URI.create(
            "http://127.0.0.1:" + server.port() + "/api/v1/devices/" + device + pathInDevice);
    return http.send(
        HttpRequest.newBuilder(uri)
            .header("Authorization", "Bearer " + Rest.adminKey(server.adminKeyFile()))
            .build(),
        HttpResponse.BodyHandlers.ofByteArray());
  }

  private static Arguments json(String name, String text) {
    return Arguments.of(name, text.getBytes(UTF_8), true);
  }

  private static Arguments binary(String name, byte[] bytes) {
    return Arguments.of(name, bytes, false);
  }

  private static byte[] bytes(String before, String hex, String after) {
    return concat(before.getBytes(UTF_8), HexFormat.of().parseHex(hex), after.getBytes(UTF_8));
  }

  private static byte[] utf16WithBom(String text) {
    return concat(
        new byte[] {(byte) 0xff, (byte) 0xfe},
        text.getBytes(java.nio.charset.StandardCharsets.UTF_16LE));
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }
}
