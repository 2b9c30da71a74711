package io.edgesync.agent.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.edgesync.agent.OutboxLimits;
import io.edgesync.agent.OverflowPolicy;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** Append rates per stream and for the agent, and the capacity log: once per mismatch. */
class CapacityWatchTest {
  private static final long T0 = 1_700_000_000_000L;

  /** Holds an hour at up to 10 records/s. */
  private static final OutboxLimits HOUR_AT_10 =
      OutboxLimits.defaults()
          .withQueue(36_000, 1L << 30, OverflowPolicy.DROP_OLDEST)
          .withAge(3_600_000, 60_000);

  private final Logger logger = (Logger) LoggerFactory.getLogger(CapacityWatch.class);
  private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
  private final CapacityWatch watch = new CapacityWatch("gw-1", HOUR_AT_10);
  private long now = T0;

  @BeforeEach
  void captureLogs() {
    logs.start();
    logger.addAppender(logs);
  }

  @AfterEach
  void releaseLogs() {
    logger.detachAppender(logs);
  }

  /** {@code perSec} records of 100 bytes to {@code stream} once a second for {@code ms}. */
  private void append(String stream, int perSec, long ms) {
    for (long end = now + ms; now < end; now += 1_000) {
      watch.onAppended(now, stream, perSec, perSec * 100L);
    }
  }

  private List<String> messages(Level level) {
    return logs.list.stream()
        .filter(e -> e.getLevel() == level)
        .map(ILoggingEvent::getFormattedMessage)
        .toList();
  }

  @Test
  void ratesAreMeasuredPerStreamAndForTheAgent() {
    for (int s = 0; s < 600; s++, now += 1_000) {
      watch.onAppended(now, "sensor_data", 6, 600);
      watch.onAppended(now, "logs", 2, 1_000);
    }

    assertThat(watch.rate(now, "sensor_data").recordsPerSec()).isCloseTo(6, within(0.05));
    assertThat(watch.rate(now, "logs").bytesPerSec()).isCloseTo(1_000, within(10.0));
    assertThat(watch.rate(now, "events").recordsPerSec()).isEqualTo(-1);
    assertThat(watch.estimate(now, 0, 0).view().appendRecordsPerSec()).isCloseTo(8, within(0.1));
  }

  @Test
  void ratesAreShownWithFourSignificantDigits() {
    assertThat(CapacityWatch.rounded(9.983342592590725)).isEqualTo(9.983);
    assertThat(CapacityWatch.rounded(1497.5013888886094)).isEqualTo(1498);
    assertThat(CapacityWatch.rounded(0.0016534)).isEqualTo(0.001653);
    assertThat(CapacityWatch.rounded(-1)).isEqualTo(-1);
  }

  @Test
  void mismatch_isWarnedOnceWhenItAppears_notOnEveryCheckOrRead() {
    append("sensor_data", 20, 10 * 60_000); // the queue holds 30 minutes of this

    for (int i = 0; i < 5; i++) {
      assertThat(watch.estimate(now, 0, 0).warning()).contains("~30 min at 20 records/s");
    }
    append("sensor_data", 20, 10 * 60_000);

    assertThat(messages(Level.WARN))
        .singleElement()
        .asString()
        .startsWith("gw-1: queue holds ~30 min at 20 records/s")
        .contains("raise sync.offline.queue_max_size to 73188"); // 20.33/s: logged a minute in
  }

  @Test
  void withoutAMismatch_theMeasuredCapacityIsLoggedOnceAtInfo() {
    append("sensor_data", 5, 10 * 60_000);

    assertThat(messages(Level.WARN)).isEmpty();
    assertThat(messages(Level.INFO))
        .singleElement()
        .asString()
        .startsWith("gw-1: queue holds ~2 h at 5.1 records/s"); // a young estimate errs high
  }

  @Test
  void mismatchThatClears_isReportedOnce_andWarnedAgainWhenItReturns() {
    append("sensor_data", 20, 10 * 60_000);
    append("sensor_data", 9, 30 * 60_000); // 1.1 h: not 1.25 h, the warning holds
    assertThat(messages(Level.INFO)).isEmpty();

    append("sensor_data", 5, 30 * 60_000); // 2 h
    assertThat(messages(Level.INFO))
        .singleElement()
        .asString()
        .startsWith("gw-1: the queue is large enough again: queue holds ~75 min at 8 records/s");

    append("sensor_data", 20, 30 * 60_000);
    assertThat(messages(Level.WARN)).hasSize(2);
  }

  @Test
  void beforeTheRateIsMeasured_nothingIsLogged() {
    append("sensor_data", 100, 59_000);

    assertThat(logs.list).isEmpty();
  }
}
