package io.edgesync.server;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.SQLException;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;

/**
 * The cloud store's PostgreSQL database: a HikariCP pool of at most {@code
 * server.store.pool.max_connections} connections, and the schema brought up to date by Flyway at
 * start ({@code db/postgres/V*__*.sql} on the classpath; table {@code flyway_schema_history}). A
 * database migrated by a newer build (a migration this build does not know) is refused, as the
 * SQLite store refuses a newer file.
 *
 * <p>The store holds one connection of the pool for its life (its single-writer structure: every
 * statement runs under the store's monitor); the others are there for work that runs beside it.
 *
 * <p>Thread safe (the pool is).
 */
final class PostgresDatabase implements AutoCloseable {
  /** Where the PostgreSQL migrations are (SQLite keeps its own runner and scripts in db/). */
  static final String MIGRATIONS = "classpath:io/edgesync/server/db/postgres";

  private final HikariDataSource pool;
  private final String url;

  private PostgresDatabase(HikariDataSource pool, String url) {
    this.pool = pool;
    this.url = url;
  }

  /**
   * Connects (failing within {@code connect_timeout_ms} if the server cannot be reached or refuses
   * the login) and migrates the schema.
   */
  static PostgresDatabase open(StoreSettings s) throws SQLException {
    HikariDataSource pool = connect(s);
    try {
      migrate(pool, s.url());
      return new PostgresDatabase(pool, s.url());
    } catch (SQLException | RuntimeException e) {
      pool.close();
      throw e;
    }
  }

  private static HikariDataSource connect(StoreSettings s) throws SQLException {
    HikariConfig c = new HikariConfig();
    c.setPoolName("edgesync-store");
    c.setJdbcUrl(s.url());
    c.setUsername(s.user());
    c.setPassword(password(s));
    c.setMaximumPoolSize(s.maxConnections());
    c.setMinimumIdle(1);
    c.setAutoCommit(false);
    c.setConnectionTimeout(s.connectTimeoutMs());
    // Start fails, naming the server, when the first connection cannot be made in time.
    c.setInitializationFailTimeout(s.connectTimeoutMs());
    c.addDataSourceProperty("connectTimeout", Math.max(1, s.connectTimeoutMs() / 1000));
    c.addDataSourceProperty("ApplicationName", "edgesync-server");
    try {
      return new HikariDataSource(c);
    } catch (RuntimeException e) {
      throw new SQLException(
          "cannot connect to PostgreSQL at "
              + s.url()
              + " as "
              + s.user()
              + " within "
              + s.connectTimeoutMs()
              + " ms: "
              + rootMessage(e),
          e);
    }
  }

  /**
   * One connection of its own, read only, in {@code REPEATABLE READ} (one snapshot for the whole
   * read), no pool and no migration: for offline readers ({@code edgesync audit}) that must change
   * nothing, not even an empty database's schema.
   */
  static Connection readOnlyConnection(StoreSettings s) throws SQLException {
    java.util.Properties p = new java.util.Properties();
    p.setProperty("user", s.user());
    String password = password(s);
    if (password != null) {
      p.setProperty("password", password);
    }
    p.setProperty("connectTimeout", String.valueOf(Math.max(1, s.connectTimeoutMs() / 1000)));
    p.setProperty("ApplicationName", "edgesync-cli");
    p.setProperty("readOnly", "true");
    Connection c;
    try {
      c = java.sql.DriverManager.getConnection(s.url(), p);
    } catch (SQLException e) {
      throw new SQLException(
          "cannot connect to PostgreSQL at " + s.url() + " as " + s.user() + ": " + e.getMessage(),
          e.getSQLState(),
          e);
    }
    try {
      c.setReadOnly(true);
      c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
      return c;
    } catch (SQLException e) {
      c.close();
      throw e;
    }
  }

  /** The first line of the password file; no file: no password. */
  private static String password(StoreSettings s) throws SQLException {
    if (s.passwordFile() == null) {
      return null;
    }
    try {
      String text = Files.readString(s.passwordFile(), StandardCharsets.UTF_8);
      int end = text.indexOf('\n');
      return (end < 0 ? text : text.substring(0, end)).strip();
    } catch (IOException e) {
      throw new SQLException(
          "cannot read server.store.password_file " + s.passwordFile() + ": " + e, e);
    }
  }

  private static void migrate(HikariDataSource pool, String url) throws SQLException {
    try {
      Flyway.configure()
          .dataSource(pool)
          .locations(MIGRATIONS)
          // A migration applied by a newer build is an error, not something to skip.
          .ignoreMigrationPatterns("")
          .load()
          .migrate();
    } catch (FlywayException e) {
      throw new SQLException("migrating the schema of " + url + " failed: " + rootMessage(e), e);
    }
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    String message = String.valueOf(e.getMessage());
    return t == e || message.contains(String.valueOf(t.getMessage()))
        ? message
        : message + " (" + t.getMessage() + ")";
  }

  /** A connection of the pool, in manual commit mode; the caller closes it. */
  Connection connection() throws SQLException {
    return pool.getConnection();
  }

  /**
   * A connection of the pool that answers now, for one that was lost: the pool hands out an idle
   * connection used within the last half second without checking it, and a database restart ends
   * its idle connections too. Each that does not answer is evicted, at most the pool's size times.
   */
  Connection answeringConnection(int validTimeoutSeconds) throws SQLException {
    for (int tried = 0; ; tried++) {
      Connection c = pool.getConnection();
      if (tried >= pool.getMaximumPoolSize() || c.isValid(validTimeoutSeconds)) {
        return c;
      }
      pool.evictConnection(c);
    }
  }

  /** The pool itself, for work beside the store's own connection (the cluster bus). */
  javax.sql.DataSource dataSource() {
    return pool;
  }

  /** The JDBC URL, for messages. */
  String url() {
    return url;
  }

  @Override
  public void close() {
    pool.close();
  }
}
