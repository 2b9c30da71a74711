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
 * <p><b>A lost connection.</b> A store on a database server (PostgreSQL) gives a {@link Reconnect}:
 * when a failure means the connection itself is lost (the server restarted, the backend was
 * terminated, the network cut), the next unit of work ({@link #unit}, {@link #call}, {@link
 * #inTransaction}) that starts while no other runs takes a fresh connection first, and the
 * statements prepared on the lost one are dropped. Never inside a unit: a transaction that was
 * running on the lost connection fails as a whole (its owner rolls back), and nothing after the
 * failure can commit part of it on the fresh connection. Without a {@link Reconnect} (SQLite files)
 * the connection is kept for life, as before.
 *
 * <p>Not thread safe: one instance per store, used only by whoever holds the store's lock (as the
 * connection itself is).
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

  /** How a store replaces a lost connection (see the class comment). */
  public interface Reconnect {
    /**
     * Whether {@code failure} on {@code db} means the connection is lost (rather than one statement
     * refused: a constraint, a lock timeout). Called once per loss.
     */
    boolean lost(Connection db, SQLException failure);

    /** A fresh connection in manual commit mode; the lost one is closed already. */
    Connection open() throws SQLException;
  }

  private Connection db; // replaced only between units of work, when lost
  private final String file;
  private final Reconnect reconnect; // null: the connection is kept for life
  private final Map<String, PreparedStatement> statements = new HashMap<>();
  private boolean lost;
  private int unitsRunning; // nested units of work; a lost connection is replaced only at 0

  /**
   * @param file what {@link StoreException}s name as the database: its path (or URL)
   */
  public Jdbc(Connection db, String file) {
    this(db, file, null);
  }

  /** The same, replacing a lost connection through {@code reconnect} (null: never). */
  public Jdbc(Connection db, String file, Reconnect reconnect) {
    this.db = db;
    this.file = file;
    this.reconnect = reconnect;
  }

  /**
   * The connection of the running unit of work. Do not keep it beyond the unit: a lost one is
   * replaced before the next.
   */
  public Connection connection() {
    return db;
  }

  /**
   * Runs {@code work} as a unit of work on one connection: if the connection was found lost since
   * the last unit, and no unit is running (this one is not nested), it is replaced first; a failure
   * that shows the connection lost is noted for the next unit. Units nest ({@link #call} inside
   * {@link #inTransaction}); only the outermost may replace the connection.
   *
   * @throws SQLException from {@code work}, or if no fresh connection could be had
   */
  public <T> T unit(SqlWork<T> work) throws SQLException {
    if (lost && unitsRunning == 0) {
      replaceLostConnection();
    }
    unitsRunning++;
    try {
      return work.run();
    } catch (SQLException e) {
      noteIfLost(e);
      throw e;
    } finally {
      unitsRunning--;
    }
  }

  /** True while a lost connection waits to be replaced by the next unit of work. */
  public boolean connectionLost() {
    return lost;
  }

  private void replaceLostConnection() throws SQLException {
    for (PreparedStatement ps : statements.values()) {
      closeQuietly(ps);
    }
    statements.clear();
    closeQuietly(db);
    db = reconnect.open(); // if this fails, the connection stays lost: the next unit tries again
    lost = false;
  }

  private void noteIfLost(Throwable failure) {
    if (reconnect == null || lost) {
      return;
    }
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof SQLException e) {
        lost = reconnect.lost(db, e);
        return;
      }
    }
  }

  private static void closeQuietly(AutoCloseable c) {
    try {
      c.close();
    } catch (Exception ignored) {
      // a statement or connection of a lost connection: closing it can only fail
    }
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

  /**
   * Runs {@code work} as a {@link #unit}; an {@link SQLException} becomes a {@link StoreException}
   * naming it.
   */
  public <T> T call(String operation, SqlWork<T> work) {
    try {
      return unit(work);
    } catch (SQLException e) {
      throw failure(operation, e);
    }
  }

  /**
   * Runs {@code work} as one {@link #unit} and transaction: commits after it, or rolls back if it
   * (or the commit) fails and rethrows, an {@link SQLException} as a {@link StoreException} naming
   * {@code operation}.
   */
  public <T> T inTransaction(String operation, SqlWork<T> work) {
    try {
      return unit(
          () -> {
            T result = work.run();
            db.commit();
            return result;
          });
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
    noteIfLost(cause);
    return new StoreException(operation, file, cause);
  }
}
