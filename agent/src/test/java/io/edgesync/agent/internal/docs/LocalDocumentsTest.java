package io.edgesync.agent.internal.docs;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.edgesync.agent.Document;
import io.edgesync.protocol.Hlc;
import io.edgesync.protocol.wire.DocUpdate;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The document replica against a real SQLite file. */
class LocalDocumentsTest {
  @TempDir Path dir;

  private DocsFile open() throws Exception {
    return new DocsFile(
        dir.resolve("edgesync-docs.db"), "d1", Set.of("cfg"), 65_536, 300_000, true, () -> 5_000);
  }

  private static DocUpdate update(String key, long version, String json) {
    DocUpdate.Builder u =
        DocUpdate.newBuilder()
            .setScope("device")
            .setCollection("cfg")
            .setKey(key)
            .setVersion(version)
            .setHlc(new Hlc(4_000, 0, "cloud").toWire());
    return json == null
        ? u.setDeleted(true).build()
        : u.setValue(ByteString.copyFromUtf8(json)).build();
  }

  /**
   * Regression (found by the simulator, seeds 2447 and 7352): the device edited a document on
   * version 2 while the cloud deleted it (version 7). The push of the tombstone reached the device
   * (not applied: the edit was pending) but the edit did not reach the cloud before the connection
   * died. The next Hello reported cursor 7, the cloud collected the tombstone as seen by every
   * reader, and the edit then fast-forwarded over nothing: the delete was lost without a conflict.
   */
  @Test
  void pendingChangeMadeBeforeACloudDelete_keepsTheReportedCursorAtItsBase() throws Exception {
    try (DocsFile file = open()) {
      LocalDocuments docs = file.replica();
      docs.apply(List.of(update("k", 2, "{\"a\":1}")));
      docs.put("cfg", "k", "{\"a\":2}");

      docs.apply(List.of(update("k", 7, null), update("other", 8, "{}")));

      assertThat(docs.get("cfg", "k").orElseThrow().pending()).isTrue();
      assertThat(docs.cursors()).containsEntry("device", 2L);
      // Once the edit's outcome is in, the cursor is the highest version applied again.
      docs.acknowledged(1, List.of());
      docs.apply(List.of(update("k", 9, "{\"a\":2}").toBuilder().setOriginChangeSeq(1).build()));
      assertThat(docs.cursors()).containsEntry("device", 9L);
    }
  }

  @Test
  void refusedChange_isNoLongerPending_isRecorded_andTheKeyGoesBackToItsCloudVersion()
      throws Exception {
    try (DocsFile file = open()) {
      LocalDocuments docs = file.replica();
      docs.apply(List.of(update("k", 2, "{\"a\":1}")));
      docs.put("cfg", "k", "{\"a\":2}"); // change 1, on version 2
      docs.put("cfg", "new", "{\"b\":1}"); // change 2, on nothing

      docs.refused(
          List.of(
              refusal(1, "device 'd1' may not write ..."), refusal(2, "may not"), refusal(9, "x")));
      docs.acknowledged(2, List.of());

      assertThat(docs.pendingCount()).isZero();
      assertThat(docs.pendingChanges(0, 10, 65_536)).as("never sent again").isEmpty();
      assertThat(docs.get("cfg", "k").orElseThrow().value().toString()).isEqualTo("{\"a\":1}");
      assertThat(docs.get("cfg", "k").orElseThrow().version()).isEqualTo(2);
      assertThat(docs.get("cfg", "new")).as("the cloud never had it").isEmpty();
      assertThat(docs.refusedCount()).as("change 9 matched no pending change").isEqualTo(2);
    }
    try (DocsFile file = open()) {
      assertThat(file.replica().refusedCount()).as("kept across a restart").isEqualTo(2);
    }
  }

  /**
   * Regression (ClusterKillTest with both sides writing one key): the cloud applied the device's
   * change as version 3, and a cloud write (version 4) committed before the session pushed that
   * outcome, so the push carried only version 4, which arrived while the change was pending and was
   * not applied. The DocAck then settled the change, nothing else came, and the device kept its own
   * value while the cloud held version 4.
   */
  @Test
  void cloudVersionThatSupersededAPendingChangesOutcome_isAppliedOnceTheChangeIsAcknowledged()
      throws Exception {
    try (DocsFile file = open()) {
      LocalDocuments docs = file.replica();
      docs.apply(List.of(update("k", 2, "{\"a\":1}")));
      docs.put("cfg", "k", "{\"edge\":1}"); // change 1, on version 2
      List<Document> seen = new ArrayList<>();
      docs.watch("device", "cfg", seen::add);

      docs.apply(List.of(update("k", 4, "{\"cloud\":1}"))); // pushed before the ack
      assertThat(docs.get("cfg", "k").orElseThrow().pending()).as("held back").isTrue();

      docs.acknowledged(1, List.of());

      Document k = docs.get("cfg", "k").orElseThrow();
      assertThat(k.value().toString()).isEqualTo("{\"cloud\":1}");
      assertThat(k.version()).isEqualTo(4);
      assertThat(k.pending()).isFalse();
      assertThat(seen).extracting(Document::version).containsExactly(4L);
      assertThat(docs.cursors()).containsEntry("device", 4L);
    }
  }

  @Test
  void heldBackVersion_olderThanTheOutcomeThatFollows_isNeverApplied() throws Exception {
    try (DocsFile file = open()) {
      LocalDocuments docs = file.replica();
      docs.apply(List.of(update("k", 2, "{\"a\":1}")));
      docs.put("cfg", "k", "{\"edge\":1}"); // change 1

      docs.apply(List.of(update("k", 4, "{\"cloud\":1}"))); // before the change was processed
      docs.apply(List.of(update("k", 5, "{\"edge\":1}").toBuilder().setOriginChangeSeq(1).build()));
      docs.acknowledged(1, List.of());

      assertThat(docs.get("cfg", "k").orElseThrow().version()).isEqualTo(5);
      assertThat(docs.get("cfg", "k").orElseThrow().value().toString()).isEqualTo("{\"edge\":1}");
    }
  }

  @Test
  void heldBackVersion_waitsWhileALaterLocalEditIsPending_andAfterARefusalIsApplied()
      throws Exception {
    try (DocsFile file = open()) {
      LocalDocuments docs = file.replica();
      docs.apply(List.of(update("k", 2, "{\"a\":1}"), update("r", 2, "{\"a\":1}")));
      docs.put("cfg", "k", "{\"edge\":1}"); // change 1
      docs.put("cfg", "r", "{\"edge\":1}"); // change 2, to be refused
      docs.apply(List.of(update("k", 4, "{\"cloud\":1}"), update("r", 5, "{\"cloud\":2}")));
      docs.put("cfg", "k", "{\"edge\":2}"); // change 3 replaces change 1, not yet processed

      docs.refused(List.of(refusal(2, "may not")));
      docs.acknowledged(2, List.of());

      Document k = docs.get("cfg", "k").orElseThrow();
      assertThat(k.pending()).as("change 3 waits for its own outcome").isTrue();
      assertThat(k.value().toString()).isEqualTo("{\"edge\":2}");
      Document r = docs.get("cfg", "r").orElseThrow();
      assertThat(r.version()).as("refused, then the cloud's newer version").isEqualTo(5);
      assertThat(r.value().toString()).isEqualTo("{\"cloud\":2}");
    }
  }

  private static io.edgesync.protocol.wire.DocRefusal refusal(long seq, String reason) {
    return io.edgesync.protocol.wire.DocRefusal.newBuilder()
        .setChangeSeq(seq)
        .setCode(io.edgesync.protocol.wire.ErrorCode.NOT_AUTHORIZED)
        .setReason(reason)
        .build();
  }
}
