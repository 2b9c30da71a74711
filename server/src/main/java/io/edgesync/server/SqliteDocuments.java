package io.edgesync.server;

import io.edgesync.engine.docs.DocKey;
import io.edgesync.engine.docs.DocumentStore;
import io.edgesync.protocol.Hlc;
import io.edgesync.support.jdbc.GroupCommitWriter;
import io.edgesync.support.jdbc.Jdbc;
import io.edgesync.support.jdbc.SavepointGroup;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * The {@link DocumentStore} half of {@link SqliteCloudStore}: same file, same connection, same
 * monitor (so a transaction here never interleaves with a stream commit). Schema in {@code
 * db/V4__doc_log.sql}.
 *
 * <p><b>Layout.</b> Every version is one row of {@code doc_log}, keyed by the store-wide version,
 * so writing a version is an append; {@code docs} is a narrow index of the current version of each
 * key (with the tombstone and open-conflict flags that reads and tombstone collection need). The
 * log keeps every key's current version and, as merge bases, the newest {@link #HISTORY_VERSIONS}
 * versions of the whole store; an older base is "unknown" to a three-way merge (it then treats
 * every differing field as changed on both sides) and a merge patch against it is answered with
 * "resend whole". A base equal to the current version never needs the history.
 *
 * <p><b>Pruning.</b> Log rows in {@code (prunedUpTo, version - historyVersions]} that are not
 * current are deleted every {@code pruneEveryVersions} versions; a current row at or below {@code
 * prunedUpTo} survives that pass and is deleted when its key gets a newer version (or its tombstone
 * is collected).
 *
 * <p><b>Group commit, cache and batched writes.</b> Transactions wait in a queue; the writer thread
 * runs every waiting one in a single SQLite transaction (each inside its own savepoint, so a
 * failing one rolls back alone) and commits once, so concurrent device sessions share one fsync
 * (the store layer's {@link GroupCommitWriter} and {@link SavepointGroup}; {@link Group} is this
 * store's side of a group). Versions a transaction writes are not sent to SQLite one statement at a
 * time: they are kept in memory ({@code txDocs}, {@code pendingLog}) and appended with multi-row
 * statements just before the group's commit; reads inside the group see them first. Committed
 * current documents are kept in a write-through cache bounded by {@link #CACHE_MAX_BYTES}, so the
 * key lookup every change starts with is a map lookup.
 *
 * <p>Threads: every field below is used only under {@link #lock} (the writer thread during a group;
 * readers take the lock between groups, when the pending state is empty).
 */
final class SqliteDocuments implements DocumentStore {
  static final long HISTORY_VERSIONS = 1L << 20;

  /** Bound of the cache of current documents (values plus about 200 bytes per entry). */
  static final long CACHE_MAX_BYTES = 64L << 20;

  private static final int MAX_GROUP_TRANSACTIONS = 128;
  private static final int MAX_QUEUED_TRANSACTIONS = 1024;

  /** Rows per multi-row statement (and the smaller sizes used for the rest). */
  private static final int[] ROWS_PER_STATEMENT = {64, 8, 1};

  private static final String LOG_COLUMNS =
      "scope, collection, key, version, value, hlc_wall, hlc_logical, hlc_node, writer,"
          + " foreign_version, conflict_id, origin_device, origin_change_seq, updated_ms";
  private static final String DOC_COLUMNS =
      "l.scope, l.collection, l.key, l.version, l.value, l.hlc_wall, l.hlc_logical, l.hlc_node,"
          + " l.writer, l.foreign_version, l.conflict_id, l.origin_device, l.origin_change_seq,"
          + " l.updated_ms";
  private static final String CURRENT = "docs d JOIN doc_log l ON l.version=d.version";
  private static final String CONFLICT_COLUMNS =
      "id, scope, collection, key, device, strategy, status, flagged, base_version, base_value,"
          + " cloud_version, cloud_value, cloud_hlc, edge_change_seq, edge_value, edge_hlc,"
          + " field_conflicts, note, outcome, resolved_by, result_version, result_value, created_ms,"
          + " resolved_ms";
  private static final String AUDIT_COLUMNS =
      "id, at_ms, conflict_id, scope, collection, key, device, strategy, outcome, resolved_by,"
          + " base_version, base_value, cloud_version, cloud_value, cloud_hlc, edge_value, edge_hlc,"
          + " result_version, result_value, note, shared_values";

  /*
   * audit.shared_values: bit 0 base, 1 cloud, 2 edge, 3 result = that value is not copied into the
   * audit row because the conflict row it names holds the same bytes (an automatic resolution
   * writes both at once); AUDIT_SELECT reads it from there.
   */
  private static final String AUDIT_SELECT =
      "SELECT a.id, a.at_ms, a.conflict_id, a.scope, a.collection, a.key, a.device, a.strategy,"
          + " a.outcome, a.resolved_by, a.base_version,"
          + " CASE WHEN a.shared_values & 1 THEN c.base_value ELSE a.base_value END,"
          + " a.cloud_version,"
          + " CASE WHEN a.shared_values & 2 THEN c.cloud_value ELSE a.cloud_value END,"
          + " a.cloud_hlc,"
          + " CASE WHEN a.shared_values & 4 THEN c.edge_value ELSE a.edge_value END,"
          + " a.edge_hlc, a.result_version,"
          + " CASE WHEN a.shared_values & 8 THEN c.result_value ELSE a.result_value END, a.note"
          + " FROM audit a LEFT JOIN conflicts c ON c.id=a.conflict_id WHERE a.id>?";

  private final Connection db;
  private final Jdbc jdbc;
  private final Object lock;
  private final long historyVersions;
  private final long pruneEveryVersions;
  private final PreparedStatement selectDoc;
  private final PreparedStatement[] insertLog = new PreparedStatement[ROWS_PER_STATEMENT.length];
  private final PreparedStatement[] upsertDocs = new PreparedStatement[ROWS_PER_STATEMENT.length];
  private final PreparedStatement deleteLogRow;
  private final PreparedStatement pruneLog;
  private final PreparedStatement selectVersion;
  private final PreparedStatement saveMeta;
  private final TxImpl tx = new TxImpl();
  private final GroupCommitWriter<SavepointGroup.Tx<Tx, ?>> writer;

  private long docVersion;
  private Hlc hlc;
  private long prunedUpTo;
  private final DocCache cache;

  /** Current versions written by released transactions of the running group, not yet in SQL. */
  private final Map<DocKey, StoredDoc> groupDocs = new HashMap<>();

  /** Current versions written by the running transaction. */
  private final Map<DocKey, StoredDoc> txDocs = new HashMap<>();

  /** Every version written in the running group, in version order (versions are consecutive). */
  private final List<StoredDoc> pendingLog = new ArrayList<>();

  /** The version before the running group's first write: pendingLog.get(i) is version base+1+i. */
  private long pendingLogBase;

  /**
   * Devices that may have rows in {@code doc_resend} (a superset: a rolled-back request may leave a
   * name here), so that the check every change makes needs no statement for the others.
   */
  private final java.util.Set<String> devicesWithResends = new java.util.HashSet<>();

  /** Superseded log rows at or below {@link #prunedUpTo}: no pass would delete them. */
  private final List<Long> pendingStale = new ArrayList<>();

  /** What a group restores when it is rolled back (set when it begins). */
  private long groupVersion;

  private long groupPruned;
  private Hlc groupHlc;

  SqliteDocuments(Jdbc jdbc, Object lock, long historyVersions) throws SQLException {
    if (historyVersions < 1) {
      throw new IllegalArgumentException("historyVersions must be >= 1, not " + historyVersions);
    }
    this.jdbc = jdbc;
    this.db = jdbc.connection();
    this.lock = lock;
    this.historyVersions = historyVersions;
    this.pruneEveryVersions = Math.max(1, Math.min(4096, historyVersions / 4));
    this.cache = new DocCache(CACHE_MAX_BYTES);
    selectDoc =
        db.prepareStatement(
            "SELECT "
                + DOC_COLUMNS
                + " FROM "
                + CURRENT
                + " WHERE d.scope=? AND d.collection=? AND d.key=?");
    for (int i = 0; i < ROWS_PER_STATEMENT.length; i++) {
      int n = ROWS_PER_STATEMENT[i];
      insertLog[i] =
          db.prepareStatement("INSERT INTO doc_log(" + LOG_COLUMNS + ") VALUES " + rows(n, 14));
      upsertDocs[i] =
          db.prepareStatement(
              "INSERT INTO docs(scope, collection, key, version, deleted, conflict_id) VALUES "
                  + rows(n, 6)
                  + " ON CONFLICT(scope, collection, key) DO UPDATE SET version=excluded.version,"
                  + " deleted=excluded.deleted, conflict_id=excluded.conflict_id");
    }
    deleteLogRow = db.prepareStatement("DELETE FROM doc_log WHERE version=?");
    pruneLog =
        db.prepareStatement(
            "DELETE FROM doc_log WHERE version>? AND version<=? AND NOT EXISTS (SELECT 1 FROM docs d"
                + " WHERE d.scope=doc_log.scope AND d.collection=doc_log.collection AND"
                + " d.key=doc_log.key AND d.version=doc_log.version)");
    selectVersion =
        db.prepareStatement(
            "SELECT value, hlc_wall, hlc_logical, hlc_node FROM doc_log WHERE version=? AND"
                + " scope=? AND collection=? AND key=?");
    saveMeta = db.prepareStatement("INSERT OR REPLACE INTO meta(k, v, t) VALUES (?,?,?)");
    try (PreparedStatement ps = db.prepareStatement("SELECT k, v, t FROM meta");
        ResultSet rs = ps.executeQuery()) {
      hlc = Hlc.ZERO;
      while (rs.next()) {
        switch (rs.getString(1)) {
          case "doc_version" -> docVersion = rs.getLong(2);
          case "doc_log_pruned" -> prunedUpTo = rs.getLong(2);
          case "hlc" -> hlc = rs.getString(3) == null ? hlc : Hlc.parse(rs.getString(3));
          default -> {}
        }
      }
    }
    try (PreparedStatement ps = db.prepareStatement("SELECT DISTINCT device FROM doc_resend");
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        devicesWithResends.add(rs.getString(1));
      }
    }
    db.commit();
    writer =
        new GroupCommitWriter<>(
            "edgesync-doc-writer",
            MAX_QUEUED_TRANSACTIONS,
            MAX_GROUP_TRANSACTIONS,
            () -> new IllegalStateException("cloud store is closed"),
            new SavepointGroup<>(jdbc, lock, "document transaction", new Group()));
  }

  /** "(?,?,?),(?,?,?)" for {@code rows} rows of {@code columns} columns. */
  private static String rows(int rows, int columns) {
    String row = "(" + "?,".repeat(columns - 1) + "?)";
    return String.join(",", java.util.Collections.nCopies(rows, row));
  }

  private record Opened(long id, byte[][] values) {}

  /** A document's identity within the store. */

  /**
   * The committed current versions of recently used keys, least recently used evicted first,
   * bounded by an estimate of their bytes. Only under {@link #lock}.
   */
  private static final class DocCache extends java.util.LinkedHashMap<DocKey, StoredDoc> {
    private static final int ENTRY_OVERHEAD_BYTES = 200;
    private final long maxBytes;
    private long bytes;

    DocCache(long maxBytes) {
      super(1024, 0.75f, true);
      this.maxBytes = maxBytes;
    }

    static long size(DocKey k, StoredDoc d) {
      return ENTRY_OVERHEAD_BYTES
          + 2L * (k.scope().length() + k.collection().length() + k.key().length())
          + (d.value() == null ? 0 : d.value().length);
    }

    void store(DocKey k, StoredDoc d) {
      StoredDoc old = put(k, d);
      if (old != null) {
        bytes -= size(k, old);
      }
      bytes += size(k, d);
      if (bytes > maxBytes) {
        var it = entrySet().iterator(); // least recently used first
        while (bytes > maxBytes && it.hasNext()) {
          var e = it.next();
          bytes -= size(e.getKey(), e.getValue());
          it.remove();
        }
      }
    }

    void evict(DocKey k) {
      StoredDoc old = remove(k);
      if (old != null) {
        bytes -= size(k, old);
      }
    }
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

  /**
   * The store's side of a group: versions a transaction writes stay in memory until the group's
   * flush; a transaction that fails takes its versions back out.
   */
  private final class Group implements SavepointGroup.Store<Tx> {
    @Override
    public void begin() {
      groupVersion = docVersion;
      groupPruned = prunedUpTo;
      groupHlc = hlc;
      pendingLogBase = docVersion;
    }

    @Override
    public <T> T run(Function<Tx, T> work) {
      long versionBefore = docVersion;
      Hlc hlcBefore = hlc;
      int staleBefore = pendingStale.size();
      try {
        T result = work.apply(tx);
        groupDocs.putAll(txDocs);
        return result;
      } catch (RuntimeException | Error e) {
        docVersion = versionBefore;
        hlc = hlcBefore;
        pendingLog.subList((int) (versionBefore - pendingLogBase), pendingLog.size()).clear();
        pendingStale.subList(staleBefore, pendingStale.size()).clear();
        throw e;
      } finally {
        txDocs.clear();
        tx.lastOpened = null;
      }
    }

    @Override
    public void beforeCommit() throws SQLException {
      flush();
      if (docVersion != groupVersion) {
        saveMeta("doc_version", docVersion, null);
      }
      if (prunedUpTo != groupPruned) {
        saveMeta("doc_log_pruned", prunedUpTo, null);
      }
      if (!hlc.equals(groupHlc)) {
        saveMeta("hlc", 0, hlc.toString());
      }
    }

    @Override
    public void committed() {
      groupDocs.forEach(cache::store);
    }

    @Override
    public void rolledBack() {
      docVersion = groupVersion;
      hlc = groupHlc;
      prunedUpTo = groupPruned;
    }

    @Override
    public void end() {
      groupDocs.clear();
      txDocs.clear();
      pendingLog.clear();
      pendingStale.clear();
    }
  }

  /**
   * Writes the group's versions: appends the log rows, points {@code docs} at the new current
   * versions, deletes superseded rows no pass would reach and runs a pruning pass when due.
   */
  private void flush() throws SQLException {
    writeRows(insertLog, pendingLog, 14, SqliteDocuments::bindLogRow);
    writeRows(upsertDocs, new ArrayList<>(groupDocs.values()), 6, SqliteDocuments::bindDocsRow);
    for (long stale : pendingStale) {
      deleteLogRow.setLong(1, stale);
      deleteLogRow.executeUpdate();
    }
    long cutoff = docVersion - historyVersions;
    if (cutoff - prunedUpTo >= pruneEveryVersions) {
      pruneLog.setLong(1, prunedUpTo);
      pruneLog.setLong(2, cutoff);
      pruneLog.executeUpdate();
      prunedUpTo = cutoff;
    }
  }

  private interface RowBinder {
    void bind(PreparedStatement ps, int offset, StoredDoc d) throws SQLException;
  }

  /** Runs the multi-row statements, largest first, over {@code rows}. */
  private static void writeRows(
      PreparedStatement[] bySize, List<StoredDoc> rows, int columns, RowBinder binder)
      throws SQLException {
    int next = 0;
    for (int s = 0; s < ROWS_PER_STATEMENT.length; s++) {
      int n = ROWS_PER_STATEMENT[s];
      while (rows.size() - next >= n) {
        for (int r = 0; r < n; r++) {
          binder.bind(bySize[s], r * columns, rows.get(next + r));
        }
        bySize[s].executeUpdate();
        next += n;
      }
    }
  }

  private static void bindLogRow(PreparedStatement ps, int o, StoredDoc d) throws SQLException {
    ps.setString(o + 1, d.scope());
    ps.setString(o + 2, d.collection());
    ps.setString(o + 3, d.key());
    ps.setLong(o + 4, d.version());
    ps.setBytes(o + 5, d.value());
    ps.setLong(o + 6, d.hlc().wallMs());
    ps.setInt(o + 7, d.hlc().logical());
    ps.setString(o + 8, d.hlc().node());
    ps.setString(o + 9, d.writer());
    ps.setLong(o + 10, d.foreignVersion());
    ps.setLong(o + 11, d.conflictId());
    ps.setString(o + 12, d.originDevice());
    ps.setLong(o + 13, d.originChangeSeq());
    ps.setLong(o + 14, d.updatedMs());
  }

  private static void bindDocsRow(PreparedStatement ps, int o, StoredDoc d) throws SQLException {
    ps.setString(o + 1, d.scope());
    ps.setString(o + 2, d.collection());
    ps.setString(o + 3, d.key());
    ps.setLong(o + 4, d.version());
    ps.setInt(o + 5, d.deleted() ? 1 : 0);
    ps.setLong(o + 6, d.conflictId());
  }

  void close() {
    writer.stop();
    writer.refuseQueued(new IllegalStateException("cloud store is closed"));
  }

  private void saveMeta(String k, long v, String t) throws SQLException {
    saveMeta.setString(1, k);
    saveMeta.setLong(2, v);
    saveMeta.setString(3, t);
    saveMeta.executeUpdate();
  }

  /** The current version of a key: written in this group, cached, or read (and then cached). */
  private StoredDoc current(DocKey k) throws SQLException {
    StoredDoc d = txDocs.get(k);
    if (d == null) {
      d = groupDocs.get(k);
    }
    if (d == null) {
      d = cache.get(k);
    }
    if (d != null) {
      return d;
    }
    selectDoc.setString(1, k.scope());
    selectDoc.setString(2, k.collection());
    selectDoc.setString(3, k.key());
    try (ResultSet rs = selectDoc.executeQuery()) {
      d = rs.next() ? readDoc(rs) : null;
    }
    if (d != null) {
      cache.store(k, d);
    }
    return d;
  }

  /** Not thread safe on its own: used only under {@link #lock} inside a transaction. */
  private final class TxImpl implements Tx {
    @Override
    public long lastChangeSeq(String deviceId) {
      return sql(
          () ->
              jdbc.queryLong(
                  "SELECT last_change_seq FROM device_docs WHERE device=?", 0, deviceId));
    }

    @Override
    public void setLastChangeSeq(String deviceId, long changeSeq) {
      update(
          "INSERT OR REPLACE INTO device_docs(device, last_change_seq) VALUES (?,?)",
          deviceId,
          changeSeq);
    }

    @Override
    public void requestResend(
        String deviceId, long changeSeq, String scope, String collection, String key) {
      update(
          "INSERT OR REPLACE INTO doc_resend(device, change_seq, scope, collection, key) VALUES"
              + " (?,?,?,?,?)",
          deviceId,
          changeSeq,
          scope,
          collection,
          key);
      devicesWithResends.add(deviceId);
    }

    @Override
    public void resendMet(
        String deviceId, long changeSeq, String scope, String collection, String key) {
      if (!devicesWithResends.contains(deviceId)) {
        return; // the common case, without a statement
      }
      update(
          "DELETE FROM doc_resend WHERE device=? AND change_seq<? AND scope=? AND collection=? AND"
              + " key=?",
          deviceId,
          changeSeq,
          scope,
          collection,
          key);
    }

    @Override
    public List<Long> resendRequests(String deviceId) {
      if (!devicesWithResends.contains(deviceId)) {
        return List.of();
      }
      List<Long> seqs =
          sql(
              () -> {
                PreparedStatement ps =
                    jdbc.prepared(
                        "SELECT change_seq FROM doc_resend WHERE device=? ORDER BY change_seq");
                ps.setString(1, deviceId);
                List<Long> out = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                  while (rs.next()) {
                    out.add(rs.getLong(1));
                  }
                }
                return out;
              });
      if (seqs.isEmpty()) {
        devicesWithResends.remove(deviceId);
      }
      return seqs;
    }

    @Override
    public StoredDoc doc(String scope, String collection, String key) {
      return sql(() -> current(new DocKey(scope, collection, key)));
    }

    @Override
    public StoredDoc version(String scope, String collection, String key, long version) {
      if (version > pendingLogBase && version <= docVersion) {
        StoredDoc d = pendingLog.get((int) (version - pendingLogBase - 1));
        boolean same =
            d.scope().equals(scope) && d.collection().equals(collection) && d.key().equals(key);
        return same ? d : null;
      }
      return sql(
          () -> {
            selectVersion.setLong(1, version);
            selectVersion.setString(2, scope);
            selectVersion.setString(3, collection);
            selectVersion.setString(4, key);
            try (ResultSet rs = selectVersion.executeQuery()) {
              if (!rs.next()) {
                return null;
              }
              Hlc h = new Hlc(rs.getLong(2), rs.getInt(3), rs.getString(4));
              return new StoredDoc(
                  scope, collection, key, version, rs.getBytes(1), h, "", 0, 0, "", 0, 0);
            }
          });
    }

    @Override
    public StoredDoc write(DocWrite w) {
      DocKey k = new DocKey(w.scope(), w.collection(), w.key());
      StoredDoc previous = sql(() -> current(k));
      long version = docVersion + 1;
      StoredDoc d =
          new StoredDoc(
              w.scope(),
              w.collection(),
              w.key(),
              version,
              w.value(),
              w.hlc(),
              w.writer(),
              w.foreignVersion(),
              w.conflictId(),
              w.originDevice(),
              w.originChangeSeq(),
              w.nowMs());
      if (previous != null && previous.version() <= prunedUpTo) {
        pendingStale.add(previous.version());
      }
      pendingLog.add(d);
      txDocs.put(k, d);
      docVersion = version;
      return d;
    }

    @Override
    public long openConflict(ConflictRecord c) {
      return sql(
          () -> {
            {
              PreparedStatement ps =
                  jdbc.prepared(
                      "INSERT INTO conflicts("
                          + CONFLICT_COLUMNS.substring(4)
                          + ") VALUES"
                          + " (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING id");
              Object[] v = {
                c.scope(),
                c.collection(),
                c.key(),
                c.deviceId(),
                c.strategy(),
                c.status(),
                c.flagged() ? 1 : 0,
                c.baseVersion(),
                c.baseValue(),
                c.cloudVersion(),
                c.cloudValue(),
                str(c.cloudHlc()),
                c.edgeChangeSeq(),
                c.edgeValue(),
                str(c.edgeHlc()),
                c.fieldConflicts(),
                c.note(),
                c.outcome(),
                c.resolvedBy(),
                c.resultVersion(),
                c.resultValue(),
                c.createdMs(),
                c.resolvedMs()
              };
              Jdbc.bind(ps, v);
              long id;
              try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                id = rs.getLong(1);
              }
              lastOpened =
                  new Opened(
                      id,
                      new byte[][] {c.baseValue(), c.cloudValue(), c.edgeValue(), c.resultValue()});
              return id;
            }
          });
    }

    /**
     * The conflict this transaction opened last, with its base, cloud, edge and result values, so
     * that its audit record need not read them back. Null after any other change to a conflict row
     * and between transactions.
     */
    private Opened lastOpened;

    @Override
    public void updateConflictEdge(
        long conflictId, String deviceId, long changeSeq, byte[] edgeValue, Hlc edgeHlc) {
      lastOpened = null;
      update(
          "UPDATE conflicts SET device=?, edge_change_seq=?, edge_value=?, edge_hlc=? WHERE id=?",
          deviceId,
          changeSeq,
          edgeValue,
          edgeHlc.toString(),
          conflictId);
    }

    @Override
    public ConflictRecord conflict(long conflictId) {
      return SqliteDocuments.this.conflictUnlocked(conflictId);
    }

    @Override
    public long openConflictOn(String scope, String collection, String key) {
      return sql(
          () ->
              jdbc.queryLong(
                  "SELECT coalesce(max(id), 0) FROM conflicts WHERE scope=? AND collection=? AND"
                      + " key=? AND status='open'",
                  0,
                  scope,
                  collection,
                  key));
    }

    @Override
    public long openConflictOf(String scope, String collection, String key, String deviceId) {
      return sql(
          () ->
              jdbc.queryLong(
                  "SELECT coalesce(max(id), 0) FROM conflicts WHERE scope=? AND collection=? AND"
                      + " key=? AND device=? AND status='open'",
                  0,
                  scope,
                  collection,
                  key,
                  deviceId));
    }

    @Override
    public void closeConflict(
        long conflictId,
        String outcome,
        String resolvedBy,
        long resultVersion,
        byte[] resultValue,
        long nowMs) {
      lastOpened = null;
      update(
          "UPDATE conflicts SET status='resolved', outcome=?, resolved_by=?, result_version=?,"
              + " result_value=?, resolved_ms=? WHERE id=?",
          outcome,
          resolvedBy,
          resultVersion,
          resultValue,
          nowMs,
          conflictId);
    }

    @Override
    public void audit(AuditRecord a) {
      byte[][] values = {a.baseValue(), a.cloudValue(), a.edgeValue(), a.resultValue()};
      int shared = a.conflictId() == 0 ? 0 : shareWithConflict(a.conflictId(), values);
      update(
          "INSERT INTO audit("
              + AUDIT_COLUMNS.substring(4)
              + ") VALUES"
              + " (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
          a.atMs(),
          a.conflictId(),
          a.scope(),
          a.collection(),
          a.key(),
          a.deviceId(),
          a.strategy(),
          a.outcome(),
          a.resolvedBy(),
          a.baseVersion(),
          values[0],
          a.cloudVersion(),
          values[1],
          str(a.cloudHlc()),
          values[2],
          str(a.edgeHlc()),
          a.resultVersion(),
          values[3],
          a.note(),
          shared);
    }

    /**
     * Compares base, cloud, edge and result values with those of the conflict row; the equal ones
     * are set to null in {@code values} (the audit row then reads them from the conflict row).
     * Returns the {@code SHARED_*} bits.
     */
    private int shareWithConflict(long conflictId, byte[][] values) {
      byte[][] held =
          lastOpened != null && lastOpened.id() == conflictId
              ? lastOpened.values()
              : sql(() -> conflictValues(conflictId));
      int shared = 0;
      for (int v = 0; held != null && v < values.length; v++) {
        if (java.util.Arrays.equals(values[v], held[v])) {
          shared |= 1 << v; // SHARED_BASE, SHARED_CLOUD, SHARED_EDGE, SHARED_RESULT
          values[v] = null;
        }
      }
      return shared;
    }

    /** Base, cloud, edge and result values of a conflict row; null if there is none. */
    private byte[][] conflictValues(long conflictId) throws SQLException {
      PreparedStatement ps =
          jdbc.prepared(
              "SELECT base_value, cloud_value, edge_value, result_value FROM conflicts WHERE id=?");
      ps.setLong(1, conflictId);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next()
            ? new byte[][] {rs.getBytes(1), rs.getBytes(2), rs.getBytes(3), rs.getBytes(4)}
            : null;
      }
    }

    @Override
    public Hlc lastHlc() {
      return hlc;
    }

    @Override
    public void saveHlc(Hlc h) {
      if (h.after(hlc)) {
        hlc = h;
      }
    }
  }

  // ---------------------------------------------------------------- reads

  @Override
  public StoredDoc get(String scope, String collection, String key) {
    synchronized (lock) {
      return tx.doc(scope, collection, key);
    }
  }

  @Override
  public List<StoredDoc> list(String scope, String collection, String afterKey, int limit) {
    return docs(
        "SELECT "
            + DOC_COLUMNS
            + " FROM "
            + CURRENT
            + " WHERE d.scope=? AND d.collection=? AND d.key>? AND d.deleted=0 ORDER BY d.key"
            + " LIMIT ?",
        scope,
        collection,
        afterKey,
        limit);
  }

  @Override
  public List<StoredDoc> changesAfter(String scope, long afterVersion, int limit) {
    return docs(
        "SELECT "
            + DOC_COLUMNS
            + " FROM doc_log l JOIN docs d ON d.scope=l.scope AND d.collection=l.collection AND"
            + " d.key=l.key AND d.version=l.version WHERE l.scope=? AND l.version>? ORDER BY"
            + " l.version LIMIT ?",
        scope,
        afterVersion,
        limit);
  }

  private List<StoredDoc> docs(String sql, Object... args) {
    synchronized (lock) {
      return read(sql, SqliteDocuments::readDoc, args);
    }
  }

  @Override
  public List<ConflictRecord> conflicts(ConflictFilter f) {
    StringBuilder sql =
        new StringBuilder("SELECT " + CONFLICT_COLUMNS + " FROM conflicts WHERE id>?");
    List<Object> args = new ArrayList<>(List.of(f.afterId()));
    filter(sql, args, "status", f.status());
    filter(sql, args, "device", f.deviceId());
    filter(sql, args, "collection", f.collection());
    sql.append(" ORDER BY id LIMIT ?");
    args.add(f.limit());
    synchronized (lock) {
      return read(sql.toString(), SqliteDocuments::readConflict, args.toArray());
    }
  }

  @Override
  public ConflictRecord conflict(long conflictId) {
    synchronized (lock) {
      return conflictUnlocked(conflictId);
    }
  }

  private ConflictRecord conflictUnlocked(long conflictId) {
    List<ConflictRecord> found =
        sql(
            () ->
                jdbc.list(
                    "SELECT " + CONFLICT_COLUMNS + " FROM conflicts WHERE id=?",
                    SqliteDocuments::readConflict,
                    conflictId));
    return found.isEmpty() ? null : found.get(0);
  }

  @Override
  public List<AuditRecord> audit(AuditFilter f) {
    StringBuilder sql = new StringBuilder(AUDIT_SELECT);
    List<Object> args = new ArrayList<>(List.of(f.afterId()));
    filter(sql, args, "a.device", f.deviceId());
    filter(sql, args, "a.collection", f.collection());
    filter(sql, args, "a.key", f.key());
    sql.append(" ORDER BY a.id LIMIT ?");
    args.add(f.limit());
    synchronized (lock) {
      return read(sql.toString(), SqliteDocuments::readAudit, args.toArray());
    }
  }

  private static AuditRecord readAudit(ResultSet rs) throws SQLException {
    int i = 1;
    return new AuditRecord(
        rs.getLong(i++),
        rs.getLong(i++),
        rs.getLong(i++),
        rs.getString(i++),
        rs.getString(i++),
        rs.getString(i++),
        rs.getString(i++),
        rs.getString(i++),
        rs.getString(i++),
        rs.getString(i++),
        rs.getLong(i++),
        rs.getBytes(i++),
        rs.getLong(i++),
        rs.getBytes(i++),
        hlcOf(rs.getString(i++)),
        rs.getBytes(i++),
        hlcOf(rs.getString(i++)),
        rs.getLong(i++),
        rs.getBytes(i++),
        rs.getString(i));
  }

  @Override
  public List<String> groups(String deviceId) {
    synchronized (lock) {
      return strings("SELECT grp FROM device_groups WHERE device=? ORDER BY grp", deviceId);
    }
  }

  @Override
  public void setGroups(String deviceId, List<String> groups) {
    synchronized (lock) {
      jdbc.inTransaction(
          "document store",
          () -> {
            jdbc.update("DELETE FROM device_groups WHERE device=?", deviceId);
            for (String g : groups) {
              jdbc.update(
                  "INSERT OR IGNORE INTO device_groups(device, grp) VALUES (?,?)", deviceId, g);
            }
            return null;
          });
    }
  }

  @Override
  public List<String> devicesReading(String scope) {
    synchronized (lock) {
      if (scope.equals("fleet")) {
        return strings("SELECT id FROM devices ORDER BY id");
      }
      if (scope.startsWith("group:")) {
        return strings(
            "SELECT device FROM device_groups WHERE grp=? ORDER BY device", scope.substring(6));
      }
      return scope.startsWith("device:") ? List.of(scope.substring(7)) : List.of();
    }
  }

  @Override
  public void saveCursors(String deviceId, Map<String, Long> cursors) {
    synchronized (lock) {
      jdbc.inTransaction(
          "document store",
          () -> {
            for (Map.Entry<String, Long> c : cursors.entrySet()) {
              jdbc.update(
                  "INSERT OR REPLACE INTO device_cursors(device, scope, version) VALUES (?,?,?)",
                  deviceId,
                  c.getKey(),
                  c.getValue());
            }
            for (String scope : cursors.keySet()) {
              collectTombstones(scope);
            }
            return null;
          });
    }
  }

  /**
   * Deletes the scope's tombstones that every reader which ever had a session has seen (by the
   * cursor it reported in its latest Hello).
   */
  private void collectTombstones(String scope) throws SQLException {
    List<String> readers = devicesReadingUnlocked(scope);
    if (readers.isEmpty()) {
      return;
    }
    long min = Long.MAX_VALUE;
    for (String d : readers) {
      // A reader without a cursor row never had a session: it holds nothing of the scope. One
      // with a row may have been pushed anything after that cursor, even if the cursor is 0.
      long cursor =
          jdbc.queryLong(
              "SELECT version FROM device_cursors WHERE device=? AND scope=?", -1, d, scope);
      if (cursor >= 0) {
        min = Math.min(min, cursor);
      }
    }
    if (min == Long.MAX_VALUE) {
      return;
    }
    String collectable = " FROM docs WHERE scope=? AND deleted=1 AND version<=? AND conflict_id=0";
    PreparedStatement keys = jdbc.prepared("SELECT collection, key" + collectable);
    Jdbc.bind(keys, scope, min);
    try (ResultSet rs = keys.executeQuery()) {
      while (rs.next()) {
        cache.evict(new DocKey(scope, rs.getString(1), rs.getString(2)));
      }
    }
    // A tombstone's log row at or below prunedUpTo is current and no pass deletes it any more.
    update(
        "DELETE FROM doc_log WHERE version<=? AND version IN (SELECT version" + collectable + ")",
        prunedUpTo,
        scope,
        min);
    update("DELETE" + collectable, scope, min);
  }

  private List<String> devicesReadingUnlocked(String scope) {
    if (scope.equals("fleet")) {
      return strings("SELECT id FROM devices");
    }
    if (scope.startsWith("group:")) {
      return strings("SELECT device FROM device_groups WHERE grp=?", scope.substring(6));
    }
    return List.of(scope.substring(scope.indexOf(':') + 1));
  }

  // ---------------------------------------------------------------- helpers

  private static StoredDoc readDoc(ResultSet rs) throws SQLException {
    int i = 1;
    String scope = rs.getString(i++);
    String collection = rs.getString(i++);
    String key = rs.getString(i++);
    long version = rs.getLong(i++);
    byte[] value = rs.getBytes(i++);
    Hlc h = new Hlc(rs.getLong(i++), rs.getInt(i++), rs.getString(i++));
    return new StoredDoc(
        scope,
        collection,
        key,
        version,
        value,
        h,
        rs.getString(i++),
        rs.getLong(i++),
        rs.getLong(i++),
        rs.getString(i++),
        rs.getLong(i++),
        rs.getLong(i));
  }

  private static ConflictRecord readConflict(ResultSet rs) throws SQLException {
    int i = 1;
    return new ConflictRecord(
        rs.getLong(i++),
        rs.getString(i++),
        rs.getString(i++),
        rs.getString(i++),
        rs.getString(i++),
        rs.getString(i++),
        rs.getString(i++),
        rs.getInt(i++) != 0,
        rs.getLong(i++),
        rs.getBytes(i++),
        rs.getLong(i++),
        rs.getBytes(i++),
        hlcOf(rs.getString(i++)),
        rs.getLong(i++),
        rs.getBytes(i++),
        hlcOf(rs.getString(i++)),
        rs.getString(i++),
        rs.getString(i++),
        rs.getString(i++),
        rs.getString(i++),
        rs.getLong(i++),
        rs.getBytes(i++),
        rs.getLong(i++),
        rs.getLong(i));
  }

  private static Hlc hlcOf(String s) {
    return s == null || s.isEmpty() ? Hlc.ZERO : Hlc.parse(s);
  }

  private static String str(Hlc h) {
    return h == null ? "" : h.toString();
  }

  private static void filter(StringBuilder sql, List<Object> args, String column, String value) {
    if (value != null && !value.isEmpty()) {
      sql.append(" AND ").append(column).append("=?");
      args.add(value);
    }
  }

  private List<String> strings(String sql, Object... args) {
    return sql(() -> jdbc.list(sql, rs -> rs.getString(1), args));
  }

  /** Reads a committed snapshot: the read transaction ends with the call. */
  private <T> List<T> read(String sql, Jdbc.RowReader<T> reader, Object... args) {
    return sql(
        () -> {
          List<T> out = jdbc.list(sql, reader, args);
          db.commit();
          return out;
        });
  }

  private void update(String sql, Object... args) {
    sql(() -> jdbc.update(sql, args));
  }

  private <T> T sql(Jdbc.SqlWork<T> work) {
    return jdbc.call("document store", work);
  }
}
