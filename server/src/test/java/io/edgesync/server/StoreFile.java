package io.edgesync.server;

import io.edgesync.support.jdbc.Jdbc;
import io.edgesync.testing.TestPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A test's cloud store, registered with {@code @RegisterExtension}: a SQLite file in a temporary
 * directory, or a fresh database of the shared embedded PostgreSQL ({@link TestPostgres}; the test
 * is skipped where it cannot start). Stores opened on it keep a short document history ({@link
 * #HISTORY_VERSIONS}, so pruning shows in a test) and are closed after the test; {@link #closeAll}
 * is a restart. {@link #reader} reads the database through a second connection, which sees
 * committed data only.
 */
public final class StoreFile implements BeforeEachCallback, AfterEachCallback {
  public static final long HISTORY_VERSIONS = 32;

  private final StoreKind kind;
  private final List<SqliteCloudStore> opened = new ArrayList<>();
  private Path dir;
  private String database; // PostgreSQL: this test's database

  /** A SQLite store file. */
  private java.security.PublicKey releaseKey;

  public StoreFile() {
    this(StoreKind.SQLITE);
  }

  public StoreFile(StoreKind kind) {
    this.kind = kind;
  }

  public StoreKind kind() {
    return kind;
  }

  @Override
  public void beforeEach(ExtensionContext context) throws IOException {
    if (kind == StoreKind.POSTGRES) {
      Assumptions.assumeTrue(
          TestPostgres.available(),
          () -> "PostgreSQL variant skipped: " + TestPostgres.unavailableReason());
      database = TestPostgres.newDatabase();
    }
    dir = Files.createTempDirectory("edgesync-store-test");
  }

  /** The settings that open this test's store. */
  public StoreSettings settings() {
    return kind == StoreKind.SQLITE
        ? StoreSettings.sqlite()
        : StoreSettings.postgres(TestPostgres.jdbcUrl(database), TestPostgres.USER, null);
  }

  @Override
  public void afterEach(ExtensionContext context) throws IOException {
    if (dir == null) {
      return; // skipped
    }
    closeAll();
    if (database != null) {
      TestPostgres.dropDatabase(database);
    }
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(StoreFile::delete);
    }
  }

  private static void delete(Path p) {
    try {
      Files.delete(p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The data directory (SQLite: the store file's). */
  /**
   * The cloud's files over {@code store} (opened by {@link #open}), with a new release key in
   * {@link #dir} and the default settings: what the file and rollout tests start from.
   */
  public io.edgesync.server.files.CloudFiles openFiles(
      SqliteCloudStore store, java.util.function.LongSupplier clock) throws Exception {
    java.security.KeyPair k = io.edgesync.security.ReleaseKey.generate();
    Path key = dir().resolve("release.key");
    io.edgesync.security.ReleaseKey.writePrivateKey(key, k.getPrivate());
    releaseKey = k.getPublic();
    return io.edgesync.server.files.CloudFiles.open(
        io.edgesync.server.files.FileSettings.defaults().withReleaseKeyFile(key),
        dir(),
        store.files(),
        store.uploads(),
        store.auditedTransactions(),
        store.fileChunks(),
        clock);
  }

  /** The public half of the release key {@link #openFiles} made last. */
  public java.security.PublicKey releaseKey() {
    return releaseKey;
  }

  public Path dir() {
    return dir;
  }

  /** The SQLite file (only of a SQLite store). */
  public Path path() {
    if (kind != StoreKind.SQLITE) {
      throw new IllegalStateException("a PostgreSQL store has no file");
    }
    return dir.resolve(SyncServer.STORE_FILE);
  }

  /** Opens a store (closed after the test). */
  public SqliteCloudStore open() throws SQLException {
    return open(HISTORY_VERSIONS, () -> UUID.randomUUID().toString());
  }

  /** Opens a store keeping {@code historyVersions} and taking command ids from {@code ids}. */
  public SqliteCloudStore open(long historyVersions, Supplier<String> ids) throws SQLException {
    SqliteCloudStore store = CloudStores.open(settings(), dir, historyVersions, ids);
    opened.add(store);
    return store;
  }

  /** Closes every store opened so far: the next {@link #open} starts from what is stored. */
  public void closeAll() {
    opened.forEach(SqliteCloudStore::close);
    opened.clear();
  }

  /** Closes the store opened last. */
  public void closeLast() {
    opened.remove(opened.size() - 1).close();
  }

  /** A second connection to the database. */
  public Connection connect() throws SQLException {
    return kind == StoreKind.SQLITE
        ? DriverManager.getConnection("jdbc:sqlite:" + path().toAbsolutePath())
        : TestPostgres.connect(database);
  }

  /** The first column of the first row of {@code sql}, through a second connection. */
  public long number(String sql) throws SQLException {
    try (Reader r = reader()) {
      return r.number(sql);
    }
  }

  public Reader reader() throws SQLException {
    return new Reader(connect());
  }

  /** One-value queries on a second connection. */
  public static final class Reader implements AutoCloseable {
    private final Connection connection;
    private final Statement statement;

    private Reader(Connection connection) throws SQLException {
      this.connection = connection;
      this.statement = connection.createStatement();
    }

    public long number(String sql) throws SQLException {
      return first(sql, rs -> rs.getLong(1));
    }

    public String text(String sql) throws SQLException {
      return first(sql, rs -> rs.getString(1));
    }

    private <T> T first(String sql, Jdbc.RowReader<T> reader) throws SQLException {
      try (ResultSet rs = statement.executeQuery(sql)) {
        rs.next();
        return reader.read(rs);
      }
    }

    @Override
    public void close() throws SQLException {
      statement.close();
      connection.close();
    }
  }
}
