package io.edgesync.server;

import io.edgesync.engine.docs.DocKey;
import io.edgesync.engine.docs.DocumentStore;
import io.edgesync.protocol.Hlc;
import io.edgesync.server.cluster.ClusterEvent;
import io.edgesync.server.cluster.PostgresBus;
import io.edgesync.support.jdbc.GroupCommitWriter;
import io.edgesync.support.jdbc.Jdbc;
import io.edgesync.support.jdbc.SavepointGroup;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The {@link DocumentStore} half of {@link SqliteCloudStore}: same file, same connection, same
 * monitor (so a transaction here never interleaves with a stream commit). Schema in {@code
 * db/V4__doc_log.sql}.
 *
 * <p><b>Layout.</b> Every version is one row of {@code doc_log}, keyed by the store-wide version,
 * so writing a version is an append; {@code docs} is a narrow index of the current version of each
 * key (with the tombstone and open-conflict flags that reads and tombstone collection need). The
 * log keeps every key's current version and the newest {@link #HISTORY_VERSIONS} versions as merge
 * bases ({@link DocHistory}: what is kept, and pruning).
 *
 * <p><b>Group commit, cache and batched writes.</b> Transactions wait in a queue; the writer thread
 * runs every waiting one in a single SQLite transaction (each inside its own savepoint, so a
 * failing one rolls back alone) and commits once, so concurrent device sessions share one fsync
 * (the store layer's {@link GroupCommitWriter} and {@link SavepointGroup}; {@link Group} is this
 * store's side of a group). Versions a transaction writes wait in {@link PendingVersions} and are
 * appended with multi-row statements just before the group's commit; the counters in {@link
 * DocMeta} are saved with it. Committed current documents are kept in a write-through {@link
 * DocCache} bounded by {@link #CACHE_MAX_BYTES}, so the key lookup every change starts with is a
 * map lookup. Reads are {@link DocReads}; conflicts and audit {@link ConflictRows}; what is kept
 * per device {@link DeviceDocRows}. Every audit record also enters the hash-chained {@link
 * AuditLog} in the same transaction, so its chain order is the commit order.
 *
 * <p>Threads: the parts are used only under {@link #lock} (the writer thread during a group;
 * readers take the lock between groups, when nothing is pending).
 */
final class SqliteDocuments implements DocumentStore {
  static final long HISTORY_VERSIONS = 1L << 20;

  /** Bound of the cache of current documents (values plus about 200 bytes per entry). */
  static final long CACHE_MAX_BYTES = 64L << 20;

  private static final int MAX_GROUP_TRANSACTIONS = 128;
  private static final int MAX_QUEUED_TRANSACTIONS = 1024;

  private final Object lock;
  private final Jdbc jdbc;
  private final StoreDialect dialect;
  private volatile String nodeId = "local";
  private final DocMeta meta;
  private final DocCache cache = new DocCache(CACHE_MAX_BYTES);
  private final PendingVersions pending;
  private final DocHistory history;
  private final DocReads reads;
  private final ConflictRows conflicts;
  private final DeviceDocRows devices;
  private final AuditLog auditLog;
  private final TxImpl tx = new TxImpl();
  private final StoreSql readSql;
  private final GroupCommitWriter<SavepointGroup.Tx<Tx, ?>> writer;

  SqliteDocuments(Jdbc jdbc, Object lock, long historyVersions) throws SQLException {
    this.lock = lock;
    this.jdbc = jdbc;
    this.dialect = StoreDialect.of(jdbc.connection());
    StoreSql sql = new StoreSql(jdbc, "document store");
    this.readSql = sql;
    this.meta = new DocMeta(jdbc);
    this.history = new DocHistory(jdbc, meta, historyVersions);
    this.pending = new PendingVersions(jdbc);
    this.reads = new DocReads(sql, cache, pending, meta);
    this.auditLog =
        new AuditLog(
            jdbc,
            lock,
            new AuditLog.Transactions() {
              @Override
              public <T> CompletableFuture<T> run(Supplier<T> work) {
                return inTransactionAsync(tx -> work.get());
              }
            },
            System::currentTimeMillis);
    this.conflicts = new ConflictRows(sql, auditLog);
    this.devices = new DeviceDocRows(sql, dialect);
    jdbc.connection().commit();
    writer =
        new GroupCommitWriter<>(
            "edgesync-doc-writer",
            MAX_QUEUED_TRANSACTIONS,
            MAX_GROUP_TRANSACTIONS,
            () -> new IllegalStateException("cloud store is closed"),
            new SavepointGroup<>(jdbc, lock, "document transaction", new Group()));
  }

  @Override
  public <T> CompletableFuture<T> inTransactionAsync(Function<Tx, T> work) {
    CompletableFuture<T> done = new CompletableFuture<>();
    if (!writer.isClosed() && writer.isWriterThread()) {
      done.completeExceptionally(new IllegalStateException("nested document transaction"));
      return done;
    }
    writer.submit(new SavepointGroup.Tx<>(work, done));
    return done;
  }

  /** True on the writer thread, while (or between) its groups' transactions. */
  boolean onWriterThread() {
    return !writer.isClosed() && writer.isWriterThread();
  }

  /** The tamper-evident audit log, written on this store's writer thread. */
  AuditLog auditLog() {
    return auditLog;
  }

  void close() {
    auditLog.close();
    writer.stop();
    writer.refuseQueued(new IllegalStateException("cloud store is closed"));
  }

  /**
   * The store's side of a group: versions a transaction writes stay pending until the group's
   * flush; a transaction that fails takes its versions back out.
   */
  private final class Group implements SavepointGroup.Store<Tx> {
    private DocMeta.Mark groupStart;
    private AuditLog.Mark auditStart;

    @Override
    public void begin() throws SQLException {
      groupStart = meta.mark();
      auditStart = auditLog.mark();
      long known = meta.version();
      meta.lockAndCatchUp(); // another node's versions (PostgreSQL); the audit head: AuditLog.flush
      forgetCachedIfMoved(known);
      pending.begin(meta.version());
    }

    @Override
    public <T> T run(Function<Tx, T> work) {
      DocMeta.Mark metaBefore = meta.mark();
      PendingVersions.Mark pendingBefore = pending.mark(meta.version());
      AuditLog.Mark auditBefore = auditLog.mark();
      try {
        T result = work.apply(tx);
        pending.release();
        return result;
      } catch (RuntimeException | Error e) {
        meta.restore(metaBefore);
        pending.rollBackTo(pendingBefore);
        auditLog.restore(auditBefore);
        throw e;
      } finally {
        pending.endTransaction();
        conflicts.endTransaction();
      }
    }

    @Override
    public void beforeCommit() throws SQLException {
      notifyOtherNodes(pending.scopes());
      pending.flush();
      auditLog.flush();
      history.pruneIfDue();
      meta.saveChangedSince(groupStart);
    }

    @Override
    public void committed() {
      pending.committed(cache);
    }

    @Override
    public void rolledBack() {
      meta.restore(groupStart);
      auditLog.restore(auditStart);
    }

    @Override
    public void end() {
      pending.clear();
      auditLog.endGroup();
    }
  }

  /** A transaction's view. Not thread safe on its own: used only under {@link #lock}. */
  private final class TxImpl implements Tx {
    @Override
    public long lastChangeSeq(String deviceId) {
      return devices.lastChangeSeq(deviceId);
    }

    @Override
    public void setLastChangeSeq(String deviceId, long changeSeq) {
      devices.setLastChangeSeq(deviceId, changeSeq);
    }

    @Override
    public void requestResend(
        String deviceId, long changeSeq, String scope, String collection, String key) {
      devices.requestResend(deviceId, changeSeq, new DocKey(scope, collection, key));
    }

    @Override
    public void resendMet(
        String deviceId, long changeSeq, String scope, String collection, String key) {
      devices.resendMet(deviceId, changeSeq, new DocKey(scope, collection, key));
    }

    @Override
    public List<Long> resendRequests(String deviceId) {
      return devices.resendRequests(deviceId);
    }

    @Override
    public StoredDoc doc(String scope, String collection, String key) {
      return reads.current(new DocKey(scope, collection, key));
    }

    @Override
    public StoredDoc collectedDelete(String scope, String collection, String key) {
      return jdbc.call(
          "document store", () -> history.collected(new DocKey(scope, collection, key)));
    }

    @Override
    public StoredDoc version(String scope, String collection, String key, long version) {
      return reads.version(new DocKey(scope, collection, key), version);
    }

    @Override
    public StoredDoc write(DocWrite w) {
      DocKey k = new DocKey(w.scope(), w.collection(), w.key());
      StoredDoc previous = reads.current(k);
      StoredDoc d =
          new StoredDoc(
              w.scope(),
              w.collection(),
              w.key(),
              meta.nextVersion(),
              w.value(),
              w.hlc(),
              w.writer(),
              w.foreignVersion(),
              w.conflictId(),
              w.originDevice(),
              w.originChangeSeq(),
              w.nowMs());
      if (previous != null && history.outlivesPruning(previous.version())) {
        pending.supersede(previous.version());
      }
      pending.add(k, d);
      return d;
    }

    @Override
    public long openConflict(ConflictRecord c) {
      return conflicts.open(c);
    }

    @Override
    public void updateConflictEdge(
        long conflictId, String deviceId, long changeSeq, byte[] edgeValue, Hlc edgeHlc) {
      conflicts.updateEdge(conflictId, deviceId, changeSeq, edgeValue, edgeHlc);
    }

    @Override
    public ConflictRecord conflict(long conflictId) {
      return conflicts.conflict(conflictId);
    }

    @Override
    public long openConflictOn(String scope, String collection, String key) {
      return conflicts.openOn(new DocKey(scope, collection, key));
    }

    @Override
    public long openConflictOf(String scope, String collection, String key, String deviceId) {
      return conflicts.openOf(new DocKey(scope, collection, key), deviceId);
    }

    @Override
    public void closeConflict(
        long conflictId,
        String outcome,
        String resolvedBy,
        long resultVersion,
        byte[] resultValue,
        long nowMs) {
      conflicts.close(conflictId, outcome, resolvedBy, resultVersion, resultValue, nowMs);
    }

    @Override
    public void audit(AuditRecord a) {
      conflicts.audit(a);
    }

    @Override
    public Hlc lastHlc() {
      return meta.hlc();
    }

    @Override
    public void saveHlc(Hlc h) {
      meta.advanceHlc(h);
    }
  }

  // ---------------------------------------------------------------- reads, each under the lock

  /**
   * A read between groups is done: ends its implicit transaction on PostgreSQL ({@link
   * StoreDialect#endRead}). Never on the writer thread, whose group's transaction is open.
   */
  private <T> T endRead(T result) {
    if (!onWriterThread()) {
      jdbc.call(
          "document store",
          () -> {
            dialect.endRead(jdbc);
            return null;
          });
    }
    return result;
  }

  @Override
  public StoredDoc get(String scope, String collection, String key) {
    synchronized (lock) {
      long known = meta.version();
      readSql.call(
          () -> {
            meta.catchUp();
            return null;
          });
      forgetCachedIfMoved(known);
      return endRead(reads.current(new DocKey(scope, collection, key)));
    }
  }

  /** Names this node in the notifications it sends ({@link #notifyOtherNodes}). */
  void nodeId(String id) {
    this.nodeId = id;
  }

  /**
   * On PostgreSQL, inside the group's transaction: tells the other server nodes sharing the
   * database which scopes the group changed ({@code NOTIFY} on the cluster bus's channel), so their
   * sessions push the new versions. PostgreSQL delivers a notification when, and only if, its
   * transaction commits: a node that dies after the commit has told the others already.
   */
  private void notifyOtherNodes(java.util.SortedSet<String> scopes) throws SQLException {
    if (dialect != StoreDialect.POSTGRES || scopes.isEmpty()) {
      return;
    }
    ClusterEvent e = new ClusterEvent(nodeId, ClusterEvent.Kind.DOCS, List.copyOf(scopes));
    for (String payload : PostgresBus.payloads(e)) {
      jdbc.queryLong("SELECT 1 FROM (SELECT pg_notify(?, ?)) n", 0, PostgresBus.CHANNEL, payload);
    }
  }

  /**
   * On PostgreSQL another server node may have written documents since this node's cache learned
   * them: when the stored document version moved past {@code known}, the cached versions may be
   * stale, and are forgotten (read again from the database as needed). Never on SQLite, whose one
   * writer is this store.
   */
  private void forgetCachedIfMoved(long known) {
    if (meta.version() != known) {
      cache.clear();
    }
  }

  /**
   * After the store's lost connection was replaced (under the lock, between groups): the cached
   * versions are forgotten, as another node may have written meanwhile (the counters in {@link
   * DocMeta} and the audit head are read again at every group anyway).
   */
  void forgetCached() {
    cache.clear();
  }

  @Override
  public List<StoredDoc> list(String scope, String collection, String afterKey, int limit) {
    synchronized (lock) {
      return endRead(reads.list(scope, collection, afterKey, limit));
    }
  }

  @Override
  public List<StoredDoc> changesAfter(String scope, long afterVersion, int limit) {
    synchronized (lock) {
      return endRead(reads.changesAfter(scope, afterVersion, limit));
    }
  }

  @Override
  public List<ConflictRecord> conflicts(ConflictFilter f) {
    synchronized (lock) {
      return endRead(conflicts.conflicts(f));
    }
  }

  @Override
  public long conflictIdBefore(long createdMs) {
    synchronized (lock) {
      return endRead(conflicts.idBefore(createdMs));
    }
  }

  /** Conflicts by strategy and status (a count per pair; for the metrics). */
  List<ConflictRows.Tally> conflictTallies() {
    synchronized (lock) {
      return endRead(conflicts.tallies());
    }
  }

  @Override
  public ConflictRecord conflict(long conflictId) {
    synchronized (lock) {
      return endRead(conflicts.conflict(conflictId));
    }
  }

  @Override
  public List<AuditRecord> audit(AuditFilter f) {
    synchronized (lock) {
      return endRead(conflicts.audit(f));
    }
  }

  @Override
  public List<String> groups(String deviceId) {
    synchronized (lock) {
      return endRead(devices.groups(deviceId));
    }
  }

  @Override
  public void setGroups(String deviceId, List<String> groups) {
    synchronized (lock) {
      devices.setGroups(deviceId, groups);
    }
  }

  @Override
  public List<String> devicesReading(String scope) {
    synchronized (lock) {
      return endRead(devices.devicesReading(scope));
    }
  }

  @Override
  public void saveCursors(String deviceId, Map<String, Long> cursors) {
    synchronized (lock) {
      devices.saveCursors(deviceId, cursors, history, cache);
    }
  }
}
