package io.edgesync.server;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The manifest of a backup of a server's data directory ({@link ServerBackup}), written last as
 * {@value #FILE_NAME} at the top of the backup: what the backup holds and how to check it.
 *
 * <p>Format (JSON, one object): {@code format} ({@value #FORMAT}), {@code version} (1), {@code
 * createdAtMs} (when the database snapshot was taken: the backup holds every commit before it and
 * none after), {@code sourceDataDir}, {@code schemaVersion} (the store's {@code user_version}),
 * {@code devices}, {@code streams}, {@code batches}, {@code auditLastSeq} (the newest audit record
 * in the snapshot), and {@code files}: every file of the backup but the manifest, as {@code {path,
 * bytes, sha256}} with {@code /}-separated paths relative to the backup's top. Immutable.
 */
@JsonIgnoreProperties(ignoreUnknown = false)
public record BackupManifest(
    String format,
    int version,
    long createdAtMs,
    String sourceDataDir,
    long schemaVersion,
    long devices,
    long streams,
    long batches,
    long auditLastSeq,
    List<FileEntry> files) {

  public static final String FILE_NAME = "edgesync-backup.json";
  public static final String FORMAT = "edgesync-backup";
  public static final int VERSION = 1;

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /** One file of the backup: its path below the backup's top, size and SHA-256 (hex). */
  public record FileEntry(String path, long bytes, String sha256) {}

  public BackupManifest {
    files = List.copyOf(files);
  }

  void write(Path dir) throws IOException {
    Files.write(dir.resolve(FILE_NAME), JSON.writeValueAsBytes(this));
  }

  /**
   * The manifest of the backup in {@code dir}.
   *
   * @throws IllegalArgumentException naming the directory when it holds no readable manifest of a
   *     known version
   */
  public static BackupManifest read(Path dir) throws IOException {
    Path file = dir.resolve(FILE_NAME);
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException(
          dir
              + " is not an edgesync backup: it has no "
              + FILE_NAME
              + " (an interrupted backup leaves a .partial directory, never a manifest)");
    }
    BackupManifest m;
    try {
      m = JSON.readValue(file.toFile(), BackupManifest.class);
    } catch (IOException e) {
      throw new IllegalArgumentException(file + " is not a readable backup manifest: " + e, e);
    }
    if (!FORMAT.equals(m.format()) || m.version() != VERSION) {
      throw new IllegalArgumentException(
          file
              + " is format "
              + m.format()
              + " version "
              + m.version()
              + "; this build reads "
              + FORMAT
              + " version "
              + VERSION);
    }
    return m;
  }
}
