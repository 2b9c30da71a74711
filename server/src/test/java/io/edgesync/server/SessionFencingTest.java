package io.edgesync.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgesync.engine.cloud.CloudStore;
import io.edgesync.protocol.Record;
import io.edgesync.protocol.wire.GapReason;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Two server nodes on one store (two store instances on one database): a device's newer session
 * through one node fences the other node's commits for the device, and the new holder's checkpoints
 * include everything the old holder committed.
 */
@ParameterizedClass
@EnumSource(StoreKind.class)
class SessionFencingTest {
  @RegisterExtension final StoreFile storeFile;

  SessionFencingTest(StoreKind kind) {
    storeFile = new StoreFile(kind);
  }

  private static List<Record> records(long first, int count) {
    return SqliteCloudStoreTest.records(first, count);
  }

  @Test
  void aNewerClaimThroughAnotherNode_fencesTheOlderNode_andStoresNothingOfIt() throws Exception {
    SqliteCloudStore node1 = storeFile.open();
    SqliteCloudStore node2 = storeFile.open();
    node1.registerDevice("d", 0);
    long first = node1.claimSession("d", 1);
    node1.commitRecords("d", "s", records(1, 10), 2);

    long second = node2.claimSession("d", 3);

    assertThat(second).isGreaterThan(first);
    assertThat(node2.checkpoints("d")).containsEntry("s", 10L);
    assertThatThrownBy(() -> node1.commitRecords("d", "s", records(11, 10), 4))
        .isInstanceOf(CloudStore.SessionFencedException.class)
        .hasMessageContaining("device d has a newer session through another server node");
    assertThatThrownBy(() -> node1.commitGap("d", "s", 11, 12, GapReason.GAP_REASON_EXPIRED, 4, 4))
        .isInstanceOf(CloudStore.SessionFencedException.class);
    assertThat(node2.read("d", "s", 0, 100)).hasSize(10);
    assertThat(node2.streams("d").get(0).lastSequence()).isEqualTo(10);

    assertThat(node2.commitRecords("d", "s", records(11, 5), 5)).isEqualTo(15);
    assertThat(node1.read("d", "s", 0, 100)).extracting(Record::sequence).hasSize(15);
  }

  @Test
  void aResentBatch_isCountedOnlyByTheHolder() throws Exception {
    SqliteCloudStore node1 = storeFile.open();
    SqliteCloudStore node2 = storeFile.open();
    node1.registerDevice("d", 0);
    node1.claimSession("d", 1);
    node1.commitRecords("d", "s", records(1, 4), 2, new CloudStore.WireBytes(10, 10, 10));
    node2.claimSession("d", 3);

    assertThatThrownBy(
            () ->
                node1.commitRecords(
                    "d", "s", records(1, 4), 4, new CloudStore.WireBytes(10, 10, 10)))
        .isInstanceOf(CloudStore.SessionFencedException.class);
    assertThat(node2.streams("d").get(0).wireBatches()).isEqualTo(1);
  }

  @Test
  void aClaimReadsCheckpointsAfterIt_soWhatTheOtherNodeCommittedIsNeverStoredTwice()
      throws Exception {
    SqliteCloudStore node1 = storeFile.open();
    SqliteCloudStore node2 = storeFile.open();
    node1.registerDevice("d", 0);
    node1.claimSession("d", 1);
    node1.commitRecords("d", "s", records(1, 5), 2); // node1's checkpoint cache: 5
    node2.claimSession("d", 3);
    node2.commitRecords("d", "s", records(6, 5), 4);

    node1.claimSession("d", 5); // the device came back to node1
    assertThat(node1.checkpoints("d")).containsEntry("s", 10L);
    // The device resends what node2 acknowledged late: skipped, not stored again.
    assertThat(node1.commitRecords("d", "s", records(6, 7), 6)).isEqualTo(12);
    assertThat(node1.read("d", "s", 0, 100))
        .extracting(Record::sequence)
        .containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L, 11L, 12L);
    assertThatThrownBy(() -> node2.commitRecords("d", "s", records(13, 1), 7))
        .isInstanceOf(CloudStore.SessionFencedException.class);
  }

  @Test
  void aSequenceGapAfterManyClaims_isASequenceError_notAFence() throws Exception {
    // Epochs above 127 are Longs outside the box cache: comparing the boxes by reference said
    // "fenced" for the node that held the newest claim (found by bench fuzz).
    SqliteCloudStore node = storeFile.open();
    node.registerDevice("d", 0);
    for (int i = 0; i < 130; i++) {
      node.claimSession("d", i);
    }
    node.commitRecords("d", "s", records(1, 2), 200);

    assertThatThrownBy(() -> node.commitRecords("d", "s", records(5, 1), 201))
        .isInstanceOf(CloudStore.SequenceException.class);
    assertThat(node.commitRecords("d", "s", records(3, 1), 202)).isEqualTo(3);
  }

  @Test
  void aNodeThatNeverClaimed_commitsAsBefore() throws Exception {
    SqliteCloudStore node = storeFile.open();
    assertThat(node.commitRecords("d", "s", records(1, 3), 0)).isEqualTo(3);
  }
}
