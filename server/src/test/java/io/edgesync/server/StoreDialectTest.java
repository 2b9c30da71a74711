package io.edgesync.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgesync.support.jdbc.Jdbc;
import io.edgesync.testing.TestPostgres;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An unflushed transaction relaxes the flush of its own commit only: the connection is back to
 * flushing every commit afterwards, also when the work failed, and what the work did is committed
 * (or, on failure, rolled back) as in any transaction.
 */
class StoreDialectTest {
  @TempDir Path dir;

  @Test
  void sqlite_relaxesOnlyItsOwnCommit_andRestoresFullAfterSuccessAndFailure() throws Exception {
    try (Connection db = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("s.db"))) {
      try (Statement st = db.createStatement()) {
        st.execute("PRAGMA journal_mode=WAL");
        st.execute("PRAGMA synchronous=FULL");
        st.execute("CREATE TABLE t(x INTEGER)");
      }
      db.setAutoCommit(false);
      Jdbc jdbc = new Jdbc(db, "s.db");

      long inside =
          StoreDialect.SQLITE.inUnflushedTransaction(
              jdbc,
              "test",
              () -> {
                jdbc.update("INSERT INTO t VALUES (1)");
                return jdbc.queryLong("PRAGMA synchronous", -1);
              });
      assertThat(inside).isEqualTo(1); // NORMAL
      assertThat(jdbc.queryLong("PRAGMA synchronous", -1)).isEqualTo(2); // FULL again

      assertThatThrownBy(
              () ->
                  StoreDialect.SQLITE.inUnflushedTransaction(
                      jdbc,
                      "test",
                      () -> {
                        jdbc.update("INSERT INTO t VALUES (2)");
                        throw new IllegalStateException("boom");
                      }))
          .hasMessage("boom");
      assertThat(jdbc.queryLong("PRAGMA synchronous", -1)).isEqualTo(2);
      assertThat(jdbc.queryLong("SELECT count(*) FROM t", -1)).isEqualTo(1);
    }
  }

  @Test
  void postgres_turnsOffSynchronousCommitForThatTransactionOnly() throws Exception {
    Assumptions.assumeTrue(
        TestPostgres.available(), () -> "PostgreSQL skipped: " + TestPostgres.unavailableReason());
    String database = TestPostgres.newDatabase();
    try (Connection db =
        DriverManager.getConnection(TestPostgres.jdbcUrl(database), TestPostgres.USER, "")) {
      db.setAutoCommit(false);
      Jdbc jdbc = new Jdbc(db, database);
      try (Statement st = db.createStatement()) {
        st.execute("SET synchronous_commit TO on"); // the tests' server runs with it off
      }
      db.commit();
      String inside =
          StoreDialect.POSTGRES.inUnflushedTransaction(
              jdbc, "test", () -> setting(db, "synchronous_commit"));
      assertThat(inside).isEqualTo("off");
      assertThat(setting(db, "synchronous_commit")).isEqualTo("on");
      db.commit();
    } finally {
      TestPostgres.dropDatabase(database);
    }
  }

  private static String setting(Connection db, String name) throws SQLException {
    try (Statement st = db.createStatement();
        var rs = st.executeQuery("SHOW " + name)) {
      rs.next();
      return rs.getString(1);
    }
  }
}
