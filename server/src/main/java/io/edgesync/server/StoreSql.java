package io.edgesync.server;

import io.edgesync.support.jdbc.Jdbc;
import io.edgesync.support.jdbc.StoreException;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * One store's view of the shared {@link Jdbc}: the operation its {@link StoreException}s name
 * ({@code document store}, {@code command store}) given once, and the few query shapes the server
 * stores use beyond {@link Jdbc}: every row of a cached statement, and a read that ends its read
 * transaction (so the connection holds no old snapshot of the write-ahead log between calls).
 *
 * <p>Not thread safe, like the connection: used only under the store's monitor.
 */
final class StoreSql {
  private final Jdbc jdbc;
  private final String operation;

  StoreSql(Jdbc jdbc, String operation) {
    this.jdbc = jdbc;
    this.operation = operation;
  }

  Jdbc jdbc() {
    return jdbc;
  }

  /**
   * Runs {@code work}; an {@link SQLException} becomes a {@link StoreException} naming the store.
   */
  <T> T call(Jdbc.SqlWork<T> work) {
    return jdbc.call(operation, work);
  }

  /** {@link Jdbc#inTransaction} named for this store. */
  <T> T inTransaction(Jdbc.SqlWork<T> work) {
    return jdbc.inTransaction(operation, work);
  }

  /** Runs a cached statement (inside the caller's transaction). */
  void update(String sql, Object... args) {
    call(() -> jdbc.update(sql, args));
  }

  long queryLong(String sql, long fallback, Object... args) {
    return call(() -> jdbc.queryLong(sql, fallback, args));
  }

  /** Every row of a statement of fixed text (kept prepared), inside the caller's transaction. */
  <T> List<T> rows(String sql, Jdbc.RowReader<T> reader, Object... args) {
    return call(() -> rows(jdbc, sql, reader, args));
  }

  /** Every row of a query built at run time, then the read transaction ends. */
  <T> List<T> readCommitted(String sql, Jdbc.RowReader<T> reader, Object... args) {
    return call(
        () -> {
          List<T> out = jdbc.list(sql, reader, args);
          jdbc.connection().commit();
          return out;
        });
  }

  /** The first column of every row, as strings (a query built at run time). */
  List<String> strings(String sql, Object... args) {
    return call(() -> jdbc.list(sql, rs -> rs.getString(1), args));
  }

  /**
   * Every row of a statement of fixed text, which stays prepared with the connection ({@link
   * Jdbc#list} prepares per call, for text built at run time).
   */
  static <T> List<T> rows(Jdbc jdbc, String sql, Jdbc.RowReader<T> reader, Object... args)
      throws SQLException {
    PreparedStatement ps = jdbc.prepared(sql);
    Jdbc.bind(ps, args);
    List<T> out = new ArrayList<>();
    try (ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        out.add(reader.read(rs));
      }
    }
    return out;
  }
}
