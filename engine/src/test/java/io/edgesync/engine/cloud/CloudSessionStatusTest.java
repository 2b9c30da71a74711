package io.edgesync.engine.cloud;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgesync.engine.testing.InMemoryCloudStore;
import io.edgesync.engine.testing.RecordingCloudIo;
import io.edgesync.protocol.FrameCodec;
import io.edgesync.protocol.Record;
import io.edgesync.protocol.wire.DeviceStatus;
import io.edgesync.protocol.wire.Error;
import io.edgesync.protocol.wire.ErrorCode;
import io.edgesync.protocol.wire.Frame;
import io.edgesync.protocol.wire.Hello;
import io.edgesync.protocol.wire.ScopeCursor;
import io.edgesync.protocol.wire.StreamStatus;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * DeviceStatus on the cloud side (docs/protocol.md "Device status"): accepted as a capability only
 * where the server takes reports, valid reports handed on with their stream names, and bad ones (a
 * delta first, an unknown stream number, a count above 2^63-1, too many streams, a bad name, an
 * oversized frame) refused with a non-fatal INVALID_STATUS that names the problem, nothing of them
 * kept, the session and its data going on.
 */
class CloudSessionStatusTest {
  private static final long T0 = 1_700_000_000_000L;

  /** What reached the reports, one line per report. */
  private final List<String> reported = new ArrayList<>();

  private final InMemoryCloudStore store = new InMemoryCloudStore(s -> {});
  private final RecordingCloudIo io = new RecordingCloudIo();
  private final DeviceReports reports =
      (device, status, names, nowMs) ->
          reported.add(device + " full=" + status.getFull() + " " + names + " @" + nowMs);
  private final LazySession session =
      new LazySession(
          () -> new CloudSession(ServerPolicy.defaults(), store, io).withStatus(reports));

  private void handshake(String... capabilities) {
    session.receive(
        T0,
        Frame.newBuilder()
            .setHello(
                Hello.newBuilder()
                    .setProtocolVersion(1)
                    .setDeviceId("dev-1")
                    .setAgentVersion("test/1")
                    .addAllCapabilities(List.of(capabilities)))
            .build());
    assertThat(session.get().state()).isEqualTo(CloudSession.State.ACTIVE);
  }

  private static Frame status(DeviceStatus.Builder s) {
    return Frame.newBuilder().setStatus(s).build();
  }

  private static DeviceStatus.Builder full() {
    return DeviceStatus.newBuilder()
        .setFull(true)
        .addStreams(
            StreamStatus.newBuilder()
                .setStreamRef(1)
                .setStream("temp")
                .setAppended(10)
                .setQueued(4))
        .setRawBytes(1000)
        .setWireBytes(100)
        .addDocCursors(ScopeCursor.newBuilder().setScope("fleet").setVersion(7));
  }

  /** The errors sent since the last call. */
  private List<Error> errors() {
    List<Error> out = new ArrayList<>();
    for (Frame f : io.frames()) {
      if (f.hasError()) {
        out.add(f.getError());
      }
    }
    io.frames().clear();
    return out;
  }

  @Test
  void statusAccepted_onlyWhenOffered_andValidReportsReachTheReports_withStreamNames() {
    handshake("status");
    Frame welcome = io.frames().get(0);
    assertThat(welcome.getWelcome().getCapabilitiesList()).contains("status");
    io.frames().clear();

    session.receive(T0 + 1, status(full()));
    session.receive(
        T0 + 2,
        status(
            DeviceStatus.newBuilder()
                .addStreams(StreamStatus.newBuilder().setStreamRef(1).setAppended(3))
                .addStreams(StreamStatus.newBuilder().setStreamRef(2).setStream("logs"))));

    assertThat(errors()).isEmpty();
    assertThat(reported)
        .containsExactly(
            "dev-1 full=true [temp] @" + (T0 + 1), "dev-1 full=false [temp, logs] @" + (T0 + 2));
  }

  @Test
  void statusFromADeviceThatDidNotOfferIt_isAProtocolViolation() {
    handshake();
    assertThat(io.frames().get(0).getWelcome().getCapabilitiesList()).doesNotContain("status");
    io.frames().clear();
    session.receive(T0, status(full()));
    List<Error> errors = errors();
    assertThat(errors)
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.getCode()).isEqualTo(ErrorCode.PROTOCOL_VIOLATION);
              assertThat(e.getMessage()).contains("did not accept the capability \"status\"");
            });
    assertThat(reported).isEmpty();
  }

  @Test
  void aDeltaBeforeTheFullReport_isRefused() {
    assertRefused(DeviceStatus.newBuilder().setRawBytes(5), "a delta DeviceStatus before");
  }

  @Test
  void aCountAbove2To63_isRefused_asNegative() {
    assertRefused(full().setWireBytes(-1L), "wire_bytes is 18446744073709551615");
    reported.clear();
    session.newConnection();
    io.frames().clear();
    assertRefused(
        full()
            .setStreams(
                0, StreamStatus.newBuilder().setStreamRef(1).setStream("temp").setQueued(-5)),
        "streams[temp].queued is 18446744073709551611");
  }

  @Test
  void anUnknownStreamRef_isRefused() {
    assertRefused(
        full().addStreams(StreamStatus.newBuilder().setStreamRef(9).setAppended(1)),
        "unknown stream_ref 9");
  }

  @Test
  void aBadStreamName_orAWrongBinding_isRefused() {
    assertRefused(
        full().addStreams(StreamStatus.newBuilder().setStreamRef(2).setStream("no spaces")),
        "invalid stream name 'no spaces'");
    session.newConnection();
    io.frames().clear();
    assertRefused(
        full().addStreams(StreamStatus.newBuilder().setStreamRef(5).setStream("logs")),
        "binds stream_ref 5; the next free one is 2");
  }

  @Test
  void tooManyStreams_orAnOversizedFrame_isRefused() {
    DeviceStatus.Builder many = DeviceStatus.newBuilder().setFull(true);
    for (int i = 1; i <= SessionStatus.MAX_STREAMS + 1; i++) {
      many.addStreams(StreamStatus.newBuilder().setStreamRef(i).setStream("s" + i));
    }
    assertRefused(many, "1025 streams in one DeviceStatus; the limit is 1024");
    session.newConnection();
    io.frames().clear();
    // Past the byte limit: a valid report padded with a field this version does not know.
    DeviceStatus.Builder huge = DeviceStatus.newBuilder().setFull(true);
    huge.addStreams(
        StreamStatus.newBuilder()
            .setStreamRef(1)
            .setStream("temp")
            .setAppended(1)
            .setUnknownFields(
                com.google.protobuf.UnknownFieldSet.newBuilder()
                    .addField(
                        99,
                        com.google.protobuf.UnknownFieldSet.Field.newBuilder()
                            .addLengthDelimited(
                                com.google.protobuf.ByteString.copyFrom(
                                    new byte[SessionStatus.MAX_FRAME_BYTES]))
                            .build())
                    .build()));
    assertRefused(huge, "bytes; the limit is " + SessionStatus.MAX_FRAME_BYTES);
  }

  /**
   * {@code bad} is refused with a non-fatal INVALID_STATUS naming {@code problem}; nothing reaches
   * the reports, later reports of the session are ignored, and the session's data goes on.
   */
  private void assertRefused(DeviceStatus.Builder bad, String problem) {
    handshake("status");
    io.frames().clear();
    session.receive(T0, status(bad));
    List<Error> errors = errors();
    assertThat(errors)
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.getCode()).isEqualTo(ErrorCode.INVALID_STATUS);
              assertThat(e.getFatal()).isFalse();
              assertThat(e.getMessage()).contains(problem);
            });
    assertThat(reported).isEmpty();
    assertThat(session.get().state()).isEqualTo(CloudSession.State.ACTIVE);

    session.receive(T0 + 1, status(full()));
    assertThat(reported).as("the rest of the session's reports are ignored").isEmpty();
    assertThat(errors()).isEmpty();

    session.receive(
        T0 + 2,
        Frame.newBuilder()
            .setBatch(FrameCodec.batch("temp", List.of(new Record(1, T0, new byte[] {1}))))
            .build());
    assertThat(io.frames()).anySatisfy(f -> assertThat(f.getAck().getSequence()).isEqualTo(1));
    io.frames().clear();
  }
}
