package io.edgesync.sim.internal;

import io.edgesync.sim.SimOptions;
import io.edgesync.testing.TempDirs;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

/**
 * One simulation run: the scenario drawn from the seed, the nodes, the network, the workload, the
 * fault injector and the checkers, driven by one event queue in simulated time that jumps from
 * event to event. Safety phase: workload and faults, checkers after every event. Healing phase:
 * faults stop, partitions heal, crashed nodes restart, and everything must converge within the
 * healing budget; then the final checks run.
 *
 * <p>Every random choice comes from one {@link SplittableRandom} seeded with the run's seed (split
 * per concern, so that adding an action to the workload does not change the network's choices).
 * Nothing in the loop reads the wall clock. Not thread safe: one thread runs a world; other worlds
 * may run on other threads at the same time.
 */
public final class World {
  /** Events at one instant before the run counts as stuck in a loop. */
  private static final int MAX_EVENTS_AT_ONE_INSTANT = 200_000;

  private static final long MAX_EVENTS = 20_000_000;

  /**
   * Healing fails when nothing moves for this long: longer than any legitimate wait (backoff is
   * capped at 20 s, the cloud's idle timeout is 5 min), far shorter than the healing budget.
   */
  private static final long MAX_HEALING_STALL_MS = 15 * 60_000;

  private enum Phase {
    SAFETY,
    HEALING,
    DONE
  }

  private final long seed;
  private final Scenario scenario;
  private final Path dir;
  private final boolean keepFiles;
  private final EventQueue events = new EventQueue();
  private final Trace trace;
  private final Stats stats = new Stats();
  private final StreamLedger ledger = new StreamLedger();
  private final DocLedger docLedger = new DocLedger(this);
  private final List<SimEdge> edges = new ArrayList<>();
  private final SimCloud cloud;
  private final Network network;
  private final Nemesis nemesis;
  private final Workload workload = new Workload();
  private final List<Checker> checkers = new ArrayList<>();
  private final SplittableRandom workloadRandom;
  private final SplittableRandom startRandom;
  private final SplittableRandom operatorRandom;

  /** Files seeds only (null otherwise): what the seed decided about files, and its generator. */
  private final FileScenario fileScenario;

  private final SplittableRandom filesRandom;
  private final FileLedger fileLedger = new FileLedger();
  private final SimOptions.PlantedFileBug plantedFileBug;

  private volatile long nowMs = Scenario.EPOCH_MS;
  private SimFailure deferredFailure;
  private Phase phase = Phase.SAFETY;
  private int actionsLeft;
  private long eventsRun;
  private long healingStartedMs;
  private long lastProgressMark = Long.MIN_VALUE;
  private long lastProgressAtMs;

  public World(long seed, SimOptions options) {
    Path workRoot = options.workDir();
    this.seed = seed;
    this.keepFiles = options.keepFiles();
    SplittableRandom root = new SplittableRandom(seed);
    this.scenario = Scenario.draw(root.split());
    SplittableRandom networkRandom = root.split();
    SplittableRandom faultRandom = root.split();
    this.workloadRandom = root.split();
    SplittableRandom nodeRandom = root.split();
    this.startRandom = root.split();
    this.operatorRandom = root.split();
    // Split last, and only for files seeds: every other generator is the one of the seed without.
    this.filesRandom = options.files() ? root.split() : null;
    this.plantedFileBug = options.plantedFileBug();
    this.fileScenario =
        options.files() ? FileScenario.draw(filesRandom.split(), scenario.edges().size()) : null;
    this.trace = new Trace(options.traceTailLines(), options.echo());
    try {
      Files.createDirectories(workRoot);
      this.dir = Files.createTempDirectory(workRoot, "seed-" + seed + "-");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create the run's directory in " + workRoot, e);
    }
    this.network = new Network(this, networkRandom, scenario, scenario.edges().size());
    this.cloud =
        new SimCloud(
            this,
            dir.resolve("cloud"),
            new NodeClock(nowMs, nowMs + scenario.cloudSkewMs(), 0),
            options.cloudStoreWrapper(),
            options.documentStoreWrapper(),
            options.commandStoreWrapper(),
            options.cloudNodes());
    for (int i = 0; i < scenario.edges().size(); i++) {
      Scenario.EdgeSpec spec = scenario.edges().get(i);
      StreamLedger.DeviceModel model =
          ledger.addDevice(
              spec.deviceId(), spec.limits(), spec.priorities(), spec.undeclaredPriority());
      edges.add(
          new SimEdge(
              this,
              i,
              spec,
              new NodeClock(nowMs, nowMs + spec.skewMs(), spec.driftPpm()),
              dir.resolve(spec.deviceId()),
              nodeRandom.split(),
              model));
    }
    if (fileScenario != null) {
      cloud.enableFiles(new SimCloudFiles(this, filesRandom.split()));
    }
    this.nemesis = new Nemesis(this, faultRandom, scenario.faults());
    StreamActions.all().forEach(workload::add);
    checkers.add(new StreamChecker());
    if (scenario.docs().enabled()) {
      DocActions.all().forEach(workload::add);
      Adversary.all().forEach(workload::add);
      checkers.add(new DocChecker());
      if (scenario.docs().commands()) {
        checkers.add(new CommandChecker());
      }
    }
    if (fileScenario != null) {
      FileActions.all().forEach(workload::add);
      checkers.add(new FileChecker());
    }
  }

  // ---------------------------------------------------------------- accessors for the parts

  public long seed() {
    return seed;
  }

  /** Simulated true time in ms (also read by outbox writer threads, hence volatile). */
  public long now() {
    return nowMs;
  }

  public Scenario scenario() {
    return scenario;
  }

  public EventQueue events() {
    return events;
  }

  public Stats stats() {
    return stats;
  }

  public StreamLedger ledger() {
    return ledger;
  }

  DocLedger docLedger() {
    return docLedger;
  }

  /** What a files seed decided about files, or null (a seed without files). */
  FileScenario fileScenario() {
    return fileScenario;
  }

  /** The generator of file contents and file timings (files seeds only). */
  SplittableRandom filesRandom() {
    return filesRandom;
  }

  /** A bug planted in the file stores by a test, or NONE. */
  SimOptions.PlantedFileBug plantedFileBug() {
    return plantedFileBug;
  }

  FileLedger fileLedger() {
    return fileLedger;
  }

  public Workload workload() {
    return workload;
  }

  public List<Checker> checkers() {
    return checkers;
  }

  public Trace traceLog() {
    return trace;
  }

  List<SimEdge> edges() {
    return edges;
  }

  SimCloud cloud() {
    return cloud;
  }

  Network network() {
    return network;
  }

  /** The edge of that device id, or null (e.g. the adversary's own id). */
  SimEdge edge(String deviceId) {
    for (SimEdge e : edges) {
      if (e.deviceId().equals(deviceId)) {
        return e;
      }
    }
    return null;
  }

  SimEdge randomEdge(RandomGenerator random) {
    return edges.get(random.nextInt(edges.size()));
  }

  public void trace(String line) {
    trace.add(nowMs - Scenario.EPOCH_MS, line);
  }

  /**
   * A check failed inside code under test that catches exceptions (a listener called from a
   * session): the run stops after the current event with this failure.
   */
  void fail(SimFailure failure) {
    if (deferredFailure == null) {
      deferredFailure = failure;
    }
  }

  /** An Error frame in an honest run means one side thinks the other broke the protocol. */
  void protocolError(String what) {
    throw new SimFailure("protocol error in an honest run: " + what);
  }

  // ---------------------------------------------------------------- the run

  /** Runs to the end; throws {@link SimFailure} (or whatever the code under test threw). */
  public void run() {
    try {
      trace(
          "seed "
              + seed
              + ": "
              + scenario.edges().size()
              + " edges, "
              + scenario.workloadActions()
              + " actions over "
              + scenario.safetyPhaseMs()
              + " ms, faults "
              + scenario.faults());
      cloud.start();
      if (fileScenario != null) {
        trace("files: " + fileScenario);
        FileActions.firstPublish(this);
      }
      for (SimEdge e : edges) {
        events.at(nowMs + startRandom.nextInt(0, 500), e::start);
      }
      actionsLeft = scenario.workloadActions();
      scheduleWorkload();
      nemesis.start();
      events.at(nowMs + scenario.safetyPhaseMs(), this::beginHealing);
      loop();
      for (Checker c : checkers) {
        c.atEnd(this);
      }
      stats.add("simulatedMs", nowMs - Scenario.EPOCH_MS);
      stats.add("healingMs", nowMs - healingStartedMs);
    } finally {
      stats.add("events", eventsRun);
      close();
    }
  }

  private void loop() {
    long instant = Long.MIN_VALUE;
    int atInstant = 0;
    while (phase != Phase.DONE) {
      if (events.isEmpty()) {
        throw new SimFailure("nothing left to happen, yet not converged: " + progress());
      }
      long at = events.nextAtMs();
      if (at < nowMs) {
        throw new IllegalStateException("event in the past: " + at + " < " + nowMs);
      }
      if (at == instant) {
        if (++atInstant > MAX_EVENTS_AT_ONE_INSTANT) {
          throw new SimFailure(
              "more than " + MAX_EVENTS_AT_ONE_INSTANT + " events at one instant (a busy loop?)");
        }
      } else {
        instant = at;
        atInstant = 0;
      }
      nowMs = at;
      events.poll().run();
      if (deferredFailure != null) {
        throw deferredFailure;
      }
      if (++eventsRun > MAX_EVENTS) {
        throw new SimFailure("more than " + MAX_EVENTS + " events: " + progress());
      }
      for (Checker c : checkers) {
        c.afterEvent(this);
      }
      if (phase == Phase.HEALING) {
        if (converged()) {
          trace("converged after " + (nowMs - healingStartedMs) + " ms of healing");
          phase = Phase.DONE;
        } else if (stalled()) {
          throw new SimFailure(
              "no progress for "
                  + MAX_HEALING_STALL_MS
                  + " ms of healing (no faults): "
                  + progress());
        } else if (nowMs - healingStartedMs > scenario.healingBudgetMs()) {
          throw new SimFailure(
              "not converged after "
                  + scenario.healingBudgetMs()
                  + " ms of healing (no faults): "
                  + progress());
        }
      }
    }
  }

  private boolean converged() {
    for (Checker c : checkers) {
      if (!c.converged(this)) {
        return false;
      }
    }
    return true;
  }

  private boolean stalled() {
    long mark = 0;
    for (Checker c : checkers) {
      mark = mark * 31 + c.progressMark(this);
    }
    if (mark != lastProgressMark) {
      lastProgressMark = mark;
      lastProgressAtMs = nowMs;
      return false;
    }
    return nowMs - lastProgressAtMs > MAX_HEALING_STALL_MS;
  }

  private String progress() {
    StringBuilder sb = new StringBuilder();
    for (Checker c : checkers) {
      sb.append(c.name()).append(": ").append(c.progress(this));
    }
    return sb.toString();
  }

  private void scheduleWorkload() {
    if (actionsLeft <= 0) {
      return;
    }
    double u = 1 - workloadRandom.nextDouble();
    long delay = (long) (-Math.log(u) * scenario.workloadMeanIntervalMs());
    events.at(
        nowMs + delay,
        () -> {
          if (phase != Phase.SAFETY) {
            return;
          }
          actionsLeft--;
          workload.step(this, workloadRandom);
          scheduleWorkload();
        });
  }

  private void beginHealing() {
    phase = Phase.HEALING;
    healingStartedMs = nowMs;
    trace("HEAL: faults stop, partitions end, crashed nodes restart");
    nemesis.stop();
    network.heal();
    if (scenario.docs().enabled() && !scenario.docs().operatorLeavesConflictsOpen()) {
      operatorTick();
    }
  }

  /** Healing: an operator works through the conflict inbox now and then until it is empty. */
  private void operatorTick() {
    if (phase != Phase.HEALING) {
      return;
    }
    for (long id : List.copyOf(docLedger.openConflicts())) {
      DocActions.resolve(this, operatorRandom, id);
    }
    events.at(nowMs + 2_000, this::operatorTick);
  }

  private void close() {
    for (SimEdge e : edges) {
      if (e.alive()) {
        try {
          e.outbox().close();
          e.closeDocs();
        } catch (RuntimeException ignored) {
          // the run's outcome is already decided
        }
      }
    }
    try {
      cloud.shutdown();
    } catch (RuntimeException ignored) {
      // as above
    }
    if (!keepFiles) {
      TempDirs.deleteTree(dir);
    }
  }

  /** The run's directory (kept after the run only when asked to). */
  public Path dir() {
    return dir;
  }

  /** Which node is down ({@code "cloud down"}, {@code "<device> down"}), or null if none is. */
  String downNode() {
    if (!cloud.alive()) {
      return "cloud down";
    }
    for (SimEdge e : edges) {
      if (!e.alive()) {
        return e.deviceId() + " down";
      }
    }
    return null;
  }
}
