package io.edgesync.agent.internal.outbox;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgesync.engine.edge.Outbox;
import io.edgesync.protocol.Record;
import io.edgesync.protocol.wire.GapReason;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@link SyncLog}: sends, resends, acknowledgements, gaps and its bound per stream. */
class SyncLogTest {
  @Test
  void aResendOfTheSameRange_countsASend_andAnAckMarksEveryBatchThroughIt() {
    SyncLog log = new SyncLog();
    log.sent("s", batch(1, 3, 100), 110);
    log.sent("s", batch(4, 5, 120), 130);
    log.sent("s", batch(1, 3, 100), 200); // after a reconnect
    log.acknowledged("s", 3, 210);

    List<Map<String, Object>> e = log.entries("s", 0, 10);
    assertThat(e).hasSize(2);
    assertThat(e.get(0))
        .containsEntry("records", 3)
        .containsEntry("queuedAtMs", 100L)
        .containsEntry("sentAtMs", 110L)
        .containsEntry("sends", 2)
        .containsEntry("lastSentAtMs", 200L)
        .containsEntry("acknowledgedAtMs", 210L)
        .containsEntry("state", "acknowledged");
    assertThat(e.get(1)).containsEntry("state", "sent").containsEntry("acknowledgedAtMs", null);
    assertThat(log.entries("s", 3, 10)).hasSize(1);
    assertThat(log.entries("other", 0, 10)).isEmpty();
  }

  @Test
  void keepsTheNewestBatchesOfAStream_upToItsBound() {
    SyncLog log = new SyncLog();
    for (long i = 1; i <= SyncLog.MAX_ENTRIES_PER_STREAM + 5; i++) {
      log.sent("s", batch(i, i, i), i);
    }
    List<Map<String, Object>> e = log.entries("s", 0, 2000);
    assertThat(e).hasSize(SyncLog.MAX_ENTRIES_PER_STREAM);
    assertThat(e.get(0)).containsEntry("firstSequence", 6L);
  }

  @Test
  void aGap_showsItsReasonAndWhenItWasDropped() {
    SyncLog log = new SyncLog();
    log.sent("s", new Outbox.Item.Gap(1, 9, GapReason.GAP_REASON_QUEUE_FULL, 50), 60);
    assertThat(log.entries("s", 0, 10).get(0))
        .containsEntry("gap", "queue_full")
        .containsEntry("droppedAtMs", 50L)
        .doesNotContainKey("records");
  }

  private static Outbox.Item.Records batch(long first, long last, long queuedAtMs) {
    List<Record> records =
        java.util.stream.LongStream.rangeClosed(first, last)
            .mapToObj(s -> new Record(s, queuedAtMs, new byte[] {1}))
            .toList();
    return new Outbox.Item.Records(records, records.size());
  }
}
