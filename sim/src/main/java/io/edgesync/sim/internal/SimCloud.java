package io.edgesync.sim.internal;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgesync.engine.cloud.CloudSession;
import io.edgesync.engine.cloud.CloudStore;
import io.edgesync.engine.commands.CommandStore;
import io.edgesync.engine.docs.CloudDocuments;
import io.edgesync.engine.docs.DocKey;
import io.edgesync.engine.docs.DocumentException;
import io.edgesync.engine.docs.DocumentStore;
import io.edgesync.engine.docs.JsonDocs;
import io.edgesync.protocol.FrameCodec;
import io.edgesync.protocol.wire.Frame;
import io.edgesync.server.SqliteCloudStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.UnaryOperator;

/**
 * The simulated cloud: the real {@link SqliteCloudStore} on a SQLite file and one real {@link
 * CloudSession} per connection, wired the way {@code SyncServer} wires them (a newer session of a
 * device closes the older one; a closed connection calls {@code onClosed}). A crash copies the
 * store's files as they are on disk, abandons the instance and reopens from the copy on restart.
 *
 * <p>With documents on, the real {@link CloudDocuments} runs over the store's documents and the
 * sessions serve documents and commands. Pushes go as {@code SyncServer} sends them from its push
 * thread: after a commit that changed some scopes, a little later, every registered session of a
 * device reading one of them gets {@code onDocsChanged}; a queued command gets {@code
 * onCommandsQueued} on its device's session. Cloud REST writes, deletes, conflict resolutions and
 * command creation are the calls {@code DocumentApi} makes.
 *
 * <p>Not thread safe; owned by the simulation thread.
 */
final class SimCloud {
  /** Jetty's idle timeout in SyncServer: a connection nobody hears from is closed after this. */
  static final long IDLE_TIMEOUT_MS = 5 * 60_000;

  private final World world;
  private final Path root;
  private final NodeClock clock;
  private final UnaryOperator<CloudStore> storeWrapper;
  private final UnaryOperator<DocumentStore> docStoreWrapper;
  private final UnaryOperator<CommandStore> commandStoreWrapper;

  private int incarnation;
  private boolean alive;
  private SqliteCloudStore sqlite;
  private CloudStore store;
  private CloudDocuments docs;
  private CommandStore commands;
  private final Map<String, SimConnection> byDevice = new TreeMap<>();
  private final Set<SimConnection> open = new LinkedHashSet<>();

  /** The file stores (files seeds only, else null); they survive crashes as the database does. */
  private SimCloudFiles files;

  SimCloud(
      World world,
      Path root,
      NodeClock clock,
      UnaryOperator<CloudStore> storeWrapper,
      UnaryOperator<DocumentStore> docStoreWrapper,
      UnaryOperator<CommandStore> commandStoreWrapper) {
    this.world = world;
    this.root = root;
    this.clock = clock;
    this.storeWrapper = storeWrapper;
    this.docStoreWrapper = docStoreWrapper;
    this.commandStoreWrapper = commandStoreWrapper;
  }

  /** Files seeds: the sessions carry file transfers from these stores. */
  void enableFiles(SimCloudFiles stores) {
    this.files = stores;
  }

  SimCloudFiles files() {
    return files;
  }

  /** The document authority, or null (documents off, or the cloud is down). */
  CloudDocuments docs() {
    return docs;
  }

  /** The command store the sessions use, or null (commands off, or the cloud is down). */
  CommandStore commands() {
    return commands;
  }

  /** The store's own documents, not wrapped: what the checkers read. */
  DocumentStore rawDocuments() {
    return sqlite == null ? null : sqlite.documents();
  }

  /** The store's hash-chained audit log: what the checkers verify. */
  io.edgesync.server.AuditLog auditLog() {
    return sqlite == null ? null : sqlite.auditLog();
  }

  /** The store's own commands, not wrapped: what the checkers read. */
  CommandStore rawCommands() {
    return sqlite == null ? null : sqlite.commands();
  }

  boolean alive() {
    return alive;
  }

  int incarnation() {
    return incarnation;
  }

  CloudStore store() {
    return store;
  }

  NodeClock clock() {
    return clock;
  }

  long nowMs() {
    return clock.wallMs(world.now());
  }

  private Path storeFile() {
    return root.resolve("run" + incarnation).resolve("cloud.db");
  }

  void start() {
    DocLedger ledger = world.docLedger();
    try {
      // A short document history (32 versions), so that churn pushes an edge's base out of it and
      // the "resend whole" path runs (seed 1097 found its request lost with a DocAck; now repeated
      // in every Welcome until met).
      sqlite = new SqliteCloudStore(storeFile(), 32, ledger::nextCommandId);
    } catch (SQLException e) {
      throw new SimFailure("the cloud store did not open: " + e.getMessage());
    }
    store = storeWrapper.apply(sqlite);
    DocScenario ds = world.scenario().docs();
    if (ds.enabled()) {
      DocumentStore raw = sqlite.documents();
      if (incarnation == 0) {
        for (SimEdge e : world.edges()) {
          if (!ds.groups().get(e.index()).isEmpty()) {
            raw.setGroups(e.deviceId(), ds.groups().get(e.index()));
          }
        }
      }
      docs = new CloudDocuments(docStoreWrapper.apply(raw), ds.rules(), this::nowMs);
      int inc = incarnation;
      docs.onChange(
          scopes -> {
            try {
              ledger.cloudChanged(raw, scopes);
            } catch (SimFailure f) {
              world.fail(f); // the session would turn it into an INTERNAL error frame
            }
            schedulePush(inc, scopes);
          });
      if (ds.commands()) {
        commands = commandStoreWrapper.apply(sqlite.commands());
      }
      if (incarnation > 0) {
        checkDocumentsSurvived(raw);
      }
    }
    alive = true;
    world.trace("cloud started (run " + incarnation + ")");
  }

  /** After a restart the store holds the newest version of every key the log has (or collected). */
  private void checkDocumentsSurvived(DocumentStore raw) {
    DocLedger ledger = world.docLedger();
    for (Map.Entry<DocKey, List<DocLedger.Version>> e : ledger.log().entrySet()) {
      DocKey k = e.getKey();
      DocLedger.Version last = e.getValue().get(e.getValue().size() - 1);
      DocumentStore.StoredDoc d = raw.get(k.scope(), k.collection(), k.key());
      boolean collected = d == null && last.value() == null;
      if (!collected
          && (d == null
              || d.version() != last.version()
              || !Arrays.equals(d.value(), last.value()))) {
        throw new SimFailure(
            "after the cloud's restart "
                + k
                + " is "
                + (d == null ? "missing" : "at version " + d.version())
                + " but version "
                + last.version()
                + " was committed: a document write was not durable");
      }
    }
  }

  /** The process dies: sessions vanish without onClosed; the store keeps what was committed. */
  void crash() {
    world.trace("cloud CRASH");
    for (SimConnection c : new ArrayList<>(open)) {
      world.network().cloudCrashed(c);
      c.inbox.clear();
      c.handling = false;
      c.sessionClosed = true;
    }
    open.clear();
    byDevice.clear();
    SimEdge.copyStoreImage(
        storeFile(), root.resolve("run" + (incarnation + 1)).resolve("cloud.db"));
    sqlite.close();
    sqlite = null;
    store = null;
    docs = null;
    commands = null;
    alive = false;
    incarnation++;
    world.stats().add("cloud.crashes", 1);
  }

  /** A connection arrives; false if nobody is listening. */
  boolean accept(SimConnection c) {
    if (!alive) {
      return false;
    }
    c.cloudOpen = true;
    c.cloudIncarnation = incarnation;
    // Identity on: the connection authenticated as its edge (the simulator's abstract client
    // certificate), and the session holds the device to it.
    c.session =
        new CloudSession(world.scenario().serverPolicy(), store, docs, commands, new SessionIo(c))
            .requireDeviceId(c.edge.deviceId());
    if (files != null) {
      String device = c.edge.deviceId();
      c.session.withFiles(files.rollouts(device), files.uploads(device));
    }
    open.add(c);
    return true;
  }

  /**
   * A frame (or, with bytes null, the end of the stream) arrived on {@code c}: the server reads it
   * and hands it to the session's handler, which runs after a random delay (thread scheduling, the
   * store's commit), so that frames of different connections interleave as on a real server.
   */
  void deliver(SimConnection c, byte[] bytes, String label, Frame frame) {
    if (!alive || !c.cloudOpen || c.cloudIncarnation != incarnation) {
      return;
    }
    c.inbox.addLast(new SimConnection.Inbound(bytes, label, frame));
    if (!c.handling) {
      dispatch(c);
    }
  }

  private void dispatch(SimConnection c) {
    if (c.inbox.isEmpty()) {
      c.handling = false;
      if (!c.cloudOpen) {
        closed(c);
      }
      return;
    }
    c.handling = true;
    int inc = incarnation;
    world
        .events()
        .at(
            world.now() + world.network().handlerDelayMs(),
            () -> {
              if (inc == incarnation && alive) {
                handle(c);
              }
            });
  }

  private void handle(SimConnection c) {
    SimConnection.Inbound in = c.inbox.pollFirst();
    if (in.bytes() == null) {
      world.trace(c.name() + " cloud sees " + in.label());
      c.cloudOpen = false;
      c.inbox.clear();
      c.handling = false;
      closed(c);
      return;
    }
    Frame frame = in.frame();
    boolean late = c.edgeGone || c.superseded;
    world.trace(c.name() + " cloud < " + in.label() + (late ? " (late)" : ""));
    if (late) {
      world.stats().add("frames.lateAtCloud", 1);
      if (frame.hasDocChanges()) {
        world.stats().add("docs.lateChangesAtCloud", 1);
      }
    }
    if (frame.hasDocChanges() || frame.hasCommandStatus()) {
      world.docLedger().moved();
    }
    if (frame.hasBatch()
        && frame.getBatch().getFirstSequence()
            <= store
                .checkpoints(c.edge.deviceId())
                .getOrDefault(frame.getBatch().getStream(), 0L)) {
      world.stats().add("frames.resentAtCloud", 1);
    }
    CloudSession session = c.session;
    boolean wasHandshaking = session.state() == CloudSession.State.AWAIT_HELLO;
    session.onFrame(nowMs(), in.bytes());
    if (wasHandshaking && session.state() == CloudSession.State.ACTIVE) {
      SimConnection previous = byDevice.put(session.deviceId(), c);
      if (previous != null && previous != c) {
        world.stats().add("sessions.replaced", 1);
        if (previous.handling) {
          world.stats().add("sessions.overlapping", 1);
        }
        previous.superseded = true;
        closeFromCloud(previous, "replaced by a newer session of the same device");
      }
    }
    dispatch(c);
  }

  /** Jetty's idle timeout fired for {@code c}. */
  void idleTimeout(SimConnection c) {
    if (alive && c.cloudOpen && c.cloudIncarnation == incarnation) {
      world.trace(c.name() + " cloud idle timeout");
      closeFromCloud(c, "idle timeout");
    }
  }

  /**
   * The server closes {@code c}: the edge sees the end of the stream behind what was sent. A frame
   * already in the handler finishes; frames read but not yet handled are dropped.
   */
  void closeFromCloud(SimConnection c, String reason) {
    if (!c.cloudOpen) {
      return;
    }
    world.network().closeFromCloud(c, reason);
    c.cloudOpen = false;
    if (c.handling) {
      while (c.inbox.size() > 1) {
        c.inbox.pollLast();
      }
    } else {
      closed(c);
    }
  }

  /** SyncServer.onClose. */
  private void closed(SimConnection c) {
    if (c.sessionClosed) {
      return;
    }
    c.sessionClosed = true;
    c.cloudOpen = false;
    open.remove(c);
    String device = c.session.deviceId();
    c.session.onClosed(nowMs());
    if (device != null) {
      byDevice.remove(device, c);
    }
  }

  /** The device's committed checkpoints, or null while the cloud is down. */
  Map<String, Long> checkpoints(String deviceId) {
    return alive ? store.checkpoints(deviceId) : null;
  }

  // ---------------------------------------------------------------- pushes (SyncServer's push
  // thread)

  private void schedulePush(int inc, Set<String> scopes) {
    Set<String> changed = new TreeSet<>(scopes);
    world
        .events()
        .at(
            world.now() + world.network().handlerDelayMs(),
            () -> {
              if (inc != incarnation || !alive) {
                return;
              }
              Set<String> devices = new TreeSet<>();
              for (String scope : changed) {
                if (scope.equals(CloudDocuments.FLEET)) {
                  devices.addAll(byDevice.keySet());
                } else {
                  devices.addAll(docs.store().devicesReading(scope));
                }
              }
              for (String device : devices) {
                SimConnection c = byDevice.get(device);
                if (c != null && c.cloudOpen && c.session.state() == CloudSession.State.ACTIVE) {
                  world.trace(c.name() + " cloud pushes " + changed);
                  c.session.onDocsChanged(nowMs());
                }
              }
            });
  }

  private void schedulePushCommands(String device) {
    int inc = incarnation;
    world
        .events()
        .at(
            world.now() + world.network().handlerDelayMs(),
            () -> {
              if (inc != incarnation || !alive) {
                return;
              }
              SimConnection c = byDevice.get(device);
              if (c != null && c.cloudOpen && c.session.state() == CloudSession.State.ACTIVE) {
                c.session.onCommandsQueued(nowMs());
              }
            });
  }

  // ---------------------------------------------------------------- REST-equivalent calls

  /** PUT (value) or DELETE (null) of a document through the REST API; false if refused. */
  boolean writeDoc(DocKey key, JsonNode value, Long ifVersion) {
    if (!alive || docs == null) {
      return false;
    }
    String what = (value == null ? "delete " : "put ") + key;
    try {
      DocumentStore.StoredDoc d =
          value == null
              ? docs.delete(key.scope(), key.collection(), key.key(), ifVersion)
              : docs.put(
                  key.scope(), key.collection(), key.key(), JsonDocs.bytes(value), ifVersion);
      world.trace(
          "cloud "
              + what
              + (value == null ? "" : " " + DocLedger.text(value))
              + (ifVersion == null ? "" : " if v" + ifVersion)
              + " -> v"
              + d.version());
      return true;
    } catch (DocumentException e) {
      world.trace("cloud " + what + " refused: " + e.kind() + " " + e.getMessage());
      return false;
    }
  }

  /**
   * Resolves a conflict through the REST API: {@code take} "edge" or "cloud", or a value. Returns
   * false if refused (already resolved).
   */
  boolean resolve(long conflictId, String take, JsonNode value) {
    if (!alive || docs == null) {
      return false;
    }
    DocumentStore raw = sqlite.documents();
    DocumentStore.ConflictRecord c = raw.conflict(conflictId);
    if (c == null) {
      throw new SimFailure("open conflict " + conflictId + " cannot be retrieved");
    }
    if (c.status().equals(DocumentStore.ConflictRecord.OPEN)) {
      checkRetrievable(c);
    }
    DocumentStore.StoredDoc current = raw.get(c.scope(), c.collection(), c.key());
    byte[] expected =
        value != null
            ? JsonDocs.bytes(value)
            : take.equals("edge") ? c.edgeValue() : current == null ? null : current.value();
    String how = value != null ? "value " + DocLedger.text(value) : "take " + take;
    try {
      DocumentStore.StoredDoc d =
          docs.resolve(conflictId, take, value == null ? null : JsonDocs.bytes(value), "operator");
      world.trace("cloud resolves conflict " + conflictId + " (" + how + ") -> v" + d.version());
      world.docLedger().operatorResolved(conflictId, how, expected);
      world.stats().add("docs.resolvedByOperator", 1);
      return true;
    } catch (DocumentException e) {
      world.trace("cloud resolve " + conflictId + " refused: " + e.kind() + " " + e.getMessage());
      return false;
    }
  }

  /** An open conflict holds both values: the edge's (as it sent it) and the cloud's. */
  private void checkRetrievable(DocumentStore.ConflictRecord c) {
    DocLedger ledger = world.docLedger();
    DocLedger.Sent sent = ledger.sent(c.deviceId(), c.edgeChangeSeq());
    if (sent == null || !DocLedger.same(DocLedger.json(c.edgeValue()), sent.value())) {
      throw new SimFailure(
          "open conflict "
              + c.id()
              + " on "
              + c.scope()
              + "/"
              + c.collection()
              + "/"
              + c.key()
              + " holds edge value "
              + DocLedger.text(c.edgeValue())
              + " but "
              + c.deviceId()
              + "'s change "
              + c.edgeChangeSeq()
              + " was "
              + (sent == null ? "never sent" : DocLedger.text(sent.value())));
    }
    DocLedger.Version cloudVersion = ledger.version(c.cloudVersion());
    if (c.cloudVersion() > 0
        && (cloudVersion == null
            || !DocLedger.same(
                DocLedger.json(c.cloudValue()), DocLedger.json(cloudVersion.value())))) {
      throw new SimFailure(
          "open conflict "
              + c.id()
              + " holds cloud value "
              + DocLedger.text(c.cloudValue())
              + " for version "
              + c.cloudVersion()
              + ", which was "
              + (cloudVersion == null ? "never written" : DocLedger.text(cloudVersion.value())));
    }
  }

  /** POST /api/v1/devices/{id}/commands; false if the cloud is down. */
  boolean queueCommand(String device, long ttlMs) {
    if (!alive || commands == null) {
      return false;
    }
    CommandStore.StoredCommand c =
        commands.create(
            device, "job", "{\"n\":1}".getBytes(StandardCharsets.UTF_8), ttlMs, nowMs());
    world.docLedger().commandCreated(new DocLedger.Cmd(c.id(), device, ttlMs, world.now()));
    world.trace("cloud queues " + c.id() + " for " + device + " ttl " + ttlMs + " ms");
    world.stats().add("commands.queued", 1);
    schedulePushCommands(device);
    return true;
  }

  /**
   * An operator publishes a version (the REST call) to {@code targets}; the other devices keep it
   * as a possible delta base. False if the cloud is down.
   */
  boolean publish(FileLedger.Version v, Set<String> targets) {
    if (!alive || files == null) {
      return false;
    }
    for (SimEdge e : world.edges()) {
      if (targets.contains(e.deviceId())) {
        rollOn(v, e.deviceId());
      } else {
        files.keep(v, e.deviceId());
      }
    }
    return true;
  }

  /** A version's rollout reaches one more device; its session offers it. False if down. */
  boolean rollOn(FileLedger.Version v, String device) {
    if (!alive || files == null) {
      return false;
    }
    files.target(v, device);
    v.targets().add(device);
    world.trace("cloud rolls out " + v.transferId() + " to " + device);
    int inc = incarnation;
    world
        .events()
        .at(
            world.now() + world.network().handlerDelayMs(),
            () -> {
              if (inc != incarnation || !alive) {
                return;
              }
              SimConnection c = byDevice.get(device);
              if (c != null && c.cloudOpen && c.session.state() == CloudSession.State.ACTIVE) {
                c.session.onFilesOffered(nowMs());
              }
            });
    return true;
  }

  void shutdown() {
    if (sqlite != null) {
      sqlite.close();
      sqlite = null;
    }
  }

  private final class SessionIo implements CloudSession.Io {
    private final SimConnection c;

    SessionIo(SimConnection c) {
      this.c = c;
    }

    @Override
    public void send(Frame frame) {
      String label = Describe.frame(frame);
      if (frame.hasError()) {
        world.protocolError(c.name() + " cloud sent " + label);
      }
      if (c.cloudOpen) {
        world.trace(c.name() + " cloud > " + label);
        c.toEdge.send(FrameCodec.encode(frame), label, frame);
      }
    }

    @Override
    public void close(String reason) {
      // Called from inside onFrame; SyncServer's close reaches onClose later on.
      world.events().at(world.now(), () -> closeFromCloud(c, reason));
    }
  }
}
