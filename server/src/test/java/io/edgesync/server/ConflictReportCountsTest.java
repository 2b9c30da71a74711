package io.edgesync.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgesync.engine.docs.DocumentStore.ConflictRecord;
import io.edgesync.protocol.Hlc;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@link ConflictReport}: what it counts of conflict rows, and the period's bounds. */
class ConflictReportCountsTest {
  private static final long HOUR = 3_600_000;

  @Test
  void countsOnlyConflictsOpenedInThePeriod_byStrategyOutcomeAndResolver() {
    ConflictReport r = new ConflictReport(10 * HOUR, 12 * HOUR);
    r.add(conflict("lww", "last_write_wins", "resolved", "edge", "auto", 10 * HOUR, 10 * HOUR));
    r.add(conflict("mn", "manual", "resolved", "value", "ops", 11 * HOUR, 11 * HOUR + 90_000));
    r.add(conflict("mn", "manual", "open", null, null, 11 * HOUR, 0));
    r.add(conflict("mn", "manual", "resolved", "cloud", "ops", 12 * HOUR, 12 * HOUR)); // at to
    r.add(conflict("mn", "manual", "resolved", "cloud", "ops", 10 * HOUR - 1, 10 * HOUR)); // before

    Map<String, Object> j = r.json();
    assertThat(j.get("conflicts")).isEqualTo(3L);
    assertThat(j.get("open")).isEqualTo(1L);
    assertThat(j.get("resolved")).isEqualTo(2L);
    assertThat(j.get("automatic")).isEqualTo(1L);
    assertThat(j.get("manual")).isEqualTo(1L);
    assertThat(j.get("perHour")).isEqualTo(1.5);
    assertThat(j.get("manualResolveMsMean")).isEqualTo(90_000L);
    assertThat(j.get("byStrategy")).isEqualTo(Map.of("last_write_wins", 1L, "manual", 2L));
    assertThat(j.get("byOutcome")).isEqualTo(Map.of("edge", 1L, "value", 1L, "open", 1L));
    assertThat(j.get("resolvedBy")).isEqualTo(Map.of("auto", 1L, "ops", 1L));
    assertThat(j.get("byCollection")).isEqualTo(Map.of("lww", 1L, "mn", 2L));
  }

  @Test
  void withoutFrom_thePeriodStartsAtTheFirstConflict() {
    ConflictReport r = new ConflictReport(0, 4 * HOUR);
    r.add(conflict("lww", "last_write_wins", "resolved", "edge", "auto", 2 * HOUR, 2 * HOUR));
    assertThat(r.json().get("fromMs")).isEqualTo(2 * HOUR);
    assertThat(r.json().get("perHour")).isEqualTo(0.5);
    assertThat(new ConflictReport(0, HOUR).json().get("perHour")).isEqualTo(0.0);
  }

  private static ConflictRecord conflict(
      String collection,
      String strategy,
      String status,
      String outcome,
      String by,
      long createdMs,
      long resolvedMs) {
    return new ConflictRecord(
        0,
        "device:d1",
        collection,
        "k",
        "d1",
        strategy,
        status,
        false,
        0,
        null,
        1,
        null,
        Hlc.ZERO,
        1,
        null,
        Hlc.ZERO,
        "",
        null,
        outcome,
        by,
        0,
        null,
        createdMs,
        resolvedMs);
  }
}
