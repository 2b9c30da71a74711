package io.edgesync.engine.cloud;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.edgesync.engine.testing.InMemoryCloudStore;
import io.edgesync.engine.testing.RecordingCloudIo;
import io.edgesync.protocol.FrameCodec;
import io.edgesync.protocol.Frames;
import io.edgesync.protocol.Record;
import io.edgesync.protocol.wire.CertificateIssued;
import io.edgesync.protocol.wire.CertificateRequest;
import io.edgesync.protocol.wire.ErrorCode;
import io.edgesync.protocol.wire.Frame;
import io.edgesync.protocol.wire.Gap;
import io.edgesync.protocol.wire.GapReason;
import io.edgesync.protocol.wire.Hello;
import io.edgesync.protocol.wire.RecordBatch;
import io.edgesync.protocol.wire.StreamCheckpoint;
import io.edgesync.protocol.wire.Welcome;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class CloudSessionTest {
  private static final long T0 = 1_700_000_000_000L;
  private static final String DEVICE = "dev-1";

  /** Store commits and session outputs in one log, so their order can be asserted. */
  private final List<String> log = new ArrayList<>();

  private final InMemoryCloudStore store = new InMemoryCloudStore(log::add);
  private final RecordingCloudIo io =
      new RecordingCloudIo()
          .onEach(f -> log.add("send " + describe(f)), reason -> log.add("close"));
  private ServerPolicy policy = ServerPolicy.defaults();
  private final LazySession session = new LazySession(() -> new CloudSession(policy, store, io));

  private static String describe(Frame f) {
    return switch (f.getBodyCase()) {
      case ACK -> "ack " + f.getAck().getStream() + " " + f.getAck().getSequence();
      case ERROR -> "error " + f.getError().getCode() + ": " + f.getError().getMessage();
      case HEARTBEAT -> f.getHeartbeat().getReply() ? "heartbeat reply" : "heartbeat";
      default -> f.getBodyCase().toString().toLowerCase();
    };
  }

  private CloudSession session() {
    return session.get();
  }

  private void receive(Frame frame) {
    session.receive(T0, frame);
  }

  private static Frame hello(int version, String deviceId) {
    return Frame.newBuilder()
        .setHello(
            Hello.newBuilder()
                .setProtocolVersion(version)
                .setDeviceId(deviceId)
                .setAgentVersion("test-agent/1")
                .addCheckpoints(StreamCheckpoint.newBuilder().setStream("a").setSequence(99)))
        .build();
  }

  private void handshake() {
    receive(hello(1, DEVICE));
    assertThat(session().state()).isEqualTo(CloudSession.State.ACTIVE);
    io.frames().clear();
    log.clear();
  }

  private static List<Record> records(long first, long last) {
    List<Record> out = new ArrayList<>();
    for (long s = first; s <= last; s++) {
      out.add(new Record(s, T0 + s, ("r" + s).getBytes(StandardCharsets.UTF_8)));
    }
    return out;
  }

  private static Frame batch(String stream, long first, long last) {
    return Frame.newBuilder().setBatch(FrameCodec.batch(stream, records(first, last))).build();
  }

  private static Frame gap(String stream, long first, long last, GapReason reason) {
    return Frame.newBuilder()
        .setGap(
            Gap.newBuilder()
                .setStream(stream)
                .setFirstSequence(first)
                .setLastSequence(last)
                .setReason(reason)
                .setDroppedAtMs(T0 - 5))
        .build();
  }

  private void assertClosedWith(ErrorCode code, String message) {
    assertThat(io.frames()).isNotEmpty();
    Frame last = io.last();
    assertThat(last.hasError()).as("last frame %s", last).isTrue();
    assertThat(last.getError().getCode()).isEqualTo(code);
    assertThat(last.getError().getMessage()).isEqualTo(message);
    assertThat(last.getError().getFatal()).isTrue();
    assertThat(io.closes()).containsExactly(code + ": " + message);
    assertThat(session().state()).isEqualTo(CloudSession.State.CLOSED);
  }

  // ---------------------------------------------------------------- handshake

  private static Frame helloFromStore(String storeId) {
    Frame h = hello(1, DEVICE);
    return h.toBuilder().setHello(h.getHello().toBuilder().setStoreId(storeId)).build();
  }

  @Test
  void theServerLearnsTheDeviceBeforeTheHelloReadsWhatToPush_soAChangeMeanwhileIsNotMissed() {
    List<String> order = new ArrayList<>();
    CloudSession s =
        new CloudSession(
            policy,
            store,
            new CloudSession.Io() {
              @Override
              public void send(Frame frame) {
                order.add("send " + describe(frame));
              }

              @Override
              public void close(String reason) {
                order.add("close");
              }

              @Override
              public void identified(String deviceId) {
                order.add("identified " + deviceId);
              }
            });
    s.onFrame(T0, FrameCodec.encode(hello(1, DEVICE)));

    // Before the Welcome and before the session reads documents and commands to push.
    assertThat(order).containsExactly("identified " + DEVICE, "send welcome");
  }

  @Test
  void sameStoreReconnects_butAResetStoreIsRefusedAsStoreMismatch() {
    receive(helloFromStore("store-A"));
    assertThat(session().state()).isEqualTo(CloudSession.State.ACTIVE);
    receive(batch("a", 1, 3));
    String before = store.snapshot();

    session.newConnection(); // a new connection of the same device and store
    receive(helloFromStore("store-A"));
    assertThat(session().state()).isEqualTo(CloudSession.State.ACTIVE);

    session.newConnection(); // the device's store was wiped: sequences would restart at 1
    io.frames().clear();
    io.closes().clear();
    receive(helloFromStore("store-B"));
    assertClosedWith(
        ErrorCode.STORE_MISMATCH,
        "device '"
            + DEVICE
            + "' connected with outbox store store-B but its data in the cloud"
            + " came from store store-A; a reset store restarts sequences at 1 and would collide."
            + " Restore the device's store, or give the device a new id");
    assertThat(store.snapshot()).isEqualTo(before);
  }

  @Test
  void regression_boundDeviceWithoutStoreId_wasAccepted_nowStoreMismatchAndNothingChanged() {
    receive(helloFromStore("store-A"));
    receive(batch("a", 1, 3));
    String before = store.snapshot();

    session.newConnection(); // the same device, its Hello without a store id: would skip the check
    io.frames().clear();
    io.closes().clear();
    session().onFrame(T0 + 60_000, FrameCodec.encode(hello(1, DEVICE)));

    assertClosedWith(
        ErrorCode.STORE_MISMATCH,
        "device '"
            + DEVICE
            + "' sent no store_id, but its data in the cloud came from outbox store store-A;"
            + " once a device's store is bound, every Hello must carry its store_id. Send the id"
            + " of the device's outbox store");
    assertThat(store.snapshot()).isEqualTo(before);
    assertThat(store.device(DEVICE).orElseThrow().lastSeenMs())
        .as("not even touched")
        .isEqualTo(T0);
    assertThat(store.boundStore(DEVICE)).contains("store-A");
  }

  @Test
  void deviceWithoutStoreId_isAcceptedWhileUnbound_andTheFirstStoreIdItSendsBindsIt() {
    receive(hello(1, DEVICE)); // a new device that sends no store id
    assertThat(session().state()).isEqualTo(CloudSession.State.ACTIVE);
    assertThat(store.boundStore(DEVICE)).as("nothing bound").isEmpty();

    session.newConnection(); // again without: still unbound, still accepted
    receive(hello(1, DEVICE));
    assertThat(session().state()).isEqualTo(CloudSession.State.ACTIVE);

    session.newConnection(); // the first store id binds
    receive(helloFromStore("store-A"));
    assertThat(session().state()).isEqualTo(CloudSession.State.ACTIVE);
    assertThat(store.boundStore(DEVICE)).contains("store-A");

    session.newConnection(); // from then on, a Hello without it is refused
    io.frames().clear();
    io.closes().clear();
    receive(hello(1, DEVICE));
    assertThat(io.last().getError().getCode()).isEqualTo(ErrorCode.STORE_MISMATCH);
    assertThat(session().state()).isEqualTo(CloudSession.State.CLOSED);
  }

  @Test
  void hello_isAnsweredWithWelcomeCarryingTheStoredCheckpoints() throws Exception {
    store.registerDevice(DEVICE, T0 - 1_000);
    store.commitRecords(DEVICE, "b", records(1, 2), T0 - 1_000);
    store.commitRecords(DEVICE, "a", records(1, 7), T0 - 1_000);

    receive(hello(1, DEVICE));

    assertThat(io.frames()).hasSize(1);
    Welcome w = io.frames().get(0).getWelcome();
    assertThat(w.getProtocolVersion()).isEqualTo(1);
    assertThat(w.getServerVersion()).isEqualTo(policy.serverVersion());
    assertThat(w.getMaxFrameBytes()).isEqualTo(policy.maxFrameBytes());
    assertThat(w.getMaxRecordsPerBatch()).isEqualTo(policy.maxRecordsPerBatch());
    assertThat(w.getHeartbeatIntervalMs()).isEqualTo(15_000);
    assertThat(w.getCheckpointsList())
        .extracting(StreamCheckpoint::getStream, StreamCheckpoint::getSequence)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("a", 7L),
            org.assertj.core.groups.Tuple.tuple("b", 2L));
    assertThat(session().state()).isEqualTo(CloudSession.State.ACTIVE);
    assertThat(session().deviceId()).isEqualTo(DEVICE);
    assertThat(store.device(DEVICE).orElseThrow().lastSeenMs()).isEqualTo(T0);
    assertThat(io.closes()).isEmpty();
  }

  @Test
  void hello_fromUnknownDevice_registersIt_whenAutoRegisterIsOn() {
    receive(hello(1, DEVICE));

    assertThat(store.device(DEVICE))
        .hasValueSatisfying(d -> assertThat(d.registeredAtMs()).isEqualTo(T0));
    assertThat(io.frames().get(0).getWelcome().getCheckpointsList()).isEmpty();
  }

  @Test
  void unsupportedProtocolVersion_isErrorAndClose_nothingStored() {
    receive(hello(2, DEVICE));

    assertClosedWith(
        ErrorCode.UNSUPPORTED_PROTOCOL_VERSION,
        "protocol version 2 is not supported; this server speaks 1");
    assertThat(store.devices()).isEmpty();
    assertThat(session().deviceId()).isNull();
  }

  @Test
  void unknownDevice_withoutAutoRegister_isUnknownDevice() {
    policy = new ServerPolicy("s", false, 2 << 20, 100, 15_000);

    receive(hello(1, DEVICE));

    assertClosedWith(
        ErrorCode.UNKNOWN_DEVICE,
        "device 'dev-1' is not registered and this server does not auto-register devices");
    assertThat(store.devices()).isEmpty();
  }

  @Test
  void registeredDevice_withoutAutoRegister_isWelcome() {
    policy = new ServerPolicy("s", false, 2 << 20, 100, 15_000);
    store.registerDevice(DEVICE, T0 - 1);

    receive(hello(1, DEVICE));

    assertThat(io.frames()).singleElement().satisfies(f -> assertThat(f.hasWelcome()).isTrue());
  }

  @Test
  void invalidDeviceId_isUnknownDevice_andNotRegistered() {
    receive(hello(1, "../etc/passwd"));

    assertClosedWith(
        ErrorCode.UNKNOWN_DEVICE,
        "invalid device id '../etc/passwd': must match [A-Za-z0-9][A-Za-z0-9_.:-]{0,127}");
    assertThat(store.devices()).isEmpty();
  }

  @Test
  void helloTwice_isProtocolViolation() {
    handshake();

    receive(hello(1, DEVICE));

    assertClosedWith(ErrorCode.PROTOCOL_VIOLATION, "Hello sent twice");
  }

  @Test
  void batchBeforeHello_isProtocolViolation_nothingStored() {
    store.registerDevice(DEVICE, T0);
    String before = store.snapshot();

    receive(batch("a", 1, 3));

    assertClosedWith(ErrorCode.PROTOCOL_VIOLATION, "RecordBatch before Hello");
    assertThat(store.snapshot()).isEqualTo(before);
  }

  @Test
  void gapBeforeHello_isProtocolViolation() {
    receive(gap("a", 1, 3, GapReason.GAP_REASON_QUEUE_FULL));

    assertClosedWith(ErrorCode.PROTOCOL_VIOLATION, "Gap before Hello");
  }

  @Test
  void deviceSendingCloudFrames_isProtocolViolation() {
    handshake();

    receive(Frames.ack("a", 1));

    assertClosedWith(ErrorCode.PROTOCOL_VIOLATION, "a device may not send ACK frames");
  }

  // ---------------------------------------------------------------- certificate renewal

  private static Frame certificateRequest(String csr) {
    return Frame.newBuilder()
        .setCertificateRequest(
            CertificateRequest.newBuilder()
                .setCsr(com.google.protobuf.ByteString.copyFromUtf8(csr)))
        .build();
  }

  @Test
  void certificateRequestBeforeHello_isProtocolViolation_andTheSignerIsNotAsked() {
    List<String> asked = new ArrayList<>();
    session()
        .withCertificateSigner(
            (id, req) -> {
              asked.add(id);
              return CertificateIssued.getDefaultInstance();
            });

    receive(certificateRequest("csr"));

    assertClosedWith(ErrorCode.PROTOCOL_VIOLATION, "CertificateRequest before Hello");
    assertThat(asked).isEmpty();
  }

  @Test
  void certificateRequest_isAnsweredByTheSigner_withTheCertificatesDeviceId() {
    List<String> asked = new ArrayList<>();
    session()
        .requireDeviceId(DEVICE)
        .withCertificateSigner(
            (id, req) -> {
              asked.add(id + " " + req.getCsr().toStringUtf8());
              return CertificateIssued.newBuilder().setRefusal("wrong_device: test").build();
            });
    handshake();

    receive(certificateRequest("csr-1"));

    assertThat(asked).containsExactly(DEVICE + " csr-1");
    assertThat(io.last().getCertificateIssued().getRefusal()).isEqualTo("wrong_device: test");
    assertThat(session().state()).isEqualTo(CloudSession.State.ACTIVE);
  }

  @Test
  void certificateRequest_withoutASigner_isRefusedAsNoCa_andTheSessionGoesOn() {
    handshake();

    receive(certificateRequest("csr"));

    assertThat(io.last().getCertificateIssued().getRefusal())
        .isEqualTo("no_ca: this server does not sign certificates");
    assertThat(session().state()).isEqualTo(CloudSession.State.ACTIVE);
  }

  @Test
  void heartbeat_isAnsweredWithReply_evenBeforeHello() {
    receive(Frames.heartbeat(T0 - 3, false));
    receive(Frames.heartbeat(T0 - 2, true));

    assertThat(io.frames())
        .singleElement()
        .satisfies(
            f -> {
              assertThat(f.getHeartbeat().getReply()).isTrue();
              assertThat(f.getHeartbeat().getSentAtMs()).isEqualTo(T0);
            });
    assertThat(session().state()).isEqualTo(CloudSession.State.AWAIT_HELLO);
  }

  // ---------------------------------------------------------------- batches

  @Test
  void batch_isCommittedThenAcked() {
    handshake();

    receive(batch("a", 1, 3));

    assertThat(log).containsExactly("commit a 1..3", "send ack a 3");
    assertThat(store.read(DEVICE, "a", 0, 100)).isEqualTo(records(1, 3));
    assertThat(session().recordsCommitted()).isEqualTo(3);
    assertThat(session().state()).isEqualTo(CloudSession.State.ACTIVE);
  }

  @Test
  void consecutiveBatches_areAckedCumulatively() {
    handshake();

    receive(batch("a", 1, 3));
    receive(batch("a", 4, 10));
    receive(batch("b", 1, 1));

    assertThat(log)
        .containsExactly(
            "commit a 1..3",
            "send ack a 3",
            "commit a 4..10",
            "send ack a 10",
            "commit b 1..1",
            "send ack b 1");
    assertThat(store.checkpoints(DEVICE)).containsEntry("a", 10L).containsEntry("b", 1L);
  }

  @Test
  void resentBatch_isAckedAgain_butStoredOnce() {
    handshake();
    receive(batch("a", 1, 5));
    String afterFirst = store.snapshot();
    log.clear();

    receive(batch("a", 1, 5));

    assertThat(log).containsExactly("send ack a 5");
    assertThat(store.snapshot()).isEqualTo(afterFirst);
    assertThat(store.read(DEVICE, "a", 0, 100)).hasSize(5);
    assertThat(session().recordsCommitted()).isEqualTo(5);

    receive(batch("a", 3, 8)); // overlapping: only 6..8 are new
    assertThat(session().recordsCommitted()).isEqualTo(8);
  }

  @Test
  void overlappingBatch_storesOnlyTheNewTail() {
    handshake();
    receive(batch("a", 1, 5));
    log.clear();

    receive(batch("a", 3, 8));

    assertThat(log).containsExactly("commit a 6..8", "send ack a 8");
    assertThat(store.read(DEVICE, "a", 0, 100)).isEqualTo(records(1, 8));
  }

  @Test
  void batchSkippingAhead_isProtocolViolation_andNothingStored() {
    handshake();
    receive(batch("a", 1, 5));
    String before = store.snapshot();
    io.frames().clear();
    log.clear();

    receive(batch("a", 7, 9));

    assertClosedWith(
        ErrorCode.PROTOCOL_VIOLATION,
        "stream 'a' of device 'dev-1' continues at sequence 6 but the frame starts at 7");
    assertThat(store.snapshot()).isEqualTo(before);
    assertThat(log).noneMatch(e -> e.startsWith("commit") || e.startsWith("send ack"));
  }

  @Test
  void firstBatchOfANewStream_notStartingAtOne_isProtocolViolation() {
    handshake();
    String before = store.snapshot();

    receive(batch("fresh", 2, 3));

    assertThat(io.last().getError().getCode()).isEqualTo(ErrorCode.PROTOCOL_VIOLATION);
    assertThat(store.snapshot()).isEqualTo(before);
  }

  @Test
  void invalidBatch_isInvalidBatch_andNothingStored() {
    handshake();
    String before = store.snapshot();

    receive(
        Frame.newBuilder()
            .setBatch(FrameCodec.batch("a", records(1, 3)).toBuilder().setCount(4))
            .build());

    assertClosedWith(
        ErrorCode.INVALID_BATCH, "invalid record payload: payload ends inside record 3");
    assertThat(store.snapshot()).isEqualTo(before);
  }

  @Test
  void batchAboveMaxRecords_isInvalidBatch() {
    policy = new ServerPolicy("s", true, 2 << 20, 4, 15_000);
    handshake();

    receive(batch("a", 1, 5));

    assertClosedWith(ErrorCode.INVALID_BATCH, "batch count 5 outside 1..4");
    assertThat(store.checkpoints(DEVICE)).isEmpty();
  }

  @Test
  void batchWithNegativeRecordLength_isInvalidBatch_notInternalError() {
    // Regression: RecordLayout threw NegativeArraySizeException, reported as INTERNAL.
    handshake();
    RecordBatch bad =
        RecordBatch.newBuilder()
            .setStream("a")
            .setFirstSequence(1)
            .setCount(1)
            .setPayload(ByteString.copyFrom(HexFormat.of().parseHex("00ffffffffffffffffff01")))
            .build();

    receive(Frame.newBuilder().setBatch(bad).build());

    assertClosedWith(
        ErrorCode.INVALID_BATCH,
        "invalid record payload: record 0 is 18446744073709551615 bytes, above the limit of"
            + " 1048576");
    assertThat(store.checkpoints(DEVICE)).isEmpty();
  }

  @Test
  void storeFailure_isInternalError_andNoAck() {
    handshake();
    store.failNextCommit(new IllegalStateException("disk full"));

    receive(batch("a", 1, 3));

    assertClosedWith(
        ErrorCode.INTERNAL, "server error: java.lang.IllegalStateException: disk full");
    assertThat(log).noneMatch(e -> e.startsWith("send ack"));
    assertThat(store.checkpoints(DEVICE)).isEmpty();
  }

  // ---------------------------------------------------------------- gaps

  @Test
  void gap_isCommittedThenAcked_andTheStreamContinuesAfterIt() {
    handshake();
    receive(batch("a", 1, 2));

    receive(gap("a", 3, 6, GapReason.GAP_REASON_QUEUE_FULL));
    receive(batch("a", 7, 8));

    assertThat(log)
        .containsExactly(
            "commit a 1..2",
            "send ack a 2",
            "commit gap a 3..6",
            "send ack a 6",
            "commit a 7..8",
            "send ack a 8");
    assertThat(store.gaps(DEVICE, "a"))
        .singleElement()
        .isEqualTo(new CloudStore.StoredGap(3, 6, GapReason.GAP_REASON_QUEUE_FULL, T0 - 5, T0));
  }

  @Test
  void resentGap_isAckedButStoredOnce() {
    handshake();
    receive(gap("a", 1, 4, GapReason.GAP_REASON_EXPIRED));
    log.clear();

    receive(gap("a", 1, 4, GapReason.GAP_REASON_EXPIRED));

    assertThat(log).containsExactly("send ack a 4");
    assertThat(store.gaps(DEVICE, "a")).hasSize(1);
  }

  @Test
  void gapSkippingAhead_isProtocolViolation_andNothingStored() {
    handshake();
    String before = store.snapshot();

    receive(gap("a", 5, 6, GapReason.GAP_REASON_QUEUE_FULL));

    assertThat(io.last().getError().getCode()).isEqualTo(ErrorCode.PROTOCOL_VIOLATION);
    assertThat(store.snapshot()).isEqualTo(before);
  }

  @Test
  void gapWithEmptyRange_isInvalidBatch() {
    handshake();

    receive(gap("a", 5, 4, GapReason.GAP_REASON_QUEUE_FULL));

    assertClosedWith(
        ErrorCode.INVALID_BATCH, "Gap range 5..4 is empty or outside 1..9223372036854775807");
  }

  @Test
  void gapWithSequenceAbove2pow63_isInvalidBatch_reportedUnsigned() {
    handshake();

    receive(gap("a", 1, -1, GapReason.GAP_REASON_QUEUE_FULL));

    assertClosedWith(
        ErrorCode.INVALID_BATCH,
        "Gap range 1..18446744073709551615 is empty or outside 1..9223372036854775807");
  }

  @Test
  void gapWithBadStreamName_isInvalidBatch() {
    handshake();

    receive(gap("bad name", 1, 2, GapReason.GAP_REASON_QUEUE_FULL));

    assertClosedWith(ErrorCode.INVALID_BATCH, "invalid stream name 'bad name' in Gap");
  }

  @Test
  void gapWithUnknownReason_isInvalidBatch_notInternalError() {
    // Regression: an UNRECOGNIZED reason reached the store, whose getNumber() threw -> INTERNAL.
    handshake();
    Frame frame =
        Frame.newBuilder()
            .setGap(
                Gap.newBuilder()
                    .setStream("a")
                    .setFirstSequence(1)
                    .setLastSequence(2)
                    .setReasonValue(42))
            .build();

    receive(frame);

    assertClosedWith(ErrorCode.INVALID_BATCH, "unknown gap reason 42 in Gap");
    assertThat(store.checkpoints(DEVICE)).isEmpty();
  }

  // ---------------------------------------------------------------- malformed input

  @Test
  void malformedFrame_isMalformedFrame_andStoreUnchanged() {
    handshake();
    receive(batch("a", 1, 2));
    String before = store.snapshot();
    io.frames().clear();

    session().onFrame(T0, FrameCodec.withChecksum(HexFormat.of().parseHex("1a05ffffffff")));

    assertThat(io.last().getError().getCode()).isEqualTo(ErrorCode.MALFORMED_FRAME);
    assertThat(io.last().getError().getMessage())
        .startsWith("frame is not a valid protobuf Frame: ");
    assertThat(io.closes()).hasSize(1);
    assertThat(session().state()).isEqualTo(CloudSession.State.CLOSED);
    assertThat(store.snapshot()).isEqualTo(before);
  }

  @Test
  void regression_bitFlippedInRecordPayload_wasStoredAsAValidRecord_nowRefused() {
    // Found by FaultProxyTest: over plain ws:// one flipped bit in a record ("r2" -> "r3") was
    // committed and acknowledged. The frame checksum now refuses the whole frame.
    handshake();
    String before = store.snapshot();
    byte[] bytes = FrameCodec.encode(batch("a", 1, 2));
    int at = -1;
    for (int i = 0; i + 1 < bytes.length; i++) {
      if (bytes[i] == 'r' && bytes[i + 1] == '2') {
        at = i + 1; // the record "r2"
      }
    }
    assertThat(at).isPositive();
    bytes[at] ^= 0x01;

    session().onFrame(T0, bytes);

    assertThat(io.last().getError().getCode()).isEqualTo(ErrorCode.MALFORMED_FRAME);
    assertThat(io.last().getError().getMessage()).startsWith("frame checksum mismatch");
    assertThat(io.frames()).noneMatch(Frame::hasAck);
    assertThat(session().state()).isEqualTo(CloudSession.State.CLOSED);
    assertThat(store.snapshot()).isEqualTo(before);
    assertThat(store.checkpoints(DEVICE)).isEmpty();
  }

  @Test
  void emptyFrame_isMalformedFrame() {
    session().onFrame(T0, new byte[0]);

    assertClosedWith(ErrorCode.MALFORMED_FRAME, "empty frame");
  }

  @Test
  void oversizedFrame_isFrameTooLarge_andStoreUnchanged() {
    policy = new ServerPolicy("s", true, ServerPolicy.MIN_FRAME_BYTES, 100, 15_000);
    handshake();
    String before = store.snapshot();

    receive(
        Frame.newBuilder()
            .setBatch(
                FrameCodec.batch(
                    "a",
                    List.of(
                        new Record(1, T0, new byte[1024 * 1024]),
                        new Record(2, T0, new byte[1024 * 1024]))))
            .build());

    assertThat(io.last().getError().getCode()).isEqualTo(ErrorCode.FRAME_TOO_LARGE);
    assertThat(store.snapshot()).isEqualTo(before);
  }

  @Test
  void framesAfterClose_areIgnored() {
    session().onFrame(T0, new byte[0]);
    int sent = io.frames().size();

    receive(hello(1, DEVICE));
    receive(batch("a", 1, 1));

    assertThat(io.frames()).hasSize(sent);
    assertThat(store.devices()).isEmpty();
  }

  @Test
  void onClosed_recordsLastSeen() {
    handshake();

    session().onClosed(T0 + 60_000);

    assertThat(session().state()).isEqualTo(CloudSession.State.CLOSED);
    assertThat(store.device(DEVICE).orElseThrow().lastSeenMs()).isEqualTo(T0 + 60_000);
  }

  @Test
  void mutatedFrames_getAClearErrorOrAreHandled_andAnErrorNeverChangesTheStore() throws Exception {
    SplittableRandom random = new SplittableRandom(20240601);
    List<byte[]> valid =
        List.of(
            FrameCodec.encode(batch("a", 3, 6)),
            FrameCodec.encode(batch("b", 1, 2)),
            FrameCodec.encode(gap("a", 3, 4, GapReason.GAP_REASON_EXPIRED)),
            FrameCodec.encode(Frames.heartbeat(5, false)),
            FrameCodec.encode(hello(1, DEVICE)));
    int errors = 0;
    int acks = 0;
    for (int i = 0; i < 5_000; i++) {
      InMemoryCloudStore fresh = new InMemoryCloudStore();
      fresh.registerDevice(DEVICE, T0);
      fresh.commitRecords(DEVICE, "a", records(1, 2), T0);
      RecordingCloudIo fuzzIo = new RecordingCloudIo();
      List<Frame> out = fuzzIo.frames();
      CloudSession s = new CloudSession(ServerPolicy.defaults(), fresh, fuzzIo);
      s.onFrame(T0, FrameCodec.encode(hello(1, DEVICE)));
      out.clear();
      String before = fresh.snapshot();
      byte[] input = valid.get(random.nextInt(valid.size())).clone();
      // Half the inputs get a fresh checksum after the mutation, so they reach the parser.
      boolean reseal = random.nextBoolean();
      if (reseal) {
        input = java.util.Arrays.copyOf(input, input.length - FrameCodec.TRAILER_BYTES);
      }
      for (int e = random.nextInt(1, 4); e > 0 && input.length > 0; e--) {
        if (random.nextBoolean()) {
          input[random.nextInt(input.length)] = (byte) random.nextInt(256);
        } else {
          input = java.util.Arrays.copyOf(input, random.nextInt(input.length));
        }
      }
      if (reseal) {
        input = FrameCodec.withChecksum(input);
      }

      s.onFrame(T0, input);

      String what = "iteration " + i + " input " + HexFormat.of().formatHex(input);
      for (Frame f : out) {
        if (f.hasError()) {
          errors++;
          assertThat(f.getError().getCode()).as(what).isNotEqualTo(ErrorCode.INTERNAL);
          assertThat(fresh.snapshot()).as(what).isEqualTo(before);
          assertThat(s.state()).as(what).isEqualTo(CloudSession.State.CLOSED);
        } else if (f.hasAck()) {
          acks++;
          assertThat(f.getAck().getSequence())
              .as(what)
              .isEqualTo(fresh.checkpoints(DEVICE).get(f.getAck().getStream()));
        }
      }
    }
    assertThat(errors).isGreaterThan(1_000);
    assertThat(acks).isPositive();
  }
}
