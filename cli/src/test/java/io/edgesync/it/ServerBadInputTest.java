package io.edgesync.it;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import io.edgesync.agent.AgentConfig;
import io.edgesync.agent.EdgeAgent;
import io.edgesync.agent.OperationStatus;
import io.edgesync.engine.cloud.ServerPolicy;
import io.edgesync.protocol.FrameCodec;
import io.edgesync.protocol.ProtocolLimits;
import io.edgesync.protocol.wire.ErrorCode;
import io.edgesync.protocol.wire.Frame;
import io.edgesync.protocol.wire.RecordBatch;
import io.edgesync.server.ServerConfig;
import io.edgesync.server.SyncServer;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad input over a real WebSocket gets an Error frame naming the problem, changes no stored data,
 * and the server keeps serving a well-behaved device at the same time.
 */
class ServerBadInputTest {
  private static final int MAX_FRAME_BYTES = ServerPolicy.MIN_FRAME_BYTES;

  @TempDir Path dir;
  private SyncServer server;
  private EdgeAgent goodAgent;
  private long refusedSoFar;

  @BeforeEach
  void start() {
    ServerPolicy d = ServerPolicy.defaults();
    server =
        SyncServer.start(
            ServerConfig.defaults(dir.resolve("cloud"))
                .withAddress("127.0.0.1", 0)
                .withPolicy(
                    new ServerPolicy(
                        d.serverVersion(), false, MAX_FRAME_BYTES, 1000, d.heartbeatIntervalMs())));
    server.store().registerDevice("good-device", 0);
    server.store().registerDevice("bad-device", 0);
    goodAgent =
        EdgeAgent.open(
            Testbed.fastSync(
                AgentConfig.simple(
                    "good-device", URI.create(server.syncUrl()), dir.resolve("edge"))));
  }

  @AfterEach
  void stop() {
    goodAgent.close();
    server.close();
  }

  @Test
  void garbageBytes_malformedFrame() throws Exception {
    assertRejected(
        new byte[] {(byte) 0xff, 0x01, 0x02, 0x03},
        ErrorCode.MALFORMED_FRAME,
        "does not end with its checksum");
    assertRejected(
        FrameCodec.withChecksum(new byte[] {(byte) 0xff, 0x01, 0x02, 0x03}),
        ErrorCode.MALFORMED_FRAME,
        "not a valid protobuf");
  }

  @Test
  void helloWithOneFlippedBit_checksumMismatch_nothingRegistered() throws Exception {
    byte[] frame = hello("bad-device-2", ProtocolLimits.PROTOCOL_VERSION);
    frame[6] ^= 0x01; // first byte of the device id: it would read "cad-device-2"
    assertRejected(frame, ErrorCode.MALFORMED_FRAME, "frame checksum mismatch");
    assertThat(server.store().devices())
        .extracting(d -> d.id())
        .containsExactlyInAnyOrder("good-device", "bad-device");
  }

  @Test
  void oversizedFrame_frameTooLarge() throws Exception {
    assertRejected(
        new byte[MAX_FRAME_BYTES + 1],
        ErrorCode.FRAME_TOO_LARGE,
        "exceeds the maximum of " + MAX_FRAME_BYTES);
  }

  @Test
  void unknownProtocolVersion_rejected() throws Exception {
    assertRejected(
        hello("bad-device", 99), ErrorCode.UNSUPPORTED_PROTOCOL_VERSION, "protocol version 99");
  }

  @Test
  void unknownDevice_rejectedWhenAutoRegisterIsOff() throws Exception {
    assertRejected(
        hello("stranger", ProtocolLimits.PROTOCOL_VERSION),
        ErrorCode.UNKNOWN_DEVICE,
        "'stranger' is not registered");
    assertThat(server.store().device("stranger")).isEmpty();
  }

  @Test
  void regression_boundDeviceWithoutStoreId_wasAccepted_nowStoreMismatchAndNothingChanged()
      throws Exception {
    // The real agent presents its outbox's store id, so the cloud has bound good-device to it.
    assertGoodDeviceStillServed();
    String bound = server.store().boundStore("good-device").orElseThrow();
    assertThat(bound).as("the agent's store id").isNotEmpty();
    var checkpoints = server.store().checkpoints("good-device");
    long lastSeenMs = server.store().device("good-device").orElseThrow().lastSeenMs();
    long sessions = goodAgent.status().sessionsEstablished();

    // Another client claims to be good-device without a store id: it would skip the check.
    RawClient c = RawClient.connect(server.syncUrl());
    c.send(hello("good-device", ProtocolLimits.PROTOCOL_VERSION));
    Frame error = c.next();
    assertThat(error.getError().getCode()).isEqualTo(ErrorCode.STORE_MISMATCH);
    assertThat(error.getError().getMessage())
        .isEqualTo(
            "device 'good-device' sent no store_id, but its data in the cloud came from outbox"
                + " store "
                + bound
                + "; once a device's store is bound, every Hello must carry its store_id. Send"
                + " the id of the device's outbox store");
    assertThat(error.getError().getFatal()).isTrue();
    assertThat(c.closed.get(5, TimeUnit.SECONDS)).as("server closes the session").isTrue();

    assertThat(server.store().boundStore("good-device")).contains(bound);
    assertThat(server.store().checkpoints("good-device")).isEqualTo(checkpoints);
    assertThat(server.store().device("good-device").orElseThrow().lastSeenMs())
        .isEqualTo(lastSeenMs);
    assertThat(goodAgent.status().sessionsEstablished())
        .as("the agent's session was not replaced")
        .isEqualTo(sessions);
    assertThat(server.isConnected("good-device")).isTrue();
    assertGoodDeviceStillServed();
  }

  @Test
  void batchBeforeHello_protocolViolation() throws Exception {
    assertRejected(batch("s", 1, "{}"), ErrorCode.PROTOCOL_VIOLATION, "before Hello");
  }

  @Test
  void batchThatSkipsSequences_rejectedAndNothingStored() throws Exception {
    RawClient c = RawClient.welcomed(server.syncUrl(), RawClient.hello("bad-device"));
    c.send(batch("s", 5, "{\"x\":1}"));
    Frame error = c.next();
    assertThat(error.getError().getCode()).isEqualTo(ErrorCode.PROTOCOL_VIOLATION);
    assertThat(error.getError().getMessage())
        .contains("continues at sequence 1 but the frame starts at 5");
    assertThat(server.store().checkpoints("bad-device")).isEmpty();
    assertGoodDeviceStillServed();
  }

  @org.junit.jupiter.params.ParameterizedTest(name = "{0}")
  @org.junit.jupiter.params.provider.CsvSource(
      delimiter = '|',
      value = {
        "unknown collection | nope     | k      | {}          |        | unknown collection 'nope'",
        "non-JSON value     | config   | k      | {\"a\": tru |        | is not valid JSON",
        "bad key            | config   | -k     | {}          |        | invalid document key '-k'",
        "no scope name      | config   | k      | {}          | bogus  | invalid scope 'bogus'",
        "oversized          | config   | k      | BIG         |        | bytes; the limit is 262144",
      })
  void badDocumentChanges_invalidDocumentAndNothingStored(
      String name, String collection, String key, String value, String scope, String message)
      throws Exception {
    RawClient c = RawClient.welcomed(server.syncUrl(), RawClient.hello("bad-device"));
    String json = value.equals("BIG") ? "\"" + "x".repeat(300_000) + "\"" : value;
    io.edgesync.protocol.wire.DocChange.Builder change =
        io.edgesync.protocol.wire.DocChange.newBuilder()
            .setChangeSeq(1)
            .setCollection(collection)
            .setKey(key)
            .setHlc(new io.edgesync.protocol.Hlc(1, 0, "bad-device").toWire())
            .setValue(ByteString.copyFromUtf8(json));
    if (scope != null) {
      change.setScope(scope);
    }
    c.send(
        FrameCodec.encode(
            Frame.newBuilder()
                .setDocChanges(io.edgesync.protocol.wire.DocChanges.newBuilder().addChanges(change))
                .build()));
    Frame error = c.next();
    while (error.hasDocUpdates()) {
      error = c.next();
    }
    assertThat(error.getError().getCode()).isEqualTo(ErrorCode.INVALID_DOCUMENT);
    assertThat(error.getError().getMessage()).contains(message);
    assertThat(server.documents().store().changesAfter("device:bad-device", 0, 10)).isEmpty();
    assertThat(server.documents().store().<Long>inTransaction(tx -> tx.lastChangeSeq("bad-device")))
        .isEqualTo(0L);
    assertGoodDeviceStillServed();
  }

  @Test
  void restBadInput_clearErrors() {
    Rest rest = new Rest(server);
    Rest.assertError(rest.get("/api/v1/devices/nobody"), 404, "unknown device 'nobody'");
    Rest.assertError(
        rest.get("/api/v1/devices/good-device/streams/s?after=abc"),
        400,
        "'after' must be an integer, was 'abc'");
    Rest.assertError(
        rest.get("/api/v1/devices/good-device/streams/s?limit=999999"),
        400,
        "'limit' must be in 1..10000");
  }

  private void assertRejected(byte[] frame, ErrorCode code, String messagePart) throws Exception {
    RawClient c = RawClient.connect(server.syncUrl());
    c.send(frame);
    Frame error = c.next();
    assertThat(error.hasError()).as("an Error frame").isTrue();
    assertThat(error.getError().getCode()).isEqualTo(code);
    assertThat(error.getError().getMessage()).contains(messagePart);
    assertThat(error.getError().getFatal()).isTrue();
    assertThat(c.closed.get(5, TimeUnit.SECONDS)).as("server closes the session").isTrue();
    assertThat(server.sessionsRefused()).isEqualTo(++refusedSoFar);
    assertThat(server.store().checkpoints("bad-device")).isEmpty();
    assertGoodDeviceStillServed();
  }

  private void assertGoodDeviceStillServed() {
    String op = goodAgent.append("ok", "{\"fine\":true}".getBytes(UTF_8)).operationId();
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> goodAgent.operationStatus(op).state() == OperationStatus.State.SYNCED);
  }

  private static byte[] hello(String device, int version) {
    return FrameCodec.encode(
        Frame.newBuilder().setHello(RawClient.hello(device).setProtocolVersion(version)).build());
  }

  private static byte[] batch(String stream, long first, String json) {
    byte[] payload = json.getBytes(UTF_8);
    byte[] layout = new byte[2 + payload.length];
    layout[0] = 0; // origin delta 0
    layout[1] = (byte) payload.length;
    System.arraycopy(payload, 0, layout, 2, payload.length);
    return FrameCodec.encode(
        Frame.newBuilder()
            .setBatch(
                RecordBatch.newBuilder()
                    .setStream(stream)
                    .setFirstSequence(first)
                    .setCount(1)
                    .setPayload(ByteString.copyFrom(layout)))
            .build());
  }
}
