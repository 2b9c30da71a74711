package io.edgesync.server;

import io.edgesync.support.jdbc.Jdbc;
import java.sql.Connection;
import java.sql.SQLException;

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
}
