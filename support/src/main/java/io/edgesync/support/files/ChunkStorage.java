package io.edgesync.support.files;

import java.io.IOException;
import java.util.Collection;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;

/**
 * What the cloud's files need of a content-addressed chunk store: chunks named by their SHA-256 (64
 * lower-case hex digits), each kept once whatever shares it. {@link ChunkStore} keeps them on disk;
 * the server's PostgreSQL store keeps them in a table.
 *
 * <p>Every implementation verifies: {@link #put} refuses bytes that do not hash to their name
 * (nothing stored), and {@link #get} checks them again on the way out, reporting a damaged chunk
 * with {@link ChunkStore.ChunkMismatchException} instead of returning it. A {@link #put} of a chunk
 * already held is a no-op, also when several writers (threads, processes, server nodes) store the
 * same chunk at once. Implementations are thread safe.
 */
public interface ChunkStorage {
  /**
   * Whether the chunk named {@code sha256} is held (not checked: {@link #get} checks).
   *
   * @throws java.io.UncheckedIOException if the storage cannot be asked (it names the storage)
   */
  boolean has(String sha256);

  /**
   * Which of {@code names} are held, as {@link #has} asked of each; a database answers all of them
   * in one query.
   *
   * @throws java.io.UncheckedIOException if the storage cannot be asked (it names the storage)
   */
  default Set<String> held(Collection<String> names) {
    Set<String> out = new HashSet<>();
    for (String name : names) {
      if (has(name)) {
        out.add(name);
      }
    }
    return out;
  }

  /**
   * Stores {@code data} as the chunk {@code sha256}; returns whether it was new.
   *
   * @throws ChunkStore.ChunkMismatchException if {@code data} does not hash to {@code sha256};
   *     nothing stored
   */
  boolean put(String sha256, byte[] data) throws IOException;

  /**
   * The chunk {@code sha256}, checked against its name; empty if it is not held.
   *
   * @throws ChunkStore.ChunkMismatchException if the stored bytes no longer hash to the name
   */
  Optional<byte[]> get(String sha256) throws IOException;

  /**
   * A chunk that must be held, by its raw 32-byte hash.
   *
   * @throws java.nio.file.NoSuchFileException naming the chunk and the storage when it is not held
   * @throws ChunkStore.ChunkMismatchException if the stored bytes no longer hash to the name
   */
  byte[] require(byte[] sha256) throws IOException;

  /**
   * Removes the chunk {@code sha256}; returns whether it was held. The caller makes sure that
   * nothing it keeps still needs it (the storage does not count references).
   */
  boolean delete(String sha256) throws IOException;
}
