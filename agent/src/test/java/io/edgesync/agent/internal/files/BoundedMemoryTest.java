package io.edgesync.agent.internal.files;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Upload chunking, dedup and install of a file twice the heap, in a JVM of its own started with
 * {@code -Xmx64m}: anything that held the file whole would die of OutOfMemoryError. (The brief's 1
 * GiB runs the same way: {@code BoundedMemoryMain <dir> 1073741824}; docs/files.md has the figures,
 * and {@code -Dedgesync.files.boundedMemoryBytes} sets the size here.)
 */
class BoundedMemoryTest {
  @TempDir Path dir;

  @Test
  @Tag("slow")
  void aFileTwiceTheHeap_isChunkedDedupedAndInstalledUnderXmx64m() throws Exception {
    // Twice the heap by default; -Dedgesync.files.boundedMemoryBytes=1073741824 runs the 1 GiB
    // case.
    long size = Long.getLong("edgesync.files.boundedMemoryBytes", 128L << 20);
    Process p =
        new ProcessBuilder(
                List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx64m",
                    "-cp",
                    System.getProperty("java.class.path"),
                    BoundedMemoryMain.class.getName(),
                    dir.toString(),
                    Long.toString(size)))
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(10, TimeUnit.MINUTES)).isTrue();

    assertThat(p.exitValue()).as(out).isZero();
    assertThat(out).contains("INSTALLED " + size + " ");
  }
}
