package io.edgesync.sim.internal;

import io.edgesync.engine.cloud.CloudSession;
import io.edgesync.engine.commands.CommandStore;
import io.edgesync.engine.docs.DocKey;
import io.edgesync.engine.docs.DocumentStore;
import io.edgesync.protocol.FrameCodec;
import io.edgesync.protocol.Hlc;
import io.edgesync.protocol.ProtocolLimits;
import io.edgesync.protocol.wire.CommandState;
import io.edgesync.protocol.wire.CommandStatus;
import io.edgesync.protocol.wire.DocChange;
import io.edgesync.protocol.wire.DocChanges;
import io.edgesync.protocol.wire.DocRefusal;
import io.edgesync.protocol.wire.ErrorCode;
import io.edgesync.protocol.wire.Frame;
import io.edgesync.protocol.wire.Hello;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * Devices that try what they may not, decided by the product's authorization (the real {@link
 * CloudSession} and {@code CloudDocuments}):
 *
 * <ul>
 *   <li>an edge's application writes a shared document its device may not write (the read-only
 *       collection in the fleet or a group, or a group it is not in); the edge sends it like any
 *       change, and {@link DocLedger} checks that the cloud refuses it and never stores it;
 *   <li>a rogue device ({@link #DEVICE_ID}, with a valid identity of its own) opens a session and
 *       writes another device's scope, the read-only collection and a group it is not in, reports
 *       the status of another device's command, or names another device in its Hello; each attempt
 *       is checked at once to be refused and to change nothing in the store.
 * </ul>
 */
final class Adversary {
  /** The rogue device's id: it holds a certificate of its own and no groups. */
  static final String DEVICE_ID = "rogue-0";

  private Adversary() {}

  static List<Action> all() {
    return List.of(new ForbiddenEdgeWrite(), new RogueSession());
  }

  /** An edge's application writes a document its device may not write. */
  static final class ForbiddenEdgeWrite implements Action {
    @Override
    public String name() {
      return "adversaryEdgeWrite";
    }

    @Override
    public int weight(World world) {
      return 3;
    }

    @Override
    public void perform(World world, RandomGenerator random) {
      SimEdge e = world.randomEdge(random);
      List<String> notMine = new ArrayList<>(DocScenario.GROUPS);
      notMine.removeAll(world.scenario().docs().groups().get(e.index()));
      String key = DocActions.key(world, random);
      DocKey k =
          switch (random.nextInt(3)) {
            case 0 -> new DocKey("fleet", DocScenario.READ_ONLY, key);
            case 1 ->
                new DocKey(
                    "group:" + DocScenario.GROUPS.get(random.nextInt(DocScenario.GROUPS.size())),
                    DocScenario.READ_ONLY,
                    key);
            default ->
                notMine.isEmpty()
                    ? new DocKey("fleet", DocScenario.READ_ONLY, key)
                    : new DocKey(
                        "group:" + notMine.get(random.nextInt(notMine.size())),
                        DocActions.collection(world, random),
                        key);
          };
      e.writeForbidden(k, DocActions.value(random));
    }
  }

  /** The rogue device opens a session of its own and tries one thing it may not do. */
  static final class RogueSession implements Action {
    @Override
    public String name() {
      return "adversaryRogueSession";
    }

    @Override
    public int weight(World world) {
      return world.cloud().alive() ? 2 : 0;
    }

    @Override
    public void perform(World world, RandomGenerator random) {
      SimEdge victim = world.randomEdge(random);
      switch (random.nextInt(3)) {
        case 0 -> impersonate(world, victim);
        case 1 -> writeOthers(world, random, victim);
        default -> reportOthersCommand(world, random, victim);
      }
    }
  }

  /** A session's output, recorded. */
  private static final class Recorded implements CloudSession.Io {
    final List<Frame> frames = new ArrayList<>();
    String closed;

    @Override
    public void send(Frame frame) {
      frames.add(frame);
    }

    @Override
    public void close(String reason) {
      closed = reason;
    }
  }

  private static CloudSession session(World world, Recorded io) {
    SimCloud cloud = world.cloud();
    return new CloudSession(
            world.scenario().serverPolicy(), cloud.store(), cloud.docs(), cloud.commands(), io)
        .requireDeviceId(DEVICE_ID);
  }

  private static byte[] hello(String deviceId) {
    return FrameCodec.encode(
        Frame.newBuilder()
            .setHello(
                Hello.newBuilder()
                    .setProtocolVersion(ProtocolLimits.PROTOCOL_VERSION)
                    .setDeviceId(deviceId))
            .build());
  }

  /** Hello naming the victim over the rogue's identity: refused, the victim's data untouched. */
  private static void impersonate(World world, SimEdge victim) {
    SimCloud cloud = world.cloud();
    String before = cloud.store().checkpoints(victim.deviceId()).toString();
    Recorded io = new Recorded();
    CloudSession s = session(world, io);
    s.onFrame(cloud.nowMs(), hello(victim.deviceId()));
    s.onClosed(cloud.nowMs());
    Frame last = io.frames.isEmpty() ? null : io.frames.get(io.frames.size() - 1);
    if (last == null
        || last.getError().getCode() != ErrorCode.IDENTITY_MISMATCH
        || io.closed == null) {
      throw new SimFailure(
          DEVICE_ID + " named " + victim.deviceId() + " in its Hello and was not refused: " + last);
    }
    if (!before.equals(cloud.store().checkpoints(victim.deviceId()).toString())) {
      throw new SimFailure("a refused impersonation of " + victim.deviceId() + " changed its data");
    }
    world.trace(DEVICE_ID + " named " + victim.deviceId() + " in Hello: refused");
    world.stats().add("adversary.impersonationsRefused", 1);
  }

  /** The rogue writes the victim's scope, the read-only collection and a group: all refused. */
  private static void writeOthers(World world, RandomGenerator random, SimEdge victim) {
    SimCloud cloud = world.cloud();
    if (cloud.docs() == null) {
      return;
    }
    String key = DocActions.key(world, random);
    List<DocKey> targets =
        List.of(
            new DocKey("device:" + victim.deviceId(), DocActions.collection(world, random), key),
            new DocKey("fleet", DocScenario.READ_ONLY, key),
            new DocKey(
                "group:" + DocScenario.GROUPS.get(random.nextInt(DocScenario.GROUPS.size())),
                DocActions.collection(world, random),
                key));
    DocumentStore raw = cloud.rawDocuments();
    List<String> before = snapshot(raw, targets);
    Hlc hlc = new Hlc(cloud.nowMs(), 0, DEVICE_ID);
    DocChanges.Builder changes = DocChanges.newBuilder();
    for (int i = 0; i < targets.size(); i++) {
      DocKey t = targets.get(i);
      changes.addChanges(
          DocChange.newBuilder()
              .setChangeSeq(i + 1)
              .setScope(t.scope())
              .setCollection(t.collection())
              .setKey(t.key())
              .setHlc(hlc.toWire())
              .setValue(
                  com.google.protobuf.ByteString.copyFrom(
                      io.edgesync.engine.docs.JsonDocs.bytes(DocActions.value(random)))));
    }
    Recorded io = new Recorded();
    CloudSession s = session(world, io);
    s.onFrame(cloud.nowMs(), hello(DEVICE_ID));
    s.onFrame(cloud.nowMs(), FrameCodec.encode(Frame.newBuilder().setDocChanges(changes).build()));
    s.onClosed(cloud.nowMs());
    List<Long> refused = new ArrayList<>();
    for (Frame f : io.frames) {
      for (DocRefusal r : f.getDocAck().getRefusedList()) {
        if (r.getCode() == ErrorCode.NOT_AUTHORIZED) {
          refused.add(r.getChangeSeq());
        }
      }
    }
    if (io.closed != null || !refused.equals(List.of(1L, 2L, 3L))) {
      throw new SimFailure(
          DEVICE_ID
              + " wrote "
              + targets
              + " and was not refused each (refused "
              + refused
              + (io.closed == null ? "" : ", closed: " + io.closed)
              + ")");
    }
    if (!before.equals(snapshot(raw, targets))) {
      throw new SimFailure(
          "refused writes by "
              + DEVICE_ID
              + " changed "
              + before
              + " to "
              + snapshot(raw, targets));
    }
    world.trace(DEVICE_ID + " wrote " + targets + ": refused");
    world.stats().add("adversary.rogueWritesRefused", targets.size());
  }

  private static List<String> snapshot(DocumentStore raw, List<DocKey> keys) {
    List<String> out = new ArrayList<>();
    for (DocKey k : keys) {
      DocumentStore.StoredDoc d = raw.get(k.scope(), k.collection(), k.key());
      out.add(
          d == null
              ? k + "=none"
              : k + "=v" + d.version() + ":" + Arrays.hashCode(d.value()) + ":" + d.conflictId());
    }
    return out;
  }

  /** The rogue reports the status of one of the victim's commands: refused, the command as was. */
  private static void reportOthersCommand(World world, RandomGenerator random, SimEdge victim) {
    SimCloud cloud = world.cloud();
    CommandStore commands = cloud.commands();
    List<String> theirs = new ArrayList<>();
    for (DocLedger.Cmd c : world.docLedger().commands().values()) {
      if (c.device().equals(victim.deviceId())) {
        theirs.add(c.id());
      }
    }
    if (commands == null || theirs.isEmpty()) {
      return;
    }
    String id = theirs.get(random.nextInt(theirs.size()));
    CommandStore.StoredCommand before = cloud.rawCommands().command(id, cloud.nowMs());
    Recorded io = new Recorded();
    CloudSession s = session(world, io);
    s.onFrame(cloud.nowMs(), hello(DEVICE_ID));
    io.frames.clear();
    s.onFrame(
        cloud.nowMs(),
        FrameCodec.encode(
            Frame.newBuilder()
                .setCommandStatus(
                    CommandStatus.newBuilder().setId(id).setState(CommandState.COMMAND_FAILED))
                .build()));
    s.onClosed(cloud.nowMs());
    CommandStore.StoredCommand after = cloud.rawCommands().command(id, cloud.nowMs());
    boolean refused =
        io.frames.size() == 1
            && io.frames.get(0).getError().getCode() == ErrorCode.NOT_AUTHORIZED
            && !io.frames.get(0).getError().getFatal();
    if (!refused || io.closed != null) {
      throw new SimFailure(
          DEVICE_ID + " reported command " + id + " of " + victim.deviceId() + ": " + io.frames);
    }
    if (before != null
        && (!before.state().equals(after.state()) || before.updatedMs() != after.updatedMs())) {
      throw new SimFailure(
          "a refused report by "
              + DEVICE_ID
              + " changed command "
              + id
              + ": "
              + before
              + " to "
              + after);
    }
    world.trace(DEVICE_ID + " reported command " + id + " of " + victim.deviceId() + ": refused");
    world.stats().add("adversary.commandReportsRefused", 1);
  }
}
