package io.edgesync.agent.internal.docs;

import io.edgesync.agent.EdgeSyncException;
import io.edgesync.agent.EdgeSyncException.Code;
import io.edgesync.agent.internal.atrest.StorageCipher;
import io.edgesync.agent.internal.atrest.StoreKeyCheck;
import io.edgesync.protocol.Clock;
import io.edgesync.protocol.ProtocolException;
import io.edgesync.support.Migrations;
import io.edgesync.support.jdbc.Jdbc;
import io.edgesync.support.jdbc.StoreException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Set;

/**
 * The device's document file, {@code edgesync-docs.db}: the document replica ({@link
 * LocalDocuments}) and the inbox of commands from the cloud ({@link LocalCommandInbox}) on one
 * SQLite connection (WAL, {@code synchronous=FULL}: a write is on disk when the call returns).
 * Schema in {@code db/V1__docs.sql}: {@code docs} (one row per document: value, cloud version, the
 * base value a merge patch is computed against, HLC, the pending change's sequence), {@code meta}
 * (the change sequence, the last HLC, per scope the cloud's cursor), {@code commands} and, from
 * {@code db/V2__refusals.sql}, {@code refusals} (changes the cloud refused, {@link
 * LocalDocuments#refused}). With a keyring, {@code docs.value}, {@code docs.base_value}, {@code
 * commands.payload} and {@code commands.result} are sealed ({@link StorageCipher}, place from
 * {@link #place}) and {@code meta} holds the key checks of {@link StoreKeyCheck} (in its text
 * column {@code t}).
 *
 * <p>Thread safe: both parts hold this object's monitor for every use of the connection.
 */
public final class DocsFile implements AutoCloseable {
  private final Connection db;
  private final Jdbc jdbc;
  private final LocalDocuments replica;
  private final LocalCommandInbox inbox;
  private final StorageCipher cipher;
  private volatile boolean closed;

  /** With deduplication on (the brief's default). */
  public DocsFile(
      Path file,
      String deviceId,
      Set<String> collections,
      int maxDocumentBytes,
      long maxClockDriftMs,
      boolean deltaSync,
      Clock clock)
      throws SQLException {
    this(file, deviceId, collections, maxDocumentBytes, maxClockDriftMs, deltaSync, true, clock);
  }

  /**
   * Opens (creating if needed) the file.
   *
   * @param collections the declared document collections (others are refused)
   * @param deltaSync send a merge patch against the base when it is smaller than the document
   * @param deduplicate a put of the value the document already holds changes nothing and sends
   *     nothing ({@code bandwidth.deduplication})
   */
  public DocsFile(
      Path file,
      String deviceId,
      Set<String> collections,
      int maxDocumentBytes,
      long maxClockDriftMs,
      boolean deltaSync,
      boolean deduplicate,
      Clock clock)
      throws SQLException {
    this(
        file,
        deviceId,
        collections,
        maxDocumentBytes,
        maxClockDriftMs,
        deltaSync,
        deduplicate,
        clock,
        StorageCipher.OFF);
  }

  /**
   * Opens (creating if needed) the file, with document values and command payloads and results
   * sealed by {@code cipher}.
   *
   * @throws io.edgesync.agent.StorageKeyException if the file and the keyring do not belong
   *     together ({@link StoreKeyCheck}); the file is closed again and nothing in it changed
   */
  public DocsFile(
      Path file,
      String deviceId,
      Set<String> collections,
      int maxDocumentBytes,
      long maxClockDriftMs,
      boolean deltaSync,
      boolean deduplicate,
      Clock clock,
      StorageCipher cipher)
      throws SQLException {
    this.cipher = cipher;
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
    } catch (java.io.IOException e) {
      throw new SQLException("cannot create directory for " + file + ": " + e, e);
    }
    this.db = DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath());
    this.jdbc = new Jdbc(db, file.toAbsolutePath().toString());
    try (Statement st = db.createStatement()) {
      st.execute("PRAGMA journal_mode=WAL");
      st.execute("PRAGMA synchronous=FULL");
      st.execute("PRAGMA busy_timeout=5000");
    }
    Migrations.apply(db, DocsFile.class, "db/V1__docs.sql", "db/V2__refusals.sql");
    db.setAutoCommit(false);
    checkKeys(file);
    this.replica =
        new LocalDocuments(
            this,
            deviceId,
            collections,
            maxDocumentBytes,
            maxClockDriftMs,
            deltaSync,
            deduplicate,
            clock);
    this.inbox = new LocalCommandInbox(this);
    db.commit();
  }

  private void checkKeys(Path file) throws SQLException {
    try {
      StoreKeyCheck.verify(cipher, "the document file " + file.toAbsolutePath(), keyCheckMeta());
    } catch (RuntimeException | SQLException e) {
      db.rollback();
      db.close();
      throw e;
    }
  }

  private StoreKeyCheck.Meta keyCheckMeta() {
    return new StoreKeyCheck.Meta() {
      @Override
      public String get(String key) throws SQLException {
        try (java.sql.PreparedStatement ps = db.prepareStatement("SELECT t FROM meta WHERE k=?")) {
          ps.setString(1, key);
          try (java.sql.ResultSet rs = ps.executeQuery()) {
            return rs.next() ? rs.getString(1) : null;
          }
        }
      }

      @Override
      public void put(String key, String value) throws SQLException {
        jdbc.update("INSERT OR REPLACE INTO meta(k, v, t) VALUES (?,0,?)", key, value);
      }

      @Override
      public void remove(String key) throws SQLException {
        jdbc.update("DELETE FROM meta WHERE k=?", key);
      }

      @Override
      public boolean holdsValues() throws SQLException {
        return jdbc.queryLong(
                "SELECT (SELECT count(*) FROM docs WHERE value IS NOT NULL OR base_value IS NOT"
                    + " NULL) + (SELECT count(*) FROM commands)",
                0)
            > 0;
      }

      @Override
      public long valuesUnder(int keyId) throws SQLException {
        byte[] header = {(byte) 0xE5, 1, (byte) keyId};
        return jdbc.queryLong(
            "SELECT (SELECT count(*) FROM docs WHERE substr(value,1,3)=?1 OR"
                + " substr(base_value,1,3)=?1) + (SELECT count(*) FROM commands WHERE"
                + " substr(payload,1,3)=?1 OR substr(result,1,3)=?1)",
            0,
            (Object) header);
      }
    };
  }

  /**
   * Where a value of this file sits, the associated data of its sealed form: a value copied to
   * another document, command or column does not open. Lengths keep the parts apart.
   */
  static String place(String table, String column, String... parts) {
    StringBuilder b = new StringBuilder(table).append('|').append(column);
    for (String p : parts) {
      b.append('|').append(p.length()).append(':').append(p);
    }
    return b.toString();
  }

  /** {@code value} sealed for its place; null stays null. */
  byte[] seal(String place, byte[] value) {
    return value == null ? null : cipher.seal(place, value);
  }

  /** {@code value} opened for its place; null stays null. */
  byte[] open(String place, byte[] value) {
    return value == null ? null : cipher.open(place, value);
  }

  /** The document replica: the application's {@code Documents} and the engine's replica. */
  public LocalDocuments replica() {
    return replica;
  }

  /** The command inbox: the engine's {@code CommandInbox}, taken from by the command runner. */
  public LocalCommandInbox inbox() {
    return inbox;
  }

  @Override
  public synchronized void close() {
    closed = true;
    try {
      db.close();
    } catch (SQLException e) {
      // closing: nothing to report
    }
  }

  // ---------------------------------------------------------------- for the parts (lock held)

  Connection connection() {
    return db;
  }

  Jdbc jdbc() {
    return jdbc;
  }

  /** A piece of work against the connection; a document update may be invalid. */
  interface SqlWork<T> {
    T run() throws SQLException, ProtocolException;
  }

  /**
   * Runs {@code work}; an SQLException fails as {@code STORAGE} naming the document store and the
   * file, or as {@code CLOSED} after {@link #close}.
   */
  <T> T sql(SqlWork<T> work) {
    try {
      return work.run();
    } catch (SQLException e) {
      if (closed) {
        throw new EdgeSyncException(Code.CLOSED, "the document store is closed", e);
      }
      StoreException failure = jdbc.failure("document store", e);
      throw new EdgeSyncException(Code.STORAGE, failure.getMessage(), failure);
    } catch (ProtocolException e) {
      throw new IllegalStateException(
          "invalid document update from the cloud: " + e.getMessage(), e);
    }
  }

  /** A count, ending the read transaction. */
  long count(String sql) throws SQLException {
    long v = jdbc.queryLong(sql, 0);
    db.commit();
    return v;
  }

  void exec(String sql) throws SQLException {
    try (Statement st = db.createStatement()) {
      st.execute(sql);
    }
  }
}
