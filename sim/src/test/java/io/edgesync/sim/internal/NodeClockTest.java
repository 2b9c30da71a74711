package io.edgesync.sim.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The simulated node clock: skew, drift, wall-clock steps, and a monotonic clock steps ignore. */
class NodeClockTest {
  private static final long T0 = 1_700_000_000_000L;

  @Test
  void wallClock_startsSkewedAndRunsFastByItsDrift() {
    NodeClock clock = new NodeClock(T0, T0 - 5_000, 10_000); // 5 s behind, 1 % fast

    assertThat(clock.wallMs(T0)).isEqualTo(T0 - 5_000);
    assertThat(clock.wallMs(T0 + 100_000)).isEqualTo(T0 - 5_000 + 101_000);
    assertThat(clock.monotonicMs(T0 + 100_000)).isEqualTo(101_000);
  }

  @Test
  void stepBack_movesTheWallClockButNotTheMonotonicClock() {
    NodeClock clock = new NodeClock(T0, T0, 0);

    clock.step(T0 + 1_000, -3_600_000);

    assertThat(clock.wallMs(T0 + 1_000)).isEqualTo(T0 + 1_000 - 3_600_000);
    assertThat(clock.wallMs(T0 + 2_000)).isEqualTo(T0 + 2_000 - 3_600_000);
    assertThat(clock.monotonicMs(T0 + 2_000)).isEqualTo(2_000);
  }

  @Test
  void trueDuration_isWhenTheNodesOscillatorHasCountedTheDelay() {
    NodeClock slow = new NodeClock(T0, T0, -20_000); // 2 % slow

    long trueMs = slow.trueDurationMs(980);

    assertThat(slow.monotonicMs(T0 + trueMs)).isGreaterThanOrEqualTo(980);
    assertThat(slow.monotonicMs(T0 + trueMs - 1)).isLessThan(980);
    assertThat(slow.trueDurationMs(0)).isZero();
  }
}
