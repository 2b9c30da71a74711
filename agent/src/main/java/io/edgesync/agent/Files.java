package io.edgesync.agent;

import java.io.InputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Files on this device, both ways (docs/files.md). Downloads: versions the cloud publishes
 * (firmware, models, bundles), signed by a release key this device trusts, verified and installed
 * atomically under {@code files.dir}, the previous version kept for rollback. Uploads: files a
 * program puts into an upload collection ({@code files.uploads}), sent to the cloud resumably, only
 * the chunks it does not hold.
 *
 * <p>Its name is also {@code java.nio.file.Files}'s: a program using both can call {@code
 * agent.files()} without importing this type. Thread safe.
 */
public interface Files {
  /**
   * Queues the file at {@code file} as the next version of {@code <collection>/<name>}: it is read
   * once, in chunks (never whole in memory), into the agent's chunk store, so the file may change
   * or go away after this returns. Durable when it returns.
   *
   * @throws IllegalArgumentException for an unknown collection, a bad name or a file larger than
   *     {@code files.max_file_bytes}; nothing is queued
   */
  UploadStatus upload(String collection, String name, Path file);

  /** As {@link #upload(String, String, Path)}, reading {@code content} to its end (not closed). */
  UploadStatus upload(String collection, String name, InputStream content);

  /** Uploads on this device, newest first (at most 1000). */
  List<UploadStatus> uploads();

  /** The installed version of {@code path}, if any. */
  Optional<InstalledFile> installed(String path);

  /** Every installed file. */
  List<InstalledFile> installed();

  /** Downloads on this device, newest first (at most 1000): in progress, installed or failed. */
  List<DownloadStatus> downloads();

  /**
   * Calls {@code listener} after each new version is installed (on the agent's install thread: keep
   * it short). Close the token to stop.
   */
  AutoCloseable watch(FileListener listener);

  /**
   * Reports whether the device's program could use an installed version (it flashed the firmware,
   * loaded the model). A failure makes the transfer FAILED with {@code reason}, reported to the
   * cloud; the file stays installed and the previous version kept, for the program to roll back.
   *
   * @throws IllegalArgumentException if {@code version} is not the one installed at {@code path}
   */
  void reportInstall(String path, long version, boolean ok, String reason);
}
