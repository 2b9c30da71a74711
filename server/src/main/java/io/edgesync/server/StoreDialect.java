package io.edgesync.server;

import io.edgesync.support.jdbc.Jdbc;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * What differs between the two databases the cloud store runs on, and nothing else: the store's SQL
 * is written once in the text both accept ({@code ON CONFLICT ... DO UPDATE}, {@code RETURNING},
 * {@code CASE WHEN} instead of scalar {@code max(a,b)}).
 *
 * <p><b>Counter locks.</b> SQLite has one writer per file, so a transaction that reads a store-wide
 * counter (the document version, the audit chain's head, a path's file version) and writes the next
 * one cannot race another writer. On PostgreSQL several server nodes share the database: such a
 * transaction first takes a transaction-scoped advisory lock named by a {@link CounterLock}, held
 * until it commits or rolls back, so two nodes never hand out the same number.
 */
enum StoreDialect {
  SQLITE,
  POSTGRES;

  /** The named transaction-scoped advisory locks (keys chosen once; never renumber them). */
  enum CounterLock {
    /**
     * Every document group: the document version, the HLC, the audit chain's head, and whatever
     * runs in the group as an audited transaction (a path's next file version).
     */
    DOCUMENTS(0x6564_6765_0001L);

    final long key;

    CounterLock(long key) {
      this.key = key;
    }
  }

  /**
   * After a read outside any transaction: on PostgreSQL ends the read's implicit transaction, so
   * the store's one connection never sits "idle in transaction" between calls (keeping its locks,
   * which block migrations, and running into {@code idle_in_transaction_session_timeout}). Nothing
   * on SQLite, whose reads keep their behaviour.
   */
  void endRead(Jdbc jdbc) throws SQLException {
    if (this == POSTGRES) {
      jdbc.connection().commit();
    }
  }

  /** The dialect of {@code db}'s database (SQLite unless it says PostgreSQL). */
  static StoreDialect of(Connection db) throws SQLException {
    String product = db.getMetaData().getDatabaseProductName();
    return product.equalsIgnoreCase("PostgreSQL") ? POSTGRES : SQLITE;
  }

  /**
   * Inside a transaction: waits for {@code lock}, held until the transaction ends (nothing to do on
   * SQLite, where the transaction's write lock serializes writers already).
   */
  void lock(Jdbc jdbc, CounterLock lock) throws SQLException {
    if (this == POSTGRES) {
      jdbc.queryLong("SELECT 1 FROM pg_advisory_xact_lock(?)", 0, lock.key);
    }
  }

  /**
   * Runs {@code work} as a transaction whose commit need not have reached the disk when it returns:
   * for bookkeeping that costs a disk flush per device during a reconnect storm but whose loss in a
   * power failure harms nothing (a device's last-seen time, its session claim, its document
   * cursors: an older value only keeps tombstones longer). Never for anything acknowledged to a
   * device or a caller.
   *
   * <p>Order is kept: the log is sequential, so the next flushed commit (every acknowledged one)
   * carries this one to disk too, and a power failure loses at most a suffix of such commits. A
   * process crash loses nothing (the operating system holds the write). SQLite: {@code
   * synchronous=NORMAL} for this commit only (the setting cannot change inside a transaction, so
   * the connection leaves its implicit one around the switch); PostgreSQL: {@code SET LOCAL
   * synchronous_commit TO OFF}.
   */
  <T> T inUnflushedTransaction(Jdbc jdbc, String operation, Jdbc.SqlWork<T> work) {
    if (this == POSTGRES) {
      return jdbc.inTransaction(
          operation,
          () -> {
            jdbc.update("SET LOCAL synchronous_commit TO OFF");
            return work.run();
          });
    }
    synchronous(jdbc, operation, "NORMAL");
    try {
      return jdbc.inTransaction(operation, work);
    } finally {
      synchronous(jdbc, operation, "FULL");
    }
  }

  private static void synchronous(Jdbc jdbc, String operation, String level) {
    try {
      Connection db = jdbc.connection();
      db.setAutoCommit(true); // ends the driver's implicit transaction (nothing is pending in it)
      try (Statement st = db.createStatement()) {
        st.execute("PRAGMA synchronous=" + level);
      } finally {
        db.setAutoCommit(false);
      }
    } catch (SQLException e) {
      throw jdbc.failure(operation, e);
    }
  }
}
