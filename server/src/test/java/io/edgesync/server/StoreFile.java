package io.edgesync.server;

import io.edgesync.support.jdbc.Jdbc;
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
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A test's cloud store file, registered with {@code @RegisterExtension}: stores opened on it keep a
 * short document history ({@link #HISTORY_VERSIONS}, so pruning shows in a test) and are closed
 * after the test; {@link #closeAll} is a restart. {@link #reader} reads the file through a second
 * connection, which sees committed data only.
 */
final class StoreFile implements BeforeEachCallback, AfterEachCallback {
  static final long HISTORY_VERSIONS = 32;

  private final List<SqliteCloudStore> opened = new ArrayList<>();
  private Path dir;

  @Override
  public void beforeEach(ExtensionContext context) throws IOException {
    dir = Files.createTempDirectory("edgesync-store-test");
  }

  @Override
  public void afterEach(ExtensionContext context) throws IOException {
    closeAll();
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

  Path path() {
    return dir.resolve("cloud.db");
  }

  /** Opens a store on the file (closed after the test). */
  SqliteCloudStore open() throws SQLException {
    SqliteCloudStore store = new SqliteCloudStore(path(), HISTORY_VERSIONS);
    opened.add(store);
    return store;
  }

  /** Closes every store opened so far: the next {@link #open} starts from what is on disk. */
  void closeAll() {
    opened.forEach(SqliteCloudStore::close);
    opened.clear();
  }

  /** Closes the store opened last. */
  void closeLast() {
    opened.remove(opened.size() - 1).close();
  }

  /** A second connection to the file. */
  Connection connect() throws SQLException {
    return DriverManager.getConnection("jdbc:sqlite:" + path().toAbsolutePath());
  }

  /** The first column of the first row of {@code sql}, through a second connection. */
  long number(String sql) throws SQLException {
    try (Reader r = reader()) {
      return r.number(sql);
    }
  }

  Reader reader() throws SQLException {
    return new Reader(connect());
  }

  /** One-value queries on a second connection. */
  static final class Reader implements AutoCloseable {
    private final Connection connection;
    private final Statement statement;

    private Reader(Connection connection) throws SQLException {
      this.connection = connection;
      this.statement = connection.createStatement();
    }

    long number(String sql) throws SQLException {
      return first(sql, rs -> rs.getLong(1));
    }

    String text(String sql) throws SQLException {
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
