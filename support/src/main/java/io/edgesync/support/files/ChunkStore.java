package io.edgesync.support.files;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A content-addressed store of chunks on disk, one per file named by its SHA-256: {@code
 * dir/ab/abcdef…} (the first two hex digits spread them over 256 directories). A chunk is kept
 * once, whichever files, versions and devices share it.
 *
 * <p>Nothing unverified is ever stored or returned: {@link #put} checks the bytes against the hash
 * they are filed under before they reach their name (refused otherwise, nothing written), and
 * {@link #get} checks them again on the way out, so a chunk damaged on disk is reported, not used.
 * A chunk appears at its name complete or not at all (written to a temporary file in the same
 * directory, forced to disk, then moved into place), so a crash leaves at most a temporary file,
 * which {@link #put} of the same chunk later replaces.
 *
 * <p>Thread safe, and safe for several processes on one directory: two writers of the same chunk
 * write the same verified bytes, so whichever move lands last replaces a file with its equal.
 */
public final class ChunkStore implements ChunkStorage {
  private static final Pattern SHA256_HEX = Pattern.compile("[0-9a-f]{64}");
  private static final HexFormat HEX = HexFormat.of();

  private final Path dir;

  public ChunkStore(Path dir) throws IOException {
    this.dir = Files.createDirectories(dir);
  }

  /** The SHA-256 of {@code data} in lower-case hex: a chunk's name. */
  public static String sha256(byte[] data) {
    try {
      return HEX.formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }

  /** Whether the chunk named {@code sha256} is here (not checked: {@link #get} checks). */
  @Override
  public boolean has(String sha256) {
    return Files.isRegularFile(file(sha256));
  }

  /**
   * Stores {@code data} as the chunk {@code sha256}; returns whether it was new.
   *
   * @throws ChunkMismatchException if {@code data} does not hash to {@code sha256}; nothing stored
   */
  @Override
  public boolean put(String sha256, byte[] data) throws IOException {
    Path target = file(sha256);
    String actual = sha256(data);
    if (!actual.equals(sha256)) {
      throw new ChunkMismatchException(
          "chunk " + sha256 + " refused: its " + data.length + " bytes hash to " + actual);
    }
    if (Files.isRegularFile(target)) {
      return false;
    }
    Files.createDirectories(target.getParent());
    Path tmp = Files.createTempFile(target.getParent(), ".tmp-", ".chunk");
    try {
      try (var out =
          java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.WRITE)) {
        out.write(java.nio.ByteBuffer.wrap(data));
        out.force(true);
      }
      try {
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
      } catch (FileAlreadyExistsException e) {
        return false; // a file system that does not replace on rename: another writer was first
      } catch (AtomicMoveNotSupportedException e) {
        throw new IOException(
            dir + " cannot rename atomically, so a chunk could be seen half written", e);
      }
      return true;
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /**
   * A chunk that must be here, by its raw 32-byte hash.
   *
   * @throws NoSuchFileException naming the chunk and this store when it is not held
   * @throws ChunkMismatchException if the stored bytes no longer hash to the name
   */
  @Override
  public byte[] require(byte[] sha256) throws IOException {
    String hex = HexFormat.of().formatHex(sha256);
    return get(hex)
        .orElseThrow(() -> new NoSuchFileException("chunk " + hex + " is not held in " + dir));
  }

  /**
   * The chunk {@code sha256}, checked against its name; empty if it is not here.
   *
   * @throws ChunkMismatchException if the stored bytes no longer hash to the name (damaged on disk)
   */
  @Override
  public Optional<byte[]> get(String sha256) throws IOException {
    byte[] data;
    try {
      data = Files.readAllBytes(file(sha256));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    }
    String actual = sha256(data);
    if (!actual.equals(sha256)) {
      throw new ChunkMismatchException(
          "chunk " + sha256 + " in " + dir + " is damaged: its bytes hash to " + actual);
    }
    return Optional.of(data);
  }

  /**
   * Removes the chunk {@code sha256}; returns whether it was here. The caller makes sure that no
   * file it keeps still needs it (the store does not count references).
   */
  @Override
  public boolean delete(String sha256) throws IOException {
    return Files.deleteIfExists(file(sha256));
  }

  private Path file(String sha256) {
    if (sha256 == null || !SHA256_HEX.matcher(sha256).matches()) {
      throw new IllegalArgumentException(
          "a chunk's name is 64 lower-case hex digits (its SHA-256), was "
              + (sha256 == null ? "nothing" : "'" + sha256 + "'"));
    }
    return dir.resolve(sha256.substring(0, 2)).resolve(sha256);
  }

  /** Bytes that do not match the hash they are named by (from any {@link ChunkStorage}). */
  public static final class ChunkMismatchException extends IOException {
    public ChunkMismatchException(String message) {
      super(message);
    }
  }
}
