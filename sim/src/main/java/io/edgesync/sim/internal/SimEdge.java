package io.edgesync.sim.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.edgesync.agent.Document;
import io.edgesync.agent.PendingCommand;
import io.edgesync.agent.QueueFullException;
import io.edgesync.agent.internal.EdgeNode;
import io.edgesync.agent.internal.docs.DocsFile;
import io.edgesync.agent.internal.outbox.SqliteOutbox;
import io.edgesync.engine.commands.CommandInbox;
import io.edgesync.engine.docs.DocKey;
import io.edgesync.engine.docs.DocReplica;
import io.edgesync.engine.edge.EdgeSyncEngine;
import io.edgesync.engine.testing.InMemoryFileInbox;
import io.edgesync.engine.testing.InMemoryFileOutbox;
import io.edgesync.protocol.ProtocolLimits;
import io.edgesync.protocol.wire.FileState;
import io.edgesync.sim.SimOptions;
import io.edgesync.sim.internal.Scenario.EdgeSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.SQLException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletionException;
import java.util.function.UnaryOperator;

/**
 * One simulated edge device: the real {@link SqliteOutbox} on a SQLite file and the real {@link
 * EdgeSyncEngine}, wired by the agent's own {@link EdgeNode} (the same timer rule, the same
 * handling of superseded connection attempts, the engine on the agent's monotonic time), driven by
 * the simulation's events instead of threads ({@link SimEdgeWiring}).
 *
 * <p>Appends take simulated time to become durable. Until then they are pending, and a crash either
 * loses them or finds them committed although the application never heard (both happen with power
 * loss); a completed append must survive. A crash copies the store's files as they are on disk
 * (with {@code synchronous=FULL} every commit has been fsynced, so that is what power loss leaves),
 * abandons the running instance and later reopens from the copy.
 *
 * <p>With documents on, the real {@link DocsFile} (its own SQLite file beside the outbox) is the
 * engine's replica and command inbox, wired as {@code EdgeAgent} wires it: its change listener
 * signals the node, its command listener signals the node and wakes the command handler (the
 * application, simulated here as the agent's runner thread is there), which takes commands, runs
 * them for a while and finishes them (succeeded or failed). A crash copies the replica's files too;
 * the replica after the restart must equal the one before.
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
  private EdgeNode<SimConnection> node;
  private long engineEpochWallMs;
  private long engineEpochMonotonicMs;

  private DocsFile docs;
  private ReplicaFile replicaFile;
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

  /**
   * Files seeds: the device's downloads and uploads. Like the agent's SQLite stores they survive a
   * crash as they are (every call takes effect when it returns); an assembly in progress does not
   * ({@link SimAssembler}).
   */
  private InMemoryFileInbox fileInbox;

  private InMemoryFileOutbox fileOutbox;

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

  /** The engine of the running instance, or null while the edge is down. */
  EdgeSyncEngine engine() {
    return node == null ? null : node.engine();
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

  /** The engine's nanosecond ticker: engine time plus what encoding cost so far (odd edges). */
  long tickerNanos() {
    if (encodeCost != null) {
      encodeNanos += encodeCost.nextLong(ENCODE_COST_MAX_NANOS + 1);
    }
    return engineNow() * 1_000_000 + encodeNanos;
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
    SimEdgeWiring wiring = new SimEdgeWiring(world, this);
    node =
        new EdgeNode<>(
            spec.policy(),
            outbox,
            docs == null ? DocReplica.NONE : docs.replica(),
            docs == null ? CommandInbox.NONE : docs.inbox(),
            new SplittableRandom(random.nextLong()),
            wiring,
            wiring,
            wiring);
    if (world.fileScenario() != null) {
      openFiles();
      node.engine().withFiles(fileInbox, fileOutbox, node::signalFilesChanged);
    }
    if (docs != null) {
      EdgeNode<SimConnection> n = node;
      docs.replica().setChangeListener(n::signalDocChanged);
      docs.inbox()
          .setCommandListener(
              () -> {
                n.signalCommandFinished();
                schedulePoll();
              });
    }
    world.trace(deviceId() + " started (run " + incarnation + ")");
    node.start();
    if (docs != null) {
      schedulePoll();
    }
  }

  /** The file stores, made at the first start and kept across crashes. */
  private void openFiles() {
    if (fileInbox != null) {
      return;
    }
    long limit =
        world.plantedFileBug() == SimOptions.PlantedFileBug.SIZE_LIMIT_IGNORED
            ? Long.MAX_VALUE // the checker still holds the device to its limit
            : world.fileScenario().deviceMaxFileBytes().get(index);
    fileInbox =
        new InMemoryFileInbox(
                offer ->
                    offer.getHeader().getSize() > limit
                        ? Optional.of(
                            "too_large: "
                                + offer.getHeader().getSize()
                                + " bytes, this device takes at most "
                                + limit)
                        : Optional.empty(),
                FileState.FILE_STATE_INSTALLED)
            .assembleWith(
                new SimAssembler(
                    world,
                    world.filesRandom().split(),
                    deviceId(),
                    () -> alive ? incarnation : -1));
    fileOutbox = new InMemoryFileOutbox(UnaryOperator.identity());
  }

  /** The device's downloads (files seeds), or null. */
  InMemoryFileInbox fileInbox() {
    return fileInbox;
  }

  /** The device's uploads not yet stored (files seeds), or null. */
  InMemoryFileOutbox fileOutbox() {
    return fileOutbox;
  }

  /** A program queues an upload (the store commits it at once); false while the device is down. */
  boolean queueUpload(FileLedger.Version v, String collection) {
    if (!alive) {
      return false;
    }
    fileOutbox.add(v.path(), v.version(), v.content(), collection);
    world.trace(
        deviceId()
            + " queues upload "
            + v.transferId()
            + " ("
            + v.content().length
            + " bytes, "
            + collection
            + ")");
    node.signalFilesChanged();
    return true;
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
      replicaFile = ReplicaFile.open(file, deviceId());
    } catch (SQLException e) {
      throw new SimFailure(deviceId() + ": the document replica did not open: " + e.getMessage());
    }
    if (replicaBeforeCrash != null) {
      List<String> after = replicaFile.snapshot();
      if (!after.equals(replicaBeforeCrash)) {
        throw new SimFailure(
            deviceId()
                + ": the document replica after the crash differs from the one before: "
                + ReplicaFile.firstDifference(replicaBeforeCrash, after));
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
    if (node.attempt() != null) {
      world.network().edgeCrashed(node.attempt());
    }
    Path next = root.resolve("run" + (incarnation + 1)).resolve("outbox.db");
    copyStoreImage(storeFile(), next);
    outbox.close();
    outbox = null;
    if (docs != null) {
      // Every put returned after its commit: what is on disk now is what the restart must find.
      replicaBeforeCrash = replicaFile.snapshot();
      if (handlerBusy) {
        // The restart reports it failed, never runs it again.
        world.docLedger().commandFinished(runningCommand, "failed");
      }
      copyStoreImage(docsFile(), root.resolve("run" + (incarnation + 1)).resolve("docs.db"));
      closeDocs();
    }
    node = null;
    alive = false;
    incarnation++;
    world.stats().add("edge.crashes", 1);
  }

  void closeDocs() {
    if (docs != null) { // the replica file's reader opened with it
      docs.close();
      replicaFile.close();
    }
    docs = null;
    replicaFile = null;
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
      node.onAppended();
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

  /**
   * The application writes a document its device may not write (the adversary): the replica takes
   * it as any local write, and the cloud must refuse it ({@link DocLedger#forbidden}).
   */
  void writeForbidden(DocKey key, JsonNode value) {
    if (!alive || docs == null) {
      return;
    }
    docs.replica()
        .put(DocLedger.wireScope(deviceId(), key.scope()), key.collection(), key.key(), value);
    world.trace(deviceId() + " put (forbidden) " + key + " " + DocLedger.text(value));
    world.stats().add("adversary.edgeWrites", 1);
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

  /** The replica's documents, tombstones and pending changes included, read from its file. */
  List<ReplicaFile.Row> rows() {
    return replicaFile.rows();
  }

  /** Commands not in a final state, or final and not yet confirmed by the cloud. */
  long commandsUnsettled() {
    return replicaFile.commandsUnsettled();
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
      node.requestSync();
    }
  }

  /** Steps this device's wall clock. Timers already set keep their real-time delay. */
  void stepClock(long deltaMs) {
    clock.step(world.now(), deltaMs);
    world.trace(deviceId() + " clock stepped " + deltaMs + " ms");
  }

  // ---------------------------------------------------------------- connection events

  // The network reports here; EdgeNode ignores attempts that are no longer current. A crashed run's
  // connections (another incarnation) are stale whatever the node says.

  void onConnectFailed(SimConnection c, String reason) {
    if (alive && c.edgeIncarnation == incarnation) {
      node.onClosed(c, reason);
    }
  }

  void onOpen(SimConnection c) {
    if (!alive || c.edgeIncarnation != incarnation) {
      world.network().closeFromEdge(c, "superseded");
      return;
    }
    node.onOpen(c);
  }

  /** A frame (or, with bytes null, the end of the stream) arrived on {@code c}. */
  void deliver(SimConnection c, byte[] bytes, String label) {
    if (!alive || c.edgeIncarnation != incarnation || !c.edgeOpen) {
      return;
    }
    if (bytes == null) {
      node.onClosed(c, label);
    } else {
      node.onFrame(c, bytes);
    }
  }
}
