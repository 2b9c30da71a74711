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
    assertThat(DrainWatch.etaSeconds(0, -1, -1)).isZero();
    assertThat(DrainWatch.etaSeconds(1_000, 50, 10)).isEqualTo(25.0);
    assertThat(DrainWatch.etaSeconds(1_000, 50, -1)).as("no append rate yet").isEqualTo(20.0);
    assertThat(DrainWatch.etaSeconds(1_000, 10, 50)).as("appends outpace sends").isEqualTo(-1);
    assertThat(DrainWatch.etaSeconds(1_000, 0, 0)).as("offline").isEqualTo(-1);
    assertThat(DrainWatch.etaSeconds(1_000, -1, 0)).as("not measured").isEqualTo(-1);
  }
}
