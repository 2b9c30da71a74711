package io.edgesync.agent.internal.files;

import io.edgesync.agent.EdgeSyncException;
import io.edgesync.agent.EdgeSyncException.Code;
import io.edgesync.support.Migrations;
import io.edgesync.support.files.ChunkStore;
import io.edgesync.support.jdbc.Jdbc;
import io.edgesync.support.jdbc.StoreException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HexFormat;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The device's file-transfer file, {@code edgesync-files.db}, and its chunk directory: one SQLite
 * connection (WAL, {@code synchronous=FULL}: a write is on disk when the call returns) shared by
 * the downloads ({@link SqliteFileInbox}) and the uploads ({@link SqliteFileOutbox}), and one
 * {@link ChunkStore} under {@code <data_dir>/chunks}. Schema in {@code db/V1__files.sql}.
 *
 * <p>A file of its own rather than tables in the outbox or document file: a 1 GiB download is
 * 16,000 entry rows written at the link's pace, which must not hold the documents' monitor or the
 * outbox's writer.
 *
 * <p>Thread safe: every use of the connection holds this object's monitor ({@link #tx}). Chunks are
 * released ({@link #releaseChunks}) under the monitor and only while no upload is reading a stream
 * into the store, so that a chunk an upload has just found already present is not deleted before
 * its row names it.
 */
public final class FilesDb implements AutoCloseable {
  static final HexFormat HEX = HexFormat.of();

  private final Connection db;
  private final Jdbc jdbc;
  private final ChunkStore chunks;
  private final AtomicInteger uploadsStreaming = new AtomicInteger();
  private volatile boolean closed;

  public FilesDb(Path file, Path chunkDir) throws SQLException, IOException {
    Files.createDirectories(file.toAbsolutePath().getParent());
    this.chunks = new ChunkStore(chunkDir);
    this.db = DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath());
    this.jdbc = new Jdbc(db, file.toAbsolutePath().toString());
    try (Statement st = db.createStatement()) {
      st.execute("PRAGMA journal_mode=WAL");
      st.execute("PRAGMA synchronous=FULL");
      st.execute("PRAGMA busy_timeout=5000");
    }
    try {
      Migrations.apply(db, FilesDb.class, "db/V1__files.sql");
    } catch (SQLException e) {
      db.close();
      throw e;
    }
    db.setAutoCommit(false);
  }

  public ChunkStore chunks() {
    return chunks;
  }

  /** A piece of work in one transaction. */
  interface Work<T> {
    T run(Jdbc jdbc) throws SQLException;
  }

  /**
   * Runs {@code work} in one transaction under the monitor, committed (durable) when it returns; an
   * SQLException fails as {@code STORAGE} naming the file, or {@code CLOSED} after {@link #close}.
   */
  synchronized <T> T tx(String operation, Work<T> work) {
    if (closed) {
      throw new EdgeSyncException(Code.CLOSED, "the file store is closed");
    }
    try {
      return jdbc.inTransaction(operation, () -> work.run(jdbc));
    } catch (StoreException e) {
      throw new EdgeSyncException(Code.STORAGE, e.getMessage(), e);
    }
  }

  /** An upload is reading a stream into the chunk store: no chunk is released meanwhile. */
  void uploadStarted() {
    uploadsStreaming.incrementAndGet();
  }

  void uploadEnded() {
    uploadsStreaming.decrementAndGet();
  }

  /**
   * Deletes from the chunk store the chunks of {@code hashes} (32 bytes each) that no download
   * entry and no upload names any more. Skipped while an upload streams in (they stay until the
   * next release, which is only wasted disk).
   */
  synchronized void releaseChunks(byte[] hashes) throws SQLException, IOException {
    if (uploadsStreaming.get() > 0 || closed) {
      return;
    }
    for (int at = 0; at + 32 <= hashes.length; at += 32) {
      byte[] h = java.util.Arrays.copyOfRange(hashes, at, at + 32);
      boolean named =
          jdbc.queryLong("SELECT count(*) FROM download_entries WHERE hash=?", 0, (Object) h) > 0
              || jdbc.queryLong("SELECT count(*) FROM upload_chunks WHERE hash=?", 0, (Object) h)
                  > 0;
      if (!named && !isZero(h)) {
        chunks.delete(HEX.formatHex(h));
      }
    }
    db.commit(); // ends the read transaction
  }

  static boolean isZero(byte[] h) {
    for (byte b : h) {
      if (b != 0) {
        return false;
      }
    }
    return true;
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
}
