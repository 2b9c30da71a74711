package io.edgesync.server;

import io.edgesync.engine.DocumentStore;
import io.edgesync.protocol.Hlc;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * The {@link DocumentStore} half of {@link SqliteCloudStore}: same file, same connection, same
 * monitor (so a transaction here never interleaves with a stream commit). Schema in {@code
 * db/V2__documents.sql}. The history keeps the newest {@link #HISTORY_VERSIONS} versions of the
 * whole store (a version-ordered table, so writing it is an append); an older base is "unknown" to
 * a three-way merge (it then treats every differing field as changed on both sides) and a merge
 * patch against it is answered with "resend whole". A base equal to the current version never needs
 * the history.
 */
final class SqliteDocuments implements DocumentStore {
  static final long HISTORY_VERSIONS = 1L << 20;

  private final long historyVersions;
  private final long pruneEveryVersions;

  private static final String DOC_COLUMNS =
      "scope, collection, key, version, value, hlc_wall, hlc_logical, hlc_node, writer,"
          + " foreign_version, conflict_id, origin_device, origin_change_seq, updated_ms";
  private static final String CONFLICT_COLUMNS =
      "id, scope, collection, key, device, strategy, status, flagged, base_version, base_value,"
          + " cloud_version, cloud_value, cloud_hlc, edge_change_seq, edge_value, edge_hlc,"
          + " field_conflicts, note, outcome, resolved_by, result_version, result_value, created_ms,"
          + " resolved_ms";
  private static final String AUDIT_COLUMNS =
      "id, at_ms, conflict_id, scope, collection, key, device, strategy, outcome, resolved_by,"
          + " base_version, base_value, cloud_version, cloud_value, cloud_hlc, edge_value, edge_hlc,"
          + " result_version, result_value, note";

  private final Connection db;
  private final Object lock;
  private final PreparedStatement selectDoc;
  private final PreparedStatement upsertDoc;
  private final PreparedStatement insertHistory;
  private final PreparedStatement pruneHistory;
  private final PreparedStatement selectVersion;
  private final PreparedStatement bumpVersion;
  private final TxImpl tx = new TxImpl();
  private static final int MAX_GROUP_TRANSACTIONS = 128;
  private static final int MAX_QUEUED_TRANSACTIONS = 1024;
  private final BlockingQueue<Pending<?>> queue = new ArrayBlockingQueue<>(MAX_QUEUED_TRANSACTIONS);
  private final Thread writer;
  private volatile boolean closed;
  private long docVersion;
  private Hlc hlc;

  SqliteDocuments(Connection db, Object lock, long historyVersions) throws SQLException {
    this.db = db;
    this.historyVersions = historyVersions;
    this.pruneEveryVersions = Math.max(1, Math.min(4096, historyVersions / 4));
    this.lock = lock;
    selectDoc =
        db.prepareStatement(
            "SELECT " + DOC_COLUMNS + " FROM docs WHERE scope=? AND collection=? AND key=?");
    upsertDoc =
        db.prepareStatement(
            "INSERT OR REPLACE INTO docs("
                + DOC_COLUMNS
                + ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    insertHistory =
        db.prepareStatement(
            "INSERT OR REPLACE INTO doc_history(scope, collection, key, version, value, hlc_wall,"
                + " hlc_logical, hlc_node) VALUES (?,?,?,?,?,?,?,?)");
    pruneHistory = db.prepareStatement("DELETE FROM doc_history WHERE version <= ?");
    selectVersion =
        db.prepareStatement(
            "SELECT value, hlc_wall, hlc_logical, hlc_node FROM doc_history WHERE version=? AND"
                + " scope=? AND collection=? AND key=?");
    bumpVersion = db.prepareStatement("INSERT OR REPLACE INTO meta(k, v, t) VALUES (?,?,?)");
    try (PreparedStatement ps = db.prepareStatement("SELECT k, v, t FROM meta");
        ResultSet rs = ps.executeQuery()) {
      hlc = Hlc.ZERO;
      while (rs.next()) {
        if (rs.getString(1).equals("doc_version")) {
          docVersion = rs.getLong(2);
        } else if (rs.getString(1).equals("hlc") && rs.getString(3) != null) {
          hlc = Hlc.parse(rs.getString(3));
        }
      }
    }
    db.commit();
    writer = new Thread(this::writeLoop, "edgesync-doc-writer");
    writer.setDaemon(true);
    writer.start();
  }

  /**
   * Group commit: transactions wait in a queue; one writer thread runs every waiting one in a
   * single SQLite transaction (each inside its own savepoint, so a failing one rolls back alone)
   * and commits once, so concurrent device sessions share one fsync.
   */
  @Override
  public <T> CompletableFuture<T> inTransactionAsync(Function<Tx, T> work) {
    CompletableFuture<T> done = new CompletableFuture<>();
    if (closed) {
      done.completeExceptionally(new IllegalStateException("cloud store is closed"));
      return done;
    }
    if (Thread.currentThread() == writer) {
      done.completeExceptionally(new IllegalStateException("nested document transaction"));
      return done;
    }
    try {
      queue.put(new Pending<>(work, done));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      done.completeExceptionally(e);
    }
    return done;
  }

  private record Pending<T>(Function<Tx, T> work, CompletableFuture<T> done) {
    @SuppressWarnings("unchecked")
    void complete(Object result) {
      done.complete((T) result);
    }
  }

  private void writeLoop() {
    List<Pending<?>> group = new ArrayList<>();
    while (!closed) {
      try {
        group.add(queue.take());
      } catch (InterruptedException e) {
        break;
      }
      queue.drainTo(group, MAX_GROUP_TRANSACTIONS - 1);
      runGroup(group);
      group.clear();
    }
    for (Pending<?> p : queue) {
      p.done().completeExceptionally(new IllegalStateException("cloud store is closed"));
    }
  }

  private void runGroup(List<Pending<?>> group) {
    Object[] results = new Object[group.size()];
    Throwable[] errors = new Throwable[group.size()];
    synchronized (lock) {
      long groupVersion = docVersion;
      Hlc groupHlc = hlc;
      try (Statement st = db.createStatement()) {
        for (int i = 0; i < group.size(); i++) {
          long versionBefore = docVersion;
          Hlc hlcBefore = hlc;
          st.execute("SAVEPOINT work");
          try {
            results[i] = group.get(i).work().apply(tx);
            st.execute("RELEASE work");
          } catch (RuntimeException | Error e) {
            st.execute("ROLLBACK TO work");
            st.execute("RELEASE work");
            docVersion = versionBefore;
            hlc = hlcBefore;
            errors[i] = e;
          }
        }
        if (docVersion != groupVersion) {
          saveMeta("doc_version", docVersion, null);
        }
        if (!hlc.equals(groupHlc)) {
          saveMeta("hlc", 0, hlc.toString());
        }
        db.commit();
      } catch (SQLException | RuntimeException | Error e) {
        rollback(groupVersion, groupHlc);
        RuntimeException failure =
            e instanceof SQLException sql
                ? failure("document transaction", sql)
                : new IllegalStateException("document transaction failed: " + e, e);
        java.util.Arrays.fill(errors, failure);
      }
    }
    for (int i = 0; i < group.size(); i++) {
      if (errors[i] != null) {
        group.get(i).done().completeExceptionally(errors[i]);
      } else {
        group.get(i).complete(results[i]);
      }
    }
  }

  void close() {
    closed = true;
    writer.interrupt();
    try {
      writer.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void saveMeta(String k, long v, String t) throws SQLException {
    bumpVersion.setString(1, k);
    bumpVersion.setLong(2, v);
    bumpVersion.setString(3, t);
    bumpVersion.executeUpdate();
  }

  private void rollback(long versionBefore, Hlc hlcBefore) {
    try {
      db.rollback();
    } catch (SQLException ignored) {
      // the original failure is reported
    }
    docVersion = versionBefore;
    hlc = hlcBefore;
  }

  /** Not thread safe on its own: used only under {@link #lock} inside a transaction. */
  private final class TxImpl implements Tx {
    @Override
    public long lastChangeSeq(String deviceId) {
      return sql(
          () -> queryLong("SELECT last_change_seq FROM device_docs WHERE device=?", 0, deviceId));
    }

    @Override
    public void setLastChangeSeq(String deviceId, long changeSeq) {
      update(
          "INSERT OR REPLACE INTO device_docs(device, last_change_seq) VALUES (?,?)",
          deviceId,
          changeSeq);
    }

    @Override
    public StoredDoc doc(String scope, String collection, String key) {
      return sql(
          () -> {
            selectDoc.setString(1, scope);
            selectDoc.setString(2, collection);
            selectDoc.setString(3, key);
            try (ResultSet rs = selectDoc.executeQuery()) {
              return rs.next() ? readDoc(rs) : null;
            }
          });
    }

    @Override
    public StoredDoc version(String scope, String collection, String key, long version) {
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
      long version = docVersion + 1;
      sql(
          () -> {
            int i = 1;
            upsertDoc.setString(i++, w.scope());
            upsertDoc.setString(i++, w.collection());
            upsertDoc.setString(i++, w.key());
            upsertDoc.setLong(i++, version);
            upsertDoc.setBytes(i++, w.value());
            upsertDoc.setLong(i++, w.hlc().wallMs());
            upsertDoc.setInt(i++, w.hlc().logical());
            upsertDoc.setString(i++, w.hlc().node());
            upsertDoc.setString(i++, w.writer());
            upsertDoc.setLong(i++, w.foreignVersion());
            upsertDoc.setLong(i++, w.conflictId());
            upsertDoc.setString(i++, w.originDevice());
            upsertDoc.setLong(i++, w.originChangeSeq());
            upsertDoc.setLong(i, w.nowMs());
            upsertDoc.executeUpdate();
            insertHistory.setString(1, w.scope());
            insertHistory.setString(2, w.collection());
            insertHistory.setString(3, w.key());
            insertHistory.setLong(4, version);
            insertHistory.setBytes(5, w.value());
            insertHistory.setLong(6, w.hlc().wallMs());
            insertHistory.setInt(7, w.hlc().logical());
            insertHistory.setString(8, w.hlc().node());
            insertHistory.executeUpdate();
            if (version % pruneEveryVersions == 0 && version > historyVersions) {
              pruneHistory.setLong(1, version - historyVersions);
              pruneHistory.executeUpdate();
            }
            return null;
          });
      docVersion = version;
      return new StoredDoc(
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
    }

    @Override
    public long openConflict(ConflictRecord c) {
      return sql(
          () -> {
            {
              PreparedStatement ps =
                  prepared(
                      "INSERT INTO conflicts("
                          + CONFLICT_COLUMNS.substring(4)
                          + ") VALUES"
                          + " (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
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
              bind(ps, v);
              ps.executeUpdate();
              return queryLong("SELECT last_insert_rowid()", 0);
            }
          });
    }

    @Override
    public void updateConflictEdge(
        long conflictId, String deviceId, long changeSeq, byte[] edgeValue, Hlc edgeHlc) {
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
              queryLong(
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
              queryLong(
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
      update(
          "INSERT INTO audit("
              + AUDIT_COLUMNS.substring(4)
              + ") VALUES"
              + " (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
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
          a.baseValue(),
          a.cloudVersion(),
          a.cloudValue(),
          str(a.cloudHlc()),
          a.edgeValue(),
          str(a.edgeHlc()),
          a.resultVersion(),
          a.resultValue(),
          a.note());
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
            + " FROM docs WHERE scope=? AND collection=? AND key>? AND value IS"
            + " NOT NULL ORDER BY key LIMIT ?",
        scope,
        collection,
        afterKey,
        limit);
  }

  @Override
  public List<StoredDoc> changesAfter(String scope, long afterVersion, int limit) {
    return docs(
        "SELECT " + DOC_COLUMNS + " FROM docs WHERE scope=? AND version>? ORDER BY version LIMIT ?",
        scope,
        afterVersion,
        limit);
  }

  private List<StoredDoc> docs(String sql, Object... args) {
    synchronized (lock) {
      return sql(
          () -> {
            List<StoredDoc> out = new ArrayList<>();
            try (PreparedStatement ps = db.prepareStatement(sql)) {
              bind(ps, args);
              try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                  out.add(readDoc(rs));
                }
              }
            }
            db.commit();
            return out;
          });
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
      return sql(
          () -> {
            List<ConflictRecord> out = new ArrayList<>();
            try (PreparedStatement ps = db.prepareStatement(sql.toString())) {
              bind(ps, args.toArray());
              try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                  out.add(readConflict(rs));
                }
              }
            }
            db.commit();
            return out;
          });
    }
  }

  @Override
  public ConflictRecord conflict(long conflictId) {
    synchronized (lock) {
      return conflictUnlocked(conflictId);
    }
  }

  private ConflictRecord conflictUnlocked(long conflictId) {
    return sql(
        () -> {
          try (PreparedStatement ps =
              db.prepareStatement("SELECT " + CONFLICT_COLUMNS + " FROM conflicts WHERE id=?")) {
            ps.setLong(1, conflictId);
            try (ResultSet rs = ps.executeQuery()) {
              return rs.next() ? readConflict(rs) : null;
            }
          }
        });
  }

  @Override
  public List<AuditRecord> audit(AuditFilter f) {
    StringBuilder sql = new StringBuilder("SELECT " + AUDIT_COLUMNS + " FROM audit WHERE id>?");
    List<Object> args = new ArrayList<>(List.of(f.afterId()));
    filter(sql, args, "device", f.deviceId());
    filter(sql, args, "collection", f.collection());
    filter(sql, args, "key", f.key());
    sql.append(" ORDER BY id LIMIT ?");
    args.add(f.limit());
    synchronized (lock) {
      return sql(
          () -> {
            List<AuditRecord> out = new ArrayList<>();
            try (PreparedStatement ps = db.prepareStatement(sql.toString())) {
              bind(ps, args.toArray());
              try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                  int i = 1;
                  out.add(
                      new AuditRecord(
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
                          rs.getString(i)));
                }
              }
            }
            db.commit();
            return out;
          });
    }
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
      sql(
          () -> {
            try {
              update("DELETE FROM device_groups WHERE device=?", deviceId);
              for (String g : groups) {
                update(
                    "INSERT OR IGNORE INTO device_groups(device, grp) VALUES (?,?)", deviceId, g);
              }
              db.commit();
            } catch (RuntimeException e) {
              db.rollback();
              throw e;
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
      sql(
          () -> {
            try {
              for (Map.Entry<String, Long> c : cursors.entrySet()) {
                update(
                    "INSERT OR REPLACE INTO device_cursors(device, scope, version) VALUES (?,?,?)",
                    deviceId,
                    c.getKey(),
                    c.getValue());
              }
              for (String scope : cursors.keySet()) {
                collectTombstones(scope);
              }
              db.commit();
            } catch (RuntimeException e) {
              db.rollback();
              throw e;
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
          queryLong("SELECT version FROM device_cursors WHERE device=? AND scope=?", -1, d, scope);
      if (cursor >= 0) {
        min = Math.min(min, cursor);
      }
    }
    if (min == Long.MAX_VALUE) {
      return;
    }
    update(
        "DELETE FROM docs WHERE scope=? AND value IS NULL AND version<=? AND conflict_id=0",
        scope,
        min);
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
    return sql(
        () -> {
          List<String> out = new ArrayList<>();
          try (PreparedStatement ps = db.prepareStatement(sql)) {
            bind(ps, args);
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                out.add(rs.getString(1));
              }
            }
          }
          return out;
        });
  }

  private long queryLong(String sql, long fallback, Object... args) throws SQLException {
    PreparedStatement ps = prepared(sql);
    bind(ps, args);
    try (ResultSet rs = ps.executeQuery()) {
      return rs.next() ? rs.getLong(1) : fallback;
    }
  }

  private void update(String sql, Object... args) {
    sql(
        () -> {
          PreparedStatement ps = prepared(sql);
          bind(ps, args);
          ps.executeUpdate();
          return null;
        });
  }

  /** Statements of fixed text are prepared once (preparing cost 15 % of a document commit). */
  private final java.util.Map<String, PreparedStatement> statements = new java.util.HashMap<>();

  /** Only under {@link #lock}. */
  private PreparedStatement prepared(String sql) throws SQLException {
    PreparedStatement ps = statements.get(sql);
    if (ps == null) {
      ps = db.prepareStatement(sql);
      statements.put(sql, ps);
    }
    return ps;
  }

  static void bind(PreparedStatement ps, Object... args) throws SQLException {
    for (int i = 0; i < args.length; i++) {
      Object a = args[i];
      if (a instanceof byte[] b) {
        ps.setBytes(i + 1, b);
      } else {
        ps.setObject(i + 1, a);
      }
    }
  }

  interface SqlWork<T> {
    T run() throws SQLException;
  }

  static <T> T sql(SqlWork<T> work) {
    try {
      return work.run();
    } catch (SQLException e) {
      throw failure("document store", e);
    }
  }

  static IllegalStateException failure(String what, SQLException e) {
    return new IllegalStateException("cloud store: " + what + " failed: " + e.getMessage(), e);
  }
}
