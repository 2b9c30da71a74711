package io.edgesync.server.files;

import io.edgesync.engine.files.FileLimits;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * The server's file settings ({@code server.files}, docs/configuration.md): where chunks live, the
 * release key the server signs published versions with (or only the public keys it checks a
 * publisher's signature against), which upload collections devices may send to, and the limits.
 *
 * @param dir the chunk store's directory; null: {@code <data_dir>/files}
 * @param releaseKeyFile Ed25519 private key (PEM); with it the server signs what is published
 * @param releasePublicKeysFile public keys (PEM) a publisher's own signature must verify with
 * @param uploadCollections the collections devices may upload to
 * @param maxUploadBytes largest upload, bytes
 * @param maxFileBytes largest published version, bytes
 * @param uploadQuotaBytesPerDevice most bytes of uploads (stored or under way) per device
 */
public record FileSettings(
    Path dir,
    Path releaseKeyFile,
    Path releasePublicKeysFile,
    List<String> uploadCollections,
    long maxUploadBytes,
    long maxFileBytes,
    long uploadQuotaBytesPerDevice) {

  public static final List<String> DEFAULT_UPLOAD_COLLECTIONS = List.of("uploads");
  public static final long DEFAULT_MAX_UPLOAD_BYTES = 4L << 30;
  public static final long DEFAULT_MAX_FILE_BYTES = 16L << 30;
  public static final long DEFAULT_UPLOAD_QUOTA_BYTES_PER_DEVICE = 64L << 30;

  public FileSettings {
    uploadCollections = List.copyOf(uploadCollections);
    Objects.requireNonNull(uploadCollections, "uploadCollections");
    check("max_upload_bytes", maxUploadBytes);
    check("max_file_bytes", maxFileBytes);
    if (uploadQuotaBytesPerDevice < 1) {
      throw new IllegalArgumentException(
          "server.files.upload_quota_bytes_per_device must be >= 1, was "
              + uploadQuotaBytesPerDevice);
    }
  }

  private static void check(String key, long bytes) {
    if (bytes < 1 || bytes > FileLimits.MAX_FILE_BYTES) {
      throw new IllegalArgumentException(
          "server.files." + key + " must be 1.." + FileLimits.MAX_FILE_BYTES + ", was " + bytes);
    }
  }

  /** Every setting at its default: no release key (publishers sign), uploads to "uploads". */
  public static FileSettings defaults() {
    return new FileSettings(
        null,
        null,
        null,
        DEFAULT_UPLOAD_COLLECTIONS,
        DEFAULT_MAX_UPLOAD_BYTES,
        DEFAULT_MAX_FILE_BYTES,
        DEFAULT_UPLOAD_QUOTA_BYTES_PER_DEVICE);
  }

  /** The chunk store's directory for a server whose data is in {@code dataDir}. */
  public Path dirIn(Path dataDir) {
    return dir != null ? dir : dataDir.resolve("files");
  }

  public FileSettings withReleaseKeyFile(Path file) {
    return new FileSettings(
        dir,
        file,
        releasePublicKeysFile,
        uploadCollections,
        maxUploadBytes,
        maxFileBytes,
        uploadQuotaBytesPerDevice);
  }

  public FileSettings withReleasePublicKeysFile(Path file) {
    return new FileSettings(
        dir,
        releaseKeyFile,
        file,
        uploadCollections,
        maxUploadBytes,
        maxFileBytes,
        uploadQuotaBytesPerDevice);
  }
}
