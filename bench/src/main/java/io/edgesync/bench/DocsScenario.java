package io.edgesync.bench;

import com.google.protobuf.ByteString;
import io.edgesync.engine.docs.CloudDocuments;
import io.edgesync.engine.docs.ConflictDecider;
import io.edgesync.engine.docs.ConflictPolicy;
import io.edgesync.engine.docs.ConflictStrategy;
import io.edgesync.engine.docs.DeviceWrites;
import io.edgesync.engine.docs.DocumentRules;
import io.edgesync.engine.docs.DocumentStore.StoredDoc;
import io.edgesync.engine.docs.JsonDocs;
import io.edgesync.protocol.Clock;
import io.edgesync.protocol.Hlc;
import io.edgesync.protocol.wire.DocChange;
import io.edgesync.server.SqliteCloudStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Server-side document throughput: {@link CloudDocuments#applyEdgeChanges} on the embedded {@link
 * SqliteCloudStore} (WAL, {@code synchronous=FULL}: one durable commit per frame), without network.
 *
 * <p>{@code devices} devices edit {@code keys} shared documents of the {@code fleet} scope in one
 * collection under the {@code merge} strategy. Each document is a JSON object of 8 fields, one of
 * them a nested object (about 200 bytes); each change edits one field. Every frame holds {@code
 * frame} changes of one device (devices take turns). Every {@code conflict-every}-th change
 * (default: every 10th, so exactly 10 %) is concurrent: it is made on the key's previous version,
 * after another writer changed a different field of it, so the cloud three-way merges it (no field
 * conflicts) and writes an audit record. The rest are made on the current version and fast-forward.
 *
 * <p>The runner keeps a mirror of what the cloud must hold (versions come from one counter, one per
 * applied change), generates every frame before the clock starts, and afterwards checks the
 * conflict counts it planned and a sample of documents against the store, so a wrong model fails
 * the run instead of measuring something else.
 */
final class DocsScenario {
  static final String COLLECTION = "config";
  private static final String SCOPE = "fleet";
  private static final String[] FIELDS = {
    "mode", "setpoint", "fan_speed", "label", "enabled", "interval_ms", "threshold", "note"
  };

  record Settings(
      int devices,
      int keys,
      int frameChanges,
      int warmupFrames,
      int frames,
      int conflictEvery,
      boolean patches,
      long seed,
      int sessions) {
    static Settings from(Opts o) {
      String body = o.string("doc-body", "patch");
      if (!body.equals("patch") && !body.equals("value")) {
        throw new IllegalArgumentException("--doc-body: patch or value, not '" + body + "'");
      }
      Settings s =
          new Settings(
              o.integer("doc-devices", 100),
              o.integer("doc-keys", 10_000),
              o.integer("doc-frame", 256),
              o.integer("doc-warmup-frames", 200),
              o.integer("doc-frames", 1_000),
              o.integer("doc-conflict-every", 10),
              body.equals("patch"),
              o.longValue("doc-seed", 1),
              o.integer("doc-sessions", 16));
      if (s.devices < 2 || s.keys < s.frameChanges || s.frameChanges < 1 || s.frames < 1) {
        throw new IllegalArgumentException(
            "docs: need --doc-devices >= 2, --doc-frame >= 1, --doc-keys >= --doc-frame,"
                + " --doc-frames >= 1");
      }
      if (s.sessions < 1 || s.sessions >= s.devices) {
        throw new IllegalArgumentException(
            "--doc-sessions: 1 .. devices-1 (a device has one frame in flight at a time)");
      }
      if (s.conflictEvery < 0) {
        throw new IllegalArgumentException("--doc-conflict-every must be >= 0 (0 = none)");
      }
      return s;
    }

    String describe() {
      return String.format(
          Locale.ROOT,
          "%d devices, %,d fleet keys, frames of %d changes (%s), %s concurrent (merge, different"
              + " field), %,d frames measured after %,d warm-up, %d sessions in flight",
          devices,
          keys,
          frameChanges,
          patches ? "merge patches" : "whole values",
          conflictEvery == 0 ? "none" : "1 in " + conflictEvery,
          frames,
          warmupFrames,
          sessions);
    }
  }

  record Result(
      Settings settings,
      long changes,
      long conflicts,
      double seconds,
      double changesPerSecond,
      double conflictsPerSecond,
      Stats.Latency perFrame,
      int avgDocBytes,
      long dbBytes,
      String coresBusy,
      double changesPerCpuSecond,
      double writerChangesPerCpuSecond) {}

  /** What the cloud holds for one key, as the runner predicts it. */
  private static final class Doc {
    final String key;
    long version;
    String writer;
    long foreignVersion;
    int[] fields;
    long prevVersion; // 0: none
    int[] prevFields;
    int changedField = -1; // the field by which the current version differs from the previous

    Doc(String key) {
      this.key = key;
    }
  }

  private record Frame(String device, List<DocChange> changes, int conflicts) {}

  private static final class Model {
    final Settings s;
    final SplittableRandom random;
    final Doc[] docs;
    final String[] devices;
    final long[] changeSeq;
    final long wallMs = System.currentTimeMillis();
    int hlcCounter;
    long nextVersion = 1;
    long changeIndex;
    int nextDevice;
    int nextValue = 1;

    Model(Settings s) {
      this.s = s;
      this.random = new SplittableRandom(s.seed);
      this.docs = new Doc[s.keys];
      for (int i = 0; i < s.keys; i++) {
        docs[i] = new Doc(String.format(Locale.ROOT, "unit-%05d", i));
      }
      this.devices = new String[s.devices + 1];
      this.changeSeq = new long[s.devices + 1];
      devices[0] = "bench-seed";
      for (int i = 1; i <= s.devices; i++) {
        devices[i] = String.format(Locale.ROOT, "gw-%03d", i);
      }
    }

    private Hlc stamp(String device) {
      return new Hlc(wallMs, hlcCounter++, device);
    }

    /** Frames from the seed device that create every key (whole values). */
    List<Frame> createAll() {
      List<Frame> frames = new ArrayList<>();
      List<DocChange> changes = new ArrayList<>();
      for (Doc d : docs) {
        int[] fields = new int[FIELDS.length];
        for (int f = 0; f < fields.length; f++) {
          fields[f] = nextValue++;
        }
        changes.add(
            change(0, d.key, 0)
                .setValue(ByteString.copyFrom(render(fields)))
                .setHlc(stamp(devices[0]).toWire())
                .build());
        applyFastForward(d, devices[0], fields, -1);
        if (changes.size() == s.frameChanges) {
          frames.add(new Frame(devices[0], changes, 0));
          changes = new ArrayList<>();
        }
      }
      if (!changes.isEmpty()) {
        frames.add(new Frame(devices[0], changes, 0));
      }
      return frames;
    }

    Frame nextFrame() {
      int dev = 1 + nextDevice;
      nextDevice = (nextDevice + 1) % s.devices;
      String device = devices[dev];
      List<DocChange> changes = new ArrayList<>(s.frameChanges);
      int conflicts = 0;
      for (int i = 0; i < s.frameChanges; i++) {
        changeIndex++;
        boolean concurrent = s.conflictEvery > 0 && changeIndex % s.conflictEvery == 0;
        if (concurrent && concurrentEdit(dev, changes)) {
          conflicts++;
        } else {
          fastForwardEdit(dev, changes);
        }
      }
      return new Frame(device, changes, conflicts);
    }

    private void fastForwardEdit(int dev, List<DocChange> out) {
      Doc d = docs[random.nextInt(docs.length)];
      int field = random.nextInt(FIELDS.length);
      int value = nextValue++;
      int[] fields = d.fields.clone();
      fields[field] = value;
      DocChange.Builder c = change(dev, d.key, d.version).setHlc(stamp(devices[dev]).toWire());
      body(c, fields, field, value);
      out.add(c.build());
      applyFastForward(d, devices[dev], fields, field);
    }

    /**
     * An edit made on the key's previous version, changing a field other than the one the current
     * version changed: concurrent with it, merged without field conflicts. False if no suitable key
     * was found (then the caller makes a fast-forward edit instead).
     */
    private boolean concurrentEdit(int dev, List<DocChange> out) {
      String device = devices[dev];
      for (int attempt = 0; attempt < 64; attempt++) {
        Doc d = docs[random.nextInt(docs.length)];
        if (d.prevVersion == 0 || d.changedField < 0 || d.writer.equals(device)) {
          continue;
        }
        int field = random.nextInt(FIELDS.length - 1);
        if (field >= d.changedField) {
          field++;
        }
        int value = nextValue++;
        int[] edge = d.prevFields.clone();
        edge[field] = value;
        DocChange.Builder c = change(dev, d.key, d.prevVersion).setHlc(stamp(device).toWire());
        body(c, edge, field, value);
        out.add(c.build());
        // the merge: the current version plus the edge's field; attributed to the cloud
        int[] merged = d.fields.clone();
        merged[field] = value;
        d.prevVersion = d.version;
        d.prevFields = d.fields;
        d.fields = merged;
        d.version = nextVersion++;
        d.writer = ConflictDecider.CLOUD;
        d.foreignVersion = 0;
        d.changedField = field;
        return true;
      }
      return false;
    }

    private void applyFastForward(Doc d, String device, int[] fields, int field) {
      long foreign = d.writer == null ? 0 : d.writer.equals(device) ? d.foreignVersion : d.version;
      d.prevVersion = d.version;
      d.prevFields = d.fields;
      d.fields = fields;
      d.version = nextVersion++;
      d.writer = device;
      d.foreignVersion = foreign;
      d.changedField = field;
    }

    private DocChange.Builder change(int dev, String key, long base) {
      return DocChange.newBuilder()
          .setChangeSeq(++changeSeq[dev])
          .setScope(SCOPE)
          .setCollection(COLLECTION)
          .setKey(key)
          .setBaseVersion(base);
    }

    private void body(DocChange.Builder c, int[] fields, int field, int value) {
      if (s.patches) {
        c.setMergePatch(
            ByteString.copyFrom(
                ("{\"" + FIELDS[field] + "\":" + fieldJson(field, value) + "}")
                    .getBytes(StandardCharsets.UTF_8)));
      } else {
        c.setValue(ByteString.copyFrom(render(fields)));
      }
    }
  }

  /**
   * About 200 bytes of JSON: strings, numbers and a nested object. Each field's JSON is different
   * for every value, so an edit always changes the document.
   */
  static byte[] render(int[] fields) {
    StringBuilder b = new StringBuilder(240).append('{');
    for (int f = 0; f < FIELDS.length; f++) {
      if (f > 0) {
        b.append(',');
      }
      b.append('"').append(FIELDS[f]).append("\":").append(fieldJson(f, fields[f]));
    }
    return b.append('}').toString().getBytes(StandardCharsets.UTF_8);
  }

  private static String fieldJson(int field, int v) {
    return switch (field) {
      case 0 -> "\"" + (v % 3 == 0 ? "auto-" : "eco-") + v + "\"";
      case 1 -> (v / 10) + "." + (v % 10);
      case 3 -> "\"pump " + v + " north hall, line 4\"";
      case 4 -> "{\"on\":" + (v % 2 == 0) + ",\"since\":" + v + "}";
      case 7 -> "\"checked by shift " + (v % 3) + ", ticket " + v + "\"";
      default -> Integer.toString(v);
    };
  }

  /**
   * CPU time of the document store's writer thread (it runs every transaction), or -1: the rate a
   * store whose writer had a core of its own could sustain.
   */
  private static long writerCpuNanos() {
    var mx = java.lang.management.ManagementFactory.getThreadMXBean();
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (t.getName().equals("edgesync-doc-writer") && mx.isThreadCpuTimeSupported()) {
        return mx.getThreadCpuTime(t.getId());
      }
    }
    return -1;
  }

  /** The session threads of the measured loop (see {@code run}). */
  private static final class Sessions {
    private final CloudDocuments docs;
    private final List<Frame> frames;
    private final long[] frameNanos;
    private final java.util.concurrent.atomic.AtomicInteger nextFrame =
        new java.util.concurrent.atomic.AtomicInteger();
    private final java.util.concurrent.atomic.AtomicLong conflicts =
        new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong changes =
        new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicReference<Throwable> failure =
        new java.util.concurrent.atomic.AtomicReference<>();
    private int nextToQueue; // guarded by this

    Sessions(CloudDocuments docs, List<Frame> frames, long[] frameNanos) {
      this.docs = docs;
      this.frames = frames;
      this.frameNanos = frameNanos;
    }

    void start(int sessions) throws Exception {
      List<Thread> threads = new ArrayList<>();
      for (int i = 0; i < sessions; i++) {
        Thread t = new Thread(this::session, "bench-session-" + i);
        t.setDaemon(true);
        t.start();
        threads.add(t);
      }
      for (Thread t : threads) {
        t.join();
      }
      if (failure.get() != null) {
        throw new IllegalStateException("a session failed: " + failure.get(), failure.get());
      }
    }

    private void session() {
      try {
        for (int i = nextFrame.getAndIncrement();
            i < frames.size() && failure.get() == null;
            i = nextFrame.getAndIncrement()) {
          Frame f = frames.get(i);
          long a = System.nanoTime();
          CloudDocuments.PreparedChanges p = docs.prepareEdgeChanges(f.device(), f.changes());
          long parseNanos = System.nanoTime() - a;
          java.util.concurrent.CompletableFuture<CloudDocuments.EdgeApplied> done;
          long queued;
          synchronized (this) {
            while (nextToQueue != i && failure.get() == null) {
              wait(1_000);
            }
            done = docs.applyAsync(p);
            queued = System.nanoTime();
            nextToQueue++;
            notifyAll();
          }
          CloudDocuments.EdgeApplied r = done.get();
          frameNanos[i] = System.nanoTime() - queued + parseNanos;
          check(f, r);
          conflicts.addAndGet(r.conflicts());
          changes.addAndGet(f.changes().size());
        }
      } catch (Exception | Error e) {
        failure.compareAndSet(null, e);
        synchronized (this) {
          notifyAll();
        }
      }
    }
  }

  static Result run(Path dir, Opts o) throws Exception {
    Settings s = Settings.from(o);
    Bench.log("docs: " + s.describe());
    Model model = new Model(s);
    Generated g = generate(s, model);
    Path file = dir.resolve("docs-cloud.db");
    // The devices edit shared (fleet) documents: the collection must be device-writable there.
    DocumentRules rules =
        DocumentRules.of(Map.of(COLLECTION, ConflictPolicy.of(ConflictStrategy.MERGE)))
            .withDeviceWritable(DeviceWrites.of(SCOPE + "/" + COLLECTION));
    try (SqliteCloudStore store = new SqliteCloudStore(file)) {
      CloudDocuments docs = new CloudDocuments(store.documents(), rules, Clock.SYSTEM);
      long t = System.nanoTime();
      for (Frame f : g.create()) {
        apply(docs, f);
      }
      Bench.logf("  created %,d documents in %.2f s", s.keys, (System.nanoTime() - t) / 1e9);
      t = System.nanoTime();
      for (Frame f : g.warmup()) {
        apply(docs, f);
      }
      Bench.logf(
          "  warm-up: %,d frames in %.2f s", g.warmup().size(), (System.nanoTime() - t) / 1e9);
      return measure(docs, s, model, g, file);
    }
  }

  /**
   * Every frame of the run, generated before the clock starts: the creating ones, the warm-up and
   * the measured ones, with the concurrent changes the measured ones hold.
   */
  private record Generated(
      List<Frame> create,
      List<Frame> warmup,
      List<Frame> measured,
      long plannedConflicts,
      int avgDocBytes) {}

  private static Generated generate(Settings s, Model model) {
    List<Frame> create = model.createAll();
    List<Frame> warmup = new ArrayList<>(s.warmupFrames);
    for (int i = 0; i < s.warmupFrames; i++) {
      warmup.add(model.nextFrame());
    }
    List<Frame> measured = new ArrayList<>(s.frames);
    long plannedConflicts = 0;
    long docBytes = 0;
    for (int i = 0; i < s.frames; i++) {
      Frame f = model.nextFrame();
      measured.add(f);
      plannedConflicts += f.conflicts();
    }
    for (Doc d : model.docs) {
      docBytes += render(d.fields).length;
    }
    int avgDocBytes = (int) (docBytes / model.docs.length);
    Bench.logf(
        "  generated %,d + %,d + %,d frames; documents average %d bytes",
        create.size(), warmup.size(), measured.size(), avgDocBytes);
    return new Generated(create, warmup, measured, plannedConflicts, avgDocBytes);
  }

  /**
   * The measured frames through concurrent sessions, timed; then the conflict count and a sample of
   * documents checked against the model.
   */
  private static Result measure(
      CloudDocuments docs, Settings s, Model model, Generated g, Path file) throws Exception {
    List<Frame> measured = g.measured();
    long[] frameNanos = new long[measured.size()];
    long cpu0 = Stats.processCpuNanos();
    long writerCpu0 = writerCpuNanos();
    long t0 = System.nanoTime();
    // `sessions` threads play concurrent device sessions, as a server's session threads do:
    // each takes the next frame, parses and validates it while the store commits others, queues
    // it, and waits for its commit; queued frames meet in one group commit. Frames are queued
    // in the order they were generated (the model predicts every version from that order); a
    // frame's latency is its parse time plus queue and commit time.
    Sessions run = new Sessions(docs, measured, frameNanos);
    run.start(s.sessions());
    long conflicts = run.conflicts.get();
    long changes = run.changes.get();
    long wall = System.nanoTime() - t0;
    long cpu1 = Stats.processCpuNanos();
    long writerCpu1 = writerCpuNanos();
    if (conflicts != g.plannedConflicts()) {
      throw new IllegalStateException(
          "planned " + g.plannedConflicts() + " concurrent changes, the cloud saw " + conflicts);
    }
    verifySample(docs, model);
    double secs = wall / 1e9;
    Result res =
        new Result(
            s,
            changes,
            conflicts,
            secs,
            changes / secs,
            conflicts / secs,
            Stats.Latency.of(frameNanos, frameNanos.length),
            g.avgDocBytes(),
            Files.size(file) + sizeIfExists(file.resolveSibling("docs-cloud.db-wal")),
            Stats.coresBusy(cpu0, cpu1, wall),
            cpu0 < 0 || cpu1 <= cpu0 ? Double.NaN : changes / ((cpu1 - cpu0) / 1e9),
            writerCpu0 < 0 || writerCpu1 <= writerCpu0
                ? Double.NaN
                : changes / ((writerCpu1 - writerCpu0) / 1e9));
    Bench.logf(
        "docs: %s changes/s (%s per CPU-second; %s per CPU-second of the store's writer"
            + " thread), %s conflicts/s (%,d changes, %,d merged conflicts in %.2f s);"
            + " per frame %s",
        Stats.rate(res.changesPerSecond()),
        Stats.rate(res.changesPerCpuSecond()),
        Stats.rate(res.writerChangesPerCpuSecond()),
        Stats.rate(res.conflictsPerSecond()),
        changes,
        conflicts,
        secs,
        res.perFrame());
    return res;
  }

  private static void apply(CloudDocuments docs, Frame f) throws Exception {
    check(f, docs.applyEdgeChanges(f.device(), f.changes()));
  }

  private static void check(Frame f, CloudDocuments.EdgeApplied r) {
    long last = f.changes().get(f.changes().size() - 1).getChangeSeq();
    if (r.lastChangeSeq() != last || !r.resendFull().isEmpty() || r.conflicts() != f.conflicts()) {
      throw new IllegalStateException(
          "frame of "
              + f.device()
              + " up to change "
              + last
              + ": expected "
              + f.conflicts()
              + " conflicts and no resend, got "
              + r);
    }
  }

  /** Compares 200 random documents (version, value, writer) with the runner's model. */
  private static void verifySample(CloudDocuments docs, Model model) {
    SplittableRandom r = new SplittableRandom(model.s.seed + 1);
    for (int i = 0; i < 200; i++) {
      Doc d = model.docs[r.nextInt(model.docs.length)];
      StoredDoc stored = docs.store().get(SCOPE, COLLECTION, d.key);
      if (stored == null
          || stored.version() != d.version
          || !stored.writer().equals(d.writer)
          || !JsonDocs.parse(stored.value()).equals(JsonDocs.parse(render(d.fields)))) {
        throw new IllegalStateException(
            "document "
                + d.key
                + " differs from the model: stored "
                + (stored == null
                    ? "nothing"
                    : "v"
                        + stored.version()
                        + " by "
                        + stored.writer()
                        + " "
                        + new String(stored.value(), StandardCharsets.UTF_8))
                + ", expected v"
                + d.version
                + " by "
                + d.writer
                + " "
                + new String(render(d.fields), StandardCharsets.UTF_8));
      }
    }
  }

  private static long sizeIfExists(Path p) throws java.io.IOException {
    return Files.exists(p) ? Files.size(p) : 0;
  }
}
