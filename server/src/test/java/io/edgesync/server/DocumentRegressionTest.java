package io.edgesync.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.edgesync.engine.docs.CloudDocuments;
import io.edgesync.engine.docs.ConflictPolicy;
import io.edgesync.engine.docs.ConflictStrategy;
import io.edgesync.engine.docs.DocumentRules;
import io.edgesync.engine.docs.DocumentStore;
import io.edgesync.engine.docs.DocumentStore.StoredDoc;
import io.edgesync.protocol.Hlc;
import io.edgesync.protocol.ProtocolLimits;
import io.edgesync.protocol.wire.DocChange;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Regression tests for {@link CloudDocuments} bugs the deterministic simulator found. They run here
 * because the engine has no document store of its own; this module holds the real one (SQLite).
 */
class DocumentRegressionTest {
  @TempDir Path dir;

  private final long[] nowMs = {1_700_000_000_000L};

  private static DocChange change(long seq, String key, long base, Hlc hlc, String json) {
    return DocChange.newBuilder()
        .setChangeSeq(seq)
        .setCollection("cfg")
        .setKey(key)
        .setBaseVersion(base)
        .setHlc(hlc.toWire())
        .setValue(ByteString.copyFromUtf8(json))
        .build();
  }

  /**
   * Found by the simulator (seed 58): in reject mode, a change from a device whose clock is too far
   * ahead, to a key the cloud did not have yet, opened a conflict and wrote a conflicted tombstone
   * stamped {@code Hlc.ZERO}; devices refuse an HLC that names no node, so every device reading the
   * scope failed on that update, again after every reconnect.
   */
  @Test
  void driftingClockCreatesANewKeyInRejectMode_theConflictedVersionCarriesAValidHlc()
      throws Exception {
    try (SqliteCloudStore store = new SqliteCloudStore(dir.resolve("c.db"))) {
      DocumentRules rules =
          new DocumentRules(
              Map.of("cfg", ConflictPolicy.of(ConflictStrategy.LAST_WRITE_WINS)),
              ProtocolLimits.DEFAULT_MAX_DOCUMENT_BYTES,
              60_000,
              true);
      CloudDocuments docs = new CloudDocuments(store.documents(), rules, () -> nowMs[0]);
      Hlc hourAhead = new Hlc(nowMs[0] + 3_600_000, 0, "d1");

      docs.applyEdgeChanges("d1", List.of(change(1, "k", 0, hourAhead, "{\"a\":1}")));

      StoredDoc d = store.documents().get("device:d1", "cfg", "k");
      assertThat(d.conflictId()).as("reject mode opens a conflict").isNotZero();
      assertThat(d.deleted()).as("the cloud had nothing").isTrue();
      // What a device parses from the DocUpdate:
      assertThat(Hlc.fromWire(d.hlc().toWire())).isEqualTo(d.hlc());
      assertThat(d.hlc().node()).isEqualTo("cloud");
      assertThat(store.documents().conflict(d.conflictId()).cloudHlc().node()).isEqualTo("cloud");
    }
  }

  /**
   * Found by the simulator (seed 473): under {@code manual}, device 1's value waited in conflict A;
   * device 2's concurrent change opened conflict B (now the key's newest); device 1 then deleted
   * the key, and since the newest conflict was not its own, a second conflict C opened for it.
   * Device 1 had two open conflicts on one key, and resolving A "take edge" would have brought back
   * the value it had deleted.
   */
  @Test
  void deviceEditsAgainWhileAnotherDevicesConflictIsNewest_itsOwnConflictIsUpdated()
      throws Exception {
    try (SqliteCloudStore store = new SqliteCloudStore(dir.resolve("c.db"))) {
      CloudDocuments docs =
          new CloudDocuments(
              store.documents(),
              DocumentRules.of(Map.of("cfg", ConflictPolicy.of(ConflictStrategy.MANUAL))),
              () -> nowMs[0]);
      docs.put(
          "fleet", "cfg", "k", "{\"a\":0}".getBytes(java.nio.charset.StandardCharsets.UTF_8), null);
      Hlc h = new Hlc(nowMs[0], 0, "d");
      docs.applyEdgeChanges("d1", List.of(fleet(change(1, "k", 0, h, "{\"a\":1}"))));
      docs.applyEdgeChanges("d2", List.of(fleet(change(1, "k", 0, h, "{\"a\":2}"))));

      docs.applyEdgeChanges("d1", List.of(fleet(delete(2, "k", 0, h))));

      List<DocumentStore.ConflictRecord> open =
          store.documents().conflicts(new DocumentStore.ConflictFilter("open", "d1", null, 0, 10));
      assertThat(open).hasSize(1);
      assertThat(open.get(0).edgeValue()).as("d1's newest edit: deleted").isNull();
      assertThat(open.get(0).edgeChangeSeq()).isEqualTo(2);
      assertThat(
              store
                  .documents()
                  .conflicts(new DocumentStore.ConflictFilter("open", null, null, 0, 10)))
          .hasSize(2);
    }
  }

  private static DocChange fleet(DocChange c) {
    return c.toBuilder().setScope("fleet").build();
  }

  private static DocChange delete(long seq, String key, long base, Hlc hlc) {
    return DocChange.newBuilder()
        .setChangeSeq(seq)
        .setCollection("cfg")
        .setKey(key)
        .setBaseVersion(base)
        .setHlc(hlc.toWire())
        .setDeleted(true)
        .build();
  }
}
