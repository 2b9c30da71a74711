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
 * can without waiting for readers or writers; commits go on appending to the log meanwhile. SQLite
 * starts the log over only when a writer finds all of it copied, which under steady commits never
 * happens by itself (the log grew to 562 MiB in 8 s in the issue-10 review). So once the log holds
 * {@code restartFrames} frames, one more passive checkpoint runs while holding the owner's lock
 * (every commit of the store takes that lock): it copies only the frames committed since the last
 * pass, and the next commit starts the log over. {@code journal_size_limit} then truncates the file
 * back. The owner keeps a large automatic checkpoint as a backstop should this thread ever stop
 * ({@link SqliteCloudStore#checkpointInBackground}).
 *
 * <p>Thread safe: its connection is used only by its own thread.
 */
final class WalCheckpointer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(WalCheckpointer.class);

  /** How often the log is copied into the database. */
  static final long DEFAULT_INTERVAL_MS = 200;

  /** Log frames (pages) from which the log is started over: 16 MiB of 4 KiB pages. */
  static final long DEFAULT_RESTART_FRAMES = 4_096;

  /** The log file is truncated to this size when it starts over. */
  static final long JOURNAL_SIZE_LIMIT_BYTES = 64L << 20;

  /** How long a failure is not logged again. */
  private static final long WARN_INTERVAL_MS = 60_000;

  private final Path file;
  private final Object commitLock;
  private final long restartFrames;
  private final Connection db;
  private final ScheduledExecutorService thread;
  private final AtomicLong framesCopied = new AtomicLong();
  private final AtomicLong restarts = new AtomicLong();
  private long lastWarnMs = Long.MIN_VALUE;

  /**
   * @param commitLock the lock every commit to {@code file} holds
   * @param restartFrames log size in frames from which the log is started over
   */
  WalCheckpointer(Path file, Object commitLock, long intervalMs, long restartFrames)
      throws SQLException {
    if (intervalMs <= 0 || restartFrames <= 0) {
      throw new IllegalArgumentException(
          "checkpoint interval and restart frames must be positive: "
              + intervalMs
              + " ms, "
              + restartFrames);
    }
    this.file = file;
    this.commitLock = commitLock;
    this.restartFrames = restartFrames;
    this.db = DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath());
    try (Statement st = db.createStatement()) {
      st.execute("PRAGMA synchronous=FULL");
      st.execute("PRAGMA journal_size_limit=" + JOURNAL_SIZE_LIMIT_BYTES);
    } catch (SQLException e) {
      db.close();
      throw e;
    }
    this.thread =
        Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("edgesync-wal-checkpoint"));
    thread.scheduleWithFixedDelay(this::checkpoint, intervalMs, intervalMs, TimeUnit.MILLISECONDS);
  }

  /** Log frames copied into the database so far. */
  long framesCopied() {
    return framesCopied.get();
  }

  /** Times the log was started over (a checkpoint under the commit lock). */
  long restarts() {
    return restarts.get();
  }

  private void checkpoint() {
    try {
      long logFrames = passive();
      if (logFrames >= restartFrames) {
        synchronized (commitLock) {
          passive();
        }
        restarts.incrementAndGet();
      }
    } catch (SQLException | RuntimeException | Error e) {
      long now = System.currentTimeMillis();
      if (lastWarnMs == Long.MIN_VALUE || now - lastWarnMs >= WARN_INTERVAL_MS) {
        lastWarnMs = now;
        log.warn("checkpointing the write-ahead log of {} failed: {}", file, e.toString());
      }
    }
  }

  /** One passive checkpoint; returns the log's size in frames. */
  private long passive() throws SQLException {
    try (Statement st = db.createStatement();
        ResultSet rs = st.executeQuery("PRAGMA wal_checkpoint(PASSIVE)")) {
      if (!rs.next()) {
        return 0;
      }
      long copied = rs.getLong(3);
      if (copied > 0) {
        framesCopied.addAndGet(copied);
      }
      return rs.getLong(2);
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
