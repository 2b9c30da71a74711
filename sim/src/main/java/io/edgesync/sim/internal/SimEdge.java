package io.edgesync.sim.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.edgesync.agent.Document;
import io.edgesync.agent.PendingCommand;
import io.edgesync.agent.QueueFullException;
import io.edgesync.agent.internal.docs.DocsFile;
import io.edgesync.agent.internal.docs.LocalCommandInbox;
import io.edgesync.agent.internal.docs.LocalDocuments;
import io.edgesync.agent.internal.outbox.SqliteOutbox;
import io.edgesync.engine.commands.CommandInbox;
import io.edgesync.engine.docs.DocKey;
import io.edgesync.engine.docs.DocReplica;
import io.edgesync.engine.edge.EdgeSyncEngine;
import io.edgesync.protocol.FrameCodec;
import io.edgesync.protocol.ProtocolException;
import io.edgesync.protocol.ProtocolLimits;
import io.edgesync.protocol.wire.DocChange;
import io.edgesync.protocol.wire.Frame;
import io.edgesync.sim.internal.Scenario.EdgeSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletionException;

/**
 * One simulated edge device: the real {@link SqliteOutbox} on a SQLite file and the real {@link
 * EdgeSyncEngine}, wired the way {@code EdgeAgent} wires them (the same timer rule, the same
 * handling of superseded connection attempts, the engine on the agent's monotonic time), but driven
 * by the simulation's events instead of threads.
 *
 * <p>Appends take simulated time to become durable. Until then they are pending, and a crash either
 * loses them or finds them committed although the application never heard (both happen with power
 * loss); a completed append must survive. A crash copies the store's files as they are on disk
 * (with {@code synchronous=FULL} every commit has been fsynced, so that is what power loss leaves),
 * abandons the running instance and later reopens from the copy.
 *
 * <p>With documents on, the real {@link DocsFile} (its own SQLite file beside the outbox) holds the
 * engine's replica and command inbox, wired as {@code EdgeAgent} wires it: its change listener
 * calls {@code onDocChanged}, its command listener {@code onCommandFinished} and wakes the command
 * handler, which takes commands, runs them for a while and finishes them (succeeded or failed). A
 * crash copies the replica's files too; the replica after the restart must equal the one before.
 *
 * <p>Not thread safe: the simulation thread owns it. The outbox's writer thread commits only while
 * the simulation thread waits for that append to complete (one append per group commit; age expiry,
 * which the writer would run at moments of real time, is switched off), so every run is
 * deterministic.
 */
final class SimEdge {
  private final World world;
  private final int index;
  private final EdgeSpec spec;
  private final NodeClock clock;
  private final Path root;
  private final SplittableRandom random;
  private final StreamLedger.DeviceModel model;

  private int incarnation;
  private boolean alive;
  private SqliteOutbox outbox;
  private EdgeSyncEngine engine;
  private SimConnection attempt;
  private long engineEpochWallMs;
  private long engineEpochMonotonicMs;

  private long timerGeneration;
  private boolean timerPending;
  private long timerAtMs = Long.MAX_VALUE;

  private DocsFile docs;
  private Connection reader;
  private List<String> replicaBeforeCrash;
  private boolean handlerBusy;
  private String runningCommand;

  /**
   * What encoding a batch costs this edge, as the engine's ticker sees it: nothing on even edges
   * (the codec governor never moves), up to {@link #ENCODE_COST_MAX_NANOS} per ticker read on odd
   * ones, so that batches change codec in the middle of sessions. Drawn from a generator of its
   * own, so that the other draws of a seed stay as they were.
   */
  private final SplittableRandom encodeCost;

  private long encodeNanos;

  static final long ENCODE_COST_MAX_NANOS = 400_000_000;

  private final ArrayDeque<PendingAppend> pending = new ArrayDeque<>();
  private long lastDurableAtMs;
  private long payloadCounter;

  private record PendingAppend(String stream, List<byte[]> payloads, int incarnation) {}

  SimEdge(
      World world,
      int index,
      EdgeSpec spec,
      NodeClock clock,
      Path root,
      SplittableRandom random,
      StreamLedger.DeviceModel model) {
    this.world = world;
    this.index = index;
    this.spec = spec;
    this.clock = clock;
    this.root = root;
    this.random = random;
    this.model = model;
    this.encodeCost =
        index % 2 == 0 ? null : new SplittableRandom(world.seed() * 1_000_003L + index);
  }

  String deviceId() {
    return spec.deviceId();
  }

  int index() {
    return index;
  }

  int incarnation() {
    return incarnation;
  }

  boolean alive() {
    return alive;
  }

  EdgeSpec spec() {
    return spec;
  }

  NodeClock clock() {
    return clock;
  }

  SqliteOutbox outbox() {
    return outbox;
  }

  EdgeSyncEngine engine() {
    return engine;
  }

  StreamLedger.DeviceModel model() {
    return model;
  }

  int pendingAppends() {
    return pending.size();
  }

  /** The wall clock of this device now: the outbox's clock, and the agent's. */
  long wallNow() {
    return clock.wallMs(world.now());
  }

  /**
   * What EdgeAgent hands the engine as {@code nowMs}: the wall clock at the agent's start, advanced
   * by the monotonic clock, so that wall-clock steps do not move the engine's timers.
   */
  long engineNow() {
    return engineEpochWallMs + clock.monotonicMs(world.now()) - engineEpochMonotonicMs;
  }

  private Path storeFile() {
    return root.resolve("run" + incarnation).resolve("outbox.db");
  }

  private Path docsFile() {
    return root.resolve("run" + incarnation).resolve("docs.db");
  }

  /** The document replica and command inbox, or null (documents off, or the edge is down). */
  DocsFile docs() {
    return docs;
  }

  /** The scopes this device reads, in store naming. */
  List<String> scopes() {
    List<String> out = new ArrayList<>();
    out.add("device:" + deviceId());
    out.add("fleet");
    for (String g : world.scenario().docs().groups().get(index)) {
      out.add("group:" + g);
    }
    return out;
  }

  // ---------------------------------------------------------------- lifecycle

  void start() {
    try {
      outbox =
          new SqliteOutbox(
              storeFile(),
              spec.limits(),
              spec.priorities(),
              spec.undeclaredPriority(),
              () -> clock.wallMs(world.now()));
    } catch (SQLException e) {
      throw new SimFailure(deviceId() + ": the outbox did not open: " + e.getMessage());
    }
    DocScenario ds = world.scenario().docs();
    if (ds.enabled()) {
      openDocs(ds);
    }
    alive = true;
    engineEpochWallMs = wallNow();
    engineEpochMonotonicMs = clock.monotonicMs(world.now());
    world.ledger().syncAcks(model, outbox.streams());
    world.ledger().compare(model, outbox.streams(), "after opening run " + incarnation);
    engine =
        new EdgeSyncEngine(
            spec.policy(),
            outbox,
            docs == null ? DocReplica.NONE : docs.replica(),
            docs == null ? CommandInbox.NONE : docs.inbox(),
            new EngineIo(incarnation),
            new SplittableRandom(random.nextLong()));
    world.trace(deviceId() + " started (run " + incarnation + ")");
    engine.start(engineNow());
    afterEngineCall();
    if (docs != null) {
      schedulePoll();
    }
  }

  private void openDocs(DocScenario ds) {
    Path file = docsFile();
    try {
      docs =
          new DocsFile(
              file,
              deviceId(),
              ds.collections().keySet(),
              ProtocolLimits.DEFAULT_MAX_DOCUMENT_BYTES,
              ds.maxClockDriftMs(),
              ds.deltaSync().get(index),
              () -> clock.wallMs(world.now()));
      reader = DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath());
    } catch (SQLException e) {
      throw new SimFailure(deviceId() + ": the document replica did not open: " + e.getMessage());
    }
    int inc = incarnation;
    LocalDocuments replica = docs.replica();
    LocalCommandInbox inbox = docs.inbox();
    // EdgeAgent hands both listeners to its loop thread; here they become events.
    replica.setChangeListener(
        () ->
            world
                .events()
                .at(
                    world.now(),
                    () -> {
                      if (inc == incarnation && alive) {
                        engine.onDocChanged(engineNow());
                        afterEngineCall();
                      }
                    }));
    inbox.setCommandListener(
        () -> {
          world
              .events()
              .at(
                  world.now(),
                  () -> {
                    if (inc == incarnation && alive) {
                      engine.onCommandFinished(engineNow());
                      afterEngineCall();
                    }
                  });
          schedulePoll();
        });
    if (replicaBeforeCrash != null) {
      List<String> after = replica();
      if (!after.equals(replicaBeforeCrash)) {
        throw new SimFailure(
            deviceId()
                + ": the document replica after the crash differs from the one before: "
                + firstDifference(replicaBeforeCrash, after));
      }
      replicaBeforeCrash = null;
    }
  }

  /**
   * Power loss or kill -9. Pending appends are lost, or (a prefix of them, in commit order) made it
   * to disk without the application hearing. The connection attempt dies with the process.
   */
  void crash() {
    int durable = pending.isEmpty() ? 0 : random.nextInt(pending.size() + 1);
    int lost = pending.size() - durable;
    for (int i = 0; i < durable; i++) {
      commit(pending.pollFirst(), false);
    }
    pending.clear();
    world.stats().add("appends.lostInCrash", lost);
    world.stats().add("appends.durableUnheard", durable);
    world.trace(
        deviceId() + " CRASH (" + durable + " pending appends durable unheard, " + lost + " lost)");
    if (attempt != null) {
      world.network().edgeCrashed(attempt);
      attempt = null;
    }
    Path next = root.resolve("run" + (incarnation + 1)).resolve("outbox.db");
    copyStoreImage(storeFile(), next);
    outbox.close();
    outbox = null;
    if (docs != null) {
      // Every put returned after its commit: what is on disk now is what the restart must find.
      replicaBeforeCrash = replica();
      if (handlerBusy) {
        // The restart reports it failed, never runs it again.
        world.docLedger().commandFinished(runningCommand, "failed");
      }
      copyStoreImage(docsFile(), root.resolve("run" + (incarnation + 1)).resolve("docs.db"));
      closeDocs();
    }
    engine = null;
    alive = false;
    incarnation++;
    timerGeneration++;
    timerPending = false;
    timerAtMs = Long.MAX_VALUE;
    world.stats().add("edge.crashes", 1);
  }

  void closeDocs() {
    if (docs != null) {
      docs.close();
      docs = null;
    }
    if (reader != null) {
      try {
        reader.close();
      } catch (SQLException ignored) {
        // closing a reader: nothing to lose
      }
      reader = null;
    }
    handlerBusy = false;
    runningCommand = null;
  }

  /** Copies a SQLite file and its write-ahead log as they are on disk; no shared-memory index. */
  static void copyStoreImage(Path from, Path to) {
    try {
      Files.createDirectories(to.getParent());
      Files.copy(from, to, StandardCopyOption.REPLACE_EXISTING);
      Path wal = from.resolveSibling(from.getFileName() + "-wal");
      if (Files.exists(wal)) {
        Files.copy(wal, to.resolveSibling(to.getFileName() + "-wal"));
      }
    } catch (IOException e) {
      throw new IllegalStateException("copying the store image failed: " + e, e);
    }
  }

  // ---------------------------------------------------------------- appends

  /** The application appends; the records become durable after a simulated commit delay. */
  boolean submitAppend(String stream, int records, int maxPadBytes) {
    if (!alive) {
      return false;
    }
    List<byte[]> payloads = new ArrayList<>(records);
    for (int i = 0; i < records; i++) {
      payloads.add(payload(stream, maxPadBytes));
    }
    PendingAppend p = new PendingAppend(stream, payloads, incarnation);
    pending.addLast(p);
    long at =
        Math.max(lastDurableAtMs, world.now() + random.nextLong(0, spec.commitDelayMaxMs() + 1));
    lastDurableAtMs = at;
    world.trace(deviceId() + " append " + stream + " x" + records + " submitted");
    world
        .events()
        .at(
            at,
            () -> {
              if (p.incarnation() != incarnation || pending.peekFirst() != p) {
                return; // lost in a crash
              }
              pending.pollFirst();
              commit(p, true);
            });
    return true;
  }

  private byte[] payload(String stream, int maxPadBytes) {
    long n = ++payloadCounter;
    int pad = random.nextInt(0, maxPadBytes + 1);
    StringBuilder sb = new StringBuilder(48 + pad);
    sb.append("{\"d\":\"")
        .append(deviceId())
        .append("\",\"s\":\"")
        .append(stream)
        .append("\",\"n\":")
        .append(n)
        .append(",\"run\":")
        .append(incarnation)
        .append(",\"p\":\"");
    for (int i = 0; i < pad; i++) {
      sb.append((char) ('a' + (i % 26)));
    }
    return sb.append("\"}").toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
  }

  /** Runs the real append and waits for it; the model predicts and checks the outcome. */
  private void commit(PendingAppend p, boolean heard) {
    StreamLedger ledger = world.ledger();
    ledger.syncAcks(model, outbox.streams());
    StreamLedger.Outcome expected = ledger.predict(model, p.stream(), p.payloads());
    long originMs = wallNow();
    long expectedFirst =
        model.streams().containsKey(p.stream()) ? model.streams().get(p.stream()).lastSeq() + 1 : 1;
    Long first;
    Throwable failure = null;
    try {
      first = outbox.appendAsync(p.stream(), p.payloads()).join();
    } catch (CompletionException e) {
      first = null;
      failure = e.getCause();
    }
    if (first == null) {
      if (!(failure instanceof QueueFullException)) {
        throw new SimFailure(deviceId() + ": append failed unexpectedly: " + failure);
      }
      if (expected != StreamLedger.Outcome.REJECTED) {
        throw new SimFailure(
            deviceId()
                + ": append of "
                + p.payloads().size()
                + " records to "
                + p.stream()
                + " was refused although the queue had room: "
                + failure.getMessage());
      }
      world.stats().add("appends.rejected", 1);
      world.trace(
          deviceId() + " append " + p.stream() + " REJECTED (" + failure.getMessage() + ")");
      return;
    }
    if (expected != StreamLedger.Outcome.STORED) {
      throw new SimFailure(
          deviceId()
              + ": append of "
              + p.payloads().size()
              + " records to "
              + p.stream()
              + " was stored although the model says the queue must refuse it");
    }
    if (first != expectedFirst) {
      throw new SimFailure(
          deviceId()
              + ": append to "
              + p.stream()
              + " got first sequence "
              + first
              + ", expected "
              + expectedFirst
              + " (sequences must follow append order)");
    }
    long dropped = ledger.applyStored(model, p.stream(), p.payloads(), originMs, heard);
    ledger.compare(model, outbox.streams(), "after appending");
    world.stats().add(heard ? "appends.heard" : "appends.unheardCommitted", 1);
    world.stats().add("records.appended", p.payloads().size());
    world.stats().add("records.dropped", dropped);
    world.trace(
        deviceId()
            + " append "
            + p.stream()
            + " "
            + first
            + ".."
            + (first + p.payloads().size() - 1)
            + (heard ? " durable" : " durable unheard")
            + (dropped > 0 ? ", overflow dropped " + dropped : ""));
    if (heard) {
      engine.onAppended(engineNow());
      afterEngineCall();
    }
  }

  // ---------------------------------------------------------------- documents and commands

  /** The application writes a document ({@code value} null: deletes it, if it exists). */
  void writeDoc(DocKey key, JsonNode value) {
    if (!alive || docs == null) {
      return;
    }
    String scope = DocLedger.wireScope(deviceId(), key.scope());
    if (value == null) {
      boolean existed = docs.replica().delete(scope, key.collection(), key.key());
      world.trace(deviceId() + " delete " + key + (existed ? "" : " (no such document)"));
      if (existed) {
        world.docLedger().edgeWrote(deviceId(), key, null);
      }
      return;
    }
    long skippedBefore = docs.replica().deduplicatedCount();
    docs.replica().put(scope, key.collection(), key.key(), value);
    if (docs.replica().deduplicatedCount() > skippedBefore) {
      // The value the document already holds (bandwidth.deduplication): no write happened.
      world.trace(deviceId() + " put " + key + " " + DocLedger.text(value) + " (same value: none)");
      return;
    }
    world.trace(deviceId() + " put " + key + " " + DocLedger.text(value));
    world.docLedger().edgeWrote(deviceId(), key, value);
  }

  /** The application reads a document (null if absent, deleted, or documents are off). */
  JsonNode localValue(DocKey key) {
    if (!alive || docs == null) {
      return null;
    }
    return docs.replica()
        .get(DocLedger.wireScope(deviceId(), key.scope()), key.collection(), key.key())
        .map(Document::value)
        .orElse(null);
  }

  /** One row of the replica: scope, collection, key, value, version, pending, conflicted. */
  record Row(
      String scope,
      String collection,
      String key,
      byte[] value,
      long version,
      boolean pending,
      boolean conflicted) {}

  /** The replica's documents, tombstones and pending changes included, read from its file. */
  List<Row> rows() {
    List<Row> out = new ArrayList<>();
    try (PreparedStatement ps =
            reader.prepareStatement(
                "SELECT scope, collection, key, value, version, pending_seq, conflicted FROM docs"
                    + " ORDER BY scope, collection, key");
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        out.add(
            new Row(
                rs.getString(1),
                rs.getString(2),
                rs.getString(3),
                rs.getBytes(4),
                rs.getLong(5),
                rs.getLong(6) > 0,
                rs.getInt(7) != 0));
      }
    } catch (SQLException e) {
      throw new IllegalStateException(deviceId() + ": reading the replica failed: " + e, e);
    }
    return out;
  }

  /** Commands not in a final state, or final and not yet confirmed by the cloud. */
  long commandsUnsettled() {
    try (PreparedStatement ps =
            reader.prepareStatement(
                "SELECT count(*) FROM commands WHERE state IN ('received','running') OR"
                    + " confirmed=0");
        ResultSet rs = ps.executeQuery()) {
      return rs.next() ? rs.getLong(1) : 0;
    } catch (SQLException e) {
      throw new IllegalStateException(deviceId() + ": reading the command inbox failed: " + e, e);
    }
  }

  /**
   * Everything the replica file holds, one line per row: documents, metadata (change sequence,
   * cursors, HLC) and commands (a command running at a crash is expected back as failed, a waiting
   * one as expired).
   */
  private List<String> replica() {
    List<String> out = new ArrayList<>();
    HexFormat hex = HexFormat.of();
    try {
      try (PreparedStatement ps =
              reader.prepareStatement(
                  "SELECT scope, collection, key, value, version, base_value, hlc, pending_seq,"
                      + " full_required, conflicted FROM docs ORDER BY scope, collection, key");
          ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          byte[] v = rs.getBytes(4);
          byte[] b = rs.getBytes(6);
          out.add(
              "doc "
                  + rs.getString(1)
                  + "/"
                  + rs.getString(2)
                  + "/"
                  + rs.getString(3)
                  + " = "
                  + (v == null ? "deleted" : hex.formatHex(v))
                  + " v"
                  + rs.getLong(5)
                  + " base "
                  + (b == null ? "-" : hex.formatHex(b))
                  + " hlc "
                  + rs.getString(7)
                  + " pending "
                  + rs.getLong(8)
                  + " full "
                  + rs.getInt(9)
                  + " conflicted "
                  + rs.getInt(10));
        }
      }
      try (PreparedStatement ps = reader.prepareStatement("SELECT k, v, t FROM meta ORDER BY k");
          ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add("meta " + rs.getString(1) + " " + rs.getLong(2) + " " + rs.getString(3));
        }
      }
      try (PreparedStatement ps =
              reader.prepareStatement(
                  "SELECT id, state, deadline_ms, confirmed FROM commands ORDER BY id");
          ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          // At startup a running command becomes failed and a waiting one expired.
          String state =
              switch (rs.getString(2)) {
                case "running" -> "failed";
                case "received" -> "expired";
                default -> rs.getString(2);
              };
          boolean changes = !state.equals(rs.getString(2));
          out.add(
              "command "
                  + rs.getString(1)
                  + " "
                  + state
                  + " deadline "
                  + rs.getLong(3)
                  + " confirmed "
                  + (changes ? 0 : rs.getInt(4)));
        }
      }
    } catch (SQLException e) {
      throw new IllegalStateException(deviceId() + ": reading the replica failed: " + e, e);
    }
    return out;
  }

  private static String firstDifference(List<String> before, List<String> after) {
    for (int i = 0; i < Math.max(before.size(), after.size()); i++) {
      String b = i < before.size() ? before.get(i) : "(nothing)";
      String a = i < after.size() ? after.get(i) : "(nothing)";
      if (!a.equals(b)) {
        return "before: " + b + "; after: " + a;
      }
    }
    return "(none)";
  }

  /** The command handler thread wakes up after a while (EdgeAgent's runner). */
  private void schedulePoll() {
    long max = world.scenario().docs().commandPickupMaxMs();
    long delay = max == 0 ? 0 : random.nextLong(0, max + 1);
    int inc = incarnation;
    world
        .events()
        .at(
            world.now() + delay,
            () -> {
              if (inc == incarnation && alive) {
                pollCommands();
              }
            });
  }

  /** Takes the next command, as EdgeAgent's runner does, and runs it for a while. */
  private void pollCommands() {
    if (docs == null || handlerBusy) {
      return;
    }
    PendingCommand c = docs.inbox().takeCommand(null, Set.of(), engineNow());
    if (c == null) {
      return;
    }
    world.docLedger().commandStarted(deviceId(), c.id(), world.now());
    handlerBusy = true;
    runningCommand = c.id();
    long max = world.scenario().docs().commandRunMaxMs();
    long runMs = random.nextLong(0, max + 1);
    boolean ok = random.nextInt(4) != 0;
    world.trace(deviceId() + " runs " + c.id() + " for " + runMs + " ms");
    world.stats().add("commands.run", 1);
    int inc = incarnation;
    world
        .events()
        .at(
            world.now() + runMs,
            () -> {
              if (inc != incarnation || !alive) {
                return; // crashed while running
              }
              handlerBusy = false;
              runningCommand = null;
              boolean done =
                  docs.inbox()
                      .finishCommand(
                          c.id(),
                          ok,
                          ok ? JsonNodeFactory.instance.objectNode().put("ran", c.id()) : null,
                          ok ? null : "simulated handler failure");
              if (!done) {
                throw new SimFailure(
                    deviceId() + ": finishing " + c.id() + " found it not running");
              }
              world.docLedger().commandFinished(c.id(), ok ? "succeeded" : "failed");
              world.trace(deviceId() + " finished " + c.id() + (ok ? " succeeded" : " failed"));
            });
  }

  /** On-demand sync, as the local API's sync-now does. */
  void syncNow() {
    if (alive) {
      world.trace(deviceId() + " sync now");
      engine.requestSync(engineNow());
      afterEngineCall();
    }
  }

  /** Steps this device's wall clock. Timers already set keep their real-time delay. */
  void stepClock(long deltaMs) {
    clock.step(world.now(), deltaMs);
    world.trace(deviceId() + " clock stepped " + deltaMs + " ms");
  }

  // ---------------------------------------------------------------- connection events

  void onConnectFailed(SimConnection c, String reason) {
    if (!alive || c.edgeIncarnation != incarnation || attempt != c) {
      return;
    }
    attempt = null;
    c.edgeGone = true;
    world.trace(deviceId() + " connect " + c.id + " failed: " + reason);
    engine.onDisconnected(engineNow(), reason);
    afterEngineCall();
  }

  void onOpen(SimConnection c) {
    if (!alive || c.edgeIncarnation != incarnation || attempt != c) {
      // EdgeAgent: an attempt that is no longer current is closed at once.
      world.network().closeFromEdge(c, "superseded");
      return;
    }
    c.edgeOpen = true;
    world.trace(deviceId() + " connected " + c.name());
    engine.onConnected(engineNow());
    afterEngineCall();
  }

  /** A frame (or, with bytes null, the end of the stream) arrived on {@code c}. */
  void deliver(SimConnection c, byte[] bytes, String label) {
    if (!alive || c.edgeIncarnation != incarnation || !c.edgeOpen || attempt != c) {
      return;
    }
    if (bytes == null) {
      attempt = null;
      c.edgeOpen = false;
      c.edgeGone = true;
      world.trace(c.name() + " edge sees " + label);
      engine.onDisconnected(engineNow(), label);
      afterEngineCall();
      return;
    }
    world.trace(c.name() + " edge < " + label);
    Frame frame;
    try {
      frame = FrameCodec.decode(bytes, ProtocolLimits.MAX_FRAME_BYTES_CEILING);
    } catch (ProtocolException e) {
      throw new SimFailure(deviceId() + ": the cloud sent an undecodable frame: " + e.getMessage());
    }
    if (frame.hasError()) {
      world.protocolError(c.name() + " cloud sent " + label);
    }
    if (frame.hasCommand()) {
      world
          .docLedger()
          .commandDelivered(
              deviceId(),
              frame.getCommand().getId(),
              world.now() + clock.trueDurationMs(frame.getCommand().getTtlRemainingMs()));
    } else if (frame.hasDocUpdates() || frame.hasDocAck() || frame.hasCommandStatus()) {
      world.docLedger().moved();
      if (frame.hasDocAck()) {
        world.stats().add("docs.resendFull", frame.getDocAck().getResendFullCount());
      }
    }
    engine.onFrame(engineNow(), frame);
    afterEngineCall();
  }

  // ---------------------------------------------------------------- EdgeAgent's loop plumbing

  private void afterEngineCall() {
    long at = engine.nextWakeupMs();
    if (at == Long.MAX_VALUE) {
      return;
    }
    if (timerPending && timerAtMs <= at) {
      return;
    }
    long generation = ++timerGeneration;
    timerPending = true;
    timerAtMs = at;
    long delayMs = Math.max(0, at - engineNow());
    int inc = incarnation;
    world
        .events()
        .at(
            world.now() + clock.trueDurationMs(delayMs),
            () -> {
              if (generation != timerGeneration || inc != incarnation || !alive) {
                return;
              }
              timerPending = false;
              timerAtMs = Long.MAX_VALUE;
              engine.onTimer(engineNow());
              afterEngineCall();
            });
  }

  /** What a change stands for: its value, null for a delete, the replica's value for a patch. */
  private JsonNode wholeValue(DocChange ch) {
    return switch (ch.getBodyCase()) {
      case VALUE -> DocLedger.json(ch.getValue().toByteArray());
      case DELETED -> null;
      default ->
          docs.replica()
              .get(
                  ch.getScope().isEmpty() ? "device" : ch.getScope(),
                  ch.getCollection(),
                  ch.getKey())
              .map(Document::value)
              .orElseThrow(
                  () ->
                      new SimFailure(
                          deviceId()
                              + " sent a merge patch for "
                              + ch.getCollection()
                              + "/"
                              + ch.getKey()
                              + " but holds no value for it"));
    };
  }

  /** The engine's outputs, as EdgeAgent.EngineIo handles them. */
  private final class EngineIo implements EdgeSyncEngine.Io {
    private final int incarnationOfEngine;

    EngineIo(int incarnation) {
      this.incarnationOfEngine = incarnation;
    }

    @Override
    public void connect() {
      SimConnection c = world.network().open(SimEdge.this);
      attempt = c;
      world.trace(deviceId() + " connecting " + c.name());
      world.network().connect(c);
    }

    @Override
    public void send(Frame frame) {
      SimConnection a = attempt;
      String label = Describe.frame(frame);
      if (frame.hasError()) {
        world.protocolError(deviceId() + " sent " + label);
      }
      if (frame.hasDocChanges()) {
        for (DocChange ch : frame.getDocChanges().getChangesList()) {
          world.docLedger().edgeSent(deviceId(), ch, wholeValue(ch));
          if (ch.getBodyCase() == DocChange.BodyCase.MERGE_PATCH) {
            world.stats().add("docs.patchesSent", 1);
          }
        }
      }
      if (frame.hasBatch()) {
        world.stats().add("batches." + frame.getBatch().getCodec(), 1);
      }
      if (a != null && a.edgeOpen) {
        world.trace(a.name() + " edge > " + label);
        a.toCloud.send(FrameCodec.encode(frame), label, frame);
      }
    }

    @Override
    public long nanoTime() {
      if (encodeCost != null) {
        encodeNanos += encodeCost.nextLong(ENCODE_COST_MAX_NANOS + 1);
      }
      return engineNow() * 1_000_000 + encodeNanos;
    }

    @Override
    public void disconnect(String reason) {
      SimConnection a = attempt;
      if (a == null) {
        return;
      }
      attempt = null;
      world.trace(deviceId() + " disconnects " + a.name() + ": " + reason);
      if (a.edgeOpen) {
        world.network().closeFromEdge(a, reason);
      } else {
        a.edgeGone = true;
      }
      world
          .events()
          .at(
              world.now(),
              () -> {
                if (incarnationOfEngine == incarnation && alive) {
                  engine.onDisconnected(engineNow(), reason);
                  afterEngineCall();
                }
              });
    }
  }
}
