package io.edgesync.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** Removing the working directories of test runs, simulations and benchmarks. */
public final class TempDirs {
  private TempDirs() {}

  /**
   * Deletes {@code root} and everything below it, best effort: a file that cannot be deleted (or a
   * root that does not exist) is left as it is, since a leftover temporary file fails nothing.
   */
  public static void deleteTree(Path root) {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(root)) {
      walk.sorted(Comparator.reverseOrder())
          .forEach(
              p -> {
                try {
                  Files.deleteIfExists(p);
                } catch (IOException e) {
                  // best effort, as above
                }
              });
    } catch (IOException e) {
      // as above
    }
  }
}
