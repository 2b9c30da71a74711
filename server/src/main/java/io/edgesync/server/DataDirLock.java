package io.edgesync.server;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * An exclusive hold on a server's data directory: an OS file lock on {@code server.lock} in it,
 * taken by a server that runs on the embedded store for as long as it runs, and by {@code edgesync
 * server restore} while it replaces the directory's contents. So a restore never writes under a
 * running server, and two servers never share one SQLite file. The OS drops the lock when its
 * process dies ({@code kill -9} included), so a crash leaves nothing to clean up.
 *
 * <p>File format: the holder's process id as decimal text (for the error message only; the lock,
 * not the text, decides). Thread safe.
 */
public final class DataDirLock implements AutoCloseable {
  /** The lock file's name in the data directory. */
  public static final String FILE_NAME = "server.lock";

  private final FileChannel channel;
  private final FileLock lock;

  private DataDirLock(FileChannel channel, FileLock lock) {
    this.channel = channel;
    this.lock = lock;
  }

  /**
   * Takes the lock on {@code dataDir} (created if missing).
   *
   * @throws IllegalStateException naming the directory and the holder's process id if another
   *     process (or another holder in this one) has it
   */
  public static DataDirLock acquire(Path dataDir) throws IOException {
    Files.createDirectories(dataDir);
    Path file = dataDir.resolve(FILE_NAME);
    FileChannel channel =
        FileChannel.open(
            file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
    FileLock lock;
    try {
      lock = channel.tryLock();
    } catch (OverlappingFileLockException e) {
      lock = null; // held in this JVM
    }
    if (lock == null) {
      String holder = holder(channel);
      channel.close();
      throw new IllegalStateException(
          "the data directory "
              + dataDir
              + " is in use by a running edgesync server"
              + (holder.isEmpty() ? "" : " (process " + holder + ")")
              + ": it holds "
              + file
              + "; stop that server first");
    }
    channel.truncate(0);
    channel.write(
        ByteBuffer.wrap(
            Long.toString(ProcessHandle.current().pid()).getBytes(StandardCharsets.US_ASCII)),
        0);
    return new DataDirLock(channel, lock);
  }

  /** {@link #acquire} for a server starting: an I/O failure is an error naming the directory. */
  static DataDirLock forServer(Path dataDir) {
    try {
      return acquire(dataDir);
    } catch (IOException e) {
      throw new IllegalStateException(
          "cannot lock the data directory " + dataDir + ": " + e.getMessage(), e);
    }
  }

  private static String holder(FileChannel channel) {
    try {
      ByteBuffer b = ByteBuffer.allocate(32);
      channel.read(b, 0);
      return new String(b.array(), 0, b.position(), StandardCharsets.US_ASCII).trim();
    } catch (IOException e) {
      return "";
    }
  }

  @Override
  public void close() {
    try {
      lock.release();
      channel.close();
    } catch (IOException e) {
      // closing the channel releases the lock in any case
    }
  }
}
