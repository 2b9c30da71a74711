package io.edgesync.agent.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgesync.agent.AgentStatus;
import io.edgesync.agent.OutboxLimits;
import io.edgesync.agent.OverflowPolicy;
import org.junit.jupiter.api.Test;

/** How long an outage the queue holds at a rate, by its count and byte bounds. */
class QueueCapacityTest {
  private static final long WEEK_MS = 168L * 3_600_000;

  /** The brief's offline block: queue_max_size 10000, max_offline_hours 168; default max_bytes. */
  private static final OutboxLimits BRIEF =
      OutboxLimits.defaults()
          .withQueue(10_000, OutboxLimits.DEFAULT_MAX_QUEUE_BYTES, OverflowPolicy.DROP_OLDEST)
          .withAge(WEEK_MS, 60_000);

  @Test
  void briefConfigAt10RecordsPerSec_countBoundIsReachedAfter17Minutes_andWarns() {
    QueueCapacity.Estimate e = QueueCapacity.estimate(BRIEF, 9.8, 9.8 * 150, 0, 0);

    AgentStatus.CapacityView v = e.view();
    assertThat(v.holdsMs()).isEqualTo(1_020_408); // 10000 / 9.8 s
    assertThat(v.boundBy()).isEqualTo("queue_max_size");
    assertThat(v.maxOfflineHours()).isEqualTo(168.0);
    assertThat(v.summary())
        .startsWith("queue holds ~17 min at 9.8 records/s, 1.4 KiB/s (queue_max_size 10000")
        .endsWith("max_offline_hours is 168");
    assertThat(e.warning())
        .startsWith(v.summary())
        .contains("an outage longer than 17 min drops the oldest records")
        .contains("raise sync.offline.queue_max_size to 5927040 (") // 9.8 * 604800
        .doesNotContain("queue.max_bytes to");
  }

  @Test
  void largeRecords_byteBoundIsReachedFirst_andTheAdviceNamesMaxBytes() {
    OutboxLimits limits = OutboxLimits.defaults().withAge(WEEK_MS, 60_000);

    QueueCapacity.Estimate e = QueueCapacity.estimate(limits, 10, 10 * 10_240, 0, 0);

    assertThat(e.view().boundBy()).isEqualTo("max_bytes");
    assertThat(e.view().holdsMs()).isEqualTo(10_485_760); // 1 GiB / 100 KiB/s
    assertThat(e.view().summary()).startsWith("queue holds ~2.9 h at 10 records/s, 100 KiB/s");
    assertThat(e.warning())
        .contains("raise queue.max_bytes to 61931520000 (")
        .doesNotContain("queue_max_size to");
  }

  @Test
  void bothBoundsShort_theAdviceNamesBoth() {
    OutboxLimits small =
        OutboxLimits.defaults()
            .withQueue(1_000, 100_000, OverflowPolicy.REJECT)
            .withAge(3_600_000, 60_000);

    String warning = QueueCapacity.estimate(small, 1, 100, 0, 0).warning();

    assertThat(warning)
        .contains("refuses new appends")
        .contains("raise sync.offline.queue_max_size to 3600 and queue.max_bytes to 360000");
  }

  @Test
  void defaultsAt10RecordsPerSecOf150Bytes_holdDays_noWarning() {
    OutboxLimits defaults = OutboxLimits.defaults();

    QueueCapacity.Estimate e = QueueCapacity.estimate(defaults, 10, 1_500, 0, 0);

    assertThat(e.warning()).isNull();
    assertThat(e.view().boundBy()).isEqualTo("max_bytes");
    assertThat(e.view().holdsMs()).isGreaterThan(WEEK_MS);
    assertThat(e.view().summary()).startsWith("queue holds ~8.3 days at 10 records/s");
  }

  @Test
  void fullInMs_countsFromWhatIsQueuedNow() {
    QueueCapacity.Estimate e = QueueCapacity.estimate(BRIEF, 10, 1_000, 4_000, 400_000);

    assertThat(e.view().holdsMs()).isEqualTo(1_000_000);
    assertThat(e.view().fullInMs()).isEqualTo(600_000); // 6000 records of room at 10/s
  }

  @Test
  void rateNotMeasuredYet_noEstimateAndNoWarning_theSummaryGivesTheBounds() {
    QueueCapacity.Estimate e = QueueCapacity.estimate(BRIEF, -1, -1, 0, 0);

    assertThat(e.warning()).isNull();
    assertThat(e.view().holdsMs()).isEqualTo(-1);
    assertThat(e.view().fullInMs()).isEqualTo(-1);
    assertThat(e.view().boundBy()).isNull();
    assertThat(e.view().appendRecordsPerSec()).isEqualTo(-1);
    assertThat(e.view().summary())
        .startsWith("append rate not measured yet")
        .contains("queue bounds 10000 records (queue_max_size)");
  }

  @Test
  void zeroRate_noEstimateAndNoWarning() {
    QueueCapacity.Estimate e = QueueCapacity.estimate(BRIEF, 0, 0, 0, 0);

    assertThat(e.warning()).isNull();
    assertThat(e.view().holdsMs()).isEqualTo(-1);
    assertThat(e.view().summary()).startsWith("no records appended lately");
  }

  @Test
  void bounds_giveTheRatesUpToWhichTheyHoldMaxOfflineHours() {
    assertThat(QueueCapacity.bounds(BRIEF))
        .isEqualTo(
            "queue bounds 10000 records (queue_max_size), 1073741824 bytes (queue.max_bytes),"
                + " max_offline_hours 168: they hold max_offline_hours while appends stay below"
                + " 0.017 records/s and 1.7 KiB/s");
  }

  @Test
  void durations_readAsAPersonWouldSayThem() {
    assertThat(QueueCapacity.duration(45_000)).isEqualTo("~45 s");
    assertThat(QueueCapacity.duration(1_020_408)).isEqualTo("~17 min");
    assertThat(QueueCapacity.duration(5 * 3_600_000 + 720_000)).isEqualTo("~5.2 h");
    assertThat(QueueCapacity.duration(715_827_882)).isEqualTo("~8.3 days");
    assertThat(QueueCapacity.duration(Long.MAX_VALUE)).isEqualTo("over 10 years");
  }
}
