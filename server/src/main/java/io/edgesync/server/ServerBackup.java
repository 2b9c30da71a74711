package io.edgesync.server;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;
import java.util.stream.Stream;
import org.sqlite.SQLiteConfig;

/**
 * Online backup and offline restore of a server's data directory on the embedded store ({@code
 * edgesync server backup|restore}; docs/operations.md, "Backup and restore").
 *
 * <p><b>Backup</b> (the server may be running and taking writes): first a consistent snapshot of
 * the database with {@code VACUUM INTO} (one read transaction: every commit before it, none after;
 * writers are not blocked in WAL mode), then every other file of the data directory — the audit
 * signing key, the admin key, the file chunk store ({@code files/chunks}), a CA kept there. Copying
 * the chunks after the snapshot is safe: the store is content-addressed and append-only (a chunk is
 * in place before the row that names it commits, and no chunk is ever deleted), so every chunk the
 * snapshot names is there to copy. Temporary files ({@code .tmp-*}, {@code files/staging}), the
 * write-ahead log and the lock are left out. Everything is written to {@code <to>.partial-<ms>},
 * forced to disk, and renamed to {@code <to>} with the {@link BackupManifest} last, so a backup
 * directory that exists is whole.
 *
 * <p><b>Restore</b> (the server on the target stopped): checks the backup first — each file's size
 * and SHA-256 against the manifest, {@code PRAGMA integrity_check} of the database, the audit chain
 * — then prepares the restored files in {@code <dir>.restoring-<ms>} beside the target: the
 * document version counter moved {@link #DOC_VERSION_JUMP} ahead (why: {@link
 * #advanceDocumentVersions}), the restore recorded in the audit log ({@code store.restore}). Only
 * then, holding the target's {@link DataDirLock}, it moves them in. A target that is not empty is
 * refused, or with {@code force} moved aside to {@code <dir>.replaced-<ms>} (nothing is deleted).
 *
 * <p>Stateless; each call works on the directories it is given.
 */
public final class ServerBackup {
  private static final String STAGING = "files/staging";

  /**
   * How far a restore moves the document version counter: 2^44, more versions than a store writes
   * in years (5 years at 100,000 writes/s) between a backup and its restore, and small enough that
   * 512 restores stay below 2^53, where JSON readers in JavaScript lose integer precision.
   */
  public static final long DOC_VERSION_JUMP = 1L << 44;

  private ServerBackup() {}

  /** What a restore did: the backup's manifest, and where the target's old contents went. */
  public record Restored(BackupManifest manifest, Path replacedContentsDir) {}

  /**
   * Backs up the data directory {@code dataDir} to the new directory {@code to}.
   *
   * @throws IllegalArgumentException if {@code dataDir} holds no store or {@code to} is not empty
   */
  public static BackupManifest backup(Path dataDir, Path to, LongSupplier nowMs)
      throws IOException, SQLException {
    Path db = dataDir.resolve(SyncServer.STORE_FILE);
    if (!Files.isRegularFile(db)) {
      throw new IllegalArgumentException(
          dataDir + " is not a server's data directory: it has no " + SyncServer.STORE_FILE);
    }
    requireApart(dataDir, "--data-dir", to, "--to");
    if (Files.exists(to) && !isEmptyDirectory(to)) {
      throw new IllegalArgumentException(
          to + " exists and is not empty; a backup is written to a new or empty directory");
    }
    Path partial = to.resolveSibling(to.getFileName() + ".partial-" + nowMs.getAsLong());
    Files.createDirectories(partial);
    try {
      long snapshotMs = nowMs.getAsLong();
      snapshot(db, partial.resolve(SyncServer.STORE_FILE));
      copyTree(dataDir, partial, ServerBackup::isLeftOut);
      BackupManifest m = manifest(partial, snapshotMs, dataDir);
      forceTree(partial);
      m.write(partial);
      force(partial.resolve(BackupManifest.FILE_NAME));
      Files.deleteIfExists(to); // an empty directory, checked above
      Files.move(partial, to, StandardCopyOption.ATOMIC_MOVE);
      return m;
    } catch (IOException | SQLException | RuntimeException e) {
      deleteTree(partial);
      throw e;
    }
  }

  /** What a backup leaves out: the live database files, the lock, and temporary files. */
  private static boolean isLeftOut(Path relative) {
    String name = relative.getFileName().toString();
    String path = slashed(relative);
    return path.equals(SyncServer.STORE_FILE)
        || path.startsWith(SyncServer.STORE_FILE + "-") // -wal, -shm, -journal
        || path.equals(DataDirLock.FILE_NAME)
        || path.equals(STAGING)
        || path.startsWith(STAGING + "/")
        || name.startsWith(".tmp-")
        || path.equals(BackupManifest.FILE_NAME);
  }

  /** A consistent copy of the live database: {@code VACUUM INTO} reads one snapshot. */
  private static void snapshot(Path db, Path target) throws SQLException {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db.toAbsolutePath());
        Statement st = c.createStatement()) {
      st.execute("PRAGMA busy_timeout=10000");
      st.execute("VACUUM INTO '" + target.toAbsolutePath().toString().replace("'", "''") + "'");
    }
    // The copy keeps the WAL mark in its header; as a rollback-journal file it is one file that
    // opens read-only anywhere (the server turns WAL on again when it opens the restored store).
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + target.toAbsolutePath());
        Statement st = c.createStatement()) {
      st.execute("PRAGMA journal_mode=DELETE");
    }
  }

  private static BackupManifest manifest(Path dir, long snapshotMs, Path dataDir)
      throws IOException, SQLException {
    long[] counts = counts(dir.resolve(SyncServer.STORE_FILE));
    List<BackupManifest.FileEntry> files = new ArrayList<>();
    for (Path p : regularFiles(dir)) {
      Path rel = dir.relativize(p);
      if (!slashed(rel).equals(BackupManifest.FILE_NAME)) {
        files.add(new BackupManifest.FileEntry(slashed(rel), Files.size(p), sha256(p)));
      }
    }
    return new BackupManifest(
        BackupManifest.FORMAT,
        BackupManifest.VERSION,
        snapshotMs,
        dataDir.toAbsolutePath().toString(),
        counts[0],
        counts[1],
        counts[2],
        counts[3],
        counts[4],
        files);
  }

  /** Schema version, devices, streams, batches and the last audit record of a database. */
  private static long[] counts(Path db) throws SQLException {
    try (Connection c = readOnly(db);
        Statement st = c.createStatement()) {
      return new long[] {
        queryLong(st, "PRAGMA user_version"),
        queryLong(st, "SELECT count(*) FROM devices"),
        queryLong(st, "SELECT count(*) FROM streams"),
        queryLong(st, "SELECT count(*) FROM batches"),
        queryLong(st, "SELECT COALESCE(MAX(seq), 0) FROM audit_log")
      };
    }
  }

  private static long queryLong(Statement st, String sql) throws SQLException {
    try (ResultSet rs = st.executeQuery(sql)) {
      return rs.next() ? rs.getLong(1) : 0;
    }
  }

  private static Connection readOnly(Path db) throws SQLException {
    SQLiteConfig config = new SQLiteConfig();
    config.setReadOnly(true);
    return config.createConnection("jdbc:sqlite:" + db.toAbsolutePath());
  }

  /**
   * Checks the backup in {@code dir}: every file the manifest lists has its size and SHA-256 and no
   * other file is there, the database passes {@code PRAGMA integrity_check}, the audit chain
   * verifies. Changes nothing.
   *
   * @throws IllegalArgumentException naming the first problem
   */
  public static BackupManifest verify(Path dir) throws IOException, SQLException {
    BackupManifest m = BackupManifest.read(dir);
    List<String> listed = new ArrayList<>();
    for (BackupManifest.FileEntry f : m.files()) {
      Path p = dir.resolve(f.path()).normalize();
      if (!p.startsWith(dir.normalize()) || !Files.isRegularFile(p)) {
        throw new IllegalArgumentException(
            "backup " + dir + " is incomplete: " + f.path() + " is missing");
      }
      if (Files.size(p) != f.bytes() || !sha256(p).equals(f.sha256())) {
        throw new IllegalArgumentException(
            "backup " + dir + " is damaged: " + f.path() + " does not match its manifest entry");
      }
      listed.add(f.path());
    }
    for (Path p : regularFiles(dir)) {
      String rel = slashed(dir.relativize(p));
      if (!rel.equals(BackupManifest.FILE_NAME) && !listed.contains(rel)) {
        throw new IllegalArgumentException(
            "backup " + dir + " holds " + rel + ", which its manifest does not list");
      }
    }
    checkDatabase(dir);
    return m;
  }

  private static void checkDatabase(Path dir) throws IOException, SQLException {
    Path db = dir.resolve(SyncServer.STORE_FILE);
    try (Connection c = readOnly(db);
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("PRAGMA integrity_check")) {
      String result = rs.next() ? rs.getString(1) : "no result";
      if (!"ok".equals(result)) {
        throw new IllegalArgumentException(
            "backup " + dir + ": the database fails PRAGMA integrity_check: " + result);
      }
    }
    AuditVerifier.Report audit = AuditFiles.verifyStore(dir);
    if (!audit.ok()) {
      throw new IllegalArgumentException(
          "backup " + dir + ": its audit chain does not verify: " + audit.summary());
    }
  }

  /**
   * Restores the backup in {@code from} into {@code dataDir}, after {@link #verify} passed. The
   * server on {@code dataDir} must be stopped.
   *
   * @param force move a non-empty target's contents aside instead of refusing
   * @param actor who restores, for the audit record ({@code cli:<user>})
   * @throws IllegalArgumentException if the backup does not verify or the target is not empty
   * @throws IllegalStateException if a server runs on {@code dataDir}
   */
  public static Restored restore(
      Path from, Path dataDir, boolean force, String actor, LongSupplier nowMs)
      throws IOException, SQLException {
    requireApart(from, "--from", dataDir, "--data-dir");
    BackupManifest m = verify(from);
    if (!force && Files.exists(dataDir) && !isEmptyDirectory(dataDir)) {
      clearTarget(dataDir, false, 0); // refuses, naming what is there; changes nothing
    }
    // Everything that can fail on the backup's side (a schema newer than this build, say) fails
    // in a staging directory beside the target, before the target changes.
    Path staging =
        dataDir.resolveSibling(dataDir.getFileName() + ".restoring-" + nowMs.getAsLong());
    try {
      copyTree(from, staging, rel -> slashed(rel).equals(BackupManifest.FILE_NAME));
      advanceDocumentVersions(staging.resolve(SyncServer.STORE_FILE));
      recordRestore(staging, from, m, actor, nowMs);
      forceTree(staging);
      try (DataDirLock lock = DataDirLock.acquire(dataDir)) {
        Path aside = clearTarget(dataDir, force, nowMs.getAsLong());
        moveEntries(staging, dataDir);
        return new Restored(m, aside);
      }
    } finally {
      deleteTree(staging);
    }
  }

  /** Moves the entries of {@code from} into {@code to} (same file system: renames). */
  private static void moveEntries(Path from, Path to) throws IOException {
    try (Stream<Path> s = Files.list(from)) {
      for (Path p : s.toList()) {
        Files.move(p, to.resolve(p.getFileName().toString()), StandardCopyOption.ATOMIC_MOVE);
      }
    }
  }

  /**
   * Empties the target (but its lock): refused unless {@code force}; then its entries move to a
   * sibling {@code <dir>.replaced-<ms>}, which is returned (null for an empty target).
   */
  private static Path clearTarget(Path dataDir, boolean force, long nowMs) throws IOException {
    List<Path> entries;
    try (Stream<Path> s = Files.list(dataDir)) {
      entries = s.filter(p -> !p.getFileName().toString().equals(DataDirLock.FILE_NAME)).toList();
    }
    if (entries.isEmpty()) {
      return null;
    }
    if (!force) {
      throw new IllegalArgumentException(
          dataDir
              + " is not empty ("
              + entries.size()
              + " entries, e.g. "
              + entries.get(0).getFileName()
              + "); restore into a new directory, or give --force to move its contents aside");
    }
    Path aside = dataDir.resolveSibling(dataDir.getFileName() + ".replaced-" + nowMs);
    Files.createDirectories(aside);
    for (Path p : entries) {
      Files.move(p, aside.resolve(p.getFileName()), StandardCopyOption.ATOMIC_MOVE);
    }
    return aside;
  }

  /**
   * Moves the document version counter {@link #DOC_VERSION_JUMP} ahead. Devices may hold versions
   * the lost store wrote after the snapshot, and the cloud sends a device only versions above its
   * cursor: numbered on from the snapshot, the next writes would fall at or below those cursors and
   * never reach those devices. Above the jump, every later write reaches every device.
   */
  private static void advanceDocumentVersions(Path db) throws SQLException {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db.toAbsolutePath());
        java.sql.PreparedStatement ps =
            c.prepareStatement(
                "INSERT INTO meta(k, v, t) VALUES ('doc_version', ?, NULL)"
                    + " ON CONFLICT(k) DO UPDATE SET v = v + excluded.v")) {
      ps.setLong(1, DOC_VERSION_JUMP);
      ps.executeUpdate();
    }
  }

  /** Appends {@code store.restore} to the restored audit log: the chain shows the restore. */
  private static void recordRestore(
      Path dataDir, Path from, BackupManifest m, String actor, LongSupplier nowMs)
      throws SQLException {
    try (SqliteCloudStore store = new SqliteCloudStore(dataDir.resolve(SyncServer.STORE_FILE))) {
      store
          .auditLog()
          .append(
              actor,
              "store.restore",
              from.toAbsolutePath().toString(),
              Map.of(
                  "backupCreatedAtMs",
                  m.createdAtMs(),
                  "backupAuditLastSeq",
                  m.auditLastSeq(),
                  "docVersionJump",
                  DOC_VERSION_JUMP,
                  "restoredAtMs",
                  nowMs.getAsLong()));
    }
  }

  // ---------------------------------------------------------------- files

  /** Refuses two directories of which one is (in) the other: a copy would copy itself. */
  private static void requireApart(Path a, String aName, Path b, String bName) {
    Path x = a.toAbsolutePath().normalize();
    Path y = b.toAbsolutePath().normalize();
    if (x.startsWith(y) || y.startsWith(x)) {
      throw new IllegalArgumentException(
          aName + " " + a + " and " + bName + " " + b + " must be apart: one is inside the other");
    }
  }

  private static boolean isEmptyDirectory(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return false;
    }
    try (Stream<Path> s = Files.list(dir)) {
      return s.findAny().isEmpty();
    }
  }

  /** Copies the regular files below {@code from} into {@code to}, but those {@code skip} names. */
  private static void copyTree(Path from, Path to, java.util.function.Predicate<Path> skip)
      throws IOException {
    Files.walkFileTree(
        from,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs)
              throws IOException {
            Path rel = from.relativize(dir);
            if (!rel.toString().isEmpty() && skip.test(rel)) {
              return FileVisitResult.SKIP_SUBTREE;
            }
            Files.createDirectories(to.resolve(rel.toString()));
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attrs)
              throws IOException {
            Path rel = from.relativize(file);
            if (attrs.isRegularFile()
                && !skip.test(rel)
                && !Files.exists(to.resolve(rel.toString()))) {
              Files.copy(file, to.resolve(rel.toString()), StandardCopyOption.COPY_ATTRIBUTES);
            }
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
            if (e instanceof java.nio.file.NoSuchFileException) {
              return FileVisitResult.CONTINUE; // a temporary file gone since it was listed
            }
            throw e;
          }
        });
  }

  private static List<Path> regularFiles(Path dir) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      return s.filter(Files::isRegularFile).sorted().toList();
    }
  }

  private static void forceTree(Path dir) throws IOException {
    for (Path p : regularFiles(dir)) {
      force(p);
    }
  }

  private static void force(Path file) throws IOException {
    try (FileChannel c = FileChannel.open(file, StandardOpenOption.WRITE)) {
      c.force(true);
    }
  }

  private static void deleteTree(Path dir) {
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      // best effort: a .partial directory is never taken for a backup (it has no manifest)
    }
  }

  private static String slashed(Path relative) {
    return relative.toString().replace(relative.getFileSystem().getSeparator(), "/");
  }

  private static String sha256(Path file) throws IOException {
    MessageDigest md;
    try {
      md = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
    byte[] buf = new byte[1 << 16];
    try (InputStream in = Files.newInputStream(file)) {
      int n;
      while ((n = in.read(buf)) > 0) {
        md.update(buf, 0, n);
      }
    }
    return HexFormat.of().formatHex(md.digest());
  }
}
