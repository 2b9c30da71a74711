package io.edgesync.bench;

import io.edgesync.engine.cloud.CloudSession;
import io.edgesync.engine.cloud.ServerPolicy;
import io.edgesync.engine.testing.RecordingCloudIo;
import io.edgesync.protocol.FrameCodec;
import io.edgesync.protocol.ProtocolException;
import io.edgesync.protocol.Record;
import io.edgesync.protocol.RecordLayout;
import io.edgesync.protocol.wire.ErrorCode;
import io.edgesync.protocol.wire.Frame;
import io.edgesync.protocol.wire.Hello;
import io.edgesync.protocol.wire.RecordBatch;
import io.edgesync.server.SqliteCloudStore;
import io.edgesync.testing.FrameMutator;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * The wire-protocol fuzzer: seeded inputs from {@link FrameMutator} go to three targets, and any of
 * these is a failure, reported with the seed, the input's index, what produced it and its hex:
 *
 * <ol>
 *   <li>{@link FrameCodec#decode} (and {@link FrameCodec#records} for batches) throws anything but
 *       {@link ProtocolException}, or a decoded frame does not survive encode + decode;
 *   <li>{@link RecordLayout#decode} of a mutated record layout throws anything but {@link
 *       ProtocolException};
 *   <li>a {@link CloudSession} of device {@code fuzz-dev} over a real {@link SqliteCloudStore} lets
 *       an exception escape; answers a refused frame other than with exactly one fatal Error (code
 *       not INTERNAL, message not blank) and one close; or a refused frame committed anything to
 *       the store (SQLite's {@code data_version}, read on a second connection, moved: stricter than
 *       comparing contents; the tables are then printed); or an Ack names a sequence other than the
 *       store's checkpoint; or an acknowledged batch's records are not stored exactly as sent.
 *       Meanwhile a second session, of {@code good-device}, on the same store sends a valid batch
 *       every 50 inputs and must get its Ack, and its records must be intact whenever checked.
 * </ol>
 *
 * The same seed gives the same inputs (the clock is a counter), so a failing index replays. Not
 * thread safe; one run at a time per directory.
 */
final class FuzzScenario {
  static final String FUZZ_DEVICE = "fuzz-dev";
  static final String GOOD_DEVICE = "good-device";
  static final String GOOD_STREAM = "good";
  static final int MAX_FRAME_BYTES = 64 * 1024;
  static final int MAX_RECORDS = 64;
  private static final int GOOD_EVERY = 50;
  private static final int MAX_HEX_BYTES = 2_048;

  record Failure(long seed, long input, String target, String problem, String ops, byte[] bytes) {
    String describe() {
      String hex =
          HexFormat.of().formatHex(bytes, 0, Math.min(bytes.length, MAX_HEX_BYTES))
              + (bytes.length > MAX_HEX_BYTES ? "... (" + bytes.length + " bytes)" : "");
      return "FAIL seed="
          + seed
          + " input="
          + input
          + " target="
          + target
          + ": "
          + problem
          + "\n  made by: "
          + ops
          + "\n  hex: "
          + hex;
    }
  }

  record Result(
      long seed,
      long inputs,
      long layouts,
      double seconds,
      long accepted,
      long refused,
      Map<ErrorCode, Long> refusedBy,
      long goodBatches,
      int stores,
      long failureCount,
      List<Failure> failures) {
    double inputsPerSecond() {
      return inputs / seconds;
    }
  }

  private FuzzScenario() {}

  /**
   * Runs {@code inputs} inputs. Stores live in subdirectories of {@code dir}, a fresh one every
   * {@code inputsPerStore} inputs; at most {@code maxFailures} failures are kept (all are counted).
   */
  static Result run(
      long seed,
      long inputs,
      long inputsPerStore,
      Path dir,
      int maxFailures,
      Consumer<String> progress)
      throws Exception {
    Run r = new Run(seed, dir, maxFailures, progress);
    long t0 = System.nanoTime();
    long lastReport = t0;
    try {
      for (long i = 0; i < inputs; i++) {
        if (i > 0 && i % inputsPerStore == 0) {
          r.rotate(i);
        }
        r.input(i);
        long now = System.nanoTime();
        if (now - lastReport > 5_000_000_000L) {
          lastReport = now;
          progress.accept(
              String.format(
                  java.util.Locale.ROOT,
                  "fuzz: %,d inputs, %,.0f inputs/s, %d failures",
                  i + 1,
                  (i + 1) / ((now - t0) / 1e9),
                  r.failureCount));
        }
      }
      r.checkGood(inputs);
    } finally {
      r.close();
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    return new Result(
        seed,
        inputs,
        r.layouts,
        seconds,
        r.accepted,
        r.refused,
        r.refusedBy,
        r.goodBatches,
        r.stores,
        r.failureCount,
        r.failures);
  }

  /** One run's state. */
  private static final class Run {
    final long seed;
    final Path dir;
    final int maxFailures;
    final Consumer<String> progress;
    final FrameMutator mutator;
    final SplittableRandom random;
    final ServerPolicy autoRegister =
        new ServerPolicy("fuzz", true, MAX_FRAME_BYTES, MAX_RECORDS, 15_000);
    final ServerPolicy registeredOnly =
        new ServerPolicy("fuzz", false, MAX_FRAME_BYTES, MAX_RECORDS, 15_000);
    final Map<ErrorCode, Long> refusedBy = new EnumMap<>(ErrorCode.class);
    final List<Failure> failures = new ArrayList<>();
    long failureCount;
    long accepted;
    long refused;
    long layouts;
    long goodBatches;
    int stores;
    long nowMs = 1_700_000_000_000L;

    Store st;
    CloudSession fuzz;
    final RecordingCloudIo fuzzIo = new RecordingCloudIo();
    CloudSession good;
    final RecordingCloudIo goodIo = new RecordingCloudIo();
    long goodNext = 1;

    Run(long seed, Path dir, int maxFailures, Consumer<String> progress) throws Exception {
      this.seed = seed;
      this.dir = dir;
      this.maxFailures = maxFailures;
      this.progress = progress;
      this.mutator = new FrameMutator(seed, MAX_FRAME_BYTES);
      this.random = new SplittableRandom(seed ^ 0x5DEECE66DL);
      this.st = newStore();
    }

    void input(long i) throws Exception {
      nowMs++;
      String device = fuzz != null && fuzz.deviceId() != null ? fuzz.deviceId() : FUZZ_DEVICE;
      byte[] in = mutator.next(device, st.store.checkpoints(device));
      String ops = mutator.describeLast();
      decodeTarget(i, in, ops);
      sessionTarget(i, in, ops);
      if (i % 4 == 0) {
        layoutTarget(i);
      }
      if (i % GOOD_EVERY == 0) {
        goodStep(i);
      }
    }

    // ---------------------------------------------------------------- targets

    void decodeTarget(long i, byte[] in, String ops) {
      try {
        Frame f = FrameCodec.decode(in, MAX_FRAME_BYTES);
        Frame again = FrameCodec.decode(FrameCodec.encode(f), MAX_FRAME_BYTES);
        if (!again.equals(f.toBuilder().clearCrc32C().build())) {
          fail(i, "decode", "encode + decode changes the frame", ops, in);
        }
        if (f.hasBatch()) {
          FrameCodec.records(f.getBatch(), MAX_RECORDS);
        }
      } catch (ProtocolException e) {
        if (e.getMessage() == null || e.getMessage().isBlank() || e.code() == null) {
          fail(i, "decode", "ProtocolException without code or message", ops, in);
        }
      } catch (Throwable t) {
        fail(i, "decode", "threw " + t, ops, in);
      }
    }

    void layoutTarget(long i) {
      layouts++;
      int count = random.nextInt(0, 6);
      byte[] layout = mutator.nextLayout(count);
      int claimed = random.nextInt(3) == 0 ? random.nextInt(-2, 9) : count;
      try {
        List<Record> records = RecordLayout.decode(layout, 1, claimed);
        if (records.size() != claimed) {
          fail(i, "layout", "decoded " + records.size() + " records, not " + claimed, "", layout);
        }
      } catch (ProtocolException e) {
        // refused with a clear error: fine
      } catch (Throwable t) {
        fail(
            i, "layout", "threw " + t + " (count " + claimed + ")", mutator.describeLast(), layout);
      }
    }

    void sessionTarget(long i, byte[] in, String ops) throws Exception {
      if (!ensureFuzzSession(i)) {
        return;
      }
      st.changed(); // from here on, any commit is this frame's
      String device = fuzz.deviceId();
      Map<String, Long> before = device == null ? Map.of() : st.store.checkpoints(device);
      fuzzIo.clear();
      try {
        fuzz.onFrame(nowMs, in);
      } catch (Throwable t) {
        fail(i, "session", "exception escaped CloudSession.onFrame: " + t, ops, in);
        fuzz = null;
        return;
      }
      Frame error = null;
      for (Frame f : fuzzIo.frames()) {
        if (f.hasError()) {
          error = f;
        }
      }
      if (error != null) {
        refused++;
        refusedBy.merge(error.getError().getCode(), 1L, Long::sum);
        String problem = refusalProblem(error);
        if (problem != null) {
          fail(i, "session", problem, ops, in);
        }
        if (st.changed()) {
          fail(
              i,
              "session",
              "refused frame ("
                  + error.getError().getCode()
                  + ") committed to the store (data_version moved); store now: "
                  + st.snapshot(),
              ops,
              in);
        }
        fuzz.onClosed(nowMs);
        fuzz = null;
        return;
      }
      if (fuzz.state() == CloudSession.State.CLOSED || fuzzIo.closes().size() > 0) {
        fail(i, "session", "session closed without an Error frame", ops, in);
        fuzz = null;
        return;
      }
      accepted++;
      device = fuzz.deviceId();
      for (Frame f : fuzzIo.frames()) {
        if (f.hasAck()) {
          checkAck(i, in, ops, device, before, f);
        }
      }
    }

    private String refusalProblem(Frame error) {
      ErrorCode code = error.getError().getCode();
      if (code == ErrorCode.INTERNAL || code == ErrorCode.ERROR_CODE_UNSPECIFIED) {
        return "refused with " + code + ": " + error.getError().getMessage();
      }
      if (error.getError().getMessage().isBlank()) {
        return "Error " + code + " without a message";
      }
      if (!error.getError().getFatal()) {
        return "Error " + code + " not fatal";
      }
      if (fuzzIo.frames().size() != 1) {
        return "refusal sent " + fuzzIo.frames().size() + " frames: " + fuzzIo.frames();
      }
      if (fuzzIo.closes().size() != 1 || fuzz.state() != CloudSession.State.CLOSED) {
        return "after the Error: " + fuzzIo.closes().size() + " closes, state " + fuzz.state();
      }
      return null;
    }

    private void checkAck(
        long i, byte[] in, String ops, String device, Map<String, Long> before, Frame ack)
        throws Exception {
      String stream = ack.getAck().getStream();
      long cp = st.store.checkpoints(device).getOrDefault(stream, 0L);
      if (ack.getAck().getSequence() != cp) {
        fail(
            i,
            "session",
            "Ack " + stream + "@" + ack.getAck().getSequence() + " but the checkpoint is " + cp,
            ops,
            in);
        return;
      }
      Frame frame = FrameCodec.decode(in, MAX_FRAME_BYTES);
      if (!frame.hasBatch()) {
        return;
      }
      RecordBatch batch = frame.getBatch();
      long had = before.getOrDefault(stream, 0L);
      List<Record> sent = new ArrayList<>();
      for (Record r : FrameCodec.records(batch, MAX_RECORDS)) {
        if (r.sequence() > had) {
          sent.add(r);
        }
      }
      List<Record> stored = st.store.read(device, stream, had, sent.size() + 1);
      if (!stored.equals(sent)) {
        fail(i, "session", "acknowledged batch stored as " + stored + ", sent " + sent, ops, in);
      }
    }

    private boolean ensureFuzzSession(long i) throws Exception {
      if (fuzz != null && fuzz.state() != CloudSession.State.CLOSED) {
        return true;
      }
      fuzzIo.clear();
      fuzz =
          new CloudSession(
              random.nextInt(4) == 0 ? registeredOnly : autoRegister, st.store, fuzzIo);
      if (random.nextInt(4) > 0) {
        byte[] hello = hello(FUZZ_DEVICE);
        fuzz.onFrame(nowMs, hello);
        if (fuzzIo.frames().size() != 1 || !fuzzIo.frames().get(0).hasWelcome()) {
          fail(i, "session", "valid Hello answered with " + fuzzIo.frames(), "hello", hello);
          fuzz = null;
          return false;
        }
      }
      return true;
    }

    // ---------------------------------------------------------------- the good device

    void goodStep(long i) throws Exception {
      if (good == null) {
        goodIo.clear();
        good = new CloudSession(autoRegister, st.store, goodIo);
        good.onFrame(nowMs, hello(GOOD_DEVICE));
        if (goodIo.frames().size() != 1 || !goodIo.frames().get(0).hasWelcome()) {
          fail(i, "good device", "Hello answered with " + goodIo.frames(), "", new byte[0]);
          good = null;
          return;
        }
      }
      int n = random.nextInt(1, 5);
      List<Record> records = new ArrayList<>(n);
      for (int k = 0; k < n; k++) {
        records.add(new Record(goodNext + k, nowMs, goodPayload(goodNext + k)));
      }
      byte[] frame =
          FrameCodec.encode(
              Frame.newBuilder().setBatch(FrameCodec.batch(GOOD_STREAM, records)).build());
      goodIo.clear();
      good.onFrame(nowMs, frame);
      long last = goodNext + n - 1;
      if (goodIo.frames().size() != 1
          || !goodIo.frames().get(0).hasAck()
          || goodIo.frames().get(0).getAck().getSequence() != last
          || good.state() != CloudSession.State.ACTIVE) {
        fail(
            i,
            "good device",
            "batch up to " + last + " answered with " + goodIo.frames() + ", state " + good.state(),
            "",
            frame);
        good = null;
        return;
      }
      goodNext = last + 1;
      goodBatches++;
    }

    void checkGood(long i) {
      List<Record> all = st.store.read(GOOD_DEVICE, GOOD_STREAM, 0, (int) goodNext + 10);
      boolean ok = all.size() == goodNext - 1;
      for (int k = 0; ok && k < all.size(); k++) {
        ok =
            all.get(k).sequence() == k + 1
                && java.util.Arrays.equals(all.get(k).payload(), goodPayload(k + 1));
      }
      if (!ok) {
        fail(
            i,
            "good device",
            "records in the cloud are not 1.." + (goodNext - 1) + " as sent: " + all.size(),
            "",
            new byte[0]);
      }
    }

    private static byte[] goodPayload(long sequence) {
      return ("{\"good\":" + sequence + "}").getBytes(StandardCharsets.UTF_8);
    }

    // ---------------------------------------------------------------- plumbing

    private static byte[] hello(String device) {
      return FrameCodec.encode(
          Frame.newBuilder()
              .setHello(
                  Hello.newBuilder()
                      .setProtocolVersion(1)
                      .setDeviceId(device)
                      .setAgentVersion("fuzz/1")
                      .setStoreId("store-" + device))
              .build());
    }

    void rotate(long i) throws Exception {
      checkGood(i);
      close();
      st = newStore();
      goodNext = 1;
    }

    private Store newStore() throws Exception {
      Path d = dir.resolve("store-" + stores++);
      Files.createDirectories(d);
      SqliteCloudStore store = new SqliteCloudStore(d.resolve("cloud.db"));
      store.registerDevice(FUZZ_DEVICE, nowMs);
      return new Store(d, store);
    }

    void close() throws Exception {
      if (fuzz != null) {
        fuzz.onClosed(nowMs);
        fuzz = null;
      }
      if (good != null) {
        good.onClosed(nowMs);
        good = null;
      }
      st.close();
    }

    void fail(long i, String target, String problem, String ops, byte[] in) {
      failureCount++;
      Failure f = new Failure(seed, i, target, problem, ops, in);
      if (failures.size() < maxFailures) {
        failures.add(f);
        progress.accept(f.describe());
      }
    }
  }

  /**
   * A store under test and a second connection to its file that only reads. SQLite's {@code
   * data_version} on it changes whenever the store commits anything, which makes "did this refused
   * frame change the store" one cheap query, and a stricter check than comparing contents: a
   * refused frame may not commit at all. The tables' contents are read only to report a failure.
   */
  private static final class Store implements AutoCloseable {
    final Path dir;
    final SqliteCloudStore store;
    final Connection reader;
    long version;

    Store(Path dir, SqliteCloudStore store) throws SQLException {
      this.dir = dir;
      this.store = store;
      this.reader = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("cloud.db"));
      this.version = dataVersion();
    }

    /** True if the store committed since the last call; remembers the new version. */
    boolean changed() throws SQLException {
      long v = dataVersion();
      boolean changed = v != version;
      version = v;
      return changed;
    }

    private long dataVersion() throws SQLException {
      try (Statement s = reader.createStatement();
          ResultSet rs = s.executeQuery("PRAGMA data_version")) {
        rs.next();
        return rs.getLong(1);
      }
    }

    String snapshot() throws SQLException {
      StringBuilder b = new StringBuilder();
      String[] queries = {
        "SELECT id, registered_at_ms, last_seen_ms, store_id FROM devices ORDER BY id",
        "SELECT device, stream, last_seq, records, payload_bytes, gaps, dropped_records"
            + " FROM streams ORDER BY device, stream",
        "SELECT device, stream, first_seq, last_seq, reason, dropped_at_ms, committed_at_ms"
            + " FROM gaps ORDER BY device, stream, first_seq",
        "SELECT count(*), max(rowid), sum(length(data)), sum(first_seq), sum(last_seq),"
            + " sum(committed_at_ms) FROM batches"
      };
      try (Statement s = reader.createStatement()) {
        for (String q : queries) {
          try (ResultSet rs = s.executeQuery(q)) {
            int cols = rs.getMetaData().getColumnCount();
            while (rs.next()) {
              for (int c = 1; c <= cols; c++) {
                b.append(rs.getString(c)).append(c == cols ? ';' : ',');
              }
            }
          }
          b.append(" | ");
        }
      }
      return b.toString();
    }

    @Override
    public void close() throws Exception {
      reader.close();
      store.close();
      try (var files = Files.walk(dir)) {
        for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(p);
        }
      } catch (IOException e) {
        // best effort
      }
    }
  }
}
