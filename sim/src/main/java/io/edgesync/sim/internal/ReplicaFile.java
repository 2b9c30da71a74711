package io.edgesync.sim.internal;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * A simulated edge's document replica file read directly, beside the real {@code DocsFile} that
 * writes it: what the checkers compare with the cloud, and the snapshot a crash must leave as it
 * was. Read-only; its own SQLite connection. Not thread safe: owned by the simulation thread.
 */
final class ReplicaFile implements AutoCloseable {
  private final String deviceId;
  private final Connection reader;

  private ReplicaFile(String deviceId, Connection reader) {
    this.deviceId = deviceId;
    this.reader = reader;
  }

  static ReplicaFile open(Path file, String deviceId) throws SQLException {
    return new ReplicaFile(
        deviceId, DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath()));
  }

  /** One row of the replica: scope, collection, key, value, version, pending, conflicted. */
  record Row(
      String scope,
      String collection,
      String key,
      byte[] value,
      long version,
      boolean pending,
      boolean conflicted) {}

  /** The replica's documents, tombstones and pending changes included, read from its file. */
  List<Row> rows() {
    List<Row> out = new ArrayList<>();
    try (PreparedStatement ps =
            reader.prepareStatement(
                "SELECT scope, collection, key, value, version, pending_seq, conflicted FROM docs"
                    + " ORDER BY scope, collection, key");
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        out.add(
            new Row(
                rs.getString(1),
                rs.getString(2),
                rs.getString(3),
                rs.getBytes(4),
                rs.getLong(5),
                rs.getLong(6) > 0,
                rs.getInt(7) != 0));
      }
    } catch (SQLException e) {
      throw new IllegalStateException(deviceId + ": reading the replica failed: " + e, e);
    }
    return out;
  }

  /** Commands not in a final state, or final and not yet confirmed by the cloud. */
  long commandsUnsettled() {
    try (PreparedStatement ps =
            reader.prepareStatement(
                "SELECT count(*) FROM commands WHERE state IN ('received','running') OR"
                    + " confirmed=0");
        ResultSet rs = ps.executeQuery()) {
      return rs.next() ? rs.getLong(1) : 0;
    } catch (SQLException e) {
      throw new IllegalStateException(deviceId + ": reading the command inbox failed: " + e, e);
    }
  }

  /**
   * Everything the replica file holds, one line per row: documents, metadata (change sequence,
   * cursors, HLC) and commands (a command running at a crash is expected back as failed, a waiting
   * one as expired).
   */
  List<String> snapshot() {
    List<String> out = new ArrayList<>();
    HexFormat hex = HexFormat.of();
    try {
      try (PreparedStatement ps =
              reader.prepareStatement(
                  "SELECT scope, collection, key, value, version, base_value, hlc, pending_seq,"
                      + " full_required, conflicted FROM docs ORDER BY scope, collection, key");
          ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          byte[] v = rs.getBytes(4);
          byte[] b = rs.getBytes(6);
          out.add(
              "doc "
                  + rs.getString(1)
                  + "/"
                  + rs.getString(2)
                  + "/"
                  + rs.getString(3)
                  + " = "
                  + (v == null ? "deleted" : hex.formatHex(v))
                  + " v"
                  + rs.getLong(5)
                  + " base "
                  + (b == null ? "-" : hex.formatHex(b))
                  + " hlc "
                  + rs.getString(7)
                  + " pending "
                  + rs.getLong(8)
                  + " full "
                  + rs.getInt(9)
                  + " conflicted "
                  + rs.getInt(10));
        }
      }
      try (PreparedStatement ps = reader.prepareStatement("SELECT k, v, t FROM meta ORDER BY k");
          ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add("meta " + rs.getString(1) + " " + rs.getLong(2) + " " + rs.getString(3));
        }
      }
      try (PreparedStatement ps =
              reader.prepareStatement(
                  "SELECT id, state, deadline_ms, confirmed FROM commands ORDER BY id");
          ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          // At startup a running command becomes failed and a waiting one expired.
          String state =
              switch (rs.getString(2)) {
                case "running" -> "failed";
                case "received" -> "expired";
                default -> rs.getString(2);
              };
          boolean changes = !state.equals(rs.getString(2));
          out.add(
              "command "
                  + rs.getString(1)
                  + " "
                  + state
                  + " deadline "
                  + rs.getLong(3)
                  + " confirmed "
                  + (changes ? 0 : rs.getInt(4)));
        }
      }
    } catch (SQLException e) {
      throw new IllegalStateException(deviceId + ": reading the replica failed: " + e, e);
    }
    return out;
  }

  static String firstDifference(List<String> before, List<String> after) {
    for (int i = 0; i < Math.max(before.size(), after.size()); i++) {
      String b = i < before.size() ? before.get(i) : "(nothing)";
      String a = i < after.size() ? after.get(i) : "(nothing)";
      if (!a.equals(b)) {
        return "before: " + b + "; after: " + a;
      }
    }
    return "(none)";
  }

  @Override
  public void close() {
    try {
      reader.close();
    } catch (SQLException ignored) {
      // closing a reader: nothing to lose
    }
  }
}
