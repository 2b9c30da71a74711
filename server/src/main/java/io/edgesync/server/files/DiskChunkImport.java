package io.edgesync.server.files;

import io.edgesync.support.files.ChunkStorage;
import io.edgesync.support.files.ChunkStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The upgrade of a PostgreSQL deployment whose chunks were on disk: builds before the {@code
 * file_chunks} table kept them in {@code <files dir>/chunks} (a volume the nodes shared) and only
 * the rows in the database. At the first start of this build the chunks found there are copied into
 * the database, each verified by {@link ChunkStorage#put} on the way (a damaged file is logged and
 * left out: reading it would have failed anyway), and the directory is then renamed {@code
 * chunks.imported} (the operator deletes it when satisfied), so that later starts find nothing.
 *
 * <p>Safe to interrupt and to run on several nodes at once: storing a chunk already held does
 * nothing, and only a directory whose every chunk was offered to the database is renamed. Not
 * thread safe (one call at a time, at start).
 */
final class DiskChunkImport {
  private static final Logger log = LoggerFactory.getLogger(DiskChunkImport.class);
  private static final Pattern CHUNK_NAME = Pattern.compile("[0-9a-f]{64}");
  private static final int PROGRESS_EVERY_CHUNKS = 10_000;

  private DiskChunkImport() {}

  /** What an import did: chunks stored, chunks left out (damaged), bytes stored. */
  record Result(long imported, long refused, long bytes) {}

  /**
   * Copies every chunk under {@code chunkDir} into {@code into}, then renames the directory; does
   * nothing if there is no such directory.
   */
  static Result run(Path chunkDir, ChunkStorage into) throws IOException {
    if (!Files.isDirectory(chunkDir)) {
      return new Result(0, 0, 0);
    }
    log.info(
        "importing the chunks in {} into the database (first start with file_chunks)", chunkDir);
    long imported = 0;
    long refused = 0;
    long bytes = 0;
    for (Path file : chunkFiles(chunkDir)) {
      String name = file.getFileName().toString();
      byte[] data;
      try {
        data = Files.readAllBytes(file);
      } catch (NoSuchFileException e) {
        continue; // another node importing at the same time renamed the directory: it has them
      }
      try {
        into.put(name, data);
        imported++;
        bytes += data.length;
      } catch (ChunkStore.ChunkMismatchException e) {
        refused++;
        log.warn("chunk file {} is damaged, not imported: {}", file, e.getMessage());
      }
      if ((imported + refused) % PROGRESS_EVERY_CHUNKS == 0) {
        log.info("imported {} chunks ({} bytes) from {} so far", imported, bytes, chunkDir);
      }
    }
    Path renamed = renameDone(chunkDir);
    log.info(
        "imported {} chunks ({} bytes, {} damaged left out) from {} into the database; the"
            + " directory is now {} and may be deleted",
        imported,
        bytes,
        refused,
        chunkDir,
        renamed);
    return new Result(imported, refused, bytes);
  }

  /** The chunk files (named by their hash; temporary files of an interrupted write left out). */
  private static List<Path> chunkFiles(Path chunkDir) throws IOException {
    try (Stream<Path> all = Files.walk(chunkDir)) {
      return all.filter(p -> CHUNK_NAME.matcher(p.getFileName().toString()).matches())
          .filter(Files::isRegularFile)
          .sorted()
          .toList();
    } catch (UncheckedIOException e) {
      if (e.getCause() instanceof NoSuchFileException) {
        return List.of(); // another node imported them all and renamed the directory meanwhile
      }
      throw e.getCause();
    }
  }

  private static Path renameDone(Path chunkDir) throws IOException {
    for (int n = 1; ; n++) {
      Path target = chunkDir.resolveSibling("chunks.imported" + (n == 1 ? "" : "-" + n));
      try {
        return Files.move(chunkDir, target);
      } catch (FileAlreadyExistsException e) {
        // an earlier import's directory the operator kept: take the next name
      } catch (NoSuchFileException e) {
        return target; // another node finished the same import first
      }
    }
  }
}
