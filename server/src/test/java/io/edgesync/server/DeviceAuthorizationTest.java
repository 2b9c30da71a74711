package io.edgesync.server;

import static io.edgesync.server.EdgeChanges.value;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.edgesync.engine.cloud.CloudSession;
import io.edgesync.engine.cloud.ServerPolicy;
import io.edgesync.engine.commands.CommandStore;
import io.edgesync.engine.docs.CloudDocuments;
import io.edgesync.engine.docs.ConflictPolicy;
import io.edgesync.engine.docs.ConflictStrategy;
import io.edgesync.engine.docs.DeviceWrites;
import io.edgesync.engine.docs.DocumentRules;
import io.edgesync.engine.testing.RecordingCloudIo;
import io.edgesync.protocol.FrameCodec;
import io.edgesync.protocol.Hlc;
import io.edgesync.protocol.wire.CommandState;
import io.edgesync.protocol.wire.CommandStatus;
import io.edgesync.protocol.wire.DocAck;
import io.edgesync.protocol.wire.DocChange;
import io.edgesync.protocol.wire.DocChanges;
import io.edgesync.protocol.wire.DocRefusal;
import io.edgesync.protocol.wire.DocUpdate;
import io.edgesync.protocol.wire.ErrorCode;
import io.edgesync.protocol.wire.Frame;
import io.edgesync.protocol.wire.Hello;
import io.edgesync.testing.FakeClock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Device authorization decided by the cloud engine ({@link CloudDocuments#refusal}, {@link
 * CloudSession}) over a real SQLite store: a session writes only its own scope and, of the shared
 * scopes it reads, only what {@code documents.device_writable} allows; a refused change is refused
 * alone (DocAck.refused, NOT_AUTHORIZED), stores nothing and leaves the session open; a session
 * gets only its own commands and documents and may report only its own commands.
 */
class DeviceAuthorizationTest {
  private static final long T0 = 1_700_000_000_000L;

  @RegisterExtension final StoreFile db = new StoreFile();
  private final FakeClock clock = new FakeClock(T0);

  private static DocumentRules rules(DeviceWrites writable) {
    Map<String, ConflictPolicy> c = new LinkedHashMap<>();
    c.put("config", ConflictPolicy.of(ConflictStrategy.LAST_WRITE_WINS));
    c.put("notes", ConflictPolicy.of(ConflictStrategy.LAST_WRITE_WINS));
    return DocumentRules.of(c).withDeviceWritable(writable);
  }

  private record Session(CloudSession session, RecordingCloudIo io) {
    void send(Frame f) {
      session.onFrame(T0, FrameCodec.encode(f));
    }

    void send(DocChange... changes) {
      send(
          Frame.newBuilder()
              .setDocChanges(DocChanges.newBuilder().addAllChanges(List.of(changes)))
              .build());
    }

    DocAck lastAck() {
      for (int i = io.frames().size() - 1; i >= 0; i--) {
        if (io.frames().get(i).hasDocAck()) {
          return io.frames().get(i).getDocAck();
        }
      }
      throw new AssertionError("no DocAck in " + io.frames());
    }

    List<DocUpdate> updates() {
      List<DocUpdate> out = new ArrayList<>();
      for (Frame f : io.frames()) {
        out.addAll(f.getDocUpdates().getUpdatesList());
      }
      return out;
    }
  }

  private SqliteCloudStore store;
  private CloudDocuments docs;

  private void open(DeviceWrites writable) throws Exception {
    store = db.open();
    docs = new CloudDocuments(store.documents(), rules(writable), clock);
  }

  private Session connect(String device) {
    RecordingCloudIo io = new RecordingCloudIo();
    CloudSession s =
        new CloudSession(ServerPolicy.defaults(), store, docs, store.commands(), io)
            .requireDeviceId(device);
    Session session = new Session(s, io);
    session.send(
        Frame.newBuilder()
            .setHello(Hello.newBuilder().setProtocolVersion(1).setDeviceId(device))
            .build());
    assertThat(s.state()).isEqualTo(CloudSession.State.ACTIVE);
    return session;
  }

  private static Hlc h(String device) {
    return new Hlc(T0, 0, device);
  }

  private long stored(String scope) {
    return docs.store().changesAfter(scope, 0, 100).size();
  }

  @Test
  void anotherDevicesScope_isRefusedAlone_nothingStored_andTheSessionGoesOn() throws Exception {
    open(DeviceWrites.NONE);
    connect("gw-2").session().onClosed(T0);
    Session gw1 = connect("gw-1");

    gw1.send(
        value(1, "", "config", "a", 0, h("gw-1"), "{\"mine\":1}"),
        value(2, "device:gw-2", "config", "a", 0, h("gw-1"), "{\"theirs\":1}"),
        value(3, "device", "config", "b", 0, h("gw-1"), "{\"mine\":2}"));

    DocAck ack = gw1.lastAck();
    assertThat(ack.getChangeSeq()).isEqualTo(3);
    assertThat(ack.getRefusedList()).extracting(DocRefusal::getChangeSeq).containsExactly(2L);
    assertThat(ack.getRefused(0).getCode()).isEqualTo(ErrorCode.NOT_AUTHORIZED);
    assertThat(ack.getRefused(0).getReason())
        .contains("device 'gw-1' may not write scope 'device:gw-2'");
    assertThat(stored("device:gw-2")).as("nothing in gw-2's scope").isZero();
    assertThat(stored("device:gw-1")).as("gw-1's own changes applied").isEqualTo(2);
    assertThat(gw1.io().closes()).as("not fatal").isEmpty();
    assertThat(gw1.session().state()).isEqualTo(CloudSession.State.ACTIVE);
    assertThat(gw1.session().changesRefused()).isEqualTo(1);

    // A resend after a lost DocAck is refused again, and still stores nothing.
    gw1.send(value(2, "device:gw-2", "config", "a", 0, h("gw-1"), "{\"theirs\":1}"));
    assertThat(gw1.lastAck().getRefusedList()).extracting(DocRefusal::getChangeSeq).contains(2L);
    assertThat(stored("device:gw-2")).isZero();
  }

  @Test
  void fleetAndGroupWrites_refusedByDefault_nothingStored() throws Exception {
    open(DeviceWrites.NONE);
    store.documents().setGroups("gw-1", List.of("north"));
    Session gw1 = connect("gw-1");

    gw1.send(
        value(1, "fleet", "config", "a", 0, h("gw-1"), "{}"),
        value(2, "group:north", "config", "a", 0, h("gw-1"), "{}"),
        value(3, "group:south", "config", "a", 0, h("gw-1"), "{}"));

    DocAck ack = gw1.lastAck();
    assertThat(ack.getChangeSeq()).isEqualTo(3);
    assertThat(ack.getRefusedList())
        .extracting(DocRefusal::getChangeSeq)
        .containsExactly(1L, 2L, 3L);
    assertThat(ack.getRefused(0).getReason())
        .contains("may not write fleet/config")
        .contains("documents.device_writable");
    assertThat(ack.getRefused(2).getReason()).contains("may not write scope 'group:south'");
    assertThat(stored("fleet") + stored("group:north") + stored("group:south")).isZero();
    assertThat(gw1.io().closes()).isEmpty();
  }

  @Test
  void deviceWritableCollections_areWritable_onlyInScopesTheDeviceReads() throws Exception {
    open(DeviceWrites.of("fleet/notes", "group:*/notes"));
    store.documents().setGroups("gw-1", List.of("north"));
    Session gw1 = connect("gw-1");

    gw1.send(
        value(1, "fleet", "notes", "a", 0, h("gw-1"), "{}"),
        value(2, "fleet", "config", "a", 0, h("gw-1"), "{}"),
        value(3, "group:north", "notes", "a", 0, h("gw-1"), "{}"),
        value(4, "group:south", "notes", "a", 0, h("gw-1"), "{}"));

    assertThat(gw1.lastAck().getRefusedList())
        .extracting(DocRefusal::getChangeSeq)
        .containsExactly(2L, 4L);
    assertThat(docs.store().get("fleet", "notes", "a")).isNotNull();
    assertThat(docs.store().get("fleet", "config", "a")).isNull();
    assertThat(docs.store().get("group:north", "notes", "a")).isNotNull();
    assertThat(stored("group:south")).as("group:* covers only the device's own groups").isZero();
  }

  @Test
  void aSession_getsOnlyItsOwnDocumentsAndCommands_andTheScopesItReads() throws Exception {
    open(DeviceWrites.NONE);
    store.documents().setGroups("gw-2", List.of("south"));
    docs.put("device:gw-2", "config", "secret", "{\"s\":1}".getBytes(UTF_8), null);
    docs.put("group:south", "config", "g", "{\"g\":1}".getBytes(UTF_8), null);
    docs.put("fleet", "config", "f", "{\"f\":1}".getBytes(UTF_8), null);
    docs.put("device:gw-1", "config", "own", "{\"o\":1}".getBytes(UTF_8), null);
    CommandStore.StoredCommand theirs =
        store.commands().create("gw-2", "reboot", "{}".getBytes(UTF_8), 60_000, T0);
    CommandStore.StoredCommand mine =
        store.commands().create("gw-1", "ping", "{}".getBytes(UTF_8), 60_000, T0);

    Session gw1 = connect("gw-1");
    gw1.session().onCommandsQueued(T0);
    gw1.session().onDocsChanged(T0);

    assertThat(gw1.updates())
        .extracting(u -> u.getScope() + "/" + u.getKey())
        .containsExactlyInAnyOrder("device/own", "fleet/f");
    assertThat(gw1.io().frames())
        .filteredOn(Frame::hasCommand)
        .extracting(f -> f.getCommand().getId())
        .containsExactly(mine.id());
    assertThat(store.commands().command(theirs.id(), T0).deliveries()).isZero();
  }

  @Test
  void reportingAnotherDevicesCommand_isRefused_notFatal_andChangesNothing() throws Exception {
    open(DeviceWrites.NONE);
    CommandStore.StoredCommand theirs =
        store.commands().create("gw-2", "reboot", "{}".getBytes(UTF_8), 60_000, T0);
    Session gw1 = connect("gw-1");
    gw1.io().clear();

    gw1.send(
        Frame.newBuilder()
            .setCommandStatus(
                CommandStatus.newBuilder()
                    .setId(theirs.id())
                    .setState(CommandState.COMMAND_SUCCEEDED))
            .build());

    assertThat(gw1.io().frames()).hasSize(1);
    Frame refusal = gw1.io().last();
    assertThat(refusal.getError().getCode()).isEqualTo(ErrorCode.NOT_AUTHORIZED);
    assertThat(refusal.getError().getFatal()).isFalse();
    assertThat(refusal.getError().getMessage())
        .contains("device 'gw-1' may not report the status of command '" + theirs.id() + "'");
    CommandStore.StoredCommand after = store.commands().command(theirs.id(), T0);
    assertThat(after.state()).isEqualTo(CommandStore.QUEUED);
    assertThat(after.updatedMs()).isEqualTo(theirs.updatedMs());
    assertThat(gw1.io().closes()).isEmpty();
    assertThat(gw1.session().commandReportsRefused()).isEqualTo(1);
  }

  @Test
  void aBatch_isAppendedToTheSessionsOwnStreams_only() throws Exception {
    open(DeviceWrites.NONE);
    connect("gw-2").session().onClosed(T0);
    Session gw1 = connect("gw-1");
    byte[] payload = "{}".getBytes(UTF_8);
    byte[] layout = new byte[2 + payload.length];
    layout[1] = (byte) payload.length; // origin delta 0, then the payload's length
    System.arraycopy(payload, 0, layout, 2, payload.length);

    gw1.send(
        Frame.newBuilder()
            .setBatch(
                io.edgesync.protocol.wire.RecordBatch.newBuilder()
                    .setStream("telemetry")
                    .setFirstSequence(1)
                    .setCount(1)
                    .setPayload(com.google.protobuf.ByteString.copyFrom(layout)))
            .build());

    assertThat(gw1.io().last().getAck().getSequence()).isEqualTo(1);
    assertThat(store.checkpoints("gw-1")).containsEntry("telemetry", 1L);
    assertThat(store.checkpoints("gw-2")).as("a batch names no device").isEmpty();
  }
}
