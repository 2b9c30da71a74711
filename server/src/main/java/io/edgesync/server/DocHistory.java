package io.edgesync.server;

import io.edgesync.engine.docs.DocKey;
import io.edgesync.engine.docs.DocumentStore.StoredDoc;
import io.edgesync.protocol.Hlc;
import io.edgesync.support.jdbc.Jdbc;
import java.sql.SQLException;
import java.util.List;

/**
 * How long the version log keeps what is no longer current: every key's current version, and as
 * merge bases the newest {@code historyVersions} versions of the whole store. An older base is
 * "unknown" to a three-way merge (it then treats every differing field as changed on both sides)
 * and a merge patch against it is answered with "resend whole".
 *
 * <p><b>Pruning.</b> Log rows in {@code (prunedUpTo, version - historyVersions]} that are not
 * current are deleted every {@code pruneEveryVersions} versions; a current row at or below {@code
 * prunedUpTo} survives that pass and is deleted when its key gets a newer version ({@link
 * #outlivesPruning}) or its tombstone is collected ({@link #collectTombstones}).
 *
 * <p>Not thread safe: used only under the document store's monitor.
 */
final class DocHistory {
  private static final String PRUNE =
      "DELETE FROM doc_log WHERE version>? AND version<=? AND NOT EXISTS (SELECT 1 FROM docs d"
          + " WHERE d.scope=doc_log.scope AND d.collection=doc_log.collection AND"
          + " d.key=doc_log.key AND d.version=doc_log.version)";

  /** Tombstones of a scope that every reader has seen: {@code scope=?, version<=?}. */
  private static final String COLLECTABLE =
      " FROM docs WHERE scope=? AND deleted=1 AND version<=? AND conflict_id=0";

  private final Jdbc jdbc;
  private final DocMeta meta;
  private final long historyVersions;
  private final long pruneEveryVersions;

  DocHistory(Jdbc jdbc, DocMeta meta, long historyVersions) {
    if (historyVersions < 1) {
      throw new IllegalArgumentException("historyVersions must be >= 1, not " + historyVersions);
    }
    this.jdbc = jdbc;
    this.meta = meta;
    this.historyVersions = historyVersions;
    this.pruneEveryVersions = Math.max(1, Math.min(4096, historyVersions / 4));
  }

  /**
   * True if a key's superseded current version {@code version} is at or below the pruned version:
   * no pass deletes it any more, so its new version's flush must.
   */
  boolean outlivesPruning(long version) {
    return version <= meta.prunedUpTo();
  }

  /** Runs a pruning pass if {@code pruneEveryVersions} versions left the history since the last. */
  void pruneIfDue() throws SQLException {
    long cutoff = meta.version() - historyVersions;
    if (cutoff - meta.prunedUpTo() >= pruneEveryVersions) {
      jdbc.update(PRUNE, meta.prunedUpTo(), cutoff);
      meta.prunedUpTo(cutoff);
    }
  }

  /**
   * The newest collected delete of a key ({@code db/V13__doc_collected.sql}) as a tombstone; null
   * if none was collected.
   */
  StoredDoc collected(DocKey k) throws SQLException {
    List<StoredDoc> rows =
        StoreSql.rows(
            jdbc,
            "SELECT version, hlc_wall, hlc_logical, hlc_node, writer FROM doc_collected WHERE"
                + " scope=? AND collection=? AND key=?",
            rs ->
                new StoredDoc(
                    k.scope(),
                    k.collection(),
                    k.key(),
                    rs.getLong(1),
                    null,
                    new Hlc(rs.getLong(2), rs.getInt(3), rs.getString(4)),
                    rs.getString(5),
                    0,
                    0,
                    "",
                    0,
                    0),
            k.scope(),
            k.collection(),
            k.key());
    return rows.isEmpty() ? null : rows.get(0);
  }

  /**
   * Deletes the scope's tombstones at or below version {@code seenByAll} (no open conflict on
   * them), their log rows, and their cache entries; each key's delete is remembered in {@code
   * doc_collected}.
   */
  void collectTombstones(String scope, long seenByAll, DocCache cache) throws SQLException {
    List<DocKey> keys =
        StoreSql.rows(
            jdbc,
            "SELECT collection, key" + COLLECTABLE,
            rs -> new DocKey(scope, rs.getString(1), rs.getString(2)),
            scope,
            seenByAll);
    keys.forEach(cache::evict);
    // Remembered per key, for a change a device made before its first session (db/V13).
    jdbc.update(
        "INSERT INTO doc_collected(scope, collection, key, version, hlc_wall, hlc_logical,"
            + " hlc_node, writer) SELECT d.scope, d.collection, d.key, d.version, l.hlc_wall,"
            + " l.hlc_logical, l.hlc_node, l.writer FROM docs d JOIN doc_log l ON"
            + " l.version=d.version WHERE d.scope=? AND d.deleted=1 AND d.version<=? AND"
            + " d.conflict_id=0 ON CONFLICT(scope, collection, key) DO UPDATE SET"
            + " version=excluded.version, hlc_wall=excluded.hlc_wall,"
            + " hlc_logical=excluded.hlc_logical, hlc_node=excluded.hlc_node,"
            + " writer=excluded.writer",
        scope,
        seenByAll);
    // A tombstone's log row at or below prunedUpTo is current and no pass deletes it any more.
    jdbc.update(
        "DELETE FROM doc_log WHERE version<=? AND version IN (SELECT version" + COLLECTABLE + ")",
        meta.prunedUpTo(),
        scope,
        seenByAll);
    jdbc.update("DELETE" + COLLECTABLE, scope, seenByAll);
  }
}
