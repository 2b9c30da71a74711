package io.edgesync.agent;

import io.edgesync.engine.edge.EdgeSyncEngine;
import io.edgesync.engine.edge.Outbox;
import io.edgesync.protocol.Clock;
import io.edgesync.protocol.ProtocolException;
import io.edgesync.protocol.ProtocolLimits;
import io.edgesync.protocol.Record;
import io.edgesync.protocol.RecordLayout;
import io.edgesync.protocol.wire.GapReason;
import io.edgesync.support.Migrations;
import io.edgesync.support.jdbc.GroupCommitWriter;
import io.edgesync.support.jdbc.Jdbc;
import io.edgesync.support.jdbc.StoreException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The edge's durable outbox: one SQLite file in WAL mode. An append completes only after the
 * transaction holding it committed (with {@code synchronous=FULL}, after the WAL was fsynced).
 * Concurrent appends are group-committed by one writer thread (the store layer's {@link
 * GroupCommitWriter}; {@link Writer} holds this store's rules): every request waiting when a commit
 * starts shares that commit and its fsync.
 *
 * <p>On-disk format (schema in {@code db/V1__init.sql}, {@code db/V2__dedup_budget.sql}): {@code
 * streams} holds per-stream counters (last assigned sequence, cloud-acknowledged sequence, all-time
 * synced and dropped counts); {@code chunks} holds the records of one stream from one group commit,
 * encoded with {@link RecordLayout}; {@code gaps} holds dropped ranges, reported to the cloud in
 * sequence order. Chunks at or below the acknowledged sequence are deleted. {@code recent} holds
 * the SHA-256 of the last {@code dedup_window} records of each stream that declares one; {@code
 * meta} the store id and the daily byte budget's count; {@code wire_totals} ({@code
 * db/V3__wire_counters.sql}) what each stream's batches cost on the wire, all time, written in the
 * transaction of an ack and at stop; {@code dictionaries} ({@code db/V4__dictionaries.sql}) the
 * newest trained zstd dictionary the cloud shipped for each stream.
 *
 * <p>Dedup window: a record of such a stream whose payload equals one of the stream's last N
 * appended records is not appended; the append's result names the earlier record's sequence.
 *
 * <p>Threads: any thread may append; the writer thread owns group commits, overflow handling and
 * age expiry; the sync loop calls the {@link Outbox} methods. The JDBC connection and the
 * per-stream counters are guarded by {@code lock}; {@link #streams()} reads a snapshot published
 * after every change and takes no lock.
 */
public final class SqliteOutbox implements Outbox, AutoCloseable {
  /** Where an append of sequence {@code first..first+count-1} stands. */
  public enum OperationState {
    PENDING,
    IN_FLIGHT,
    SYNCED,
    DROPPED,
    UNKNOWN
  }

  private final Connection db;
  private final Jdbc jdbc;
  private final OutboxLimits limits;
  private final Map<String, Integer> priorities;
  private final Map<String, Integer> dedupWindows;
  private final Map<String, Recent> recent = new HashMap<>();
  private final java.security.MessageDigest sha256;
  private long duplicateRecords;
  private final int defaultPriority;
  private final Clock clock;
  private final ReentrantLock lock = new ReentrantLock();
  private final Map<String, Counters> counters = new HashMap<>();
  private volatile List<StreamState> snapshot = List.of();
  private final ArrayDeque<AppendRequest> parked = new ArrayDeque<>();
  private final GroupCommitWriter<AppendRequest> writer;
  private final String file;
  private volatile Runnable appendListener = () -> {};
  private long lastExpiryCheckMs;
  private long rejectedRecords;

  private final String storeId;
  private final PreparedStatement insertChunk;
  private final PreparedStatement upsertStream;

  /** Opens (creating if needed) the outbox file; no stream has a dedup window. */
  public SqliteOutbox(
      Path file,
      OutboxLimits limits,
      Map<String, Integer> priorities,
      int defaultPriority,
      Clock clock)
      throws SQLException {
    this(file, limits, priorities, Map.of(), defaultPriority, clock);
  }

  /**
   * Opens (creating if needed) the outbox file.
   *
   * @param dedupWindows per stream, how many of its last records an append is compared with
   */
  public SqliteOutbox(
      Path file,
      OutboxLimits limits,
      Map<String, Integer> priorities,
      Map<String, Integer> dedupWindows,
      int defaultPriority,
      Clock clock)
      throws SQLException {
    this.limits = limits;
    this.priorities = Map.copyOf(priorities);
    this.dedupWindows = Map.copyOf(dedupWindows);
    try {
      this.sha256 = java.security.MessageDigest.getInstance("SHA-256");
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
    this.defaultPriority = defaultPriority;
    this.clock = clock;
    this.file = file.toAbsolutePath().toString();
    try {
      Path parent = file.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
    } catch (java.io.IOException e) {
      throw new SQLException("cannot create directory for " + file + ": " + e, e);
    }
    db = DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath());
    jdbc = new Jdbc(db, this.file);
    try (Statement st = db.createStatement()) {
      st.execute("PRAGMA journal_mode=WAL");
      st.execute("PRAGMA synchronous=" + (limits.fullSync() ? "FULL" : "NORMAL"));
      st.execute("PRAGMA busy_timeout=5000");
    }
    Migrations.apply(
        db,
        SqliteOutbox.class,
        "db/V1__init.sql",
        "db/V2__dedup_budget.sql",
        "db/V3__wire_counters.sql",
        "db/V4__dictionaries.sql");
    db.setAutoCommit(false);
    insertChunk =
        db.prepareStatement(
            "INSERT INTO chunks(stream, first_seq, last_seq, bytes, oldest_ms, newest_ms, data)"
                + " VALUES (?,?,?,?,?,?,?)");
    upsertStream =
        db.prepareStatement(
            "INSERT INTO streams(name, last_seq, acked_seq, synced_records, dropped_records)"
                + " VALUES (?,?,?,?,?) ON CONFLICT(name) DO UPDATE SET last_seq=excluded.last_seq,"
                + " acked_seq=excluded.acked_seq, synced_records=excluded.synced_records,"
                + " dropped_records=excluded.dropped_records");
    for (String declared : priorities.keySet()) {
      counterFor(declared);
    }
    storeId = loadOrCreateStoreId();
    loadCounters();
    for (Counters c : counters.values()) {
      saveStream(c);
    }
    db.commit();
    publish();
    lastExpiryCheckMs = clock.nowMs();
    writer =
        new GroupCommitWriter<>(
            "edgesync-outbox-writer",
            limits.maxPendingAppends(),
            limits.maxGroupRecords(),
            () -> new IllegalStateException("outbox is closed"),
            new Writer());
  }

  /** Called (on the writer thread) after every group commit that stored records. */
  public void setAppendListener(Runnable listener) {
    this.appendListener = listener;
  }

  /**
   * Appends records to {@code stream}; the future completes with the first assigned sequence (the
   * records get consecutive sequences) once they are durable, or fails with {@link
   * QueueFullException} or an {@link IllegalArgumentException} naming the problem.
   */
  public CompletableFuture<Long> appendAsync(String stream, List<byte[]> payloads) {
    return appendDetailed(stream, payloads).thenApply(Appended::firstSequence);
  }

  /** What an append stored: sequences, and the records its stream's dedup window left out. */
  public record Appended(long firstSequence, int count, List<Duplicate> duplicates) {}

  /** The payload at {@code index} of the append equals the stream's record {@code sameAs}. */
  public record Duplicate(int index, long sameAsSequence) {}

  /**
   * Like {@link #appendAsync}, with the details: the appended records get sequences {@code
   * firstSequence .. firstSequence + count - 1} in order; payloads equal to one of the stream's
   * last {@code dedup_window} records are listed in {@code duplicates} and not appended ({@code
   * firstSequence} is 0 when nothing was).
   */
  public CompletableFuture<Appended> appendDetailed(String stream, List<byte[]> payloads) {
    CompletableFuture<Appended> result = new CompletableFuture<>();
    if (!ProtocolLimits.isValidStreamName(stream)) {
      result.completeExceptionally(
          new IllegalArgumentException(
              "invalid stream name '"
                  + stream
                  + "': must match "
                  + ProtocolLimits.STREAM_NAME_PATTERN));
      return result;
    }
    if (payloads.isEmpty()) {
      result.completeExceptionally(new IllegalArgumentException("nothing to append"));
      return result;
    }
    long bytes = 0;
    for (byte[] p : payloads) {
      if (p.length > ProtocolLimits.MAX_RECORD_BYTES) {
        result.completeExceptionally(
            new IllegalArgumentException(
                "record of "
                    + p.length
                    + " bytes exceeds the limit of "
                    + ProtocolLimits.MAX_RECORD_BYTES
                    + " bytes"));
        return result;
      }
      bytes += p.length;
    }
    writer.submit(
        new AppendRequest(stream, payloads, bytes, clock.nowMs(), System.nanoTime(), result));
    return result;
  }

  // ---------------------------------------------------------------- Outbox (sync loop thread)

  @Override
  public String storeId() {
    return storeId;
  }

  @Override
  public List<StreamState> streams() {
    return snapshot;
  }

  @Override
  public Item read(String stream, long fromSequence, int maxRecords, long maxBytes) {
    lock.lock();
    try {
      Item.Gap gap = gapAt(stream, fromSequence);
      if (gap != null) {
        return gap;
      }
      long start;
      try (PreparedStatement ps =
          db.prepareStatement(
              "SELECT first_seq FROM chunks WHERE stream=? AND first_seq<=?"
                  + " ORDER BY first_seq DESC LIMIT 1")) {
        ps.setString(1, stream);
        ps.setLong(2, fromSequence);
        try (ResultSet rs = ps.executeQuery()) {
          start = rs.next() ? rs.getLong(1) : fromSequence;
        }
      }
      List<Record> out = new ArrayList<>();
      long bytes = 0;
      long expected = fromSequence;
      try (PreparedStatement ps =
          db.prepareStatement(
              "SELECT first_seq, last_seq, data FROM chunks WHERE stream=? AND first_seq>=?"
                  + " ORDER BY first_seq")) {
        ps.setString(1, stream);
        ps.setLong(2, start);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next() && out.size() < maxRecords) {
            long first = rs.getLong(1);
            long last = rs.getLong(2);
            if (last < expected) {
              continue;
            }
            if (first > expected) {
              break; // a gap follows; it is read next time
            }
            for (Record r : decode(rs.getBytes(3), first, last)) {
              if (r.sequence() < expected) {
                continue;
              }
              if (out.size() >= maxRecords
                  || (!out.isEmpty() && bytes + r.payload().length > maxBytes)) {
                return new Item.Records(out, bytes);
              }
              out.add(r);
              bytes += r.payload().length;
              expected = r.sequence() + 1;
            }
          }
        }
      }
      if (out.isEmpty()) {
        Item.Gap later = gapAt(stream, fromSequence);
        return later;
      }
      return new Item.Records(out, bytes);
    } catch (SQLException e) {
      throw failure("reading stream '" + stream + "'", e);
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void acknowledge(String stream, long sequence) {
    acknowledge(stream, sequence, null);
  }

  /** The ack, and the stream's wire totals (unless null) in the same transaction. */
  @Override
  public void acknowledge(String stream, long sequence, EdgeSyncEngine.WireStats wire) {
    lock.lock();
    try {
      Counters c = counters.get(stream);
      if (c == null || sequence <= c.ackedSeq) {
        if (wire != null) {
          saveWire(stream, wire);
          db.commit();
        }
        return;
      }
      if (sequence > c.lastSeq) {
        throw new IllegalArgumentException(
            "ack of " + stream + " up to " + sequence + " beyond last sequence " + c.lastSeq);
      }
      long records = 0;
      long bytes = 0;
      List<long[]> chunks = new ArrayList<>(); // {first, last, bytes}
      try (PreparedStatement ps =
          db.prepareStatement(
              "SELECT first_seq, last_seq, bytes FROM chunks WHERE stream=? AND first_seq<=?"
                  + " AND last_seq>? ")) {
        ps.setString(1, stream);
        ps.setLong(2, sequence);
        ps.setLong(3, c.ackedSeq);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            chunks.add(new long[] {rs.getLong(1), rs.getLong(2), rs.getLong(3)});
          }
        }
      }
      for (long[] chunk : chunks) {
        long from = Math.max(chunk[0], c.ackedSeq + 1);
        long to = Math.min(chunk[1], sequence);
        records += to - from + 1;
        bytes += payloadBytes(stream, chunk[0], chunk[1], chunk[2], from, to);
      }
      try (PreparedStatement ps =
          db.prepareStatement(
              "DELETE FROM chunks WHERE stream=? AND first_seq<=? AND last_seq<=?")) {
        // first_seq bounds the primary-key range, so the delete does not scan the backlog
        ps.setString(1, stream);
        ps.setLong(2, sequence);
        ps.setLong(3, sequence);
        ps.executeUpdate();
      }
      c.ackedSeq = sequence;
      c.syncedRecords += records;
      c.queuedRecords -= records;
      c.queuedBytes -= bytes;
      saveStream(c);
      if (wire != null) {
        saveWire(stream, wire);
      }
      db.commit();
      publish();
    } catch (SQLException e) {
      rollbackAndReload();
      throw failure("recording the ack of " + stream, e);
    } finally {
      lock.unlock();
    }
  }

  @Override
  public Item.Gap markNotRetained(String stream, long cloudCheckpoint) {
    lock.lock();
    try {
      Counters c = counters.get(stream);
      if (c == null || cloudCheckpoint >= c.ackedSeq) {
        return null;
      }
      // Only the holes become gaps: parts of the range may already be gaps (dropped here earlier,
      // or marked by an earlier call whose session ended before the cloud acknowledged the gap).
      long now = clock.nowMs();
      long next = cloudCheckpoint + 1;
      List<long[]> existing = new ArrayList<>();
      try (PreparedStatement ps =
          db.prepareStatement(
              "SELECT first_seq, last_seq FROM gaps WHERE stream=? AND last_seq>=? AND"
                  + " first_seq<=? ORDER BY first_seq")) {
        ps.setString(1, stream);
        ps.setLong(2, next);
        ps.setLong(3, c.ackedSeq);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            existing.add(new long[] {rs.getLong(1), rs.getLong(2)});
          }
        }
      }
      for (long[] gap : existing) {
        if (gap[0] > next) {
          addGap(stream, next, gap[0] - 1, GapReason.GAP_REASON_NOT_RETAINED, now);
        }
        next = Math.max(next, gap[1] + 1);
      }
      if (next <= c.ackedSeq) {
        addGap(stream, next, c.ackedSeq, GapReason.GAP_REASON_NOT_RETAINED, now);
      }
      db.commit();
      return gapAt(stream, cloudCheckpoint + 1);
    } catch (SQLException e) {
      rollbackAndReload();
      throw failure("recording a not-retained gap for " + stream, e);
    } finally {
      lock.unlock();
    }
  }

  // ---------------------------------------------------------------- queries (any thread)

  /** Where sequence {@code sequence} of {@code stream} stands; {@code nextSend} from the engine. */
  public OperationState operationState(String stream, long sequence, long nextSend) {
    lock.lock();
    try {
      Counters c = counters.get(stream);
      if (c == null || sequence < 1 || sequence > c.lastSeq) {
        return OperationState.UNKNOWN;
      }
      if (gapAt(stream, sequence) != null) {
        return OperationState.DROPPED;
      }
      if (sequence <= c.ackedSeq) {
        return OperationState.SYNCED;
      }
      return nextSend > sequence ? OperationState.IN_FLIGHT : OperationState.PENDING;
    } catch (SQLException e) {
      throw failure("looking up operation " + stream + "/" + sequence, e);
    } finally {
      lock.unlock();
    }
  }

  /** The gap covering {@code sequence}, if that record was dropped. */
  public Item.Gap droppedRange(String stream, long sequence) {
    return locked("looking up gaps of " + stream, () -> gapAt(stream, sequence));
  }

  /** Detailed per-stream figures for status and metrics. */
  public List<StreamStatus> streamStatus() {
    lock.lock();
    try {
      List<StreamStatus> out = new ArrayList<>();
      for (StreamState s : snapshot) {
        Counters c = counters.get(s.name());
        long oldest = -1;
        try (PreparedStatement ps =
            db.prepareStatement(
                "SELECT oldest_ms FROM chunks WHERE stream=? AND last_seq>? ORDER BY first_seq"
                    + " LIMIT 1")) {
          ps.setString(1, s.name());
          ps.setLong(2, c.ackedSeq);
          try (ResultSet rs = ps.executeQuery()) {
            if (rs.next()) {
              oldest = rs.getLong(1);
            }
          }
        }
        out.add(
            new StreamStatus(
                s.name(),
                s.priority(),
                c.lastSeq,
                c.ackedSeq,
                c.queuedRecords,
                c.queuedBytes,
                oldest,
                c.syncedRecords,
                c.droppedRecords));
      }
      return out;
    } catch (SQLException e) {
      throw failure("reading stream status", e);
    } finally {
      lock.unlock();
    }
  }

  /** Records a dedup window left out since start. */
  public long duplicateRecords() {
    lock.lock();
    try {
      return duplicateRecords;
    } finally {
      lock.unlock();
    }
  }

  @Override
  public Map<String, EdgeSyncEngine.WireStats> savedWireStats() {
    List<Map.Entry<String, EdgeSyncEngine.WireStats>> rows =
        locked(
            "reading the wire totals",
            () ->
                jdbc.list(
                    "SELECT stream, batches, records, payload_bytes, raw_bytes, encoded_bytes,"
                        + " frame_bytes FROM wire_totals ORDER BY stream",
                    rs ->
                        Map.entry(
                            rs.getString(1),
                            new EdgeSyncEngine.WireStats(
                                rs.getLong(2),
                                rs.getLong(3),
                                rs.getLong(4),
                                rs.getLong(5),
                                rs.getLong(6),
                                rs.getLong(7)))));
    Map<String, EdgeSyncEngine.WireStats> out = new LinkedHashMap<>();
    rows.forEach(e -> out.put(e.getKey(), e.getValue()));
    return out;
  }

  @Override
  public void saveWireStats(Map<String, EdgeSyncEngine.WireStats> totals) {
    committed(
        "saving the wire totals",
        () -> {
          for (Map.Entry<String, EdgeSyncEngine.WireStats> e : totals.entrySet()) {
            saveWire(e.getKey(), e.getValue());
          }
          return null;
        });
  }

  /** Upserts one stream's wire totals; the caller commits. */
  private void saveWire(String stream, EdgeSyncEngine.WireStats w) throws SQLException {
    jdbc.update(
        "INSERT INTO wire_totals(stream, batches, records, payload_bytes, raw_bytes,"
            + " encoded_bytes, frame_bytes) VALUES (?,?,?,?,?,?,?) ON CONFLICT(stream) DO"
            + " UPDATE SET batches=excluded.batches, records=excluded.records,"
            + " payload_bytes=excluded.payload_bytes, raw_bytes=excluded.raw_bytes,"
            + " encoded_bytes=excluded.encoded_bytes, frame_bytes=excluded.frame_bytes",
        stream,
        w.batches(),
        w.records(),
        w.payloadBytes(),
        w.rawBytes(),
        w.encodedBytes(),
        w.frameBytes());
  }

  /** The daily byte budget's count, from the {@code meta} table. */
  @Override
  public long[] savedBudget() {
    lock.lock();
    try (PreparedStatement ps = db.prepareStatement("SELECT value FROM meta WHERE key='budget'");
        ResultSet rs = ps.executeQuery()) {
      if (!rs.next()) {
        return null;
      }
      String[] parts = rs.getString(1).split(":");
      return new long[] {Long.parseLong(parts[0]), Long.parseLong(parts[1])};
    } catch (SQLException | RuntimeException e) {
      return null; // a missing or unreadable count starts the day at 0
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void saveBudget(long utcDay, long spentBytes) {
    committed(
        "saving the daily budget",
        () ->
            jdbc.update(
                "INSERT INTO meta(key, value) VALUES ('budget', ?) ON CONFLICT(key) DO UPDATE SET"
                    + " value=excluded.value",
                utcDay + ":" + spentBytes));
  }

  @Override
  public List<SavedDictionary> savedDictionaries() {
    return locked(
        "reading the dictionaries",
        () ->
            jdbc.list(
                "SELECT stream, id, data FROM dictionaries ORDER BY stream",
                rs -> new SavedDictionary(rs.getString(1), rs.getInt(2), rs.getBytes(3))));
  }

  @Override
  public void saveDictionary(String stream, int id, byte[] bytes) {
    committed(
        "saving dictionary " + id + " of stream " + stream,
        () ->
            jdbc.update(
                "INSERT INTO dictionaries(stream, id, data) VALUES (?,?,?) ON CONFLICT(stream) DO"
                    + " UPDATE SET id=excluded.id, data=excluded.data",
                stream,
                id,
                bytes));
  }

  /** Records refused by the REJECT or BLOCK overflow policy since start. */
  public long rejectedRecords() {
    lock.lock();
    try {
      return rejectedRecords;
    } finally {
      lock.unlock();
    }
  }

  /** Per-stream figures. {@code oldestQueuedMs} is -1 when nothing is queued. */
  public record StreamStatus(
      String name,
      int priority,
      long lastSequence,
      long ackedSequence,
      long queuedRecords,
      long queuedBytes,
      long oldestQueuedMs,
      long syncedRecords,
      long droppedRecords) {}

  @Override
  public void close() {
    if (writer.isClosed()) {
      return;
    }
    writer.stop();
    lock.lock();
    try {
      failAll(new IllegalStateException("outbox closed"));
      db.close();
    } catch (SQLException e) {
      throw failure("closing the outbox", e);
    } finally {
      lock.unlock();
    }
  }

  // ---------------------------------------------------------------- writer thread

  /**
   * The writer thread's rules: appends parked by {@code overflow_policy=block} go first in the next
   * group; while any are parked the writer wakes every 5 ms to retry them (else every 200 ms), and
   * after every wake-up it checks record age.
   */
  private final class Writer implements GroupCommitWriter.Handler<AppendRequest> {
    @Override
    public void startGroup(List<AppendRequest> group) {
      expireTimedOutParked();
      group.addAll(parked);
      parked.clear();
    }

    @Override
    public long idleWakeMs() {
      return parked.isEmpty() ? 200 : 5;
    }

    @Override
    public void runGroup(List<AppendRequest> group) {
      commitGroup(group);
    }

    @Override
    public void afterWake() {
      maybeExpire();
    }
  }

  private void commitGroup(List<AppendRequest> group) {
    List<AppendRequest> accepted = new ArrayList<>(group.size());
    List<Appended> results = new ArrayList<>(group.size());
    // Digests of records accepted earlier in this group, per dedup stream: {request, kept index}.
    Map<String, Map<Recent.Key, Object[]>> pending = new HashMap<>();
    List<Runnable> failures = new ArrayList<>();
    boolean stored = false;
    lock.lock();
    try {
      long totalRecords = 0;
      long totalBytes = 0;
      for (Counters c : counters.values()) {
        totalRecords += c.queuedRecords;
        totalBytes += c.queuedBytes;
      }
      for (AppendRequest r : group) {
        if (!parked.isEmpty()) {
          parked.add(r); // keep FIFO order behind earlier blocked appends
          continue;
        }
        dedup(r, pending.computeIfAbsent(r.stream, k -> new HashMap<>()));
        long n = r.kept.size();
        if (n > limits.maxQueueRecords() || r.keptBytes > limits.maxQueueBytes()) {
          rejectedRecords += n;
          failures.add(
              () ->
                  r.future.completeExceptionally(
                      new QueueFullException(
                          "append of "
                              + n
                              + " records / "
                              + r.bytes
                              + " bytes is larger than"
                              + " the whole queue ("
                              + limits.maxQueueRecords()
                              + " records / "
                              + limits.maxQueueBytes()
                              + " bytes)")));
          continue;
        }
        long overRecords = totalRecords + n - limits.maxQueueRecords();
        long overBytes = totalBytes + r.keptBytes - limits.maxQueueBytes();
        if (overRecords > 0 || overBytes > 0) {
          switch (limits.overflowPolicy()) {
            case REJECT -> {
              rejectedRecords += n;
              String full =
                  overRecords > 0
                      ? totalRecords
                          + " of "
                          + limits.maxQueueRecords()
                          + " records queued (queue_max_size)"
                      : totalBytes + " of " + limits.maxQueueBytes() + " bytes queued (max_bytes)";
              String message =
                  "outbox full, "
                      + full
                      + ", overflow_policy=reject: "
                      + n
                      + " records of "
                      + r.bytes
                      + " bytes refused";
              failures.add(() -> r.future.completeExceptionally(new QueueFullException(message)));
              continue;
            }
            case BLOCK -> {
              parked.add(r);
              continue;
            }
            case DROP_OLDEST -> {
              // Room is made below, once the whole group is written: appends committed together
              // must be able to push each other out, not only records of earlier commits.
            }
          }
        }
        accepted.add(r);
        totalRecords += n;
        totalBytes += r.keptBytes;
        Map<Recent.Key, Object[]> mine = pending.get(r.stream);
        for (int i = 0; i < r.keptKeys.size(); i++) {
          mine.put(r.keptKeys.get(i), new Object[] {r, i});
        }
      }
      Map<String, List<AppendRequest>> byStream = new LinkedHashMap<>();
      for (AppendRequest r : accepted) {
        byStream.computeIfAbsent(r.stream, k -> new ArrayList<>()).add(r);
      }
      for (Map.Entry<String, List<AppendRequest>> e : byStream.entrySet()) {
        Counters c = counterFor(e.getKey());
        long seq = c.lastSeq + 1;
        long firstOfChunk = seq;
        List<Record> records = new ArrayList<>();
        long bytes = 0;
        for (AppendRequest r : e.getValue()) {
          r.assigned = r.kept.isEmpty() ? 0 : seq;
          for (byte[] p : r.kept) {
            records.add(new Record(seq++, r.originMs, p));
          }
          bytes += r.keptBytes;
        }
        rememberRecent(e.getKey(), e.getValue(), seq - 1);
        if (records.isEmpty()) {
          continue; // every record was a duplicate
        }
        insertChunk.setString(1, e.getKey());
        insertChunk.setLong(2, firstOfChunk);
        insertChunk.setLong(3, seq - 1);
        insertChunk.setLong(4, bytes);
        insertChunk.setLong(5, records.get(0).originMs());
        insertChunk.setLong(6, records.get(records.size() - 1).originMs());
        insertChunk.setBytes(7, RecordLayout.encode(records));
        insertChunk.executeUpdate();
        c.lastSeq = seq - 1;
        c.queuedRecords += records.size();
        c.queuedBytes += bytes;
        saveStream(c);
      }
      long overRecords = totalRecords - limits.maxQueueRecords();
      long overBytes = totalBytes - limits.maxQueueBytes();
      if (limits.overflowPolicy() == OverflowPolicy.DROP_OLDEST
          && !accepted.isEmpty()
          && (overRecords > 0 || overBytes > 0)) {
        // Every append fits the whole queue, so dropping everything else always makes room.
        long[] freed = dropOldest(Math.max(0, overRecords), Math.max(0, overBytes));
        if (freed[0] < overRecords || freed[1] < overBytes) {
          throw new IllegalStateException(
              "overflow freed "
                  + freed[0]
                  + " records / "
                  + freed[1]
                  + " bytes of the "
                  + overRecords
                  + " / "
                  + overBytes
                  + " needed");
        }
      }
      db.commit();
      for (AppendRequest r : accepted) {
        results.add(r.result());
        duplicateRecords += r.payloads.size() - r.kept.size();
      }
      stored = !accepted.isEmpty();
      publish();
    } catch (SQLException | RuntimeException e) {
      rollbackAndReload();
      OutboxException failure = failure("committing appends", e);
      for (AppendRequest r : accepted) {
        r.future.completeExceptionally(failure);
      }
      accepted.clear();
    } finally {
      lock.unlock();
    }
    for (int i = 0; i < accepted.size() && i < results.size(); i++) {
      accepted.get(i).future.complete(results.get(i));
    }
    failures.forEach(Runnable::run);
    if (stored) {
      appendListener.run();
    }
  }

  /**
   * Drops the oldest queued records of the lowest-priority streams until at least the given records
   * and bytes are freed (or nothing is left). Runs inside the caller's transaction. Returns
   * {records, bytes} freed.
   */
  private long[] dropOldest(long records, long bytes) throws SQLException {
    long freedRecords = 0;
    long freedBytes = 0;
    long now = clock.nowMs();
    List<Counters> victims = new ArrayList<>(counters.values());
    victims.sort(
        Comparator.comparingInt((Counters c) -> c.priority).reversed().thenComparing(c -> c.name));
    for (Counters c : victims) {
      while ((freedRecords < records || freedBytes < bytes) && c.queuedRecords > 0) {
        long first;
        long last;
        byte[] data;
        try (PreparedStatement ps =
            db.prepareStatement(
                "SELECT first_seq, last_seq, data FROM chunks WHERE stream=? ORDER BY first_seq"
                    + " LIMIT 1")) {
          ps.setString(1, c.name);
          try (ResultSet rs = ps.executeQuery()) {
            if (!rs.next()) {
              break;
            }
            first = rs.getLong(1);
            last = rs.getLong(2);
            data = rs.getBytes(3);
          }
        }
        List<Record> chunk = decode(data, first, last);
        long dropFrom = Math.max(first, c.ackedSeq + 1);
        long dropTo = dropFrom - 1;
        long droppedBytes = 0;
        for (Record r : chunk) {
          if (r.sequence() < dropFrom) {
            continue;
          }
          if (freedRecords >= records && freedBytes >= bytes) {
            break;
          }
          dropTo = r.sequence();
          freedRecords++;
          freedBytes += r.payload().length;
          droppedBytes += r.payload().length;
        }
        deleteChunk(c.name, first);
        if (dropTo < last) {
          List<Record> keep = chunk.subList((int) (dropTo + 1 - first), chunk.size());
          rewriteChunk(c.name, keep);
        }
        if (dropTo >= dropFrom) {
          addGap(c.name, dropFrom, dropTo, GapReason.GAP_REASON_QUEUE_FULL, now);
          long n = dropTo - dropFrom + 1;
          c.queuedRecords -= n;
          c.queuedBytes -= droppedBytes;
          c.droppedRecords += n;
          saveStream(c);
        }
      }
    }
    return new long[] {freedRecords, freedBytes};
  }

  /**
   * Splits the request's payloads into those to append and duplicates of the stream's recent
   * records (or of records accepted earlier in this group: {@code pending}). Nothing changes until
   * the group commits.
   */
  private void dedup(AppendRequest r, Map<Recent.Key, Object[]> pending) {
    r.kept = new ArrayList<>(r.payloads.size());
    r.keptKeys = new ArrayList<>();
    r.dups = new ArrayList<>();
    r.keptBytes = 0;
    Integer window = dedupWindows.get(r.stream);
    if (window == null || window <= 0) {
      r.kept.addAll(r.payloads);
      r.keptBytes = r.bytes;
      return;
    }
    Recent ring = recent.computeIfAbsent(r.stream, k -> new Recent(window));
    Map<Recent.Key, Integer> own = new HashMap<>();
    for (int i = 0; i < r.payloads.size(); i++) {
      byte[] p = r.payloads.get(i);
      Recent.Key key = Recent.Key.of(sha256.digest(p));
      Long seq = ring.sequenceOf(key);
      if (seq != null) {
        r.dups.add(new Object[] {i, seq});
      } else if (pending.containsKey(key)) {
        r.dups.add(new Object[] {i, pending.get(key)});
      } else if (own.containsKey(key)) {
        r.dups.add(new Object[] {i, new Object[] {r, own.get(key)}});
      } else {
        own.put(key, r.kept.size());
        r.kept.add(p);
        r.keptKeys.add(key);
        r.keptBytes += p.length;
      }
    }
  }

  /** Adds the stream's new records to its window (memory and {@code recent}), dropping the old. */
  private void rememberRecent(String stream, List<AppendRequest> requests, long lastSeq)
      throws SQLException {
    Recent ring = recent.get(stream);
    if (ring == null) {
      return;
    }
    try (PreparedStatement ins =
        db.prepareStatement("INSERT OR REPLACE INTO recent(stream, seq, digest) VALUES (?,?,?)")) {
      for (AppendRequest r : requests) {
        for (int i = 0; i < r.keptKeys.size(); i++) {
          long seq = r.assigned + i;
          ring.add(r.keptKeys.get(i), seq);
          ins.setString(1, stream);
          ins.setLong(2, seq);
          ins.setBytes(3, r.keptKeys.get(i).bytes());
          ins.executeUpdate();
        }
      }
    }
    try (PreparedStatement del =
        db.prepareStatement("DELETE FROM recent WHERE stream=? AND seq<=?")) {
      del.setString(1, stream);
      del.setLong(2, lastSeq - ring.window);
      del.executeUpdate();
    }
  }

  /** Loads the dedup windows from {@code recent} (streams without a window are ignored). */
  private void loadRecent() throws SQLException {
    recent.clear();
    try (Statement st = db.createStatement();
        ResultSet rs =
            st.executeQuery("SELECT stream, seq, digest FROM recent ORDER BY stream, seq")) {
      while (rs.next()) {
        Integer window = dedupWindows.get(rs.getString(1));
        if (window != null && window > 0) {
          recent
              .computeIfAbsent(rs.getString(1), k -> new Recent(window))
              .add(Recent.Key.of(rs.getBytes(3)), rs.getLong(2));
        }
      }
    }
  }

  /**
   * The last {@code window} records of one stream, by SHA-256 of the payload (a collision would
   * need 2^128 work: equal digests are taken as equal payloads). Oldest first; writer thread only.
   */
  private static final class Recent {
    record Key(long a, long b, long c, long d) {
      static Key of(byte[] digest) {
        java.nio.ByteBuffer buf = java.nio.ByteBuffer.wrap(digest);
        return new Key(buf.getLong(), buf.getLong(), buf.getLong(), buf.getLong());
      }

      byte[] bytes() {
        return java.nio.ByteBuffer.allocate(32).putLong(a).putLong(b).putLong(c).putLong(d).array();
      }
    }

    final int window;
    final LinkedHashMap<Key, Long> entries = new LinkedHashMap<>();

    Recent(int window) {
      this.window = window;
    }

    Long sequenceOf(Key k) {
      return entries.get(k);
    }

    void add(Key k, long seq) {
      entries.put(k, seq);
      while (entries.size() > window) {
        entries.remove(entries.keySet().iterator().next());
      }
    }
  }

  private void maybeExpire() {
    long now = clock.nowMs();
    if (now - lastExpiryCheckMs < limits.expiryCheckIntervalMs()) {
      return;
    }
    lastExpiryCheckMs = now;
    lock.lock();
    try {
      long cutoff = now - limits.maxRecordAgeMs();
      List<long[]> expired = new ArrayList<>();
      List<String> streams = new ArrayList<>();
      try (PreparedStatement ps =
          db.prepareStatement(
              "SELECT stream, first_seq, last_seq, bytes FROM chunks WHERE newest_ms < ?"
                  + " ORDER BY stream, first_seq")) {
        ps.setLong(1, cutoff);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            streams.add(rs.getString(1));
            expired.add(new long[] {rs.getLong(2), rs.getLong(3), rs.getLong(4)});
          }
        }
      }
      for (int i = 0; i < expired.size(); i++) {
        Counters c = counters.get(streams.get(i));
        long first = expired.get(i)[0];
        long last = expired.get(i)[1];
        long from = Math.max(first, c.ackedSeq + 1);
        long bytes =
            from <= last ? payloadBytes(c.name, first, last, expired.get(i)[2], from, last) : 0;
        deleteChunk(c.name, first);
        if (from <= last) {
          long n = last - from + 1;
          addGap(c.name, from, last, GapReason.GAP_REASON_EXPIRED, now);
          c.queuedRecords -= n;
          c.queuedBytes -= bytes;
          c.droppedRecords += n;
          saveStream(c);
        }
      }
      db.commit();
      publish();
    } catch (SQLException | RuntimeException e) {
      // A failure must not end the writer thread; the next check retries.
      rollbackAndReload();
    } finally {
      lock.unlock();
    }
  }

  private void expireTimedOutParked() {
    long deadline = System.nanoTime() - TimeUnit.MILLISECONDS.toNanos(limits.blockTimeoutMs());
    while (!parked.isEmpty() && parked.peekFirst().enqueuedNanos < deadline) {
      AppendRequest r = parked.pollFirst();
      lock.lock();
      try {
        rejectedRecords += r.payloads.size();
      } finally {
        lock.unlock();
      }
      r.future.completeExceptionally(
          new QueueFullException(
              "outbox stayed full for "
                  + limits.blockTimeoutMs()
                  + " ms (overflow_policy=block):"
                  + " "
                  + r.payloads.size()
                  + " records refused"));
    }
  }

  // ---------------------------------------------------------------- helpers (lock held)

  private Item.Gap gapAt(String stream, long sequence) throws SQLException {
    try (PreparedStatement ps =
        db.prepareStatement(
            "SELECT first_seq, last_seq, reason, dropped_at_ms FROM gaps WHERE stream=? AND"
                + " first_seq<=? ORDER BY first_seq DESC LIMIT 1")) {
      ps.setString(1, stream);
      ps.setLong(2, sequence);
      try (ResultSet rs = ps.executeQuery()) {
        if (rs.next() && rs.getLong(2) >= sequence) {
          return new Item.Gap(
              sequence, rs.getLong(2), GapReason.forNumber(rs.getInt(3)), rs.getLong(4));
        }
        return null;
      }
    }
  }

  private void addGap(String stream, long first, long last, GapReason reason, long nowMs)
      throws SQLException {
    try (PreparedStatement ps =
        db.prepareStatement(
            "UPDATE gaps SET last_seq=? WHERE stream=? AND last_seq=? AND reason=?")) {
      ps.setLong(1, last);
      ps.setString(2, stream);
      ps.setLong(3, first - 1);
      ps.setInt(4, reason.getNumber());
      if (ps.executeUpdate() > 0) {
        return;
      }
    }
    try (PreparedStatement ps =
        db.prepareStatement(
            "INSERT INTO gaps(stream, first_seq, last_seq, reason, dropped_at_ms)"
                + " VALUES (?,?,?,?,?)")) {
      ps.setString(1, stream);
      ps.setLong(2, first);
      ps.setLong(3, last);
      ps.setInt(4, reason.getNumber());
      ps.setLong(5, nowMs);
      ps.executeUpdate();
    }
  }

  /**
   * Payload bytes of sequences {@code from..to} of the chunk {@code first..last} whose records hold
   * {@code chunkBytes} in all. Exact: a part of a chunk (split by an ack) is summed from its
   * records, since records differ in size and a pro-rata share lets the byte counters drift.
   */
  private long payloadBytes(
      String stream, long first, long last, long chunkBytes, long from, long to)
      throws SQLException {
    if (from <= first && to >= last) {
      return chunkBytes;
    }
    byte[] data;
    try (PreparedStatement ps =
        db.prepareStatement("SELECT data FROM chunks WHERE stream=? AND first_seq=?")) {
      ps.setString(1, stream);
      ps.setLong(2, first);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          throw new SQLException("chunk " + first + ".." + last + " of " + stream + " is missing");
        }
        data = rs.getBytes(1);
      }
    }
    long bytes = 0;
    for (Record r : decode(data, first, last)) {
      if (r.sequence() >= from && r.sequence() <= to) {
        bytes += r.payload().length;
      }
    }
    return bytes;
  }

  private void deleteChunk(String stream, long first) throws SQLException {
    try (PreparedStatement ps =
        db.prepareStatement("DELETE FROM chunks WHERE stream=? AND first_seq=?")) {
      ps.setString(1, stream);
      ps.setLong(2, first);
      ps.executeUpdate();
    }
  }

  private void rewriteChunk(String stream, List<Record> records) throws SQLException {
    long bytes = 0;
    for (Record r : records) {
      bytes += r.payload().length;
    }
    insertChunk.setString(1, stream);
    insertChunk.setLong(2, records.get(0).sequence());
    insertChunk.setLong(3, records.get(records.size() - 1).sequence());
    insertChunk.setLong(4, bytes);
    insertChunk.setLong(5, records.get(0).originMs());
    insertChunk.setLong(6, records.get(records.size() - 1).originMs());
    insertChunk.setBytes(7, RecordLayout.encode(records));
    insertChunk.executeUpdate();
  }

  private void saveStream(Counters c) throws SQLException {
    upsertStream.setString(1, c.name);
    upsertStream.setLong(2, c.lastSeq);
    upsertStream.setLong(3, c.ackedSeq);
    upsertStream.setLong(4, c.syncedRecords);
    upsertStream.setLong(5, c.droppedRecords);
    upsertStream.executeUpdate();
  }

  private Counters counterFor(String stream) {
    return counters.computeIfAbsent(
        stream, s -> new Counters(s, priorities.getOrDefault(s, defaultPriority)));
  }

  private String loadOrCreateStoreId() throws SQLException {
    try (Statement st = db.createStatement();
        ResultSet rs = st.executeQuery("SELECT value FROM meta WHERE key='store_id'")) {
      if (rs.next()) {
        return rs.getString(1);
      }
    }
    String id = java.util.UUID.randomUUID().toString();
    try (PreparedStatement ps =
        db.prepareStatement("INSERT INTO meta(key, value) VALUES ('store_id', ?)")) {
      ps.setString(1, id);
      ps.executeUpdate();
    }
    return id;
  }

  private void loadCounters() throws SQLException {
    loadRecent();
    try (Statement st = db.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT name, last_seq, acked_seq, synced_records, dropped_records FROM streams")) {
      while (rs.next()) {
        Counters c = counterFor(rs.getString(1));
        c.lastSeq = rs.getLong(2);
        c.ackedSeq = rs.getLong(3);
        c.syncedRecords = rs.getLong(4);
        c.droppedRecords = rs.getLong(5);
        c.queuedRecords = 0;
        c.queuedBytes = 0;
      }
    }
    List<String> streams = new ArrayList<>();
    List<long[]> chunks = new ArrayList<>(); // {first, last, bytes}
    try (Statement st = db.createStatement();
        ResultSet rs = st.executeQuery("SELECT stream, first_seq, last_seq, bytes FROM chunks")) {
      while (rs.next()) {
        streams.add(rs.getString(1));
        chunks.add(new long[] {rs.getLong(2), rs.getLong(3), rs.getLong(4)});
      }
    }
    for (int i = 0; i < chunks.size(); i++) {
      Counters c = counterFor(streams.get(i));
      long first = chunks.get(i)[0];
      long last = chunks.get(i)[1];
      long from = Math.max(first, c.ackedSeq + 1);
      if (from <= last) {
        c.queuedRecords += last - from + 1;
        c.queuedBytes += payloadBytes(c.name, first, last, chunks.get(i)[2], from, last);
      }
    }
  }

  private void rollbackAndReload() {
    try {
      db.rollback();
      counters.clear();
      for (String declared : priorities.keySet()) {
        counterFor(declared);
      }
      loadCounters();
      publish();
    } catch (SQLException e) {
      // The connection is unusable; later operations report their own failures.
    }
  }

  private void publish() {
    List<StreamState> list = new ArrayList<>(counters.size());
    for (Counters c : counters.values()) {
      list.add(
          new StreamState(
              c.name, c.priority, c.lastSeq, c.ackedSeq, c.queuedRecords, c.queuedBytes));
    }
    list.sort(Comparator.comparingInt(StreamState::priority).thenComparing(StreamState::name));
    snapshot = List.copyOf(list);
  }

  private void failAll(RuntimeException e) {
    for (AppendRequest r : parked) {
      r.future.completeExceptionally(e);
    }
    parked.clear();
    writer.refuseQueued(e);
  }

  private List<Record> decode(byte[] data, long first, long last) {
    try {
      return RecordLayout.decode(data, first, (int) (last - first + 1));
    } catch (ProtocolException e) {
      throw failure("decoding the corrupt chunk " + first + ".." + last, e);
    }
  }

  /** Runs {@code work} under the lock; an SQLException names {@code operation}. */
  private <T> T locked(String operation, Jdbc.SqlWork<T> work) {
    lock.lock();
    try {
      return work.run();
    } catch (SQLException e) {
      throw failure(operation, e);
    } finally {
      lock.unlock();
    }
  }

  /**
   * Runs {@code work} under the lock and commits it; on an SQLException rolls back, reloads the
   * counters and throws naming {@code operation}.
   */
  private void committed(String operation, Jdbc.SqlWork<?> work) {
    lock.lock();
    try {
      work.run();
      db.commit();
    } catch (SQLException e) {
      rollbackAndReload();
      throw failure(operation, e);
    } finally {
      lock.unlock();
    }
  }

  private OutboxException failure(String operation, Throwable cause) {
    return new OutboxException(operation, file, cause);
  }

  private static final class Counters {
    final String name;
    final int priority;
    long lastSeq;
    long ackedSeq;
    long queuedRecords;
    long queuedBytes;
    long syncedRecords;
    long droppedRecords;

    Counters(String name, int priority) {
      this.name = name;
      this.priority = priority;
    }
  }

  /** One append call; the fields after {@code future} are the writer thread's working state. */
  private static final class AppendRequest implements GroupCommitWriter.Unit {
    final String stream;
    final List<byte[]> payloads;
    final long bytes;
    final long originMs;
    final long enqueuedNanos;
    final CompletableFuture<Appended> future;

    List<byte[]> kept = List.of();
    List<Recent.Key> keptKeys = List.of();
    long keptBytes;

    /** {index, Long sequence | Object[]{request, kept index} resolved after assignment}. */
    List<Object[]> dups = List.of();

    long assigned;

    AppendRequest(
        String stream,
        List<byte[]> payloads,
        long bytes,
        long originMs,
        long enqueuedNanos,
        CompletableFuture<Appended> future) {
      this.stream = stream;
      this.payloads = payloads;
      this.bytes = bytes;
      this.originMs = originMs;
      this.enqueuedNanos = enqueuedNanos;
      this.future = future;
    }

    @Override
    public int weight() {
      return payloads.size();
    }

    @Override
    public void fail(Throwable e) {
      future.completeExceptionally(e);
    }

    Appended result() {
      List<Duplicate> out = new ArrayList<>(dups.size());
      for (Object[] d : dups) {
        long seq;
        if (d[1] instanceof Long l) {
          seq = l;
        } else {
          Object[] ref = (Object[]) d[1];
          seq = ((AppendRequest) ref[0]).assigned + (Integer) ref[1];
        }
        out.add(new Duplicate((Integer) d[0], seq));
      }
      return new Appended(assigned, kept.size(), List.copyOf(out));
    }
  }

  /** A storage failure of the outbox; the message names the operation and the outbox file. */
  public static final class OutboxException extends StoreException {
    public OutboxException(String operation, String file, Throwable cause) {
      super(operation, file, cause);
    }
  }
}
