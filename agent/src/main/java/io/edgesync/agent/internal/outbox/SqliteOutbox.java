package io.edgesync.agent.internal.outbox;

import io.edgesync.agent.EdgeSyncException;
import io.edgesync.agent.OutboxLimits;
import io.edgesync.agent.QueueFullException;
import io.edgesync.agent.internal.atrest.StorageCipher;
import io.edgesync.agent.internal.atrest.StoreKeyCheck;
import io.edgesync.engine.edge.EdgeSyncEngine;
import io.edgesync.engine.edge.Outbox;
import io.edgesync.protocol.Clock;
import io.edgesync.protocol.Record;
import io.edgesync.protocol.RecordLayout;
import io.edgesync.protocol.wire.GapReason;
import io.edgesync.support.jdbc.GroupCommitWriter;
import io.edgesync.support.jdbc.Jdbc;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
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
 * <p>At rest: with a keyring ({@link StorageCipher}), {@code chunks.data} is the {@link
 * RecordLayout} encoding sealed with AES-256-GCM for the chunk's place (stream and range), and
 * {@code meta} holds the key checks of {@link StoreKeyCheck}; one seal per chunk, on the writer
 * thread.
 *
 * <p>Dedup window: a record of such a stream whose payload equals one of the stream's last N
 * appended records is not appended; the append's result names the earlier record's sequence.
 *
 * <p>Parts, package-private and all run under {@code lock}: {@link OutboxTables} reads and writes
 * the rows of {@code chunks}, {@code gaps} and {@code streams}; {@link OutboxDedup} the dedup
 * windows ({@code recent}); {@link OutboxOverflow} the queue limits and drop-oldest; {@link
 * OutboxExpiry} age expiry; {@link OutboxSavedState} the engine's saved state ({@code wire_totals},
 * the budget in {@code meta}, {@code dictionaries}). This class owns the connection, the
 * transactions and the in-memory counters.
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
  private final OutboxTables tables;
  private final OutboxDedup dedup;
  private final OutboxOverflow overflow;
  private final OutboxExpiry expiry;
  private final OutboxSavedState saved;
  private final OutboxLimits limits;
  private final Map<String, Integer> priorities;
  private long duplicateRecords;
  private final int defaultPriority;
  private final Clock clock;
  private final ReentrantLock lock = new ReentrantLock();
  private final Map<String, StreamCounters> counters = new HashMap<>();
  private volatile List<StreamState> snapshot = List.of();
  private final ArrayDeque<AppendRequest> parked = new ArrayDeque<>();
  private final GroupCommitWriter<AppendRequest> writer;
  private volatile Runnable appendListener = () -> {};
  private long rejectedRecords;

  private final String storeId;

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
    this(file, limits, priorities, dedupWindows, defaultPriority, clock, StorageCipher.OFF);
  }

  /**
   * Opens (creating if needed) the outbox file, with record chunks sealed by {@code cipher}.
   *
   * @throws io.edgesync.agent.StorageKeyException if the store and the keyring do not belong
   *     together ({@link StoreKeyCheck}); the file is closed again and nothing in it changed
   */
  public SqliteOutbox(
      Path file,
      OutboxLimits limits,
      Map<String, Integer> priorities,
      Map<String, Integer> dedupWindows,
      int defaultPriority,
      Clock clock,
      StorageCipher cipher)
      throws SQLException {
    this.limits = limits;
    this.priorities = Map.copyOf(priorities);
    this.defaultPriority = defaultPriority;
    this.clock = clock;
    db = OutboxTables.open(file, limits.fullSync());
    tables = new OutboxTables(db, file.toAbsolutePath().toString(), cipher);
    checkKeys(cipher, file);
    dedup = new OutboxDedup(db, dedupWindows);
    overflow = new OutboxOverflow(limits, tables, clock);
    saved = new OutboxSavedState(new Jdbc(db, file.toAbsolutePath().toString()));
    for (String declared : priorities.keySet()) {
      counterFor(declared);
    }
    storeId = tables.loadOrCreateStoreId();
    loadCounters();
    for (StreamCounters c : counters.values()) {
      tables.saveStream(c);
    }
    db.commit();
    publish();
    expiry = new OutboxExpiry(limits, tables, clock.nowMs());
    writer =
        new GroupCommitWriter<>(
            "edgesync-outbox-writer",
            limits.maxPendingAppends(),
            limits.maxGroupRecords(),
            () -> new EdgeSyncException(EdgeSyncException.Code.CLOSED, "outbox is closed"),
            new Writer());
  }

  private void checkKeys(StorageCipher cipher, Path file) throws SQLException {
    try {
      StoreKeyCheck.verify(cipher, "the outbox " + file.toAbsolutePath(), tables.keyCheckMeta());
    } catch (RuntimeException | SQLException e) {
      db.rollback();
      db.close();
      throw e;
    }
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
    IllegalArgumentException invalid = AppendRequest.invalid(stream, payloads);
    if (invalid != null) {
      result.completeExceptionally(invalid);
      return result;
    }
    long bytes = 0;
    for (byte[] p : payloads) {
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
      Item.Gap gap = tables.gapAt(stream, fromSequence);
      if (gap != null) {
        return gap;
      }
      List<Record> out = tables.readRecords(stream, fromSequence, maxRecords, maxBytes);
      if (out.isEmpty()) {
        return tables.gapAt(stream, fromSequence);
      }
      long bytes = 0;
      for (Record r : out) {
        bytes += r.payload().length;
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
      StreamCounters c = counters.get(stream);
      if (c == null || sequence <= c.ackedSeq) {
        if (wire != null) {
          saved.saveWire(stream, wire);
          db.commit();
        }
        return;
      }
      if (sequence > c.lastSeq) {
        throw new IllegalArgumentException(
            "ack of " + stream + " up to " + sequence + " beyond last sequence " + c.lastSeq);
      }
      OutboxTables.Counted settled = tables.deleteAcknowledged(stream, c.ackedSeq, sequence);
      c.ackedSeq = sequence;
      c.syncedRecords += settled.records();
      c.queuedRecords -= settled.records();
      c.queuedBytes -= settled.bytes();
      tables.saveStream(c);
      if (wire != null) {
        saved.saveWire(stream, wire);
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
      StreamCounters c = counters.get(stream);
      if (c == null || cloudCheckpoint >= c.ackedSeq) {
        return null;
      }
      tables.addNotRetainedGaps(stream, cloudCheckpoint + 1, c.ackedSeq, clock.nowMs());
      db.commit();
      return tables.gapAt(stream, cloudCheckpoint + 1);
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
      StreamCounters c = counters.get(stream);
      if (c == null || sequence < 1 || sequence > c.lastSeq) {
        return OperationState.UNKNOWN;
      }
      if (tables.gapAt(stream, sequence) != null) {
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

  /**
   * Records in gaps per stream and reason, all time: {@code QUEUE_FULL} and {@code EXPIRED} are
   * what this agent dropped (they add up to each stream's dropped count); {@code NOT_RETAINED} are
   * records the cloud lost (restored from an older backup) that the agent no longer held.
   */
  public Map<String, Map<GapReason, Long>> gapRecordsByReason() {
    return locked("reading gaps by reason", tables::gapRecordsByReason);
  }

  /** The gap covering {@code sequence}, if that record was dropped. */
  public Item.Gap droppedRange(String stream, long sequence) {
    return locked("looking up gaps of " + stream, () -> tables.gapAt(stream, sequence));
  }

  /**
   * A stream's records accounted for at one moment: every record appended is acknowledged by the
   * cloud, still queued, or dropped here (overflow or age), so {@code appended == acknowledged +
   * queued + dropped}, to the record ({@link #balanced}).
   */
  public record Accounts(
      String stream, long appended, long acknowledged, long queued, long dropped) {
    public boolean balanced() {
      return appended == acknowledged + queued + dropped;
    }
  }

  /** Every stream's {@link Accounts}, from the counters under one lock (no store read). */
  public List<Accounts> accounts() {
    lock.lock();
    try {
      List<Accounts> out = new ArrayList<>();
      for (StreamState s : snapshot) {
        StreamCounters c = counters.get(s.name());
        out.add(
            new Accounts(s.name(), c.lastSeq, c.syncedRecords, c.queuedRecords, c.droppedRecords));
      }
      return out;
    } finally {
      lock.unlock();
    }
  }

  /** Detailed per-stream figures for status and metrics. */
  public List<StreamStatus> streamStatus() {
    lock.lock();
    try {
      List<StreamStatus> out = new ArrayList<>();
      for (StreamState s : snapshot) {
        StreamCounters c = counters.get(s.name());
        long oldest = tables.oldestQueuedMs(s.name(), c.ackedSeq);
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
    return locked("reading the wire totals", saved::wireStats);
  }

  @Override
  public void saveWireStats(Map<String, EdgeSyncEngine.WireStats> totals) {
    committed(
        "saving the wire totals",
        () -> {
          for (Map.Entry<String, EdgeSyncEngine.WireStats> e : totals.entrySet()) {
            saved.saveWire(e.getKey(), e.getValue());
          }
          return null;
        });
  }

  /** The daily byte budget's count, from the {@code meta} table. */
  @Override
  public SavedBudget savedBudget() {
    lock.lock();
    try {
      return saved.budget();
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void saveBudget(long utcDay, long spentBytes) {
    committed(
        "saving the daily budget",
        () -> {
          saved.saveBudget(utcDay, spentBytes);
          return null;
        });
  }

  @Override
  public List<SavedDictionary> savedDictionaries() {
    return locked("reading the dictionaries", saved::dictionaries);
  }

  @Override
  public void saveDictionary(String stream, int id, byte[] bytes) {
    committed(
        "saving dictionary " + id + " of stream " + stream,
        () -> {
          saved.saveDictionary(stream, id, bytes);
          return null;
        });
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
      failAll(new EdgeSyncException(EdgeSyncException.Code.CLOSED, "outbox closed"));
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
    List<Runnable> failures = new ArrayList<>();
    boolean stored = false;
    lock.lock();
    try {
      OutboxOverflow.QueueTotals totals = admit(group, accepted, failures);
      writeAccepted(accepted);
      overflow.makeRoom(counters.values(), totals, !accepted.isEmpty());
      db.commit();
      for (AppendRequest r : accepted) {
        results.add(r.result());
        duplicateRecords += r.payloads.size() - r.kept.size();
      }
      stored = !accepted.isEmpty();
      publish();
    } catch (SQLException | RuntimeException e) {
      rollbackAndReload();
      EdgeSyncException failure = failure("committing appends", e);
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
   * Decides each append of the group, after its stream's dedup window: accepted (added to {@code
   * accepted}), parked behind the appends blocked earlier, or refused (its failure added to {@code
   * failures}, run after the lock is released). Returns the queue totals with the accepted ones.
   */
  private OutboxOverflow.QueueTotals admit(
      List<AppendRequest> group, List<AppendRequest> accepted, List<Runnable> failures) {
    OutboxOverflow.QueueTotals totals = new OutboxOverflow.QueueTotals(counters.values());
    // Digests of records accepted earlier in this group, per dedup stream.
    Map<String, Map<OutboxDedup.Key, AppendRequest.InGroup>> pending = new HashMap<>();
    for (AppendRequest r : group) {
      if (!parked.isEmpty()) {
        parked.add(r); // keep FIFO order behind earlier blocked appends
        continue;
      }
      dedup.split(r, pending.computeIfAbsent(r.stream, k -> new HashMap<>()));
      OutboxOverflow.Admission admission = overflow.admit(r, totals);
      switch (admission.decision()) {
        case REFUSE -> {
          rejectedRecords += r.kept.size();
          String message = admission.refusal();
          failures.add(() -> r.future.completeExceptionally(new QueueFullException(message)));
        }
        case PARK -> parked.add(r);
        case ACCEPT -> {
          accepted.add(r);
          totals.records += r.kept.size();
          totals.bytes += r.keptBytes;
          Map<OutboxDedup.Key, AppendRequest.InGroup> mine = pending.get(r.stream);
          for (int i = 0; i < r.keptKeys.size(); i++) {
            mine.put(r.keptKeys.get(i), new AppendRequest.InGroup(r, i));
          }
        }
      }
    }
    return totals;
  }

  /** Assigns sequences to the accepted appends and writes one chunk per stream; no commit. */
  private void writeAccepted(List<AppendRequest> accepted) throws SQLException {
    Map<String, List<AppendRequest>> byStream = new LinkedHashMap<>();
    for (AppendRequest r : accepted) {
      byStream.computeIfAbsent(r.stream, k -> new ArrayList<>()).add(r);
    }
    for (Map.Entry<String, List<AppendRequest>> e : byStream.entrySet()) {
      StreamCounters c = counterFor(e.getKey());
      long seq = c.lastSeq + 1;
      List<Record> records = new ArrayList<>();
      long bytes = 0;
      for (AppendRequest r : e.getValue()) {
        r.assigned = r.kept.isEmpty() ? 0 : seq;
        for (byte[] p : r.kept) {
          records.add(new Record(seq++, r.originMs, p));
        }
        bytes += r.keptBytes;
      }
      dedup.remember(e.getKey(), e.getValue(), seq - 1);
      if (records.isEmpty()) {
        continue; // every record was a duplicate
      }
      tables.insertChunk(e.getKey(), records);
      c.lastSeq = seq - 1;
      c.queuedRecords += records.size();
      c.queuedBytes += bytes;
      tables.saveStream(c);
    }
  }

  private void maybeExpire() {
    long now = clock.nowMs();
    if (!expiry.due(now)) {
      return;
    }
    lock.lock();
    try {
      expiry.expire(counters, now);
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

  private StreamCounters counterFor(String stream) {
    return counters.computeIfAbsent(
        stream, s -> new StreamCounters(s, priorities.getOrDefault(s, defaultPriority)));
  }

  private void loadCounters() throws SQLException {
    dedup.load();
    tables.loadCounters(this::counterFor);
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
    for (StreamCounters c : counters.values()) {
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

  private EdgeSyncException failure(String operation, Throwable cause) {
    return tables.failure(operation, cause);
  }
}
