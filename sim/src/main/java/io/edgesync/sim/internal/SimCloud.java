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
import io.edgesync.server.CloudStores;
import io.edgesync.server.SqliteCloudStore;
import io.edgesync.server.StoreSettings;
import io.edgesync.testing.TestPostgres;
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

  /**
   * One server process. With one node its store is a SQLite file; with several they share one
   * PostgreSQL database (the embedded one of the tests, a fresh database per seed), as production
   * nodes do.
   */
  private static final class Node {
    final int index;
    int incarnation;
    boolean alive;
    SqliteCloudStore sqlite;
    CloudStore store;
    CloudDocuments docs;
    CommandStore commands;
    final Map<String, SimConnection> byDevice = new TreeMap<>();
    final Set<SimConnection> open = new LinkedHashSet<>();

    Node(int index) {
      this.index = index;
    }
  }

  private final List<Node> nodes = new ArrayList<>();
  private final String database; // several nodes: their PostgreSQL database, else null
  private boolean groupsSet;
  private int nextNode; // several nodes: round robin of connections and REST calls
  private int nextCrash; // several nodes: round robin of crashes
  private final Map<String, Integer> lastNode = new TreeMap<>(); // several: a device's last node

  /** The file stores (files seeds only, else null); they survive crashes as the database does. */
  private SimCloudFiles files;

  SimCloud(
      World world,
      Path root,
      NodeClock clock,
      UnaryOperator<CloudStore> storeWrapper,
      UnaryOperator<DocumentStore> docStoreWrapper,
      UnaryOperator<CommandStore> commandStoreWrapper,
      int count) {
    this.world = world;
    this.root = root;
    this.clock = clock;
    this.storeWrapper = storeWrapper;
    this.docStoreWrapper = docStoreWrapper;
    this.commandStoreWrapper = commandStoreWrapper;
    for (int i = 0; i < count; i++) {
      nodes.add(new Node(i));
    }
    if (count > 1) {
      if (!TestPostgres.available()) {
        throw new SimFailure(
            "several cloud nodes need PostgreSQL, which cannot start here: "
                + TestPostgres.unavailableReason());
      }
      database = TestPostgres.newDatabase();
    } else {
      database = null;
    }
  }

  private boolean several() {
    return nodes.size() > 1;
  }

  /** The first live node (the one whose store checkers and adversaries read), or null. */
  private Node live() {
    for (Node n : nodes) {
      if (n.alive) {
        return n;
      }
    }
    return null;
  }

  /** Where a connection or a REST call goes: the one node, or the next live one in turn. */
  private Node pick() {
    if (!several()) {
      return nodes.get(0);
    }
    for (int tries = 0; tries < nodes.size(); tries++) {
      Node n = nodes.get(Math.floorMod(nextNode++, nodes.size()));
      if (n.alive) {
        return n;
      }
    }
    return null;
  }

  private Node nodeOf(SimConnection c) {
    return nodes.get(c.cloudNode);
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
    Node n = live();
    return n == null ? null : n.docs;
  }

  /** The command store the sessions use, or null (commands off, or the cloud is down). */
  CommandStore commands() {
    Node n = live();
    return n == null ? null : n.commands;
  }

  /** The store's own documents, not wrapped: what the checkers read. */
  DocumentStore rawDocuments() {
    Node n = live();
    return n == null ? null : n.sqlite.documents();
  }

  /** The store's hash-chained audit log: what the checkers verify. */
  io.edgesync.server.AuditLog auditLog() {
    Node n = live();
    return n == null ? null : n.sqlite.auditLog();
  }

  /** The store's own commands, not wrapped: what the checkers read. */
  CommandStore rawCommands() {
    Node n = live();
    return n == null ? null : n.sqlite.commands();
  }

  /** Whether any node is up. */
  boolean alive() {
    return live() != null;
  }

  /** How many times a node (re)started: changes whenever any node crashed. */
  int incarnation() {
    int sum = 0;
    for (Node n : nodes) {
      sum += n.incarnation;
    }
    return sum;
  }

  CloudStore store() {
    Node n = live();
    return n == null ? null : n.store;
  }

  NodeClock clock() {
    return clock;
  }

  long nowMs() {
    return clock.wallMs(world.now());
  }

  private Path storeFile(Node n) {
    return root.resolve("run" + n.incarnation).resolve("cloud.db");
  }

  /** Starts every node (the world's start). */
  void start() {
    for (Node n : nodes) {
      start(n);
    }
  }

  private void start(Node n) {
    DocLedger ledger = world.docLedger();
    try {
      // A short document history (32 versions), so that churn pushes an edge's base out of it and
      // the "resend whole" path runs (seed 1097 found its request lost with a DocAck; now repeated
      // in every Welcome until met).
      n.sqlite =
          several()
              ? CloudStores.open(
                  StoreSettings.postgres(TestPostgres.jdbcUrl(database), TestPostgres.USER, null),
                  root,
                  32,
                  ledger::nextCommandId)
              : new SqliteCloudStore(storeFile(n), 32, ledger::nextCommandId);
    } catch (SQLException e) {
      throw new SimFailure("the cloud store did not open: " + e.getMessage());
    }
    n.sqlite.nodeId("node" + n.index);
    n.store = storeWrapper.apply(n.sqlite);
    DocScenario ds = world.scenario().docs();
    if (ds.enabled()) {
      DocumentStore raw = n.sqlite.documents();
      if (!groupsSet) {
        for (SimEdge e : world.edges()) {
          if (!ds.groups().get(e.index()).isEmpty()) {
            raw.setGroups(e.deviceId(), ds.groups().get(e.index()));
          }
        }
        groupsSet = true;
      }
      n.docs = new CloudDocuments(docStoreWrapper.apply(raw), ds.rules(), this::nowMs);
      int inc = n.incarnation;
      n.docs.onChange(
          scopes -> {
            try {
              ledger.cloudChanged(raw, scopes);
            } catch (SimFailure f) {
              world.fail(f); // the session would turn it into an INTERNAL error frame
            }
            schedulePush(n, inc, scopes);
          });
      if (ds.commands()) {
        n.commands = commandStoreWrapper.apply(n.sqlite.commands());
      }
      if (n.incarnation > 0) {
        checkDocumentsSurvived(raw);
      }
    }
    n.alive = true;
    world.trace(
        several()
            ? "cloud node " + n.index + " started (run " + n.incarnation + ")"
            : "cloud started (run " + n.incarnation + ")");
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

  /**
   * A server process dies: its sessions vanish without onClosed; the store keeps what was
   * committed. With one node the database's files are copied as they are on disk (the machine
   * died); with several, the next node in turn dies and the shared database stays up.
   *
   * @return what restarts it ({@link #restart}), or null if no node was up
   */
  Crashed crash() {
    Node n = several() ? nextToCrash() : nodes.get(0);
    if (n == null || !n.alive) {
      return null;
    }
    world.trace(several() ? "cloud node " + n.index + " CRASH" : "cloud CRASH");
    for (SimConnection c : new ArrayList<>(n.open)) {
      world.network().cloudCrashed(c);
      c.inbox.clear();
      c.handling = false;
      c.sessionClosed = true;
    }
    n.open.clear();
    n.byDevice.clear();
    if (!several()) {
      SimEdge.copyStoreImage(
          storeFile(n), root.resolve("run" + (n.incarnation + 1)).resolve("cloud.db"));
    }
    n.sqlite.close();
    n.sqlite = null;
    n.store = null;
    n.docs = null;
    n.commands = null;
    n.alive = false;
    n.incarnation++;
    world.stats().add("cloud.crashes", 1);
    return new Crashed(n.index, n.incarnation);
  }

  /** A crashed node: which, and the incarnation it would restart as. */
  record Crashed(int node, int incarnation) {}

  /** Restarts the node {@code crashed} names, unless it was restarted since. */
  void restart(Crashed crashed) {
    Node n = nodes.get(crashed.node());
    if (!n.alive && n.incarnation == crashed.incarnation()) {
      start(n);
    }
  }

  private Node nextToCrash() {
    for (int tries = 0; tries < nodes.size(); tries++) {
      Node n = nodes.get(Math.floorMod(nextCrash++, nodes.size()));
      if (n.alive) {
        return n;
      }
    }
    return null;
  }

  /** A connection arrives; false if nobody is listening. */
  boolean accept(SimConnection c) {
    Node n = pick();
    if (n == null || !n.alive) {
      return false;
    }
    c.cloudOpen = true;
    c.cloudNode = n.index;
    c.cloudIncarnation = n.incarnation;
    // Identity on: the connection authenticated as its edge (the simulator's abstract client
    // certificate), and the session holds the device to it.
    c.session =
        new CloudSession(
                world.scenario().serverPolicy(), n.store, n.docs, n.commands, new SessionIo(c))
            .requireDeviceId(c.edge.deviceId());
    if (files != null) {
      String device = c.edge.deviceId();
      c.session.withFiles(files.rollouts(device), files.uploads(device));
    }
    n.open.add(c);
    return true;
  }

  /**
   * A frame (or, with bytes null, the end of the stream) arrived on {@code c}: the server reads it
   * and hands it to the session's handler, which runs after a random delay (thread scheduling, the
   * store's commit), so that frames of different connections interleave as on a real server.
   */
  void deliver(SimConnection c, byte[] bytes, String label, Frame frame) {
    Node n = nodeOf(c);
    if (!n.alive || !c.cloudOpen || c.cloudIncarnation != n.incarnation) {
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
    Node n = nodeOf(c);
    int inc = n.incarnation;
    world
        .events()
        .at(
            world.now() + world.network().handlerDelayMs(),
            () -> {
              if (inc == n.incarnation && n.alive) {
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
    Node n = nodeOf(c);
    if (frame.hasBatch()
        && frame.getBatch().getFirstSequence()
            <= n.store
                .checkpoints(c.edge.deviceId())
                .getOrDefault(frame.getBatch().getStream(), 0L)) {
      world.stats().add("frames.resentAtCloud", 1);
    }
    CloudSession session = c.session;
    boolean wasHandshaking = session.state() == CloudSession.State.AWAIT_HELLO;
    session.onFrame(nowMs(), in.bytes());
    if (wasHandshaking && session.state() == CloudSession.State.ACTIVE) {
      SimConnection previous = n.byDevice.put(session.deviceId(), c);
      if (previous != null && previous != c) {
        world.stats().add("sessions.replaced", 1);
        if (previous.handling) {
          world.stats().add("sessions.overlapping", 1);
        }
        previous.superseded = true;
        closeFromCloud(previous, "replaced by a newer session of the same device");
      }
      if (several()) {
        Integer before = lastNode.put(session.deviceId(), n.index);
        if (before != null && before != n.index) {
          world.stats().add("sessions.movedToAnotherNode", 1);
        }
        tellClaimed(n, session.deviceId(), session.claimEpoch());
      }
    }
    dispatch(c);
  }

  /** Jetty's idle timeout fired for {@code c}. */
  void idleTimeout(SimConnection c) {
    Node n = nodeOf(c);
    if (n.alive && c.cloudOpen && c.cloudIncarnation == n.incarnation) {
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
    Node n = nodeOf(c);
    n.open.remove(c);
    String device = c.session.deviceId();
    c.session.onClosed(nowMs());
    if (device != null) {
      n.byDevice.remove(device, c);
    }
  }

  /** The device's committed checkpoints, or null while the cloud is down. */
  Map<String, Long> checkpoints(String deviceId) {
    Node n = live();
    if (n == null) {
      return null;
    }
    if (!several()) {
      return n.store.checkpoints(deviceId);
    }
    // A node's cached checkpoints are its own sessions' view: read what the database holds.
    Map<String, Long> out = new TreeMap<>();
    for (CloudStore.StreamSummary st : n.store.streams(deviceId)) {
      out.put(st.stream(), st.lastSequence());
    }
    return out;
  }

  /**
   * The cluster bus: node {@code from} admitted a session of {@code device} with claim {@code
   * epoch}; a little later every other node ends its older session of the device.
   */
  private void tellClaimed(Node from, String device, long epoch) {
    world
        .events()
        .at(
            world.now() + world.network().handlerDelayMs(),
            () -> {
              for (Node n : nodes) {
                SimConnection old = n == from || !n.alive ? null : n.byDevice.get(device);
                if (old != null && old.cloudOpen && old.session.claimEpoch() < epoch) {
                  world.stats().add("sessions.replacedOnAnotherNode", 1);
                  old.superseded = true;
                  closeFromCloud(old, "replaced by a newer session on node " + from.index);
                }
              }
            });
  }

  // ---------------------------------------------------------------- pushes (SyncServer's push
  // thread)

  /**
   * After node {@code origin} (at incarnation {@code inc}) committed changes of {@code scopes}: a
   * little later its sessions, and with several nodes every other live node's (the cluster bus), of
   * devices reading one of them get {@code onDocsChanged}.
   */
  private void schedulePush(Node origin, int inc, Set<String> scopes) {
    Set<String> changed = new TreeSet<>(scopes);
    world
        .events()
        .at(
            world.now() + world.network().handlerDelayMs(),
            () -> {
              for (Node n : nodes) {
                if (n.alive && (n != origin || inc == n.incarnation)) {
                  pushDocs(n, changed);
                }
              }
            });
  }

  private void pushDocs(Node n, Set<String> changed) {
    Set<String> devices = new TreeSet<>();
    for (String scope : changed) {
      if (scope.equals(CloudDocuments.FLEET)) {
        devices.addAll(n.byDevice.keySet());
      } else {
        devices.addAll(n.docs.store().devicesReading(scope));
      }
    }
    for (String device : devices) {
      SimConnection c = n.byDevice.get(device);
      if (pushable(c)) {
        world.trace(c.name() + " cloud pushes " + changed);
        c.session.onDocsChanged(nowMs());
      }
    }
  }

  /** Whether {@code c} is a connection whose session a push may reach (SyncServer's sessionOf). */
  private static boolean pushable(SimConnection c) {
    return c != null && c.cloudOpen && c.session.state() == CloudSession.State.ACTIVE;
  }

  /** A command was queued through {@code origin}: every live node tells its session, if any. */
  private void schedulePushCommands(Node origin, String device) {
    int inc = origin.incarnation;
    world
        .events()
        .at(
            world.now() + world.network().handlerDelayMs(),
            () -> {
              for (Node n : nodes) {
                if (!n.alive || (n == origin && inc != n.incarnation)) {
                  continue;
                }
                SimConnection c = n.byDevice.get(device);
                if (pushable(c)) {
                  c.session.onCommandsQueued(nowMs());
                }
              }
            });
  }

  // ---------------------------------------------------------------- REST-equivalent calls

  /** PUT (value) or DELETE (null) of a document through the REST API; false if refused. */
  boolean writeDoc(DocKey key, JsonNode value, Long ifVersion) {
    Node n = pick();
    CloudDocuments docs = n == null || !n.alive ? null : n.docs;
    if (docs == null) {
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
    Node n = pick();
    CloudDocuments docs = n == null || !n.alive ? null : n.docs;
    if (docs == null) {
      return false;
    }
    DocumentStore raw = n.sqlite.documents();
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
    Node n = pick();
    CommandStore commands = n == null || !n.alive ? null : n.commands;
    if (commands == null) {
      return false;
    }
    CommandStore.StoredCommand c =
        commands.create(
            device, "job", "{\"n\":1}".getBytes(StandardCharsets.UTF_8), ttlMs, nowMs());
    world.docLedger().commandCreated(new DocLedger.Cmd(c.id(), device, ttlMs, world.now()));
    world.trace("cloud queues " + c.id() + " for " + device + " ttl " + ttlMs + " ms");
    world.stats().add("commands.queued", 1);
    schedulePushCommands(n, device);
    return true;
  }

  /**
   * An operator publishes a version (the REST call) to {@code targets}; the other devices keep it
   * as a possible delta base. False if the cloud is down.
   */
  boolean publish(FileLedger.Version v, Set<String> targets) {
    if (!alive() || files == null) {
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
    if (!alive() || files == null) {
      return false;
    }
    files.target(v, device);
    v.targets().add(device);
    world.trace("cloud rolls out " + v.transferId() + " to " + device);
    int[] inc = new int[nodes.size()];
    for (Node n : nodes) {
      inc[n.index] = n.incarnation;
    }
    world
        .events()
        .at(
            world.now() + world.network().handlerDelayMs(),
            () -> {
              for (Node n : nodes) {
                if (inc[n.index] != n.incarnation || !n.alive) {
                  continue;
                }
                SimConnection c = n.byDevice.get(device);
                if (pushable(c)) {
                  c.session.onFilesOffered(nowMs());
                }
              }
            });
    return true;
  }

  void shutdown() {
    for (Node n : nodes) {
      if (n.sqlite != null) {
        n.sqlite.close();
        n.sqlite = null;
      }
    }
    if (database != null) {
      TestPostgres.dropDatabase(database);
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

    @Override
    public void replaced(String reason) {
      // A commit was fenced: a newer claim through another node took the device over.
      world.stats().add("sessions.fencedAtCommit", 1);
      world.trace(c.name() + " cloud fenced: " + reason);
      close(reason);
    }
  }
}
