package io.edgesync.support.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JdbcTest {
  @TempDir Path dir;
  private Connection db;
  private Jdbc jdbc;
  private String file;

  @BeforeEach
  void open() throws SQLException {
    file = dir.resolve("test.db").toString();
    db = TestDatabase.open(file, "CREATE TABLE t(k TEXT PRIMARY KEY, n INTEGER, b BLOB)");
    jdbc = new Jdbc(db, file);
  }

  @AfterEach
  void close() throws SQLException {
    db.close();
  }

  @Test
  void statementsOfTheSameText_arePreparedOncePerConnection() throws SQLException {
    assertThat(jdbc.prepared("SELECT 1")).isSameAs(jdbc.prepared("SELECT 1"));
    assertThat(jdbc.prepared("SELECT 2")).isNotSameAs(jdbc.prepared("SELECT 1"));
  }

  @Test
  void bindsValuesAndBytes_andQueryLongFallsBackWithoutARow() throws SQLException {
    jdbc.update("INSERT INTO t(k, n, b) VALUES (?,?,?)", "a", 7L, new byte[] {1, 2, 3});

    assertThat(jdbc.queryLong("SELECT n FROM t WHERE k=?", -1, "a")).isEqualTo(7);
    assertThat(jdbc.queryLong("SELECT n FROM t WHERE k=?", -1, "missing")).isEqualTo(-1);
    assertThat(jdbc.list("SELECT b FROM t WHERE k=?", rs -> rs.getBytes(1), "a"))
        .containsExactly(new byte[] {1, 2, 3});
  }

  @Test
  void inTransaction_commitsOnSuccess() throws SQLException {
    jdbc.inTransaction("inserting", () -> jdbc.update("INSERT INTO t(k, n) VALUES ('a', 1)"));

    assertThat(countInAnotherConnection()).isEqualTo(1);
  }

  @Test
  void inTransaction_rollsBackAndNamesTheOperationAndTheFile_whenAStatementFails() {
    assertThatThrownBy(
            () ->
                jdbc.inTransaction(
                    "inserting a and a again",
                    () -> {
                      jdbc.update("INSERT INTO t(k, n) VALUES ('a', 1)");
                      return jdbc.update("INSERT INTO t(k, n) VALUES ('a', 2)");
                    }))
        .isInstanceOf(StoreException.class)
        .hasMessageStartingWith("inserting a and a again failed in " + file + ": ")
        .hasMessageContaining("UNIQUE constraint failed: t.k")
        .hasCauseInstanceOf(SQLException.class);

    assertThat(jdbc.call("counting", () -> jdbc.queryLong("SELECT count(*) FROM t", -1))).isZero();
  }

  @Test
  void inTransaction_rollsBackAndRethrows_whenTheWorkThrows() {
    IllegalArgumentException bad = new IllegalArgumentException("bad input");
    assertThatThrownBy(
            () ->
                jdbc.inTransaction(
                    "inserting",
                    () -> {
                      jdbc.update("INSERT INTO t(k, n) VALUES ('a', 1)");
                      throw bad;
                    }))
        .isSameAs(bad);

    assertThat(jdbc.call("counting", () -> jdbc.queryLong("SELECT count(*) FROM t", -1))).isZero();
  }

  @Test
  void storeException_namesOperationAndFile() {
    StoreException e =
        jdbc.failure("committing 3 records of gw-1/s", new SQLException("[SQLITE_FULL] full"));

    assertThat(e)
        .hasMessage("committing 3 records of gw-1/s failed in " + file + ": [SQLITE_FULL] full")
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void aLostConnection_isReplacedBeforeTheNextUnitOfWork_neverInsideTheUnitThatFoundIt()
      throws SQLException {
    List<Connection> opened = new ArrayList<>();
    Jdbc.Reconnect reconnect =
        new Jdbc.Reconnect() {
          @Override
          public boolean lost(Connection c, SQLException failure) {
            return "08006".equals(failure.getSQLState());
          }

          @Override
          public Connection open() throws SQLException {
            opened.add(TestDatabase.open(file));
            return opened.get(opened.size() - 1);
          }
        };
    Jdbc lossy = new Jdbc(db, file, reconnect);
    PreparedStatement before = lossy.prepared("SELECT count(*) FROM t");

    assertThatThrownBy(
            () ->
                lossy.inTransaction(
                    "inserting",
                    () -> {
                      lossy.update("INSERT INTO t(k, n) VALUES ('a', 1)");
                      assertThatThrownBy(() -> lossy.call("nested", () -> lost()))
                          .isInstanceOf(StoreException.class);
                      // Found lost inside the unit: kept, so nothing after it can commit apart.
                      assertThat(lossy.connectionLost()).isTrue();
                      assertThat(lossy.connection()).isSameAs(db);
                      db.close(); // as the server ended it
                      return lossy.call(
                          "inserting b", () -> lossy.update("INSERT INTO t(k, n) VALUES ('b', 2)"));
                    }))
        .isInstanceOf(StoreException.class);

    assertThat(lossy.call("counting", () -> lossy.queryLong("SELECT count(*) FROM t", -1)))
        .isZero();
    assertThat(opened).hasSize(1);
    assertThat(lossy.connection()).isSameAs(opened.get(0));
    assertThat(db.isClosed()).isTrue();
    assertThat(before.isClosed()).isTrue();
    assertThat(lossy.prepared("SELECT count(*) FROM t")).isNotSameAs(before);
    opened.get(0).close();
  }

  @Test
  void aRefusedStatement_keepsTheConnection() {
    Jdbc.Reconnect reconnect =
        new Jdbc.Reconnect() {
          @Override
          public boolean lost(Connection c, SQLException failure) {
            return false;
          }

          @Override
          public Connection open() {
            throw new AssertionError("a refused statement must not replace the connection");
          }
        };
    Jdbc kept = new Jdbc(db, file, reconnect);
    kept.inTransaction("inserting", () -> kept.update("INSERT INTO t(k, n) VALUES ('a', 1)"));
    assertThatThrownBy(
            () ->
                kept.inTransaction(
                    "inserting a again", () -> kept.update("INSERT INTO t(k, n) VALUES ('a', 2)")))
        .isInstanceOf(StoreException.class);

    assertThat(kept.connectionLost()).isFalse();
    assertThat(kept.call("counting", () -> kept.queryLong("SELECT count(*) FROM t", -1)))
        .isEqualTo(1);
    assertThat(kept.connection()).isSameAs(db);
  }

  /** What a driver throws when the server went away (SQLState class 08). */
  private static Object lost() throws SQLException {
    throw new SQLException("the connection is gone", "08006");
  }

  private long countInAnotherConnection() throws SQLException {
    return Long.parseLong(TestDatabase.committed(file, "SELECT count(*) FROM t").get(0));
  }
}
