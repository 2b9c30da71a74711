package io.edgesync.agent.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/** The acknowledgement rate and the drain estimate, with exact times. */
class DrainWatchTest {
  @Test
  void ackRate_isUnknownForAMinute_thenTheMeasuredRate() {
    DrainWatch w = new DrainWatch();
    assertThat(w.sample("s", 0, 1_000)).as("a baseline, not a rate").isEqualTo(-1);
    double rate = -1;
    for (long t = 1; t <= 120; t++) {
      rate = w.sample("s", t * 1_000, 1_000 + t * 50); // 50 records acknowledged per second
    }
    assertThat(rate).isCloseTo(50, within(2.0));
    assertThat(w.sample("other", 120_000, 7)).as("streams are apart").isEqualTo(-1);
  }

  @Test
  void eta_isQueuedOverTheNetDrain_zeroWhenEmpty_andUnknownWhenNotShrinking() {
    assertThat(DrainWatch.etaSeconds(0, -1, -1, false)).isZero();
    assertThat(DrainWatch.etaSeconds(1_000, 50, 10, true)).isEqualTo(25.0);
    assertThat(DrainWatch.etaSeconds(1_000, 50, -1, true)).as("no append rate yet").isEqualTo(20.0);
    assertThat(DrainWatch.etaSeconds(1_000, 10, 50, true))
        .as("appends outpace sends")
        .isEqualTo(-1);
    assertThat(DrainWatch.etaSeconds(1_000, 0, 0, true)).as("nothing acknowledged").isEqualTo(-1);
    assertThat(DrainWatch.etaSeconds(1_000, -1, 0, true)).as("not measured").isEqualTo(-1);
  }

  @Test
  void offline_theFadingAckRateGivesNoEstimate() {
    DrainWatch w = new DrainWatch();
    double rate = -1;
    for (long t = 0; t <= 300; t++) {
      rate = w.sample("s", t * 1_000, t * 50); // 50 acknowledged per second for 5 minutes
    }
    for (long t = 301; t <= 2_100; t++) {
      rate = w.sample("s", t * 1_000, 300 * 50); // then the link is gone for 30 minutes
    }
    assertThat(rate).as("an exponential rate fades, never reaching 0").isPositive();
    assertThat(DrainWatch.etaSeconds(1_000, rate, 0, false)).isEqualTo(-1);
  }

  @Test
  void aSampleWithAnOlderCount_addsNothing_andDoesNotMoveTheBaselineBack() {
    DrainWatch a = new DrainWatch();
    DrainWatch b = new DrainWatch();
    a.sample("s", 0, 0);
    b.sample("s", 0, 0);
    for (long t = 1; t <= 120; t++) {
      a.sample("s", t * 1_000, t * 10);
      b.sample("s", t * 1_000, t * 10);
      b.sample("s", t * 1_000, Math.max(0, t * 10 - 5)); // an older read, answered late
    }
    assertThat(b.sample("s", 121_000, 1_210)).isEqualTo(a.sample("s", 121_000, 1_210));
  }
}
