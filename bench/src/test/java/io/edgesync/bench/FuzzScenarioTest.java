package io.edgesync.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgesync.protocol.wire.ErrorCode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A short run of the wire-protocol fuzzer (the long one: {@code java -jar
 * bench/target/edgesync-bench.jar fuzz --inputs 1000000}): no failing input, and the run reached
 * every kind of refusal and acceptance, so it cannot pass by testing nothing. The run is
 * deterministic: the same seed gives the same inputs and the same counts.
 */
class FuzzScenarioTest {
  @TempDir Path tempDir;
  private Path dir;

  /** In memory where there is a tmpfs: the fuzzer tests logic, and fsyncs would dominate. */
  @BeforeEach
  void pickDir() throws IOException {
    Path shm = Path.of("/dev/shm");
    dir =
        Files.isDirectory(shm) && Files.isWritable(shm)
            ? Files.createTempDirectory(shm, "edgesync-fuzz-")
            : tempDir;
  }

  @AfterEach
  void removeDir() throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  @Test
  void shortSeededRun_noFailingInput_andEveryPathReached() throws Exception {
    List<String> log = new ArrayList<>();
    FuzzScenario.Result r = FuzzScenario.run(20240501, 10_000, 4_000, dir, 5, log::add);

    assertThat(r.failures()).as(String.join("\n", log)).isEmpty();
    assertThat(r.failureCount()).isZero();
    assertThat(r.accepted()).as("frames accepted").isGreaterThan(1_000);
    assertThat(r.refusedBy().keySet())
        .contains(
            ErrorCode.MALFORMED_FRAME,
            ErrorCode.FRAME_TOO_LARGE,
            ErrorCode.UNSUPPORTED_PROTOCOL_VERSION,
            ErrorCode.UNKNOWN_DEVICE,
            ErrorCode.PROTOCOL_VIOLATION,
            ErrorCode.INVALID_BATCH,
            ErrorCode.STORE_MISMATCH);
    assertThat(r.refusedBy().get(ErrorCode.MALFORMED_FRAME)).isGreaterThan(1_000);
    assertThat(r.goodBatches()).isEqualTo(10_000 / 50);
    assertThat(r.stores()).isEqualTo(3);
    assertThat(r.layouts()).isEqualTo(2_500);
  }
}
