package io.edgesync.agent.internal.files;

import io.edgesync.agent.AgentConfig.FileSettings;
import io.edgesync.agent.DownloadStatus;
import io.edgesync.agent.EdgeSyncException;
import io.edgesync.agent.EdgeSyncException.Code;
import io.edgesync.agent.FileListener;
import io.edgesync.agent.Files;
import io.edgesync.agent.InstalledFile;
import io.edgesync.agent.UploadStatus;
import io.edgesync.engine.files.FileInbox;
import io.edgesync.engine.files.FileVersion;
import io.edgesync.protocol.Clock;
import io.edgesync.protocol.wire.FileMeta;
import io.edgesync.protocol.wire.FileOffer;
import io.edgesync.protocol.wire.FileState;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's files: opens the file store ({@link FilesDb}), the downloads ({@link
 * SqliteFileInbox}, with its {@link FileInstaller}) and the uploads ({@link SqliteFileOutbox}), and
 * is the {@link Files} API over them. {@code filesChanged} tells the engine (on its loop) that an
 * upload was queued or an install reported.
 *
 * <p>Thread safe. Watchers are called on the install thread; long-poll waiters ({@link #events})
 * wait on this object's monitor, which is notified after each install.
 */
public final class AgentFiles implements Files, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AgentFiles.class);
  private static final int MAX_LIST = 1000;

  /** Most events one {@link #events} call returns. */
  public static final int MAX_EVENTS_PER_CALL = 100;

  private final FilesDb db;
  private final FileInstaller installer;
  private final SqliteFileInbox inbox;
  private final SqliteFileOutbox outbox;
  private final Clock clock;
  private final Runnable filesChanged;
  private final List<FileListener> listeners = new CopyOnWriteArrayList<>();

  private AgentFiles(FileSettings settings, Path dataDir, Clock clock, Runnable filesChanged)
      throws IOException, SQLException {
    this.clock = clock;
    this.filesChanged = filesChanged;
    this.db = new FilesDb(dataDir.resolve("edgesync-files.db"), dataDir.resolve("chunks"));
    try {
      this.installer =
          new FileInstaller(db, settings.dir(), settings.keepPrevious(), clock, this::onInstalled);
      OfferCheck check =
          new OfferCheck(
              OfferCheck.readKeys(settings.trustedReleaseKeysFile()), settings.maxFileBytes());
      this.inbox = new SqliteFileInbox(db, check, installer);
      this.outbox = new SqliteFileOutbox(db, settings.uploadPriorities(), settings.maxFileBytes());
    } catch (IOException | RuntimeException e) {
      db.close();
      throw e;
    }
  }

  /**
   * Opens the agent's files in {@code dataDir} ({@code edgesync-files.db}, {@code chunks/}).
   *
   * @throws EdgeSyncException {@code STORAGE} if they cannot be opened
   */
  public static AgentFiles open(
      FileSettings settings, Path dataDir, Clock clock, Runnable filesChanged) {
    try {
      return new AgentFiles(settings, dataDir, clock, filesChanged);
    } catch (IOException | SQLException e) {
      throw new EdgeSyncException(
          Code.STORAGE, "cannot open the file store in " + dataDir + ": " + e.getMessage(), e);
    }
  }

  public SqliteFileInbox inbox() {
    return inbox;
  }

  public SqliteFileOutbox outbox() {
    return outbox;
  }

  // ---------------------------------------------------------------- uploads

  @Override
  public UploadStatus upload(String collection, String name, Path file) {
    try (InputStream in = java.nio.file.Files.newInputStream(file)) {
      return upload(collection, name, in);
    } catch (java.nio.file.NoSuchFileException e) {
      throw new IllegalArgumentException("no such file: " + file, e);
    } catch (IOException e) {
      throw new EdgeSyncException(Code.STORAGE, "cannot read " + file + ": " + e, e);
    }
  }

  @Override
  public UploadStatus upload(String collection, String name, InputStream content) {
    SqliteFileOutbox.Upload u;
    try {
      u = outbox.put(collection, name, content, clock.nowMs());
    } catch (IOException e) {
      throw new EdgeSyncException(Code.STORAGE, "cannot store the upload: " + e.getMessage(), e);
    }
    filesChanged.run();
    return status(u);
  }

  @Override
  public List<UploadStatus> uploads() {
    return outbox.all(MAX_LIST).stream().map(AgentFiles::status).toList();
  }

  private static UploadStatus status(SqliteFileOutbox.Upload u) {
    String state =
        switch (u.state()) {
          case 0 -> "queued";
          case FileState.FILE_STATE_STORED_VALUE -> "stored";
          case FileState.FILE_STATE_FAILED_VALUE -> "failed";
          default -> "uploading";
        };
    return new UploadStatus(
        u.collection(),
        u.path().substring(u.collection().length() + 1),
        u.path(),
        u.version(),
        u.size(),
        FilesDb.HEX.formatHex(u.sha256()),
        state,
        u.bytesDone(),
        u.reason());
  }

  // ---------------------------------------------------------------- downloads

  @Override
  public Optional<InstalledFile> installed(String path) {
    return installedWhere("WHERE i.path=?", path).stream().findFirst();
  }

  @Override
  public List<InstalledFile> installed() {
    return installedWhere("");
  }

  private List<InstalledFile> installedWhere(String where, Object... args) {
    return db.tx(
        "list installed files",
        j ->
            j.list(
                "SELECT d.offer, i.installed_ms, i.previous_version FROM installed i JOIN downloads"
                    + " d ON d.transfer_id = i.path || '@' || i.version "
                    + where
                    + " ORDER BY i.path",
                rs -> installedFile(SqliteFileInbox.offer(rs), rs.getLong(2), rs.getLong(3)),
                args));
  }

  private InstalledFile installedFile(FileOffer offer, long atMs, long previous) {
    var h = offer.getHeader();
    Map<String, String> meta = new LinkedHashMap<>();
    for (FileMeta m : h.getMetadataList()) {
      meta.put(m.getKey(), m.getValue());
    }
    return new InstalledFile(
        h.getPath(),
        installer.fileOf(h.getPath()),
        h.getVersion(),
        h.getSize(),
        FilesDb.HEX.formatHex(h.getSha256().toByteArray()),
        java.util.Collections.unmodifiableMap(meta),
        atMs,
        previous,
        previous > 0 ? installer.previousOf(h.getPath(), previous) : null);
  }

  @Override
  public List<DownloadStatus> downloads() {
    return inbox.all(MAX_LIST).stream().map(AgentFiles::status).toList();
  }

  private static DownloadStatus status(FileInbox.Inbound in) {
    var h = in.offer().getHeader();
    String state = in.state().name().substring("FILE_STATE_".length()).toLowerCase();
    return new DownloadStatus(
        h.getPath(), h.getVersion(), state, in.bytesDone(), h.getSize(), in.reason());
  }

  @Override
  public AutoCloseable watch(FileListener listener) {
    java.util.Objects.requireNonNull(listener, "listener");
    listeners.add(listener);
    return () -> listeners.remove(listener);
  }

  @Override
  public void reportInstall(String path, long version, boolean ok, String reason) {
    FileVersion.checkPath(path);
    Optional<InstalledFile> now = installed(path);
    if (now.isEmpty() || now.get().version() != version) {
      throw new IllegalArgumentException(
          "version "
              + version
              + " of "
              + path
              + " is not installed"
              + now.map(f -> " (installed: version " + f.version() + ")").orElse(""));
    }
    if (ok) {
      log.info("{}@{}: the device's program reports the install good", path, version);
      return;
    }
    String why =
        reason == null || reason.isBlank() ? "the device's program reported failure" : reason;
    if (!inbox.installFailed(path, version, why, clock.nowMs())) {
      throw new IllegalArgumentException(
          "version " + version + " of " + path + " is not installed");
    }
    log.warn("{}@{}: the device's program reports the install failed: {}", path, version, why);
    filesChanged.run();
  }

  /** An install, numbered for watchers of the local API. */
  public record Event(long seq, String path, long version, long atMs) {}

  /**
   * Installs numbered after {@code after}, oldest first (at most {@value #MAX_EVENTS_PER_CALL});
   * waits up to {@code waitMs} for one when there is none yet. The newest 1000 are kept.
   */
  public List<Event> events(long after, long waitMs) throws InterruptedException {
    long deadline = System.nanoTime() + waitMs * 1_000_000;
    synchronized (this) {
      while (true) {
        List<Event> e = eventsAfter(after);
        long left = (deadline - System.nanoTime()) / 1_000_000;
        if (!e.isEmpty() || left <= 0) {
          return e;
        }
        wait(left);
      }
    }
  }

  private List<Event> eventsAfter(long after) {
    return db.tx(
        "list install events",
        j ->
            j.list(
                "SELECT seq, path, version, at_ms FROM install_events WHERE seq>? ORDER BY seq LIMIT"
                    + " ?",
                rs -> new Event(rs.getLong(1), rs.getString(2), rs.getLong(3), rs.getLong(4)),
                after,
                MAX_EVENTS_PER_CALL));
  }

  /** From the installer's thread, after the engine was handed the outcome. */
  private void onInstalled(String path, long version) {
    synchronized (this) {
      notifyAll();
    }
    Optional<InstalledFile> f = installed(path);
    if (f.isEmpty() || f.get().version() != version) {
      return;
    }
    for (FileListener l : listeners) {
      try {
        l.installed(f.get());
      } catch (RuntimeException e) {
        log.warn("a file listener failed on {}@{}", path, version, e);
      }
    }
  }

  @Override
  public void close() {
    installer.close();
    db.close();
    synchronized (this) {
      notifyAll();
    }
  }
}
