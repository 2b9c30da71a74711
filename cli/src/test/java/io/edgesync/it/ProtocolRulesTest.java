package io.edgesync.it;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.edgesync.protocol.FrameCodec;
import io.edgesync.protocol.Frames;
import io.edgesync.protocol.ProtocolLimits;
import io.edgesync.protocol.Record;
import io.edgesync.protocol.RecordLayout;
import io.edgesync.protocol.wire.ErrorCode;
import io.edgesync.protocol.wire.Frame;
import io.edgesync.protocol.wire.Hello;
import io.edgesync.protocol.wire.ScopeCursor;
import io.edgesync.protocol.wire.StreamCheckpoint;
import io.edgesync.protocol.wire.Welcome;
import io.edgesync.server.ServerConfig;
import io.edgesync.server.SyncServer;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The session rules docs/protocol.md states for device authors (issue 10, item 6), each pinned over
 * a real WebSocket with a bare client that sends exactly the frames a minimal device would.
 */
class ProtocolRulesTest {
  private static final String DEVICE = "rules-1";

  @TempDir Path dir;
  private SyncServer server;
  private Rest rest;

  @BeforeEach
  void start() {
    server =
        SyncServer.start(ServerConfig.defaults(dir.resolve("cloud")).withAddress("127.0.0.1", 0));
    rest = new Rest(server);
  }

  @AfterEach
  void stop() {
    server.close();
  }

  /** Issue 10, 6.8: a text message was MALFORMED_FRAME "input ended unexpectedly". */
  @Test
  void textMessage_protocolViolationSayingToSendBinaryFrames_nothingStored() throws Exception {
    RawClient c = RawClient.connect(server.syncUrl());
    c.send(hello(DEVICE));
    assertThat(c.next().hasWelcome()).isTrue();
    c.ws.sendText("{\"batch\":{\"stream\":\"s\"}}", true).get(5, TimeUnit.SECONDS);
    Frame error = c.next();
    assertThat(error.getError().getCode()).isEqualTo(ErrorCode.PROTOCOL_VIOLATION);
    assertThat(error.getError().getMessage())
        .isEqualTo(
            "text messages are not part of the protocol; send every Frame as a binary message");
    assertThat(error.getError().getFatal()).isTrue();
    assertThat(c.closed.get(5, TimeUnit.SECONDS)).as("server closes the session").isTrue();
    assertThat(server.store().checkpoints(DEVICE)).isEmpty();
  }

  /**
   * Issue 10, 6.9: raw_bytes = 0 means "not given" in every session, compact or not; the cloud
   * computes the accounting from the decoded records.
   */
  @Test
  void batchWithoutRawBytes_inASessionWithoutCompact_acceptedAndAccounted() throws Exception {
    RawClient c = RawClient.connect(server.syncUrl());
    c.send(hello(DEVICE));
    Welcome welcome = c.next().getWelcome();
    assertThat(welcome.getCapabilitiesList()).doesNotContain("batch:compact");
    List<Record> records =
        List.of(
            new Record(1, 1_767_225_600_000L, "{\"t\":21.5}".getBytes(UTF_8)),
            new Record(2, 1_767_225_601_000L, "{\"t\":21.7}".getBytes(UTF_8)));
    c.send(
        FrameCodec.encode(
            Frame.newBuilder()
                .setBatch(FrameCodec.batch("temp", records).toBuilder().setRawBytes(0))
                .build()));
    Frame ack = c.next();
    assertThat(ack.getAck().getStream()).isEqualTo("temp");
    assertThat(ack.getAck().getSequence()).isEqualTo(2);
    assertThat(server.store().read(DEVICE, "temp", 0, 10)).isEqualTo(records);
    assertThat(rest.get("/api/v1/devices/" + DEVICE).body().at("/wire/rawBytes").asLong())
        .isEqualTo(RecordLayout.encodedSize(records));
  }

  /**
   * Issue 10, 6.10: before Hello, a Heartbeat is answered and an Error is ignored (neither starts
   * the session); a RecordBatch is a PROTOCOL_VIOLATION and nothing of it is stored.
   */
  @Test
  void beforeHello_heartbeatAnswered_errorIgnored_batchRefused() throws Exception {
    RawClient c = RawClient.connect(server.syncUrl());
    c.send(FrameCodec.encode(Frames.error(ErrorCode.INTERNAL, "device-side trouble", false)));
    c.send(FrameCodec.encode(Frames.heartbeat(1_767_225_615_000L, false)));
    Frame reply = c.next(); // the first answer: the Error got none
    assertThat(reply.hasHeartbeat()).as(reply.toString()).isTrue();
    assertThat(reply.getHeartbeat().getReply()).isTrue();
    c.send(
        FrameCodec.encode(
            Frame.newBuilder()
                .setBatch(FrameCodec.batch("temp", List.of(new Record(1, 0, "{}".getBytes(UTF_8)))))
                .build()));
    Frame error = c.next();
    assertThat(error.getError().getCode()).isEqualTo(ErrorCode.PROTOCOL_VIOLATION);
    assertThat(error.getError().getMessage()).isEqualTo("RecordBatch before Hello");
    assertThat(c.closed.get(5, TimeUnit.SECONDS)).isTrue();
    assertThat(server.store().devices()).isEmpty();
  }

  /**
   * Issue 10, 6.12: Welcome lists only streams the cloud holds something of: none for a new device
   * (not the streams of Hello at 0); after a commit, the stream with its last sequence.
   */
  @Test
  void welcome_checkpointsOnlyForStreamsTheCloudHolds() throws Exception {
    RawClient c = RawClient.connect(server.syncUrl());
    Hello.Builder hello =
        Hello.newBuilder()
            .setProtocolVersion(ProtocolLimits.PROTOCOL_VERSION)
            .setDeviceId(DEVICE)
            .addCheckpoints(StreamCheckpoint.newBuilder().setStream("temp"))
            .addCheckpoints(StreamCheckpoint.newBuilder().setStream("logs").setSequence(7));
    c.send(FrameCodec.encode(Frame.newBuilder().setHello(hello).build()));
    assertThat(c.next().getWelcome().getCheckpointsList()).isEmpty();
    c.send(
        FrameCodec.encode(
            Frame.newBuilder()
                .setBatch(FrameCodec.batch("temp", List.of(new Record(1, 0, "{}".getBytes(UTF_8)))))
                .build()));
    assertThat(c.next().getAck().getSequence()).isEqualTo(1);
    c.ws.sendClose(1000, "done").get(5, TimeUnit.SECONDS);

    RawClient again = RawClient.connect(server.syncUrl());
    again.send(FrameCodec.encode(Frame.newBuilder().setHello(hello).build()));
    assertThat(again.next().getWelcome().getCheckpointsList())
        .containsExactly(StreamCheckpoint.newBuilder().setStream("temp").setSequence(1).build());
  }

  /**
   * Issue 10, 6.2: there is no acknowledgement frame for DocUpdates. The cloud sends a scope's
   * documents above the cursor the device reports in Hello ("device", "fleet", "group:<name>");
   * without a cursor it sends them again in every session.
   */
  @Test
  void docUpdates_acknowledgedOnlyByTheCursorOfTheNextHello() throws Exception {
    rest.ok(rest.put("/api/v1/fleet/docs/config/mode", "{\"eco\":true}"));
    Frame first = connectAndTakeFirstFrameAfterWelcome(null);
    assertThat(first.getDocUpdates().getUpdatesList())
        .singleElement()
        .satisfies(
            u -> {
              assertThat(u.getScope()).isEqualTo("fleet");
              assertThat(u.getKey()).isEqualTo("mode");
              assertThat(u.getVersion()).isEqualTo(1);
            });
    assertThat(connectAndTakeFirstFrameAfterWelcome(null).hasDocUpdates())
        .as("sent again: nothing acknowledged it")
        .isTrue();
    assertThat(connectAndTakeFirstFrameAfterWelcome(1L).hasHeartbeat())
        .as("with cursor fleet=1 nothing is sent before the heartbeat's reply")
        .isTrue();
  }

  /** Connects, says Hello (with a fleet cursor if given), sends a heartbeat; the next frame. */
  private Frame connectAndTakeFirstFrameAfterWelcome(Long fleetCursor) throws Exception {
    RawClient c = RawClient.connect(server.syncUrl());
    Hello.Builder hello =
        Hello.newBuilder().setProtocolVersion(ProtocolLimits.PROTOCOL_VERSION).setDeviceId(DEVICE);
    if (fleetCursor != null) {
      hello.addDocCursors(ScopeCursor.newBuilder().setScope("fleet").setVersion(fleetCursor));
    }
    c.send(FrameCodec.encode(Frame.newBuilder().setHello(hello).build()));
    assertThat(c.next().hasWelcome()).isTrue();
    c.send(FrameCodec.encode(Frames.heartbeat(0, false)));
    Frame next = c.next();
    c.ws.sendClose(1000, "done").get(5, TimeUnit.SECONDS);
    return next;
  }

  private static byte[] hello(String device) {
    return FrameCodec.encode(
        Frame.newBuilder()
            .setHello(
                Hello.newBuilder()
                    .setProtocolVersion(ProtocolLimits.PROTOCOL_VERSION)
                    .setDeviceId(device))
            .build());
  }
}
