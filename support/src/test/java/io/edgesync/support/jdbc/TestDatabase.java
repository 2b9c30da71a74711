package io.edgesync.support.jdbc;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/** Real SQLite files for the store layer's tests. */
final class TestDatabase {
  private TestDatabase() {}

  /** Opens {@code file}, runs {@code setup} (auto-commit), then leaves auto-commit off. */
  static Connection open(String file, String... setup) throws SQLException {
    Connection db = DriverManager.getConnection("jdbc:sqlite:" + file);
    try (Statement st = db.createStatement()) {
      for (String sql : setup) {
        st.execute(sql);
      }
    }
    db.setAutoCommit(false);
    return db;
  }

  /** Column 1 of every row, read through a connection of its own: what is committed. */
  static List<String> committed(String file, String sql) throws SQLException {
    try (Connection other = DriverManager.getConnection("jdbc:sqlite:" + file);
        Statement st = other.createStatement();
        ResultSet rs = st.executeQuery(sql)) {
      List<String> out = new ArrayList<>();
      while (rs.next()) {
        out.add(rs.getString(1));
      }
      return out;
    }
  }
}
