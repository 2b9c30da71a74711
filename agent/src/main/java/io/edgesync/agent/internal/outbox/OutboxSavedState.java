package io.edgesync.agent.internal.outbox;

import io.edgesync.engine.edge.EdgeSyncEngine;
import io.edgesync.engine.edge.Outbox;
import io.edgesync.engine.edge.Outbox.SavedDictionary;
import io.edgesync.support.jdbc.Jdbc;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The engine state the outbox keeps for it: wire totals ({@code wire_totals}), the daily byte
 * budget's count ({@code meta} key {@code budget}) and the newest dictionary per stream ({@code
 * dictionaries}). Callers hold the outbox's lock and commit.
 */
final class OutboxSavedState {
  private final Jdbc jdbc;

  OutboxSavedState(Jdbc jdbc) {
    this.jdbc = jdbc;
  }

  Map<String, EdgeSyncEngine.WireStats> wireStats() throws SQLException {
    List<Map.Entry<String, EdgeSyncEngine.WireStats>> rows =
        jdbc.list(
            "SELECT stream, batches, records, payload_bytes, raw_bytes, encoded_bytes,"
                + " frame_bytes FROM wire_totals ORDER BY stream",
            rs ->
                Map.entry(
                    rs.getString(1),
                    new EdgeSyncEngine.WireStats(
                        rs.getLong(2),
                        rs.getLong(3),
                        rs.getLong(4),
                        rs.getLong(5),
                        rs.getLong(6),
                        rs.getLong(7))));
    Map<String, EdgeSyncEngine.WireStats> out = new LinkedHashMap<>();
    rows.forEach(e -> out.put(e.getKey(), e.getValue()));
    return out;
  }

  /** Upserts one stream's wire totals. */
  void saveWire(String stream, EdgeSyncEngine.WireStats w) throws SQLException {
    jdbc.update(
        "INSERT INTO wire_totals(stream, batches, records, payload_bytes, raw_bytes,"
            + " encoded_bytes, frame_bytes) VALUES (?,?,?,?,?,?,?) ON CONFLICT(stream) DO"
            + " UPDATE SET batches=excluded.batches, records=excluded.records,"
            + " payload_bytes=excluded.payload_bytes, raw_bytes=excluded.raw_bytes,"
            + " encoded_bytes=excluded.encoded_bytes, frame_bytes=excluded.frame_bytes",
        stream,
        w.batches(),
        w.records(),
        w.payloadBytes(),
        w.rawBytes(),
        w.encodedBytes(),
        w.frameBytes());
  }

  /**
   * The budget as {@link io.edgesync.engine.edge.Outbox#savedBudget} wants it, or null: a missing
   * or unreadable count starts the day at 0.
   */
  Outbox.SavedBudget budget() {
    try (PreparedStatement ps =
            jdbc.connection().prepareStatement("SELECT value FROM meta WHERE key='budget'");
        ResultSet rs = ps.executeQuery()) {
      if (!rs.next()) {
        return null;
      }
      String[] parts = rs.getString(1).split(":");
      return new Outbox.SavedBudget(Long.parseLong(parts[0]), Long.parseLong(parts[1]));
    } catch (SQLException | RuntimeException e) {
      return null;
    }
  }

  void saveBudget(long utcDay, long spentBytes) throws SQLException {
    jdbc.update(
        "INSERT INTO meta(key, value) VALUES ('budget', ?) ON CONFLICT(key) DO UPDATE SET"
            + " value=excluded.value",
        utcDay + ":" + spentBytes);
  }

  List<SavedDictionary> dictionaries() throws SQLException {
    return jdbc.list(
        "SELECT stream, id, data FROM dictionaries ORDER BY stream",
        rs -> new SavedDictionary(rs.getString(1), rs.getInt(2), rs.getBytes(3)));
  }

  void saveDictionary(String stream, int id, byte[] bytes) throws SQLException {
    jdbc.update(
        "INSERT INTO dictionaries(stream, id, data) VALUES (?,?,?) ON CONFLICT(stream) DO"
            + " UPDATE SET id=excluded.id, data=excluded.data",
        stream,
        id,
        bytes);
  }
}
