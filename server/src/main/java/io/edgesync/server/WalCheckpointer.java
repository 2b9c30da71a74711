package io.edgesync.server;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves a SQLite file's write-ahead log into the database from a thread and connection of its own,
 * so that no commit pays for a checkpoint. With SQLite's automatic checkpoints the commit that
 * fills the log past {@code wal_autocheckpoint} copies all of it into the database before it
 * returns, and the cloud store holds its lock meanwhile: with the store's 64 MiB log every session
 * of the server waited about 100 ms for its acks now and then (issue 10: append→cloud p99 137 ms on
 * loopback, 45–51 ms with checkpoints out of the commit path).
 *
 * <p>Every {@code intervalMs} it runs {@code PRAGMA wal_checkpoint(PASSIVE)}, which copies what it
 * can without waiting for readers or writers; commits go on appending to the log meanwhile, and the
 * next writer starts the log over once everything is copied. The owner turns automatic checkpoints
 * off on its own connection ({@link SqliteCloudStore#checkpointInBackground}).
 *
 * <p>Thread safe: its connection is used only by its own thread.
 */
final class WalCheckpointer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(WalCheckpointer.class);

  /** How often the log is copied into the database. */
  static final long DEFAULT_INTERVAL_MS = 200;

  /** How long a failure is not logged again. */
  private static final long WARN_INTERVAL_MS = 60_000;

  private final Path file;
  private final Connection db;
  private final ScheduledExecutorService thread;
  private final AtomicLong framesCopied = new AtomicLong();
  private long lastWarnMs = Long.MIN_VALUE;

  WalCheckpointer(Path file, long intervalMs) throws SQLException {
    if (intervalMs <= 0) {
      throw new IllegalArgumentException("checkpoint interval must be positive: " + intervalMs);
    }
    this.file = file;
    this.db = DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath());
    try (Statement st = db.createStatement()) {
      st.execute("PRAGMA synchronous=FULL");
    }
    this.thread =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "edgesync-wal-checkpoint");
              t.setDaemon(true);
              return t;
            });
    thread.scheduleWithFixedDelay(this::checkpoint, intervalMs, intervalMs, TimeUnit.MILLISECONDS);
  }

  /** Log frames copied into the database so far. */
  long framesCopied() {
    return framesCopied.get();
  }

  private void checkpoint() {
    try (Statement st = db.createStatement();
        ResultSet rs = st.executeQuery("PRAGMA wal_checkpoint(PASSIVE)")) {
      if (rs.next()) {
        long copied = rs.getLong(3);
        if (copied > 0) {
          framesCopied.addAndGet(copied);
        }
      }
    } catch (SQLException | RuntimeException e) {
      long now = System.currentTimeMillis();
      if (lastWarnMs == Long.MIN_VALUE || now - lastWarnMs >= WARN_INTERVAL_MS) {
        lastWarnMs = now;
        log.warn("checkpointing the write-ahead log of {} failed: {}", file, e.toString());
      }
    }
  }

  @Override
  public void close() {
    thread.shutdown();
    try {
      if (!thread.awaitTermination(10, TimeUnit.SECONDS)) {
        log.warn("the checkpoint of {} did not end within 10 s", file);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try {
      db.close();
    } catch (SQLException e) {
      log.warn("closing the checkpoint connection of {} failed: {}", file, e.toString());
    }
  }
}
