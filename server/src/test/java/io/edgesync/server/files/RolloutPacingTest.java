package io.edgesync.server.files;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Pacing and the failure limit as pure functions of the numbers and the time given. */
class RolloutPacingTest {
  @Test
  void firstDevice_isAdmittedAtOnce_thenRatePerMinuteOfRunningTime() {
    assertThat(RolloutPacing.due(6, 0, 0, 100)).isEqualTo(1);
    assertThat(RolloutPacing.due(6, 9_999, 1, 100)).isZero();
    assertThat(RolloutPacing.due(6, 10_000, 1, 100)).isEqualTo(1);
    assertThat(RolloutPacing.due(6, 60_000, 2, 100)).isEqualTo(5);
    assertThat(RolloutPacing.due(6, 600_000, 7, 100)).isEqualTo(54);
  }

  @Test
  void due_neverExceedsThePendingDevices_norGoesNegative() {
    assertThat(RolloutPacing.due(1000, 60_000, 0, 3)).isEqualTo(3);
    assertThat(RolloutPacing.due(1, 0, 5, 10)).isZero();
    assertThat(RolloutPacing.due(1_000_000, Long.MAX_VALUE / 2, 0, 7)).isEqualTo(7);
  }

  @Test
  void pausedTime_doesNotCount_soAResumedRolloutAdmitsNoBurst() {
    long banked = RolloutPacing.activeMs(0, 0L, 30_000); // ran 30 s, then paused
    assertThat(RolloutPacing.activeMs(banked, null, 3_600_000)).isEqualTo(30_000);
    long resumedAt = 3_600_000;
    long after = RolloutPacing.activeMs(banked, resumedAt, resumedAt + 30_000);
    assertThat(after).isEqualTo(60_000);
    assertThat(RolloutPacing.due(2, after, 2, 100)).isEqualTo(1); // 1 + 2 per minute, not 120
  }

  @Test
  void failures_tripOnlyAboveTheShare_andOnlyAfterTheMinimumReports() {
    assertThat(RolloutPacing.tooManyFailures(1, 1, 0.2, 5)).isFalse(); // too few reports
    assertThat(RolloutPacing.tooManyFailures(1, 5, 0.2, 5)).isFalse(); // exactly the share
    assertThat(RolloutPacing.tooManyFailures(2, 5, 0.2, 5)).isTrue();
    assertThat(RolloutPacing.tooManyFailures(0, 0, 0.0, 1)).isFalse();
    assertThat(RolloutPacing.tooManyFailures(1, 1, 0.0, 1)).isTrue();
  }
}
