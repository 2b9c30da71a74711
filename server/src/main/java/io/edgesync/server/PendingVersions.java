package io.edgesync.server;

import io.edgesync.engine.docs.DocKey;
import io.edgesync.engine.docs.DocumentStore.StoredDoc;
import io.edgesync.support.jdbc.Jdbc;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The versions the running group wrote, not yet in SQL: a transaction's writes stay in memory and
 * are appended with multi-row statements just before the group's commit ({@link #flush}), so a
 * group of many small transactions costs a few statements instead of two per version. Reads inside
 * the group look here first. A transaction that fails takes its versions back out ({@link
 * #rollBackTo}); the group's versions reach the {@link DocCache} only once committed.
 *
 * <p>Not thread safe: used only under the document store's monitor (the writer thread during a
 * group; between groups everything here is empty).
 */
final class PendingVersions {
  /** Rows per multi-row statement (and the smaller sizes used for the rest). */
  private static final int[] ROWS_PER_STATEMENT = {64, 8, 1};

  private static final int LOG_COLUMNS = 14;
  private static final int DOCS_COLUMNS = 6;

  /** Where a transaction started: what {@link #rollBackTo} cuts back to. */
  record Mark(long version, int stale) {}

  /**
   * The multi-row statements' texts by size; the statements come from the Jdbc's cache at each
   * flush (a connection that replaced a lost one prepares them again).
   */
  private final String[] insertLog = new String[ROWS_PER_STATEMENT.length];

  private final String[] upsertDocs = new String[ROWS_PER_STATEMENT.length];
  private final Jdbc jdbc;

  /** Current versions written by released transactions of the running group. */
  private final Map<DocKey, StoredDoc> groupDocs = new HashMap<>();

  /** Current versions written by the running transaction. */
  private final Map<DocKey, StoredDoc> txDocs = new HashMap<>();

  /** Every version written in the running group, in version order (versions are consecutive). */
  private final List<StoredDoc> log = new ArrayList<>();

  /** The version before the group's first write: log.get(i) is version logBase + 1 + i. */
  private long logBase;

  /** Superseded log rows no pruning pass would delete (at or below the pruned version). */
  private final List<Long> stale = new ArrayList<>();

  PendingVersions(Jdbc jdbc) throws SQLException {
    this.jdbc = jdbc;
    for (int i = 0; i < ROWS_PER_STATEMENT.length; i++) {
      int n = ROWS_PER_STATEMENT[i];
      insertLog[i] =
          "INSERT INTO doc_log(" + DocReads.LOG_COLUMNS + ") VALUES " + rows(n, LOG_COLUMNS);
      upsertDocs[i] =
          "INSERT INTO docs(scope, collection, key, version, deleted, conflict_id) VALUES "
              + rows(n, DOCS_COLUMNS)
              + " ON CONFLICT(scope, collection, key) DO UPDATE SET version=excluded.version,"
              + " deleted=excluded.deleted, conflict_id=excluded.conflict_id";
      jdbc.prepared(insertLog[i]);
      jdbc.prepared(upsertDocs[i]);
    }
  }

  /** "(?,?,?),(?,?,?)" for {@code rows} rows of {@code columns} columns. */
  private static String rows(int rows, int columns) {
    String row = "(" + "?,".repeat(columns - 1) + "?)";
    return String.join(",", Collections.nCopies(rows, row));
  }

  /** A group starts after {@code version}. */
  void begin(long version) {
    logBase = version;
  }

  /** The key's current version if this group wrote it, else null. */
  StoredDoc current(DocKey k) {
    StoredDoc d = txDocs.get(k);
    return d != null ? d : groupDocs.get(k);
  }

  /** True if {@code version} was written in this group (then {@link #at} has it). */
  boolean holds(long version, long lastVersion) {
    return version > logBase && version <= lastVersion;
  }

  /** The version {@code version}, written in this group. */
  StoredDoc at(long version) {
    return log.get((int) (version - logBase - 1));
  }

  /** The running transaction wrote {@code d}, the next version, as the key's current one. */
  void add(DocKey k, StoredDoc d) {
    log.add(d);
    txDocs.put(k, d);
  }

  /** The scopes of every version written in the running group, sorted. */
  java.util.SortedSet<String> scopes() {
    java.util.SortedSet<String> out = new java.util.TreeSet<>();
    for (StoredDoc d : log) {
      out.add(d.scope());
    }
    return out;
  }

  /** The log row of {@code version} was superseded and must be deleted with the flush. */
  void supersede(long version) {
    stale.add(version);
  }

  /** Where the running transaction starts, at version {@code version}. */
  Mark mark(long version) {
    return new Mark(version, stale.size());
  }

  /** The transaction that started at {@code m} failed: its versions are taken out. */
  void rollBackTo(Mark m) {
    log.subList((int) (m.version() - logBase), log.size()).clear();
    stale.subList(m.stale(), stale.size()).clear();
  }

  /** The running transaction succeeded: its current versions join the group's. */
  void release() {
    groupDocs.putAll(txDocs);
  }

  /** After every transaction, succeeded or not. */
  void endTransaction() {
    txDocs.clear();
  }

  /**
   * Writes the group's versions: appends the log rows, points {@code docs} at the new current
   * versions and deletes the superseded rows no pruning pass reaches.
   */
  void flush() throws SQLException {
    writeRows(insertLog, log, LOG_COLUMNS, PendingVersions::bindLogRow);
    writeRows(
        upsertDocs,
        new ArrayList<>(groupDocs.values()),
        DOCS_COLUMNS,
        PendingVersions::bindDocsRow);
    for (long version : stale) {
      jdbc.update("DELETE FROM doc_log WHERE version=?", version);
    }
  }

  /** The group is durable: its current versions enter the cache. */
  void committed(DocCache cache) {
    groupDocs.forEach(cache::store);
  }

  /** After the group, committed or not. */
  void clear() {
    groupDocs.clear();
    txDocs.clear();
    log.clear();
    stale.clear();
  }

  private interface RowBinder {
    void bind(PreparedStatement ps, int offset, StoredDoc d) throws SQLException;
  }

  /** Runs the multi-row statements, largest first, over {@code rows}. */
  private void writeRows(String[] bySize, List<StoredDoc> rows, int columns, RowBinder binder)
      throws SQLException {
    int next = 0;
    for (int s = 0; s < ROWS_PER_STATEMENT.length; s++) {
      int n = ROWS_PER_STATEMENT[s];
      while (rows.size() - next >= n) {
        PreparedStatement ps = jdbc.prepared(bySize[s]);
        for (int r = 0; r < n; r++) {
          binder.bind(ps, r * columns, rows.get(next + r));
        }
        ps.executeUpdate();
        next += n;
      }
    }
  }

  /** The columns of {@link DocReads#LOG_COLUMNS}, typed (this runs for every version). */
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
}
