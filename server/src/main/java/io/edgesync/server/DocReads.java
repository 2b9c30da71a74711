package io.edgesync.server;

import io.edgesync.engine.docs.DocKey;
import io.edgesync.engine.docs.DocumentStore.StoredDoc;
import io.edgesync.protocol.Hlc;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;

/**
 * Reads of document versions: a key's current version (written in the running group, cached, or
 * read from {@code docs} joined to {@code doc_log}, then cached), an earlier version still in the
 * history, a collection's keys in order, and a scope's changes after a version (what a device
 * catching up is sent).
 *
 * <p>Not thread safe: used only under the document store's monitor.
 */
final class DocReads {
  /** The columns of a {@code doc_log} row, in the order {@link #readDoc} reads them. */
  static final String LOG_COLUMNS =
      "scope, collection, key, version, value, hlc_wall, hlc_logical, hlc_node, writer,"
          + " foreign_version, conflict_id, origin_device, origin_change_seq, updated_ms";

  private static final String DOC_COLUMNS =
      "l.scope, l.collection, l.key, l.version, l.value, l.hlc_wall, l.hlc_logical, l.hlc_node,"
          + " l.writer, l.foreign_version, l.conflict_id, l.origin_device, l.origin_change_seq,"
          + " l.updated_ms";
  private static final String CURRENT = "docs d JOIN doc_log l ON l.version=d.version";
  private static final String SELECT_CURRENT =
      "SELECT "
          + DOC_COLUMNS
          + " FROM "
          + CURRENT
          + " WHERE d.scope=? AND d.collection=? AND d.key=?";
  private static final String SELECT_VERSION =
      "SELECT value, hlc_wall, hlc_logical, hlc_node FROM doc_log WHERE version=? AND scope=? AND"
          + " collection=? AND key=?";

  private final StoreSql sql;
  private final DocCache cache;
  private final PendingVersions pending;
  private final DocMeta meta;

  DocReads(StoreSql sql, DocCache cache, PendingVersions pending, DocMeta meta)
      throws SQLException {
    this.sql = sql;
    this.cache = cache;
    this.pending = pending;
    this.meta = meta;
    // Prepared now; taken from the Jdbc's cache at each use, which a new connection starts over.
    sql.jdbc().prepared(SELECT_CURRENT);
    sql.jdbc().prepared(SELECT_VERSION);
  }

  /** The current version of a key: written in this group, cached, or read (and then cached). */
  StoredDoc current(DocKey k) {
    StoredDoc d = pending.current(k);
    if (d == null) {
      d = cache.get(k);
    }
    if (d != null) {
      return d;
    }
    d = sql.call(() -> readCurrent(k));
    if (d != null) {
      cache.store(k, d);
    }
    return d;
  }

  private StoredDoc readCurrent(DocKey k) throws SQLException {
    PreparedStatement selectCurrent = sql.jdbc().prepared(SELECT_CURRENT);
    selectCurrent.setString(1, k.scope());
    selectCurrent.setString(2, k.collection());
    selectCurrent.setString(3, k.key());
    try (ResultSet rs = selectCurrent.executeQuery()) {
      return rs.next() ? readDoc(rs) : null;
    }
  }

  /** The value and HLC of an earlier version if the history still holds it; null if not. */
  StoredDoc version(DocKey k, long version) {
    if (pending.holds(version, meta.version())) {
      StoredDoc d = pending.at(version);
      boolean same =
          d.scope().equals(k.scope())
              && d.collection().equals(k.collection())
              && d.key().equals(k.key());
      return same ? d : null;
    }
    return sql.call(
        () -> {
          PreparedStatement selectVersion = sql.jdbc().prepared(SELECT_VERSION);
          selectVersion.setLong(1, version);
          selectVersion.setString(2, k.scope());
          selectVersion.setString(3, k.collection());
          selectVersion.setString(4, k.key());
          try (ResultSet rs = selectVersion.executeQuery()) {
            if (!rs.next()) {
              return null;
            }
            Hlc h = new Hlc(rs.getLong(2), rs.getInt(3), rs.getString(4));
            return new StoredDoc(
                k.scope(), k.collection(), k.key(), version, rs.getBytes(1), h, "", 0, 0, "", 0, 0);
          }
        });
  }

  /** Keys of a collection after {@code afterKey}, in key order; tombstones excluded. */
  List<StoredDoc> list(String scope, String collection, String afterKey, int limit) {
    return sql.readCommitted(
        "SELECT "
            + DOC_COLUMNS
            + " FROM "
            + CURRENT
            + " WHERE d.scope=? AND d.collection=? AND d.key>? AND d.deleted=0 ORDER BY d.key"
            + " LIMIT ?",
        DocReads::readDoc,
        scope,
        collection,
        afterKey,
        limit);
  }

  /** The scope's current versions after {@code afterVersion}, in version order. */
  List<StoredDoc> changesAfter(String scope, long afterVersion, int limit) {
    return sql.readCommitted(
        "SELECT "
            + DOC_COLUMNS
            + " FROM doc_log l JOIN docs d ON d.scope=l.scope AND d.collection=l.collection AND"
            + " d.key=l.key AND d.version=l.version WHERE l.scope=? AND l.version>? ORDER BY"
            + " l.version LIMIT ?",
        DocReads::readDoc,
        scope,
        afterVersion,
        limit);
  }

  /** A row of {@link #DOC_COLUMNS}. */
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
}
