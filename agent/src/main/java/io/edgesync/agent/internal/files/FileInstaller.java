package io.edgesync.agent.internal.files;

import io.edgesync.engine.files.FileInbox.Completion;
import io.edgesync.engine.files.FileVersion;
import io.edgesync.engine.files.Manifest;
import io.edgesync.protocol.Clock;
import io.edgesync.protocol.wire.FileHeader;
import io.edgesync.protocol.wire.FileOffer;
import io.edgesync.protocol.wire.FileState;
import io.edgesync.support.files.ChunkStore;
import io.edgesync.support.jdbc.Jdbc;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Assembles a downloaded file from its chunks and installs it, one at a time on its own thread
 * ("edgesync-files-install"), through disk: chunk by chunk into a temporary file beside the install
 * directory, so memory stays at one chunk whatever the file's size. The file is forced to disk and
 * its size and SHA-256 checked against the offer's header (which the release key signed) before
 * anything at its path changes; then it replaces the file at {@code <dir>/<path>} by one atomic
 * rename, so a reader sees the old file or the new one, never a part.
 *
 * <p>On-disk layout under the install directory {@code dir}:
 *
 * <pre>
 * dir/&lt;path&gt;                               the installed version
 * dir/.edgesync~/incoming/install-*.tmp       a file being assembled (deleted after, or at start)
 * dir/.edgesync~/versions/&lt;path&gt;@&lt;version&gt;  the version before it (keep_previous), a hard link
 * </pre>
 *
 * "~" cannot occur in a file path ({@link FileVersion#checkPath}), so no published path can land in
 * {@code .edgesync~}. The previous version is linked there before the rename; a crash between the
 * rename and the database recording the install leaves that link in place, and the install that
 * runs again on restart keeps it (a version's bytes never change, so the link is right).
 *
 * <p>Thread-safe: {@link #submit} from any thread; the work runs on the single worker, whose queue
 * holds at most {@value #MAX_QUEUED} installs.
 */
public final class FileInstaller implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(FileInstaller.class);

  /** Installs waiting for the worker; more are refused ("busy") until it catches up. */
  static final int MAX_QUEUED = 64;

  /** Entries read from the database at a time while assembling. */
  private static final int PAGE_ENTRIES = 1024;

  /** The newest install events kept for watchers. */
  static final int MAX_EVENTS = 1000;

  private final FilesDb db;
  private final Path dir;
  private final Path incoming;
  private final Path versions;
  private final boolean keepPrevious;
  private final Clock clock;
  private final BiConsumer<String, Long> onInstalled;
  private final ThreadPoolExecutor worker;
  private final Set<String> queued = new HashSet<>(); // guarded by itself
  private volatile boolean closed;

  /**
   * @param onInstalled told (on the worker) of every install, after the outcome was handed back
   */
  public FileInstaller(
      FilesDb db, Path dir, boolean keepPrevious, Clock clock, BiConsumer<String, Long> onInstalled)
      throws IOException {
    this.db = db;
    this.dir = dir.toAbsolutePath().normalize();
    this.incoming = Files.createDirectories(this.dir.resolve(".edgesync~").resolve("incoming"));
    this.versions = Files.createDirectories(this.dir.resolve(".edgesync~").resolve("versions"));
    this.keepPrevious = keepPrevious;
    this.clock = clock;
    this.onInstalled = onInstalled;
    cleanIncoming();
    this.worker =
        new ThreadPoolExecutor(
            1,
            1,
            0,
            TimeUnit.MILLISECONDS,
            new ArrayBlockingQueue<>(MAX_QUEUED),
            r -> {
              Thread t = new Thread(r, "edgesync-files-install");
              t.setDaemon(true);
              return t;
            });
  }

  /** The installed file of {@code path}. */
  public Path fileOf(String path) {
    return dir.resolve(path);
  }

  /** Where the version before the installed one is kept. */
  public Path previousOf(String path, long version) {
    return versions.resolve(path + "@" + version);
  }

  /** Queues the install of a download whose chunks are all held; one run per transfer at a time. */
  public void submit(String transferId, Completion done) {
    synchronized (queued) {
      if (!queued.add(transferId)) {
        return;
      }
    }
    try {
      worker.execute(() -> run(transferId, done));
    } catch (RejectedExecutionException e) {
      forget(transferId);
      done.finished(
          transferId,
          FileState.FILE_STATE_FAILED,
          "busy: " + MAX_QUEUED + " installs are waiting; offered again later");
    }
  }

  private void run(String transferId, Completion done) {
    FileState state;
    String reason;
    long version = -1;
    String path = null;
    try {
      FileOffer offer = offerOf(transferId);
      path = offer.getHeader().getPath();
      version = offer.getHeader().getVersion();
      reason = staleReason(transferId, path, version);
      if (reason == null) {
        reason = install(transferId, offer);
      }
      state = reason == null ? FileState.FILE_STATE_INSTALLED : FileState.FILE_STATE_FAILED;
    } catch (IOException | RuntimeException e) {
      if (closed) {
        // Stopped by close(): not a failure of the file. The transfer stays as it was, and the
        // next session's offer assembles it again.
        log.info("install of {} stopped: the agent is closing", transferId);
        forget(transferId);
        return;
      }
      log.warn("install of {} failed", transferId, e);
      state = FileState.FILE_STATE_FAILED;
      reason = "install_failed: " + e.getMessage();
    } finally {
      forget(transferId);
    }
    try {
      done.finished(transferId, state, reason);
      if (state == FileState.FILE_STATE_INSTALLED) {
        onInstalled.accept(path, version);
      }
    } catch (RuntimeException e) {
      log.warn("handing back the install of {} failed", transferId, e);
    }
  }

  private void forget(String transferId) {
    synchronized (queued) {
      queued.remove(transferId);
    }
  }

  private FileOffer offerOf(String transferId) {
    List<FileOffer> offers =
        db.tx(
            "read a download's offer",
            j ->
                j.list(
                    "SELECT offer FROM downloads WHERE transfer_id=?",
                    SqliteFileInbox::offer,
                    transferId));
    if (offers.isEmpty()) {
      throw new IllegalArgumentException("no download " + transferId);
    }
    return offers.get(0);
  }

  /**
   * Why a download that waited for this worker must not be installed now, or null: a newer offer
   * superseded it meanwhile (its base may be the one a newer delta was planned against), or a newer
   * version is installed already. Never an older version over a newer one; the same version again
   * (after a crash before its outcome was recorded) installs again, which is harmless.
   */
  private String staleReason(String transferId, String path, long version) {
    return db.tx(
        "check a download before its install",
        j -> {
          List<String> failed =
              j.list(
                  "SELECT reason FROM downloads WHERE transfer_id=? AND state=?",
                  rs -> rs.getString(1),
                  transferId,
                  FileState.FILE_STATE_FAILED_VALUE);
          if (!failed.isEmpty()) {
            return failed.get(0) == null ? "superseded: no longer wanted" : failed.get(0);
          }
          List<Long> installed =
              j.list("SELECT version FROM installed WHERE path=?", rs -> rs.getLong(1), path);
          if (!installed.isEmpty() && installed.get(0) > version) {
            return "superseded: version " + installed.get(0) + " is installed";
          }
          return null;
        });
  }

  /** Assembles, checks and installs; null when installed, else the reason it was not. */
  private String install(String transferId, FileOffer offer) throws IOException {
    FileHeader h = offer.getHeader();
    Path target = dir.resolve(FileVersion.checkPath(h.getPath())).normalize();
    if (!target.startsWith(dir) || target.startsWith(dir.resolve(".edgesync~"))) {
      return "bad_path: " + h.getPath() + " is outside the install directory";
    }
    Path tmp = Files.createTempFile(incoming, "install-", ".tmp");
    try {
      String problem = assemble(transferId, offer, tmp);
      if (problem != null) {
        return problem;
      }
      long previous = replace(h.getPath(), h.getVersion(), target, tmp);
      record(h.getPath(), h.getVersion(), previous);
      log.info("installed {} at {}", transferId, target);
      return null;
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /** Writes the chunks in order to {@code tmp}, forced; null if size and SHA-256 match. */
  private String assemble(String transferId, FileOffer offer, Path tmp) throws IOException {
    MessageDigest sha = Manifest.newDigest();
    long size = 0;
    int n = offer.getChunkCount();
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE);
        OutputStream out = Channels.newOutputStream(ch)) {
      for (int first = 0; first < n; first += PAGE_ENTRIES) {
        List<Entry> page = entries(transferId, first, Math.min(PAGE_ENTRIES, n - first));
        if (page.size() != Math.min(PAGE_ENTRIES, n - first)) {
          return "missing_chunk: entries from " + first + " of " + transferId + " are not known";
        }
        for (Entry e : page) {
          byte[] data = chunkOf(e);
          if (data == null) {
            return "missing_chunk: chunk " + e.idx() + " of " + transferId + " is not held";
          }
          sha.update(data);
          out.write(data);
          size += data.length;
        }
      }
      out.flush();
      ch.force(true);
    } catch (ChunkStore.ChunkMismatchException e) {
      return "corrupt_chunk: " + e.getMessage();
    }
    FileHeader h = offer.getHeader();
    byte[] actual = sha.digest();
    if (size != h.getSize() || !Arrays.equals(actual, h.getSha256().toByteArray())) {
      return "hash_mismatch: the assembled file has "
          + size
          + " bytes with SHA-256 "
          + HexFormat.of().formatHex(actual)
          + "; the offer says "
          + h.getSize()
          + " bytes, "
          + HexFormat.of().formatHex(h.getSha256().toByteArray());
    }
    return null;
  }

  private record Entry(int idx, int length, byte[] hash, boolean held) {}

  private List<Entry> entries(String transferId, int first, int count) {
    return db.tx(
        "read chunk entries",
        j ->
            j.list(
                "SELECT idx, length, hash, held FROM download_entries WHERE transfer_id=? AND"
                    + " idx>=? AND idx<? ORDER BY idx",
                rs -> new Entry(rs.getInt(1), rs.getInt(2), rs.getBytes(3), rs.getInt(4) == 1),
                transferId,
                first,
                first + count));
  }

  /** The chunk's bytes, checked against its hash by the store and its length here; or null. */
  private byte[] chunkOf(Entry e) throws IOException {
    if (!e.held() || FilesDb.isZero(e.hash())) {
      return null;
    }
    byte[] data = db.chunks().get(FilesDb.HEX.formatHex(e.hash())).orElse(null);
    return data != null && data.length == e.length() ? data : null;
  }

  /**
   * Moves {@code tmp} to {@code target} atomically, first linking the file there as the previous
   * version when it is kept; returns the previous version (0: none).
   */
  private long replace(String path, long version, Path target, Path tmp) throws IOException {
    long[] installed =
        db.tx(
            "read the installed version",
            j ->
                new long[] {
                  j.queryLong("SELECT version FROM installed WHERE path=?", 0, path),
                  j.queryLong("SELECT previous_version FROM installed WHERE path=?", 0, path)
                });
    // Installed already (a crash before the outcome was handed back): the kept one stays.
    long previous = installed[0] == version ? installed[1] : installed[0];
    Files.createDirectories(target.getParent());
    if (keepPrevious && previous > 0 && installed[0] != version && Files.isRegularFile(target)) {
      Path kept = previousOf(path, previous);
      if (!Files.exists(kept)) {
        Files.createDirectories(kept.getParent());
        try {
          Files.createLink(kept, target);
        } catch (UnsupportedOperationException | IOException e) {
          Files.copy(target, kept, StandardCopyOption.COPY_ATTRIBUTES);
        }
      }
    }
    try {
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      throw new IOException(
          dir + " cannot rename atomically, so a file could be seen half written", e);
    }
    syncDirectory(target.getParent());
    // No previous version to name when there was no file to keep (deleted by hand, or none).
    return keepPrevious && previous > 0 && Files.isRegularFile(previousOf(path, previous))
        ? previous
        : 0;
  }

  /** Records the install, drops versions no longer kept and releases their chunks. */
  private void record(String path, long version, long previous) throws IOException {
    byte[] released =
        db.tx(
            "record an install",
            j -> {
              j.update(
                  "INSERT OR REPLACE INTO installed(path, version, previous_version, installed_ms)"
                      + " VALUES (?,?,?,?)",
                  path,
                  version,
                  previous,
                  clock.nowMs());
              j.update(
                  "INSERT INTO install_events(path, version, at_ms) VALUES (?,?,?)",
                  path,
                  version,
                  clock.nowMs());
              j.update(
                  "DELETE FROM install_events WHERE seq <= (SELECT max(seq) FROM install_events) - ?",
                  MAX_EVENTS);
              return dropOldEntries(j, path, version, previous);
            });
    dropOldVersionFiles(path, previous);
    try {
      db.releaseChunks(released);
    } catch (SQLException e) {
      log.warn("releasing chunks of old versions of {} failed; they stay on disk", path, e);
    }
  }

  /**
   * Deletes the entries of finished downloads of {@code path} other than the installed and the kept
   * version; returns their hashes (candidates for release).
   */
  private static byte[] dropOldEntries(Jdbc j, String path, long version, long previous)
      throws SQLException {
    List<byte[]> hashes =
        j.list(
            "SELECT e.hash FROM download_entries e JOIN downloads d ON d.transfer_id=e.transfer_id"
                + " WHERE d.path=? AND d.version NOT IN (?,?) AND d.version<?",
            rs -> rs.getBytes(1),
            path,
            version,
            previous,
            version);
    j.update(
        "DELETE FROM download_entries WHERE transfer_id IN (SELECT transfer_id FROM downloads"
            + " WHERE path=? AND version NOT IN (?,?) AND version<?)",
        path,
        version,
        previous,
        version);
    byte[] out = new byte[hashes.size() * Manifest.HASH_BYTES];
    for (int i = 0; i < hashes.size(); i++) {
      System.arraycopy(hashes.get(i), 0, out, i * Manifest.HASH_BYTES, Manifest.HASH_BYTES);
    }
    return out;
  }

  /** Deletes kept files of {@code path} other than {@code previous}. */
  private void dropOldVersionFiles(String path, long previous) throws IOException {
    Path kept = previousOf(path, 1);
    Path parent = kept.getParent();
    if (!Files.isDirectory(parent)) {
      return;
    }
    String name = kept.getFileName().toString();
    String prefix = name.substring(0, name.lastIndexOf('@') + 1);
    List<Path> drop = new ArrayList<>();
    try (DirectoryStream<Path> files = Files.newDirectoryStream(parent, prefix + "*")) {
      for (Path f : files) {
        String v = f.getFileName().toString().substring(prefix.length());
        if (previous == 0 || !v.equals(Long.toString(previous))) {
          drop.add(f);
        }
      }
    }
    for (Path f : drop) {
      Files.deleteIfExists(f);
    }
  }

  /** Forces a directory's entries to disk, so the rename survives a power cut (Linux). */
  private static void syncDirectory(Path d) {
    try (FileChannel ch = FileChannel.open(d, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException e) {
      // some platforms cannot open a directory; the rename itself is still atomic
    }
  }

  /** Temporary files of installs a crash interrupted. */
  private void cleanIncoming() throws IOException {
    try (DirectoryStream<Path> files = Files.newDirectoryStream(incoming, "install-*.tmp")) {
      for (Path f : files) {
        Files.deleteIfExists(f);
      }
    }
  }

  @Override
  public void close() {
    closed = true;
    worker.shutdownNow();
    try {
      worker.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
