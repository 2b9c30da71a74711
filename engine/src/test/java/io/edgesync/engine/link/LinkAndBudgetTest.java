package io.edgesync.engine.link;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The link estimator's and the daily budget's rules, one by one, with explicit times. */
class LinkAndBudgetTest {
  private static final long T = 1_700_000_000_000L;
  private static final long DAY = DailyBudget.DAY_MS;

  @Test
  void deliveryRate_countsFromTheLastAckBeforeTheSend_orFromTheSendOnAnIdleLink() {
    LinkEstimator l = new LinkEstimator();
    LinkEstimator.Send a = l.onSend(T, 1_000, true);
    LinkEstimator.Send b = l.onSend(T, 1_000, false);
    l.onAck(T + 500, a, false);
    assertThat(l.bandwidthBytesPerSecond(T + 500)).isEqualTo(2_000);
    LinkEstimator.Send c = l.onSend(T + 500, 1_000, false);
    l.onAck(T + 1_000, b, false); // 2,000 bytes in 1,000 ms since b's send
    l.onAck(T + 1_500, c, false); // 2,000 bytes in 1,000 ms since the ack before c's send
    assertThat(l.bandwidthBytesPerSecond(T + 1_500)).isEqualTo(2_000);
    assertThat(l.srttMs()).isGreaterThan(0);
    assertThat(l.minRttMs(T + 1_500)).isEqualTo(500);
  }

  @Test
  void appLimitedSample_countsOnlyIfItRaisesTheEstimate() {
    LinkEstimator l = new LinkEstimator();
    l.onAck(T + 1_000, l.onSend(T, 10_000, true), false); // 10,000 B/s
    l.onAck(T + 3_000, l.onSend(T + 2_000, 100, true), true); // 100 B/s, app limited
    assertThat(l.bandwidthBytesPerSecond(T + 3_000)).isEqualTo(10_000);
    l.onAck(T + 4_010, l.onSend(T + 4_000, 1_000, true), true); // 100,000 B/s, app limited
    assertThat(l.bandwidthBytesPerSecond(T + 4_010)).isEqualTo(100_000);
    assertThat(l.samples()).isEqualTo(2);
  }

  @Test
  void samplesAgeOutOfTheWindow_butTheNewestStands() {
    LinkEstimator l = new LinkEstimator();
    l.onAck(T + 100, l.onSend(T, 100_000, true), false); // 1,000,000 B/s
    l.onAck(T + 2_000, l.onSend(T + 1_000, 1_000, true), false); // 1,000 B/s
    assertThat(l.bandwidthBytesPerSecond(T + 2_000)).isEqualTo(1_000_000);
    assertThat(l.bandwidthBytesPerSecond(T + 2_000 + LinkEstimator.WINDOW_MS)).isEqualTo(1_000);
    assertThat(l.bandwidthBytesPerSecond(T + 100 * LinkEstimator.WINDOW_MS)).isEqualTo(1_000);
    assertThat(l.bandwidthKbps(T + 100 * LinkEstimator.WINDOW_MS)).isEqualTo(8);
  }

  @Test
  void heartbeatReply_isAnRttSample() {
    LinkEstimator l = new LinkEstimator();
    assertThat(l.srttMs()).isEqualTo(-1);
    l.onHeartbeatReply(T + 80, T);
    assertThat(l.srttMs()).isEqualTo(80);
    assertThat(l.minRttMs(T + 80)).isEqualTo(80);
    assertThat(l.bandwidthKbps(T + 80)).isEqualTo(-1);
  }

  @Test
  void budget_countsPerUtcDay_andStartsOverAtMidnight() {
    long midnight = (T / DAY + 1) * DAY;
    DailyBudget b = new DailyBudget(1_000);
    b.onSent(T, "a", 600);
    b.onSent(midnight - 1, null, 100);
    assertThat(b.spent(midnight - 1)).isEqualTo(700);
    assertThat(b.allowance(midnight - 1, 5, List.of())).isEqualTo(300);
    assertThat(b.nextResetMs(T)).isEqualTo(midnight);
    assertThat(b.spent(midnight)).isZero();
    assertThat(b.day(midnight)).isEqualTo(midnight / DAY);
  }

  @Test
  void budget_reservesQueuedAndYesterdaysShareOfMoreImportantStreams() {
    long midnight = (T / DAY + 1) * DAY;
    DailyBudget b = new DailyBudget(10_000);
    b.onSent(midnight - 10, "alarms", 4_000);
    List<DailyBudget.Need> needs =
        List.of(new DailyBudget.Need("alarms", 1, 500), new DailyBudget.Need("logs", 5, 9_000));
    // At midnight the whole of yesterday's 4,000 is expected again, plus 500 queued.
    assertThat(b.reserve(midnight, 5, needs)).isEqualTo(4_500);
    assertThat(b.allowance(midnight, 5, needs)).isEqualTo(5_500);
    // At noon, half a day is left: half of it.
    assertThat(b.reserve(midnight + DAY / 2, 5, needs)).isEqualTo(2_500);
    // Alarms themselves are not held back by less important streams.
    assertThat(b.allowance(midnight, 1, needs)).isEqualTo(10_000);
    // Two days later there is no "yesterday" any more.
    assertThat(b.reserve(midnight + 2 * DAY, 5, needs)).isEqualTo(500);
  }

  @Test
  void budget_restore_onlyCountsTheSameDay() {
    DailyBudget b = new DailyBudget(1_000);
    b.restore(T, DailyBudget.dayOf(T), 400);
    assertThat(b.spent(T)).isEqualTo(400);
    DailyBudget c = new DailyBudget(1_000);
    c.restore(T, DailyBudget.dayOf(T) - 1, 400);
    assertThat(c.spent(T)).isZero();
  }

  @Test
  void everyCopyOfABandwidthPolicy_keepsTheSettingsItDoesNotChange() {
    BandwidthPolicy p =
        BandwidthPolicy.plain()
            .withDictionaryMaxBatchRecords(7)
            .withDailyBudget(9_000)
            .withAdaptive(true, 64, 3)
            .withCompactEnvelope(true);
    BandwidthPolicy timed = p.withTiming(11_000, 700);
    assertThat(timed.probeIntervalMs()).isEqualTo(11_000);
    assertThat(timed.batchTargetMs()).isEqualTo(700);
    assertThat(timed.withTiming(p.probeIntervalMs(), p.batchTargetMs())).isEqualTo(p);
    assertThat(p.withCompression(p.compression())).isEqualTo(p);
    assertThat(p.withDailyBudget(p.dailyBudgetBytes())).isEqualTo(p);
    assertThat(p.withCompactEnvelope(p.compactEnvelope())).isEqualTo(p);
    assertThat(p.withAdaptive(p.adaptive(), p.minBandwidthKbps(), p.lowBandwidthMaxPriority()))
        .isEqualTo(p);
    assertThat(p.withDictionaryMaxBatchRecords(p.dictionaryMaxBatchRecords())).isEqualTo(p);
  }
}
