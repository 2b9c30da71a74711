package io.edgesync.engine.dict;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** When the cloud trains a stream's dictionary: bytes, interval, one at a time, bounds. */
class DictionaryScheduleTest {
  private static final long T0 = 1_700_000_000_000L;
  private static final long HOUR = 3_600_000;

  private static DictionaryRules rules(long sampleBytes, long minIntervalMs, int maxStreams) {
    return new DictionaryRules(true, sampleBytes, 16 * 1024, minIntervalMs, 3, maxStreams);
  }

  @Test
  void trainsOnceTheStreamReceivedSampleBytes_notBefore() {
    DictionarySchedule s = new DictionarySchedule(rules(10_000, HOUR, 10));
    assertThat(s.onCommitted("a", 6_000, T0)).isFalse();
    assertThat(s.onCommitted("b", 6_000, T0)).isFalse(); // per stream, not in total
    assertThat(s.onCommitted("a", 4_000, T0)).isTrue();
    assertThat(s.running("a")).isTrue();
  }

  @Test
  void oneTrainingAtATime_andTheMinimumIntervalAfterIt_evenWithMoreBytes() {
    DictionarySchedule s = new DictionarySchedule(rules(2_000, HOUR, 10));
    assertThat(s.onCommitted("a", 2_000, T0)).isTrue();
    assertThat(s.onCommitted("a", 5_000, T0 + 1)).isFalse(); // still running
    s.finished("a", T0 + 10);
    assertThat(s.onCommitted("a", 5_000, T0 + HOUR - 1)).isFalse(); // interval not over
    assertThat(s.onCommitted("a", 1, T0 + 10 + HOUR)).isTrue(); // bytes were kept
  }

  @Test
  void retrainNeedsNewSampleBytes_bytesBeforeTheTrainingDoNotCount() {
    DictionarySchedule s = new DictionarySchedule(rules(2_000, 0, 10));
    assertThat(s.onCommitted("a", 3_000, T0)).isTrue();
    s.finished("a", T0);
    assertThat(s.onCommitted("a", 1_999, T0 + 1)).isFalse();
    assertThat(s.onCommitted("a", 1, T0 + 2)).isTrue();
  }

  @Test
  void aTrainingBeforeARestartHoldsTheInterval() {
    DictionarySchedule s = new DictionarySchedule(rules(2_000, HOUR, 10));
    s.trainedBefore("a", T0);
    assertThat(s.onCommitted("a", 10_000, T0 + HOUR / 2)).isFalse();
    assertThat(s.onCommitted("a", 1, T0 + HOUR)).isTrue();
  }

  @Test
  void streamsBeyondMaxStreamsAreNeverTrained_andDisabledRulesTrainNothing() {
    DictionarySchedule s = new DictionarySchedule(rules(2_000, 0, 1));
    assertThat(s.onCommitted("a", 10, T0)).isFalse();
    assertThat(s.onCommitted("b", 100_000, T0)).isFalse();
    DictionarySchedule off = new DictionarySchedule(DictionaryRules.disabled());
    assertThat(off.onCommitted("a", Long.MAX_VALUE / 4, T0)).isFalse();
  }
}
