package io.edgesync.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** {@link ProgressBar}: the catch-up bar's cells, counts, percentage and rate. */
class ProgressBarTest {
  @Test
  void line_showsCellsCountsPercentAndRate() {
    assertThat(ProgressBar.line(250, 1000, 500, "records"))
        .isEqualTo("[#######.......................] 250 / 1000 records 25% 500 records/s");
  }

  @Test
  void nothingToDo_isAFullBar_andMoreDoneThanTotalIsClamped() {
    assertThat(ProgressBar.line(0, 0, 0, "records"))
        .startsWith("[" + "#".repeat(30) + "] 0 / 0 records 100%");
    assertThat(ProgressBar.line(12, 10, 1000, "devices")).contains("#".repeat(30)).contains("100%");
  }
}
