package io.edgesync.server;

import static io.edgesync.server.EdgeChanges.delete;
import static io.edgesync.server.EdgeChanges.value;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.edgesync.engine.docs.CloudDocuments;
import io.edgesync.engine.docs.ConflictPolicy;
import io.edgesync.engine.docs.ConflictStrategy;
import io.edgesync.engine.docs.DocumentRules;
import io.edgesync.engine.docs.DocumentStore;
import io.edgesync.engine.docs.DocumentStore.StoredDoc;
import io.edgesync.protocol.Hlc;
import io.edgesync.protocol.ProtocolLimits;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Regression tests for {@link CloudDocuments} bugs the deterministic simulator found. They run here
 * because the engine has no document store of its own; this module holds the real one (SQLite).
 */
class DocumentRegressionTest {
  @RegisterExtension final StoreFile db = new StoreFile();

  private final long[] nowMs = {1_700_000_000_000L};
  private DocumentStore store;

  /** The document authority over a new store file, deciding by {@code rules}. */
  private CloudDocuments open(DocumentRules rules) throws SQLException {
    store = db.open().documents();
    return new CloudDocuments(store, rules, () -> nowMs[0]);
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
    CloudDocuments docs =
        open(
            new DocumentRules(
                Map.of("cfg", ConflictPolicy.of(ConflictStrategy.LAST_WRITE_WINS)),
                ProtocolLimits.DEFAULT_MAX_DOCUMENT_BYTES,
                60_000,
                true));
    Hlc hourAhead = new Hlc(nowMs[0] + 3_600_000, 0, "d1");

    docs.applyEdgeChanges("d1", List.of(value(1, "", "cfg", "k", 0, hourAhead, "{\"a\":1}")));

    StoredDoc d = store.get("device:d1", "cfg", "k");
    assertThat(d.conflictId()).as("reject mode opens a conflict").isNotZero();
    assertThat(d.deleted()).as("the cloud had nothing").isTrue();
    // What a device parses from the DocUpdate:
    assertThat(Hlc.fromWire(d.hlc().toWire())).isEqualTo(d.hlc());
    assertThat(d.hlc().node()).isEqualTo("cloud");
    assertThat(store.conflict(d.conflictId()).cloudHlc().node()).isEqualTo("cloud");
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
    CloudDocuments docs =
        open(
            DocumentRules.of(Map.of("cfg", ConflictPolicy.of(ConflictStrategy.MANUAL)))
                .withDeviceWritable(io.edgesync.engine.docs.DeviceWrites.of("fleet/cfg")));
    docs.put("fleet", "cfg", "k", "{\"a\":0}".getBytes(UTF_8), null);
    Hlc h = new Hlc(nowMs[0], 0, "d");
    docs.applyEdgeChanges("d1", List.of(value(1, "fleet", "cfg", "k", 0, h, "{\"a\":1}")));
    docs.applyEdgeChanges("d2", List.of(value(1, "fleet", "cfg", "k", 0, h, "{\"a\":2}")));

    docs.applyEdgeChanges("d1", List.of(delete(2, "fleet", "cfg", "k", 0, h)));

    List<DocumentStore.ConflictRecord> open =
        store.conflicts(new DocumentStore.ConflictFilter("open", "d1", null, 0, 10));
    assertThat(open).hasSize(1);
    assertThat(open.get(0).edgeValue()).as("d1's newest edit: deleted").isNull();
    assertThat(open.get(0).edgeChangeSeq()).isEqualTo(2);
    assertThat(store.conflicts(new DocumentStore.ConflictFilter("open", null, null, 0, 10)))
        .hasSize(2);
  }
}
