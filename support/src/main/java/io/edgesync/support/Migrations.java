package io.edgesync.support;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * Applies {@code V<n>__*.sql} scripts from the classpath to a SQLite database, tracking the applied
 * version in {@code PRAGMA user_version}. Flyway's model without its weight on the edge.
 */
public final class Migrations {
  private Migrations() {}

  /**
   * Brings {@code connection} up to the newest of {@code scripts} (resource paths in version order,
   * the first being version 1). A database newer than this build is refused.
   */
  public static void apply(Connection connection, Class<?> anchor, String... scripts)
      throws SQLException {
    int current;
    try (Statement st = connection.createStatement();
        var rs = st.executeQuery("PRAGMA user_version")) {
      current = rs.next() ? rs.getInt(1) : 0;
    }
    if (current > scripts.length) {
      throw new SQLException(
          "database schema version "
              + current
              + " is newer than this build supports ("
              + scripts.length
              + "); refusing to open it");
    }
    for (int v = current + 1; v <= scripts.length; v++) {
      String sql = load(anchor, scripts[v - 1]);
      boolean auto = connection.getAutoCommit();
      connection.setAutoCommit(false);
      try (Statement st = connection.createStatement()) {
        for (String part : sql.split(";\\s*(\\r?\\n|$)")) {
          String stmt = part.replaceAll("(?m)^--.*$", "").trim();
          if (!stmt.isEmpty()) {
            st.execute(stmt);
          }
        }
        st.execute("PRAGMA user_version = " + v);
        connection.commit();
      } catch (SQLException e) {
        connection.rollback();
        throw new SQLException("migration " + scripts[v - 1] + " failed: " + e.getMessage(), e);
      } finally {
        connection.setAutoCommit(auto);
      }
    }
  }

  private static String load(Class<?> anchor, String resource) throws SQLException {
    try (InputStream in = anchor.getResourceAsStream(resource)) {
      if (in == null) {
        throw new SQLException("migration script " + resource + " is missing from the build");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new SQLException("cannot read migration script " + resource, e);
    }
  }
}
