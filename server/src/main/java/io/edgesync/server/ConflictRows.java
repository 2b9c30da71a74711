package io.edgesync.server;

import io.edgesync.engine.docs.DocKey;
import io.edgesync.engine.docs.DocumentStore.AuditFilter;
import io.edgesync.engine.docs.DocumentStore.AuditRecord;
import io.edgesync.engine.docs.DocumentStore.ConflictFilter;
import io.edgesync.engine.docs.DocumentStore.ConflictRecord;
import io.edgesync.protocol.Hlc;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The rows of tables {@code conflicts} (open and resolved conflicts, with the base, cloud, edge and
 * result values) and {@code audit} (one row per resolution). An audit row written with its conflict
 * does not copy the values the conflict row holds: {@code audit.shared_values} has bit 0 base, 1
 * cloud, 2 edge, 3 result set for each value read from the conflict row instead ({@link
 * #AUDIT_SELECT}).
 *
 * <p>Not thread safe: used only under the document store's monitor.
 */
final class ConflictRows {
  private static final String CONFLICT_COLUMNS =
      "id, scope, collection, key, device, strategy, status, flagged, base_version, base_value,"
          + " cloud_version, cloud_value, cloud_hlc, edge_change_seq, edge_value, edge_hlc,"
          + " field_conflicts, note, outcome, resolved_by, result_version, result_value, created_ms,"
          + " resolved_ms";
  private static final String AUDIT_COLUMNS =
      "id, at_ms, conflict_id, scope, collection, key, device, strategy, outcome, resolved_by,"
          + " base_version, base_value, cloud_version, cloud_value, cloud_hlc, edge_value, edge_hlc,"
          + " result_version, result_value, note, shared_values";

  /** An audit row with its shared values read from the conflict row. */
  private static final String AUDIT_SELECT =
      "SELECT a.id, a.at_ms, a.conflict_id, a.scope, a.collection, a.key, a.device, a.strategy,"
          + " a.outcome, a.resolved_by, a.base_version,"
          + " CASE WHEN (a.shared_values & 1) <> 0 THEN c.base_value ELSE a.base_value END,"
          + " a.cloud_version,"
          + " CASE WHEN (a.shared_values & 2) <> 0 THEN c.cloud_value ELSE a.cloud_value END,"
          + " a.cloud_hlc,"
          + " CASE WHEN (a.shared_values & 4) <> 0 THEN c.edge_value ELSE a.edge_value END,"
          + " a.edge_hlc, a.result_version,"
          + " CASE WHEN (a.shared_values & 8) <> 0 THEN c.result_value ELSE a.result_value END, a.note"
          + " FROM audit a LEFT JOIN conflicts c ON c.id=a.conflict_id WHERE a.id>?";

  /** A conflict this transaction opened, with its base, cloud, edge and result values. */
  private record Opened(long id, byte[][] values) {}

  private final StoreSql sql;
  private final AuditLog auditLog;

  /**
   * The conflict the running transaction opened last, so that its audit record need not read the
   * values back. Null after any other change to a conflict row and between transactions.
   */
  private Opened lastOpened;

  ConflictRows(StoreSql sql, AuditLog auditLog) {
    this.sql = sql;
    this.auditLog = auditLog;
  }

  /** A transaction ended. */
  void endTransaction() {
    lastOpened = null;
  }

  long open(ConflictRecord c) {
    long id =
        sql.queryLong(
            "INSERT INTO conflicts("
                + CONFLICT_COLUMNS.substring(4)
                + ") VALUES"
                + " (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING id",
            0,
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
            c.resolvedMs());
    lastOpened =
        new Opened(
            id, new byte[][] {c.baseValue(), c.cloudValue(), c.edgeValue(), c.resultValue()});
    return id;
  }

  /** The edge side of an open conflict changed (the device edited the key again). */
  void updateEdge(long conflictId, String deviceId, long changeSeq, byte[] edgeValue, Hlc edgeHlc) {
    lastOpened = null;
    sql.update(
        "UPDATE conflicts SET device=?, edge_change_seq=?, edge_value=?, edge_hlc=? WHERE id=?",
        deviceId,
        changeSeq,
        edgeValue,
        edgeHlc.toString(),
        conflictId);
  }

  /** Resolved by {@code by} with {@code outcome}; the result is version {@code resultVersion}. */
  void close(long id, String outcome, String by, long resultVersion, byte[] result, long nowMs) {
    lastOpened = null;
    sql.update(
        "UPDATE conflicts SET status='resolved', outcome=?, resolved_by=?, result_version=?,"
            + " result_value=?, resolved_ms=? WHERE id=?",
        outcome,
        by,
        resultVersion,
        result,
        nowMs,
        id);
  }

  /** The conflict, or null. */
  ConflictRecord conflict(long conflictId) {
    List<ConflictRecord> found =
        sql.rows(
            "SELECT " + CONFLICT_COLUMNS + " FROM conflicts WHERE id=?",
            ConflictRows::readConflict,
            conflictId);
    return found.isEmpty() ? null : found.get(0);
  }

  /** The newest open conflict on a key, 0 if none. */
  long openOn(DocKey k) {
    return sql.queryLong(
        "SELECT coalesce(max(id), 0) FROM conflicts WHERE scope=? AND collection=? AND key=? AND"
            + " status='open'",
        0,
        k.scope(),
        k.collection(),
        k.key());
  }

  /** The open conflict holding the device's value of a key, 0 if none. */
  long openOf(DocKey k, String deviceId) {
    return sql.queryLong(
        "SELECT coalesce(max(id), 0) FROM conflicts WHERE scope=? AND collection=? AND key=? AND"
            + " device=? AND status='open'",
        0,
        k.scope(),
        k.collection(),
        k.key(),
        deviceId);
  }

  /** Writes the audit row and its record in the hash-chained {@link AuditLog}. */
  void audit(AuditRecord a) {
    auditLog.appendNow(
        a.atMs(),
        a.resolvedBy() == null || a.resolvedBy().isEmpty()
            ? AuditChain.SERVER_ACTOR
            : a.resolvedBy(),
        a.conflictId() == 0 ? "document.flag" : "conflict.resolve",
        a.scope() + "/" + a.collection() + "/" + a.key(),
        CanonicalJson.write(chainDetails(insertAudit(a), a)));
  }

  /**
   * What the chain holds of a document audit record: the row's id, the decision, the versions and
   * the SHA-256 of each value (so that an export proves the values without carrying them).
   */
  private static Map<String, Object> chainDetails(long auditId, AuditRecord a) {
    Map<String, Object> d = new HashMap<>();
    d.put("audit_id", auditId);
    d.put("conflict_id", a.conflictId());
    d.put("device", a.deviceId());
    d.put("strategy", a.strategy());
    d.put("outcome", a.outcome());
    d.put("base_version", a.baseVersion());
    d.put("cloud_version", a.cloudVersion());
    d.put("result_version", a.resultVersion());
    d.put("base_sha256", sha256(a.baseValue()));
    d.put("cloud_sha256", sha256(a.cloudValue()));
    d.put("edge_sha256", sha256(a.edgeValue()));
    d.put("result_sha256", sha256(a.resultValue()));
    d.put("note", a.note() == null ? "" : a.note());
    return d;
  }

  private static String sha256(byte[] value) {
    return value == null ? null : AuditChain.hex(AuditChain.sha256(value));
  }

  private long insertAudit(AuditRecord a) {
    byte[][] values = {a.baseValue(), a.cloudValue(), a.edgeValue(), a.resultValue()};
    int shared = a.conflictId() == 0 ? 0 : shareWithConflict(a.conflictId(), values);
    return sql.queryLong(
        "INSERT INTO audit("
            + AUDIT_COLUMNS.substring(4)
            + ") VALUES"
            + " (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING id",
        0,
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
   * Compares base, cloud, edge and result values with those of the conflict row; the equal ones are
   * set to null in {@code values} (the audit row then reads them from the conflict row). Returns
   * the {@code shared_values} bits.
   */
  private int shareWithConflict(long conflictId, byte[][] values) {
    byte[][] held =
        lastOpened != null && lastOpened.id() == conflictId
            ? lastOpened.values()
            : conflictValues(conflictId);
    int shared = 0;
    for (int v = 0; held != null && v < values.length; v++) {
      if (Arrays.equals(values[v], held[v])) {
        shared |= 1 << v; // base, cloud, edge, result
        values[v] = null;
      }
    }
    return shared;
  }

  /** Base, cloud, edge and result values of a conflict row; null if there is none. */
  private byte[][] conflictValues(long conflictId) {
    List<byte[][]> found =
        sql.rows(
            "SELECT base_value, cloud_value, edge_value, result_value FROM conflicts"
                + " WHERE id=?",
            rs -> new byte[][] {rs.getBytes(1), rs.getBytes(2), rs.getBytes(3), rs.getBytes(4)},
            conflictId);
    return found.isEmpty() ? null : found.get(0);
  }

  /** Conflicts after {@code afterId} in id order, filtered (a read of its own). */
  List<ConflictRecord> conflicts(ConflictFilter f) {
    StringBuilder query =
        new StringBuilder("SELECT " + CONFLICT_COLUMNS + " FROM conflicts WHERE id>?");
    List<Object> args = new ArrayList<>(List.of(f.afterId()));
    filter(query, args, "status", f.status());
    filter(query, args, "device", f.deviceId());
    filter(query, args, "collection", f.collection());
    query.append(" ORDER BY id LIMIT ?");
    args.add(f.limit());
    return sql.readCommitted(query.toString(), ConflictRows::readConflict, args.toArray());
  }

  /**
   * The id before the first conflict created at or after {@code createdMs}; the last id if none was
   * (nothing to read).
   */
  long idBefore(long createdMs) {
    return sql.queryLong(
        "SELECT coalesce(min(id) - 1, (SELECT coalesce(max(id), 0) FROM conflicts)) FROM conflicts"
            + " WHERE created_ms>=?",
        0,
        createdMs);
  }

  /** How many conflicts there are by strategy and status: for the metrics. */
  record Tally(String strategy, String status, long count) {}

  List<Tally> tallies() {
    return sql.readCommitted(
        "SELECT strategy, status, count(*) FROM conflicts GROUP BY strategy, status",
        rs -> new Tally(rs.getString(1), rs.getString(2), rs.getLong(3)));
  }

  /** Audit records after {@code afterId} in id order, filtered (a read of its own). */
  List<AuditRecord> audit(AuditFilter f) {
    StringBuilder query = new StringBuilder(AUDIT_SELECT);
    List<Object> args = new ArrayList<>(List.of(f.afterId()));
    filter(query, args, "a.device", f.deviceId());
    filter(query, args, "a.collection", f.collection());
    filter(query, args, "a.key", f.key());
    query.append(" ORDER BY a.id LIMIT ?");
    args.add(f.limit());
    return sql.readCommitted(query.toString(), ConflictRows::readAudit, args.toArray());
  }

  private static void filter(StringBuilder sql, List<Object> args, String column, String value) {
    if (value != null && !value.isEmpty()) {
      sql.append(" AND ").append(column).append("=?");
      args.add(value);
    }
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

  private static Hlc hlcOf(String s) {
    return s == null || s.isEmpty() ? Hlc.ZERO : Hlc.parse(s);
  }

  private static String str(Hlc h) {
    return h == null ? "" : h.toString();
  }
}
