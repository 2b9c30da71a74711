package io.edgesync.engine.edge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.assertj.core.data.Percentage;
import org.junit.jupiter.api.Test;

class BackoffTest {

  @Test
  void delays_stayWithinHalfCapAndCap_growingExponentiallyUntilMax() {
    Backoff backoff = new Backoff(100, 5_000, 2.0, new SplittableRandom(7));
    long[] caps = {100, 200, 400, 800, 1_600, 3_200, 5_000, 5_000, 5_000, 5_000};

    for (int n = 0; n < caps.length; n++) {
      long delay = backoff.nextDelayMs();
      assertThat(delay).as("failure %d", n).isBetween(caps[n] / 2, caps[n]);
      assertThat(backoff.failures()).isEqualTo(n + 1);
    }
  }

  @Test
  void boundsHold_forManySeeds_andTheWholeRangeIsUsed() {
    Set<Long> seen = new HashSet<>();
    for (long seed = 0; seed < 2_000; seed++) {
      Backoff backoff = new Backoff(10, 10, 1.0, new SplittableRandom(seed));
      long delay = backoff.nextDelayMs();
      assertThat(delay).isBetween(5L, 10L);
      seen.add(delay);
    }
    // equal jitter: both ends of [cap/2, cap] are reachable
    assertThat(seen).containsExactlyInAnyOrder(5L, 6L, 7L, 8L, 9L, 10L);
  }

  @Test
  void meanDelay_growsByTheMultiplierPerFailure() {
    int seeds = 1_000;
    double[] mean = new double[6];
    for (long seed = 0; seed < seeds; seed++) {
      Backoff backoff = new Backoff(1_000, 1_000_000, 3.0, new SplittableRandom(seed));
      for (int n = 0; n < mean.length; n++) {
        mean[n] += backoff.nextDelayMs() / (double) seeds;
      }
    }
    // equal jitter: the mean is 3/4 of the cap, and the cap triples with every failure
    assertThat(mean[0]).isCloseTo(750, Percentage.withPercentage(3));
    for (int n = 1; n < mean.length; n++) {
      assertThat(mean[n] / mean[n - 1]).as("growth at failure %d", n).isBetween(2.8, 3.2);
    }
  }

  @Test
  void manyFailures_stayCappedAtMax() {
    Backoff backoff = new Backoff(1, 60_000, 10.0, new SplittableRandom(1));
    for (int n = 0; n < 1_000; n++) {
      long delay = backoff.nextDelayMs();
      if (n >= 5) { // 10^5 > 60 000: capped from here on
        assertThat(delay).as("failure %d", n).isBetween(30_000L, 60_000L);
      }
    }
  }

  @Test
  void hugeMax_isHonoured_withoutOverflow() {
    Backoff backoff = new Backoff(1, Long.MAX_VALUE, 2.0, new SplittableRandom(1));
    long delay = 0;
    for (int n = 0; n < 200; n++) {
      delay = backoff.nextDelayMs();
      assertThat(delay).isPositive();
    }
    // the exponent stops at 62, so the cap ends at 2^62 ms
    assertThat(delay).isBetween(1L << 61, 1L << 62);
  }

  @Test
  void reset_startsFromTheInitialDelayAgain() {
    Backoff backoff = new Backoff(100, 10_000, 2.0, new SplittableRandom(11));
    for (int n = 0; n < 8; n++) {
      backoff.nextDelayMs();
    }
    assertThat(backoff.failures()).isEqualTo(8);

    backoff.reset();

    assertThat(backoff.failures()).isZero();
    assertThat(backoff.nextDelayMs()).isBetween(50L, 100L);
    assertThat(backoff.nextDelayMs()).isBetween(100L, 200L);
  }

  @Test
  void sameSeed_sameDelays_differentSeed_differentDelays() {
    assertThat(delays(42)).isEqualTo(delays(42));
    assertThat(delays(42)).isNotEqualTo(delays(43));
  }

  @Test
  void invalidArguments_areRefusedWithTheValues() {
    SplittableRandom r = new SplittableRandom(0);
    assertThatThrownBy(() -> new Backoff(0, 10, 2.0, r))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "backoff needs 1 <= initialMs <= maxMs and multiplier >= 1, got initialMs=0 maxMs=10"
                + " multiplier=2.0");
    assertThatThrownBy(() -> new Backoff(10, 9, 2.0, r))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Backoff(10, 100, 0.5, r))
        .isInstanceOf(IllegalArgumentException.class);
  }

  private static List<Long> delays(long seed) {
    Backoff backoff = new Backoff(100, 100_000, 2.0, new SplittableRandom(seed));
    List<Long> out = new ArrayList<>();
    for (int n = 0; n < 12; n++) {
      out.add(backoff.nextDelayMs());
    }
    return out;
  }
}
