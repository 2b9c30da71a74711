package io.edgesync.server;

import io.edgesync.support.jdbc.Jdbc;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How the PostgreSQL store replaces the pool connection it holds when that connection is lost (the
 * database restarted, the backend was terminated, the network cut): {@link Jdbc} asks {@link #lost}
 * about a failure, and before the next unit of work takes a fresh connection from the pool through
 * {@link #open}, after which the store forgets what it keeps in memory of the database ({@code
 * afterReconnect}: another node may have written meanwhile).
 *
 * <p>A connection is lost when the failure's SQLState is of class {@code 08} (connection exception:
 * the driver's I/O errors, a connection already closed) or {@code 57P01..57P03} (the server shut
 * down or terminated the backend), or, for a failure without a SQLState, when the connection no
 * longer answers ({@link Connection#isValid}). A refused statement (a constraint, a lock timeout)
 * keeps the connection.
 *
 * <p>Thread safe (it keeps only a counter); called under the store's monitor.
 */
final class PostgresReconnect implements Jdbc.Reconnect {
  private static final Logger log = LoggerFactory.getLogger(PostgresReconnect.class);

  /** How long {@link Connection#isValid} may wait for an answer. */
  private static final int VALID_TIMEOUT_SECONDS = 2;

  private final PostgresDatabase database;
  private final Runnable afterReconnect;
  private final AtomicLong reconnects = new AtomicLong();

  PostgresReconnect(PostgresDatabase database, Runnable afterReconnect) {
    this.database = database;
    this.afterReconnect = afterReconnect;
  }

  /** Whether {@code e} (or an SQLException it was caused by) says the connection is gone. */
  static boolean meansConnectionLost(SQLException e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof SQLException s && s.getSQLState() != null) {
        String state = s.getSQLState();
        if (state.startsWith("08") || state.matches("57P0[123]")) {
          return true;
        }
      }
    }
    return false;
  }

  @Override
  public boolean lost(Connection db, SQLException failure) {
    boolean lost = meansConnectionLost(failure) || (failure.getSQLState() == null && !answers(db));
    if (lost) {
      log.warn(
          "the store lost its connection to {} ({}); the next store call takes a fresh one from"
              + " the pool",
          database.url(),
          failure.getMessage());
    }
    return lost;
  }

  private static boolean answers(Connection db) {
    try {
      return db.isValid(VALID_TIMEOUT_SECONDS);
    } catch (SQLException e) {
      return false;
    }
  }

  @Override
  public Connection open() throws SQLException {
    Connection fresh = null;
    try {
      fresh = database.answeringConnection(VALID_TIMEOUT_SECONDS);
      fresh.setAutoCommit(false);
    } catch (SQLException e) {
      if (fresh != null) {
        fresh.close();
      }
      log.warn(
          "the store could not reconnect to {} (tried again at the next call): {}",
          database.url(),
          e.getMessage());
      throw e;
    }
    afterReconnect.run();
    log.info(
        "the store reconnected to {} (reconnect {})", database.url(), reconnects.incrementAndGet());
    return fresh;
  }

  /** Connections taken to replace a lost one since the store opened. */
  long reconnects() {
    return reconnects.get();
  }
}
