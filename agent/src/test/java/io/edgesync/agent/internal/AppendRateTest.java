package io.edgesync.agent.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/** The exponentially weighted append rate, driven with exact times. */
class AppendRateTest {
  private static final long T0 = 1_700_000_000_000L;

  private final AppendRate rate = new AppendRate();

  /** Appends {@code perSec} records of {@code bytesEach} once a second in [fromMs, toMs). */
  private void steady(long fromMs, long toMs, int perSec, int bytesEach) {
    for (long t = fromMs; t < toMs; t += 1_000) {
      rate.record(t, perSec, (long) perSec * bytesEach);
    }
  }

  @Test
  void steadyRate_isMeasuredAsThatRate_inRecordsAndBytes() {
    steady(T0, T0 + 30 * 60_000, 10, 150);

    long now = T0 + 30 * 60_000;
    assertThat(rate.recordsPerSec(now)).isCloseTo(10.0, within(0.05));
    assertThat(rate.bytesPerSec(now)).isCloseTo(1500.0, within(7.5));
  }

  @Test
  void youngEstimate_isTheAverageSinceTheFirstAppend_notDraggedTowardsZero() {
    steady(T0, T0 + 60_000, 10, 150);

    // 61 appends of 10 over 60 s: the first counts in full, so a young estimate errs high.
    assertThat(rate.recordsPerSec(T0 + 60_000)).isCloseTo(10.0, within(0.3));
  }

  @Test
  void beforeAMinuteOfAppends_theRateIsUnknown() {
    assertThat(rate.recordsPerSec(T0)).isEqualTo(-1);
    steady(T0, T0 + 59_000, 10, 150);

    assertThat(rate.measured(T0 + 59_999)).isFalse();
    assertThat(rate.recordsPerSec(T0 + 59_999)).isEqualTo(-1);
    assertThat(rate.bytesPerSec(T0 + 59_999)).isEqualTo(-1);
    assertThat(rate.measured(T0 + 60_000)).isTrue();
  }

  @Test
  void rateChange_isFollowedWithTheTimeConstant() {
    steady(T0, T0 + 60 * 60_000, 10, 100);
    long change = T0 + 60 * 60_000;
    steady(change, change + AppendRate.TAU_MS, 1, 100);

    // After one time constant, 63 % of the way from 10 to 1: 10/e + 1 - 1/e.
    double expected = 10 / Math.E + 1 - 1 / Math.E;
    assertThat(rate.recordsPerSec(change + AppendRate.TAU_MS)).isCloseTo(expected, within(0.1));
  }

  @Test
  void appendsStop_rateFadesTowardsZero() {
    steady(T0, T0 + 30 * 60_000, 10, 100);

    double later = rate.recordsPerSec(T0 + 30 * 60_000 + 6 * AppendRate.TAU_MS);

    assertThat(later).isCloseTo(10 * Math.exp(-6), within(0.01));
  }

  @Test
  void clockSteppedBack_isIgnoredUntilItPassesTheLastTimeAgain() {
    steady(T0, T0 + 10 * 60_000, 10, 100);
    double before = rate.recordsPerSec(T0 + 10 * 60_000);

    rate.record(T0 + 5 * 60_000, 10, 1000); // an hour-long step back would look like this

    assertThat(rate.recordsPerSec(T0 + 5 * 60_000)).isGreaterThan(before).isLessThan(11);
  }

  @Test
  void negativeCounts_areRefused() {
    assertThatThrownBy(() -> rate.record(T0, -1, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("negative append: -1 records, 0 bytes");
  }
}
