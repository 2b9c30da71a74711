package io.edgesync.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Short runs of the files link scenarios (the full figures: {@code bench/files.sh link
 * --resume-bytes=256MiB ...}, docs/benchmarks.md): a real server and agent through the fault proxy.
 * The resume run is cut several times and still installs the exact file; the fairness run commits
 * every priority-1 record while an upload moves, so neither figure can pass by measuring nothing.
 */
class FilesLinkScenarioTest {
  @TempDir Path dir;

  private static Opts opts(String... args) {
    return new Opts(args, 0);
  }

  @Test
  void resume_cutSeveralTimes_installsTheExactFile_withFewExtraBytes() throws Exception {
    FilesLinkScenario.ResumeResult r =
        FilesLinkScenario.resume(
            dir,
            opts("--resume-bytes=4MiB", "--resume-kbps=8000", "--cut-every=0.7", "--files-seed=3"));

    assertThat(r.uncut().sha256Matches()).isTrue();
    assertThat(r.cut().sha256Matches()).isTrue();
    assertThat(r.uncut().cuts()).isZero();
    assertThat(r.cut().cuts()).isGreaterThanOrEqualTo(2);
    assertThat(r.uncut().down()).isGreaterThanOrEqualTo(4L << 20); // random: it all crossed
    assertThat(r.cut().down()).isLessThan((4L << 20) * 3 / 2); // resumed, never restarted
  }

  @Test
  void fairness_everyPriorityOneRecordIsCommitted_whileAnUploadMoves() throws Exception {
    FilesFairness.Result r =
        FilesFairness.run(
            dir,
            opts("--fair-bytes=4MiB", "--fair-seconds=3", "--fair-every=0.2", "--fair-kbps=1000"),
            true);

    assertThat(r.appended()).isEqualTo(15);
    assertThat(r.committed()).isEqualTo(15);
    assertThat(r.latency().maxMs()).isPositive().isLessThan(10_000);
    assertThat(r.fileWireBytes()).isGreaterThan(100_000); // the file moved meanwhile
  }
}
