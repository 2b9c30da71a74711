package io.edgesync.support.jdbc;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The JDBC plumbing every store needs, once: statements of fixed text prepared once per connection
 * (preparing cost 15 % of a document commit), positional parameters bound from values, one-value
 * queries, units of work that commit or roll back, and {@link StoreException}s that name the
 * operation and the file. Plain {@code java.sql}: no SQL of any one database in here.
 *
 * <p>Not thread safe: one instance per connection, used only by whoever holds the store's lock (as
 * the connection itself is).
 */
public final class Jdbc {
  /** A piece of work against the connection. */
  @FunctionalInterface
  public interface SqlWork<T> {
    T run() throws SQLException;
  }

  /** Reads one row (the result set is positioned on it). */
  @FunctionalInterface
  public interface RowReader<T> {
    T read(ResultSet rs) throws SQLException;
  }

  private final Connection db;
  private final String file;
  private final Map<String, PreparedStatement> statements = new HashMap<>();

  /**
   * @param file what {@link StoreException}s name as the database: its path (or URL)
   */
  public Jdbc(Connection db, String file) {
    this.db = db;
    this.file = file;
  }

  public Connection connection() {
    return db;
  }

  /**
   * The statement for {@code sql}, prepared on first use and kept open with the connection. Only
   * for text from a bounded set (constants): every distinct text stays cached.
   */
  public PreparedStatement prepared(String sql) throws SQLException {
    PreparedStatement ps = statements.get(sql);
    if (ps == null) {
      ps = db.prepareStatement(sql);
      statements.put(sql, ps);
    }
    return ps;
  }

  /** Binds {@code args} to parameters 1..n: byte arrays as BLOBs, the rest as objects. */
  public static void bind(PreparedStatement ps, Object... args) throws SQLException {
    for (int i = 0; i < args.length; i++) {
      if (args[i] instanceof byte[] b) {
        ps.setBytes(i + 1, b);
      } else {
        ps.setObject(i + 1, args[i]);
      }
    }
  }

  /** The first column of the first row of a cached statement, or {@code fallback} without a row. */
  public long queryLong(String sql, long fallback, Object... args) throws SQLException {
    PreparedStatement ps = prepared(sql);
    bind(ps, args);
    try (ResultSet rs = ps.executeQuery()) {
      return rs.next() ? rs.getLong(1) : fallback;
    }
  }

  /** Runs a cached statement; returns the count of rows it changed. */
  public int update(String sql, Object... args) throws SQLException {
    PreparedStatement ps = prepared(sql);
    bind(ps, args);
    return ps.executeUpdate();
  }

  /**
   * Every row of a query, read by {@code reader}. The statement is prepared for this call and
   * closed after it, so {@code sql} may be built at run time (filters).
   */
  public <T> List<T> list(String sql, RowReader<T> reader, Object... args) throws SQLException {
    List<T> out = new ArrayList<>();
    try (PreparedStatement ps = db.prepareStatement(sql)) {
      bind(ps, args);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(reader.read(rs));
        }
      }
    }
    return out;
  }

  /** Runs {@code work}; an {@link SQLException} becomes a {@link StoreException} naming it. */
  public <T> T call(String operation, SqlWork<T> work) {
    try {
      return work.run();
    } catch (SQLException e) {
      throw failure(operation, e);
    }
  }

  /**
   * Runs {@code work} as one unit: commits after it, or rolls back if it (or the commit) fails and
   * rethrows, an {@link SQLException} as a {@link StoreException} naming {@code operation}.
   */
  public <T> T inTransaction(String operation, SqlWork<T> work) {
    try {
      T result = work.run();
      db.commit();
      return result;
    } catch (SQLException e) {
      rollbackQuietly();
      throw failure(operation, e);
    } catch (RuntimeException | Error e) {
      rollbackQuietly();
      throw e;
    }
  }

  /** Rolls back; a failure of the rollback itself is dropped, the original one is reported. */
  public void rollbackQuietly() {
    try {
      db.rollback();
    } catch (SQLException ignored) {
      // the failure that led here is the one reported
    }
  }

  /** The exception for a failed {@code operation}, naming this store's file. */
  public StoreException failure(String operation, Throwable cause) {
    return new StoreException(operation, file, cause);
  }
}
