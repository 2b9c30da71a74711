package io.edgesync.server;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgesync.engine.cloud.CloudStore;
import io.edgesync.protocol.Record;
import io.edgesync.protocol.wire.GapReason;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

@ParameterizedClass
@EnumSource(StoreKind.class)
class SqliteCloudStoreTest {
  @RegisterExtension final StoreFile db;

  SqliteCloudStoreTest(StoreKind kind) {
    db = new StoreFile(kind);
  }

  /** Records {@code first..first+count-1} with small JSON payloads (other store tests use it). */
  static List<Record> records(long first, int count) {
    List<Record> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      out.add(new Record(first + i, 1_000 + i, ("{\"n\":" + (first + i) + "}").getBytes(UTF_8)));
    }
    return out;
  }

  @Test
  void resentAndOverlappingBatches_areStoredOnce() throws Exception {
    try (SqliteCloudStore store = db.open()) {
      assertThat(store.commitRecords("d", "s", records(1, 10), 0)).isEqualTo(10);
      assertThat(store.commitRecords("d", "s", records(1, 10), 0)).isEqualTo(10);
      assertThat(store.commitRecords("d", "s", records(6, 10), 0)).isEqualTo(15);
      List<Record> all = store.read("d", "s", 0, 100);
      assertThat(all)
          .extracting(Record::sequence)
          .containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L, 11L, 12L, 13L, 14L, 15L);
      assertThat(store.streams("d").get(0).records()).isEqualTo(15);
    }
  }

  @Test
  void wireAccounting_countsEveryBatchReceived_resendsIncluded_andSurvivesReopen()
      throws Exception {
    try (SqliteCloudStore store = db.open()) {
      store.commitRecords("d", "s", records(1, 10), 0, new CloudStore.WireBytes(200, 40, 60));
      store.commitRecords("d", "s", records(1, 10), 0, new CloudStore.WireBytes(200, 40, 60));
      store.commitRecords("d", "s", records(11, 5), 0); // no accounting given
      store.commitGap("d", "s", 16, 20, GapReason.GAP_REASON_EXPIRED, 1, 2);
    }
    try (SqliteCloudStore store = db.open()) {
      CloudStore.StreamSummary s = store.streams("d").get(0);
      assertThat(s.records()).isEqualTo(15);
      assertThat(s.lastSequence()).isEqualTo(20);
      assertThat(s.wireBatches()).isEqualTo(2);
      assertThat(s.wireRawBytes()).isEqualTo(400);
      assertThat(s.wirePayloadBytes()).isEqualTo(80);
      assertThat(s.wireFrameBytes()).isEqualTo(120);
      assertThat(s.wireRatio()).isEqualTo(400 / 120.0);
    }
  }

  @Test
  void batchThatSkipsAhead_isRefusedAndStoresNothing() throws Exception {
    try (SqliteCloudStore store = db.open()) {
      store.commitRecords("d", "s", records(1, 3), 0);
      assertThatThrownBy(() -> store.commitRecords("d", "s", records(5, 2), 0))
          .isInstanceOf(CloudStore.SequenceException.class)
          .hasMessageContaining("continues at sequence 4 but the frame starts at 5");
      assertThat(store.checkpoints("d")).containsEntry("s", 3L);
      assertThat(store.read("d", "s", 0, 100)).hasSize(3);
    }
  }

  @Test
  void gapAdvancesTheCheckpoint_andReadsSkipIt() throws Exception {
    try (SqliteCloudStore store = db.open()) {
      store.commitRecords("d", "s", records(1, 2), 0);
      assertThat(store.commitGap("d", "s", 3, 7, GapReason.GAP_REASON_QUEUE_FULL, 5, 6))
          .isEqualTo(7);
      assertThat(store.commitGap("d", "s", 3, 7, GapReason.GAP_REASON_QUEUE_FULL, 5, 6))
          .isEqualTo(7);
      store.commitRecords("d", "s", records(8, 2), 0);
      assertThat(store.read("d", "s", 0, 100))
          .extracting(Record::sequence)
          .containsExactly(1L, 2L, 8L, 9L);
      assertThat(store.read("d", "s", 2, 1)).extracting(Record::sequence).containsExactly(8L);
      assertThat(store.gaps("d", "s")).hasSize(1);
      assertThat(store.streams("d").get(0).droppedRecords()).isEqualTo(5);
    }
  }

  @Test
  void checkpointsAndRecordsSurviveReopen() throws Exception {
    try (SqliteCloudStore store = db.open()) {
      store.registerDevice("d", 5);
      store.commitRecords("d", "s", records(1, 4), 0);
    }
    try (SqliteCloudStore store = db.open()) {
      assertThat(store.checkpoints("d")).containsEntry("s", 4L);
      assertThat(store.device("d")).isPresent();
      assertThat(new String(store.read("d", "s", 3, 10).get(0).payload(), UTF_8))
          .isEqualTo("{\"n\":4}");
    }
  }
}
