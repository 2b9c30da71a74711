package io.edgesync.server.files;

import io.edgesync.support.jdbc.Jdbc;
import java.util.List;

/**
 * The file tables' access to the cloud store's one connection: reads and plain writes under the
 * store's monitor, each ending its transaction, so the connection keeps no old snapshot between
 * calls. Work that carries audit records goes through {@link AuditedTransactions} instead. Thread
 * safe (everything under {@link #lock}).
 */
final class FileSql {
  private final Jdbc jdbc;
  private final Object lock;
  private final String operation;

  FileSql(Jdbc jdbc, Object lock, String operation) {
    this.jdbc = jdbc;
    this.lock = lock;
    this.operation = operation;
  }

  Jdbc jdbc() {
    return jdbc;
  }

  Object lock() {
    return lock;
  }

  /** Every row of a query, then the read transaction ends. */
  <T> List<T> read(String sql, Jdbc.RowReader<T> reader, Object... args) {
    synchronized (lock) {
      return jdbc.inTransaction(operation, () -> jdbc.list(sql, reader, args));
    }
  }

  /** Work under the monitor, committed as one transaction (rolled back if it throws). */
  <T> T write(Jdbc.SqlWork<T> work) {
    synchronized (lock) {
      return jdbc.inTransaction(operation, work);
    }
  }

  /** Inside the work of {@link AuditedTransactions#inTransaction}: rows of a query. */
  <T> List<T> rowsInTransaction(String sql, Jdbc.RowReader<T> reader, Object... args) {
    return jdbc.call(operation, () -> jdbc.list(sql, reader, args));
  }

  /** Inside the work of {@link AuditedTransactions#inTransaction}: one statement. */
  int updateInTransaction(String sql, Object... args) {
    return jdbc.call(operation, () -> jdbc.update(sql, args));
  }
}
