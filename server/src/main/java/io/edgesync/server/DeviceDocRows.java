package io.edgesync.server;

import io.edgesync.engine.docs.DocKey;
import java.sql.SQLException;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the document store keeps per device: the last edge change processed ({@code device_docs}),
 * the changes it must resend whole ({@code doc_resend}), its groups ({@code device_groups}) and the
 * version of each scope it has applied ({@code device_cursors}, from its Hello), which decides when
 * a tombstone every reader has seen is collected.
 *
 * <p>Not thread safe: used only under the document store's monitor.
 */
final class DeviceDocRows {
  private final StoreSql sql;

  /**
   * Devices that may have rows in {@code doc_resend} (a superset: a rolled-back request may leave a
   * name here), so that the check every change makes needs no statement for the others.
   */
  private final Set<String> devicesWithResends = new HashSet<>();

  /**
   * Whether other server nodes write this database too (PostgreSQL): then a device missing from
   * {@link #devicesWithResends} may have requests another node recorded, and the table is asked.
   */
  private final boolean sharedWithOtherNodes;

  private final StoreDialect dialect;

  DeviceDocRows(StoreSql sql, StoreDialect dialect) {
    this.sql = sql;
    this.dialect = dialect;
    this.sharedWithOtherNodes = dialect == StoreDialect.POSTGRES;
    devicesWithResends.addAll(sql.strings("SELECT DISTINCT device FROM doc_resend"));
  }

  /** The highest edge change sequence of the device that was processed (0: none). */
  long lastChangeSeq(String deviceId) {
    return sql.queryLong("SELECT last_change_seq FROM device_docs WHERE device=?", 0, deviceId);
  }

  void setLastChangeSeq(String deviceId, long changeSeq) {
    sql.update(
        "INSERT INTO device_docs(device, last_change_seq) VALUES (?,?)"
            + " ON CONFLICT(device) DO UPDATE SET last_change_seq=excluded.last_change_seq",
        deviceId,
        changeSeq);
  }

  void requestResend(String deviceId, long changeSeq, DocKey k) {
    sql.update(
        "INSERT INTO doc_resend(device, change_seq, scope, collection, key) VALUES (?,?,?,?,?)"
            + " ON CONFLICT(device, change_seq) DO UPDATE SET scope=excluded.scope,"
            + " collection=excluded.collection, key=excluded.key",
        deviceId,
        changeSeq,
        k.scope(),
        k.collection(),
        k.key());
    devicesWithResends.add(deviceId);
  }

  /** The device sent change {@code changeSeq} of the key: earlier resend requests are met. */
  void resendMet(String deviceId, long changeSeq, DocKey k) {
    if (!mayHaveResends(deviceId)) {
      return; // the common case, without a statement
    }
    sql.update(
        "DELETE FROM doc_resend WHERE device=? AND change_seq<? AND scope=? AND collection=? AND"
            + " key=?",
        deviceId,
        changeSeq,
        k.scope(),
        k.collection(),
        k.key());
  }

  /** The device's resend requests not yet met, in change order. */
  List<Long> resendRequests(String deviceId) {
    if (!mayHaveResends(deviceId)) {
      return List.of();
    }
    List<Long> seqs =
        sql.rows(
            "SELECT change_seq FROM doc_resend WHERE device=? ORDER BY change_seq",
            rs -> rs.getLong(1),
            deviceId);
    if (seqs.isEmpty()) {
      devicesWithResends.remove(deviceId);
    }
    return seqs;
  }

  /**
   * False only when the device surely has no resend request: this node recorded none, and no other
   * node writes the database (a device's session moves between nodes, and its requests with it).
   */
  private boolean mayHaveResends(String deviceId) {
    return sharedWithOtherNodes || devicesWithResends.contains(deviceId);
  }

  List<String> groups(String deviceId) {
    return sql.strings("SELECT grp FROM device_groups WHERE device=? ORDER BY grp", deviceId);
  }

  void setGroups(String deviceId, List<String> groups) {
    sql.inTransaction(
        () -> {
          sql.jdbc().update("DELETE FROM device_groups WHERE device=?", deviceId);
          for (String g : groups) {
            sql.jdbc()
                .update(
                    "INSERT INTO device_groups(device, grp) VALUES (?,?) ON CONFLICT DO NOTHING",
                    deviceId,
                    g);
          }
          return null;
        });
  }

  /** Devices (registered) that read the scope, in id order. */
  List<String> devicesReading(String scope) {
    if (scope.equals("fleet")) {
      return sql.strings("SELECT id FROM devices ORDER BY id");
    }
    if (scope.startsWith("group:")) {
      return sql.strings(
          "SELECT device FROM device_groups WHERE grp=? ORDER BY device", scope.substring(6));
    }
    return scope.startsWith("device:") ? List.of(scope.substring(7)) : List.of();
  }

  /**
   * Records the device's cursors and collects, in each scope, the tombstones every reader has seen.
   *
   * <p>A Hello calls this, so it must not cost in proportion to the fleet: a reconnect storm of N
   * devices would then cost N². A cursor that did not move is not written again, and the readers'
   * lowest cursor is asked only when a tombstone at or below this device's cursor exists (the
   * readers' lowest is at most this device's, so without one nothing can be collected), in one
   * statement rather than one per reader.
   */
  void saveCursors(String deviceId, Map<String, Long> cursors, DocHistory history, DocCache cache) {
    // Unflushed: a cursor lost in a power failure only keeps tombstones longer.
    dialect.inUnflushedTransaction(
        sql.jdbc(),
        "document store",
        () -> {
          for (Map.Entry<String, Long> c : cursors.entrySet()) {
            long stored =
                sql.jdbc()
                    .queryLong(
                        "SELECT version FROM device_cursors WHERE device=? AND scope=?",
                        -1,
                        deviceId,
                        c.getKey());
            if (stored != c.getValue()) {
              sql.jdbc()
                  .update(
                      "INSERT INTO device_cursors(device, scope, version) VALUES (?,?,?)"
                          + " ON CONFLICT(device, scope) DO UPDATE SET version=excluded.version",
                      deviceId,
                      c.getKey(),
                      c.getValue());
            }
          }
          for (Map.Entry<String, Long> c : cursors.entrySet()) {
            String scope = c.getKey();
            if (!hasTombstoneAtOrBelow(scope, c.getValue())) {
              continue;
            }
            long seenByAll = seenByAllReaders(scope);
            if (seenByAll >= 0) {
              history.collectTombstones(scope, seenByAll, cache);
            }
          }
          return null;
        });
  }

  private boolean hasTombstoneAtOrBelow(String scope, long version) throws SQLException {
    return sql.jdbc()
            .queryLong(
                "SELECT 1 FROM docs WHERE scope=? AND deleted=1 AND version<=? LIMIT 1",
                0,
                scope,
                version)
        == 1;
  }

  /**
   * The lowest cursor of the scope's readers that ever had a session; -1 if none had. A reader
   * without a cursor row never had a session: it holds nothing of the scope. One with a row may
   * have been pushed anything after that cursor, even if the cursor is 0.
   */
  private long seenByAllReaders(String scope) throws SQLException {
    if (scope.equals("fleet")) {
      return sql.jdbc()
          .queryLong(
              "SELECT coalesce(min(c.version), -1) FROM device_cursors c"
                  + " JOIN devices d ON d.id=c.device WHERE c.scope=?",
              -1,
              scope);
    }
    if (scope.startsWith("group:")) {
      return sql.jdbc()
          .queryLong(
              "SELECT coalesce(min(c.version), -1) FROM device_groups g"
                  + " JOIN device_cursors c ON c.device=g.device AND c.scope=? WHERE g.grp=?",
              -1,
              scope,
              scope.substring(6));
    }
    return sql.jdbc()
        .queryLong(
            "SELECT version FROM device_cursors WHERE device=? AND scope=?",
            -1,
            scope.substring(scope.indexOf(':') + 1),
            scope);
  }
}
