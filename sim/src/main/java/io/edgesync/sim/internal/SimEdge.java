package io.edgesync.sim.internal;

import io.edgesync.agent.QueueFullException;
import io.edgesync.agent.SqliteOutbox;
import io.edgesync.engine.EdgeSyncEngine;
import io.edgesync.protocol.FrameCodec;
import io.edgesync.protocol.ProtocolException;
import io.edgesync.protocol.ProtocolLimits;
import io.edgesync.protocol.wire.Frame;
import io.edgesync.sim.internal.Scenario.EdgeSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.SQLException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
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
    alive = true;
    engineEpochWallMs = wallNow();
    engineEpochMonotonicMs = clock.monotonicMs(world.now());
    world.ledger().syncAcks(model, outbox.streams());
    world.ledger().compare(model, outbox.streams(), "after opening run " + incarnation);
    engine =
        new EdgeSyncEngine(
            spec.policy(),
            outbox,
            new EngineIo(incarnation),
            new SplittableRandom(random.nextLong()));
    world.trace(deviceId() + " started (run " + incarnation + ")");
    engine.start(engineNow());
    afterEngineCall();
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
    engine = null;
    alive = false;
    incarnation++;
    timerGeneration++;
    timerPending = false;
    timerAtMs = Long.MAX_VALUE;
    world.stats().add("edge.crashes", 1);
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
      if (a != null && a.edgeOpen) {
        world.trace(a.name() + " edge > " + label);
        a.toCloud.send(FrameCodec.encode(frame), label, frame);
      }
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
