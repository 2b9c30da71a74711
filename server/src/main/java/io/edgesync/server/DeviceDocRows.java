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

  DeviceDocRows(StoreSql sql, boolean sharedWithOtherNodes) {
    this.sql = sql;
    this.sharedWithOtherNodes = sharedWithOtherNodes;
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
   */
  void saveCursors(String deviceId, Map<String, Long> cursors, DocHistory history, DocCache cache) {
    sql.inTransaction(
        () -> {
          for (Map.Entry<String, Long> c : cursors.entrySet()) {
            sql.jdbc()
                .update(
                    "INSERT INTO device_cursors(device, scope, version) VALUES (?,?,?)"
                        + " ON CONFLICT(device, scope) DO UPDATE SET version=excluded.version",
                    deviceId,
                    c.getKey(),
                    c.getValue());
          }
          for (String scope : cursors.keySet()) {
            long seenByAll = seenByAllReaders(scope);
            if (seenByAll >= 0) {
              history.collectTombstones(scope, seenByAll, cache);
            }
          }
          return null;
        });
  }

  /**
   * The lowest cursor of the scope's readers that ever had a session; -1 if none had. A reader
   * without a cursor row never had a session: it holds nothing of the scope. One with a row may
   * have been pushed anything after that cursor, even if the cursor is 0.
   */
  private long seenByAllReaders(String scope) throws SQLException {
    long min = Long.MAX_VALUE;
    for (String d : readersOf(scope)) {
      long cursor =
          sql.jdbc()
              .queryLong(
                  "SELECT version FROM device_cursors WHERE device=? AND scope=?", -1, d, scope);
      if (cursor >= 0) {
        min = Math.min(min, cursor);
      }
    }
    return min == Long.MAX_VALUE ? -1 : min;
  }

  /** Like {@link #devicesReading} in no order, and a device scope of any form. */
  private List<String> readersOf(String scope) {
    if (scope.equals("fleet")) {
      return sql.strings("SELECT id FROM devices");
    }
    if (scope.startsWith("group:")) {
      return sql.strings("SELECT device FROM device_groups WHERE grp=?", scope.substring(6));
    }
    return List.of(scope.substring(scope.indexOf(':') + 1));
  }
}
