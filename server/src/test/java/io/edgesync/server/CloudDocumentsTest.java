package io.edgesync.server;

import static io.edgesync.server.EdgeChanges.change;
import static io.edgesync.server.EdgeChanges.patch;
import static io.edgesync.server.EdgeChanges.value;
import static io.edgesync.server.StoreFile.HISTORY_VERSIONS;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.edgesync.engine.docs.CloudDocuments;
import io.edgesync.engine.docs.CloudDocuments.EdgeApplied;
import io.edgesync.engine.docs.ConflictDecider;
import io.edgesync.engine.docs.ConflictPolicy;
import io.edgesync.engine.docs.ConflictStrategy;
import io.edgesync.engine.docs.DocumentException;
import io.edgesync.engine.docs.DocumentException.Kind;
import io.edgesync.engine.docs.DocumentRules;
import io.edgesync.engine.docs.DocumentStore;
import io.edgesync.engine.docs.DocumentStore.AuditFilter;
import io.edgesync.engine.docs.DocumentStore.AuditRecord;
import io.edgesync.engine.docs.DocumentStore.ConflictFilter;
import io.edgesync.engine.docs.DocumentStore.ConflictRecord;
import io.edgesync.engine.docs.DocumentStore.StoredDoc;
import io.edgesync.protocol.Hlc;
import io.edgesync.protocol.ProtocolException;
import io.edgesync.protocol.wire.DocChange;
import io.edgesync.protocol.wire.ErrorCode;
import io.edgesync.protocol.wire.HlcTimestamp;
import io.edgesync.testing.FakeClock;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.assertj.core.api.AbstractThrowableAssert;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link CloudDocuments} over a real {@link SqliteCloudStore} file: edge changes (fast-forward,
 * idempotent resend, merge patches, resend-full, validation), cloud writes with If-Match, manual
 * conflicts and their resolution, tombstone collection, clock drift, and restart.
 *
 * <p>"Nothing stored" is checked on the database file itself, through a second connection.
 */
@ParameterizedClass
@EnumSource(StoreKind.class)
class CloudDocumentsTest {
  private static final long T0 = 1_700_000_000_000L;
  private static final int MAX_DOC_BYTES = 4096;
  private static final long MAX_DRIFT_MS = 60_000;

  @RegisterExtension final StoreFile db;

  CloudDocumentsTest(StoreKind kind) {
    db = new StoreFile(kind);
  }

  private final FakeClock clock = new FakeClock(T0);

  private static DocumentRules rules(boolean rejectDriftingClocks) {
    return new DocumentRules(
            Map.of(
                "config", ConflictPolicy.of(ConflictStrategy.MERGE),
                "manual", ConflictPolicy.of(ConflictStrategy.MANUAL),
                "lww", ConflictPolicy.of(ConflictStrategy.LAST_WRITE_WINS)),
            MAX_DOC_BYTES,
            MAX_DRIFT_MS,
            rejectDriftingClocks)
        // Shared documents edited by devices and the cloud alike: what these tests decide.
        .withDeviceWritable(io.edgesync.engine.docs.DeviceWrites.of("fleet/*", "group:*/*"));
  }

  private CloudDocuments open(boolean rejectDriftingClocks) throws SQLException {
    return new CloudDocuments(db.open().documents(), rules(rejectDriftingClocks), clock);
  }

  private CloudDocuments open() throws SQLException {
    return open(false);
  }

  // ------------------------------------------------------------------ change builders

  private Hlc hlc(String device) {
    return new Hlc(clock.nowMs(), 0, device);
  }

  private static String text(StoredDoc d) {
    return d.value() == null ? null : new String(d.value(), UTF_8);
  }

  private static String text(byte[] b) {
    return b == null ? null : new String(b, UTF_8);
  }

  /** What the database file holds, read through a second connection (committed data only). */
  private record Snapshot(
      long docs, long maxVersion, long history, long conflicts, long audit, String changeSeqs) {}

  private Snapshot snapshot() throws SQLException {
    try (StoreFile.Reader r = db.reader()) {
      return new Snapshot(
          r.number("SELECT count(*) FROM docs"),
          r.number("SELECT coalesce(max(version), 0) FROM doc_log"),
          r.number("SELECT count(*) FROM doc_log"),
          r.number("SELECT count(*) FROM conflicts"),
          r.number("SELECT count(*) FROM audit"),
          r.text(
              "SELECT coalesce(string_agg(device || '=' || last_change_seq, ',' ORDER BY device),"
                  + " '') FROM device_docs"));
    }
  }

  /** A refusal of the document API, of the given kind. */
  private static AbstractThrowableAssert<?, ? extends Throwable> refused(
      ThrowingCallable call, DocumentException.Kind kind) {
    return assertThatThrownBy(call)
        .isInstanceOfSatisfying(DocumentException.class, e -> assertThat(e.kind()).isEqualTo(kind));
  }

  /**
   * Versions 1..{@code HISTORY_VERSIONS + 8} of gw-1's config/big, in one transaction: version 1
   * leaves the history. Returns the last version.
   */
  private int writePastTheHistory(CloudDocuments docs) throws Exception {
    int versions = (int) HISTORY_VERSIONS + 8;
    List<DocChange> edits = new ArrayList<>();
    for (int i = 1; i <= versions; i++) {
      edits.add(value(i, "", "config", "big", i - 1, hlc("gw-1"), "{\"n\":" + i + "}"));
    }
    docs.applyEdgeChanges("gw-1", edits);
    return versions;
  }

  private static List<AuditRecord> audit(DocumentStore store, String key) {
    return store.audit(new AuditFilter(null, null, key, 0, 100));
  }

  private static List<ConflictRecord> conflicts(DocumentStore store, String status) {
    return store.conflicts(new ConflictFilter(status, null, null, 0, 100));
  }

  // ------------------------------------------------------------------ edge changes

  @Test
  void edgeChange_fastForwards_andTheSameChangeResent_isSkipped() throws Exception {
    CloudDocuments docs = open();
    List<Set<String>> notified = new ArrayList<>();
    docs.onChange(notified::add);
    Hlc stamp = hlc("gw-1");
    List<DocChange> frame = List.of(value(1, "", "config", "pump-1", 0, stamp, "{\"rate\":5}"));

    EdgeApplied first = docs.applyEdgeChanges("gw-1", frame);

    assertThat(first).isEqualTo(new EdgeApplied(1, List.of(), 0));
    StoredDoc d = docs.store().get("device:gw-1", "config", "pump-1");
    assertThat(d.version()).isEqualTo(1);
    assertThat(text(d)).isEqualTo("{\"rate\":5}");
    assertThat(d.hlc()).isEqualTo(stamp);
    assertThat(d.writer()).isEqualTo("gw-1");
    assertThat(d.originDevice()).isEqualTo("gw-1");
    assertThat(d.originChangeSeq()).isEqualTo(1);
    assertThat(notified).containsExactly(Set.of("device:gw-1"));
    Snapshot after = snapshot();
    assertThat(after.docs()).isEqualTo(1);
    assertThat(after.history()).isEqualTo(1);
    assertThat(after.changeSeqs()).isEqualTo("gw-1=1");

    EdgeApplied resent = docs.applyEdgeChanges("gw-1", frame);

    // Nothing is applied again, but the change's outcome goes back to the device once more: the
    // first one may have been lost with the link, and the cursor would not bring it back.
    assertThat(resent.lastChangeSeq()).isEqualTo(1);
    assertThat(resent.unchanged())
        .singleElement()
        .satisfies(
            u -> {
              assertThat(u.changeSeq()).isEqualTo(1);
              assertThat(u.current().version()).isEqualTo(1);
            });
    assertThat(snapshot()).isEqualTo(after);
    assertThat(docs.store().get("device:gw-1", "config", "pump-1").version()).isEqualTo(1);
    assertThat(notified).hasSize(1);

    // a frame overlapping what was processed: only the new change is applied
    EdgeApplied overlap =
        docs.applyEdgeChanges(
            "gw-1",
            List.of(
                value(1, "", "config", "pump-1", 0, stamp, "{\"rate\":5}"),
                value(2, "", "config", "pump-1", 1, hlc("gw-1"), "{\"rate\":6}")));
    assertThat(overlap.lastChangeSeq()).isEqualTo(2);
    assertThat(overlap.conflicts()).isZero();
    assertThat(overlap.unchanged())
        .extracting(CloudDocuments.Unchanged::changeSeq)
        .containsExactly(1L);
    StoredDoc v2 = docs.store().get("device:gw-1", "config", "pump-1");
    assertThat(v2.version()).isEqualTo(2);
    assertThat(text(v2)).isEqualTo("{\"rate\":6}");
    assertThat(snapshot().history()).isEqualTo(2);
  }

  @Test
  void aDeviceEditingTwiceOnTheSameBase_doesNotConflictWithItself() throws Exception {
    CloudDocuments docs = open();
    docs.put("fleet", "manual", "mode", "{\"m\":\"a\"}".getBytes(UTF_8), null);

    EdgeApplied applied =
        docs.applyEdgeChanges(
            "gw-1",
            List.of(
                value(1, "fleet", "manual", "mode", 1, hlc("gw-1"), "{\"m\":\"b\"}"),
                value(2, "fleet", "manual", "mode", 1, hlc("gw-1"), "{\"m\":\"c\"}")));

    assertThat(applied.conflicts()).isZero();
    StoredDoc d = docs.store().get("fleet", "manual", "mode");
    assertThat(text(d)).isEqualTo("{\"m\":\"c\"}");
    assertThat(d.version()).isEqualTo(3);
    assertThat(d.writer()).isEqualTo("gw-1");
    assertThat(d.foreignVersion()).isEqualTo(1);
    assertThat(conflicts(docs.store(), null)).isEmpty();

    // another device's edit on version 1 is concurrent: under manual it waits in the inbox
    EdgeApplied other =
        docs.applyEdgeChanges(
            "gw-2", List.of(value(1, "fleet", "manual", "mode", 1, hlc("gw-2"), "{\"m\":\"x\"}")));
    assertThat(other.conflicts()).isEqualTo(1);
    assertThat(text(docs.store().get("fleet", "manual", "mode"))).isEqualTo("{\"m\":\"c\"}");
  }

  @Test
  void mergePatch_isAppliedAgainstTheBaseFromHistory_andMergedWithTheConcurrentCloudWrite()
      throws Exception {
    CloudDocuments docs = open();
    byte[] v1 = "{\"a\":1,\"b\":1,\"c\":1}".getBytes(UTF_8);
    assertThat(docs.put("fleet", "config", "pump", v1, 0L).version()).isEqualTo(1);
    assertThat(docs.put("fleet", "config", "pump", "{\"a\":1,\"b\":1,\"c\":9}".getBytes(UTF_8), 1L))
        .extracting(StoredDoc::version)
        .isEqualTo(2L);

    // the device edited b on version 1 and sends only the patch
    EdgeApplied applied =
        docs.applyEdgeChanges(
            "gw-1", List.of(patch(1, "fleet", "config", "pump", 1, hlc("gw-1"), "{\"b\":2}")));

    assertThat(applied).isEqualTo(new EdgeApplied(1, List.of(), 1));
    StoredDoc merged = docs.store().get("fleet", "config", "pump");
    assertThat(merged.version()).isEqualTo(3);
    assertThat(text(merged)).isEqualTo("{\"a\":1,\"b\":2,\"c\":9}");
    assertThat(merged.writer()).isEqualTo(ConflictDecider.CLOUD);
    List<AuditRecord> audit = audit(docs.store(), "pump");
    assertThat(audit).hasSize(1);
    AuditRecord a = audit.get(0);
    assertThat(a.strategy()).isEqualTo("merge");
    assertThat(a.outcome()).isEqualTo("merged");
    assertThat(a.resolvedBy()).isEqualTo("auto");
    assertThat(a.baseVersion()).isEqualTo(1);
    assertThat(text(a.baseValue())).isEqualTo("{\"a\":1,\"b\":1,\"c\":1}");
    assertThat(a.cloudVersion()).isEqualTo(2);
    assertThat(text(a.edgeValue())).isEqualTo("{\"a\":1,\"b\":2,\"c\":1}");
    assertThat(a.resultVersion()).isEqualTo(3);
    assertThat(text(a.resultValue())).isEqualTo("{\"a\":1,\"b\":2,\"c\":9}");
    assertThat(conflicts(docs.store(), ConflictRecord.RESOLVED)).hasSize(1);

    // a patch on the current version fast-forwards, against the current value
    EdgeApplied ff =
        docs.applyEdgeChanges(
            "gw-1",
            List.of(patch(2, "fleet", "config", "pump", 3, hlc("gw-1"), "{\"a\":null,\"d\":4}")));
    assertThat(ff).isEqualTo(new EdgeApplied(2, List.of(), 0));
    StoredDoc v4 = docs.store().get("fleet", "config", "pump");
    assertThat(text(v4)).isEqualTo("{\"b\":2,\"c\":9,\"d\":4}");
    assertThat(v4.writer()).isEqualTo("gw-1");
    assertThat(audit(docs.store(), "pump")).hasSize(1);
  }

  @Test
  void mergePatch_whoseBaseLeftTheHistory_isAnsweredWithResendFull_andStoresNothingForIt()
      throws Exception {
    CloudDocuments docs = open();
    int versions = writePastTheHistory(docs);
    Snapshot before = snapshot();
    assertThat(before.history()).isLessThan(versions); // version 1 was pruned

    EdgeApplied applied =
        docs.applyEdgeChanges(
            "gw-1",
            List.of(
                patch(versions + 1, "", "config", "big", 1, hlc("gw-1"), "{\"x\":1}"),
                value(versions + 2, "", "config", "other", 0, hlc("gw-1"), "{\"y\":1}")));

    assertThat(applied).isEqualTo(new EdgeApplied(versions + 2, List.of(versions + 1L), 0));
    StoredDoc big = docs.store().get("device:gw-1", "config", "big");
    assertThat(big.version()).isEqualTo(versions);
    assertThat(text(big)).isEqualTo("{\"n\":" + versions + "}");
    Snapshot after = snapshot();
    assertThat(after.history()).isEqualTo(before.history() + 1); // only "other"
    assertThat(after.maxVersion()).isEqualTo(versions + 1);
    assertThat(after.conflicts()).isZero();
    assertThat(after.audit()).isZero();
    assertThat(text(docs.store().get("device:gw-1", "config", "other"))).isEqualTo("{\"y\":1}");

    // a patch against a version this key never had is answered the same way
    assertThat(
            docs.applyEdgeChanges(
                "gw-1",
                List.of(patch(versions + 3, "", "config", "big", versions + 1, hlc("gw-1"), "{}"))))
        .isEqualTo(new EdgeApplied(versions + 3, List.of(versions + 3L), 0));
    assertThat(docs.store().get("device:gw-1", "config", "big").version()).isEqualTo(versions);
  }

  @Test
  void resendFullRequest_lostWithItsDocAck_isKeptAcrossRestarts_untilALaterChangeOfTheKey()
      throws Exception {
    CloudDocuments docs = open();
    int versions = writePastTheHistory(docs);
    long patchSeq = versions + 1;
    assertThat(
            docs.applyEdgeChanges(
                    "gw-1",
                    List.of(patch(patchSeq, "", "config", "big", 1, hlc("gw-1"), "{\"x\":1}")))
                .resendFull())
        .containsExactly(patchSeq);

    // the DocAck carrying the request is lost; the server restarts; the next Welcome asks again
    db.closeAll();
    docs = open();
    assertThat(resendRequests(docs, "gw-1")).containsExactly(patchSeq);
    assertThat(resendRequests(docs, "gw-2")).isEmpty();

    // a later change of another key does not meet it; the whole document sent again does
    docs.applyEdgeChanges(
        "gw-1", List.of(value(patchSeq + 1, "", "config", "other", 0, hlc("gw-1"), "{}")));
    assertThat(resendRequests(docs, "gw-1")).containsExactly(patchSeq);
    docs.applyEdgeChanges(
        "gw-1",
        List.of(value(patchSeq + 2, "", "config", "big", versions, hlc("gw-1"), "{\"x\":1}")));
    assertThat(resendRequests(docs, "gw-1")).isEmpty();
    assertThat(text(docs.store().get("device:gw-1", "config", "big"))).isEqualTo("{\"x\":1}");
  }

  private static List<Long> resendRequests(CloudDocuments docs, String device) {
    return docs.store().inTransaction(tx -> tx.resendRequests(device));
  }

  /**
   * One invalid change after a valid one refuses the whole frame, with a message naming the
   * problem.
   */
  private record Invalid(String what, DocChange change, String message) {}

  @Test
  void invalidChanges_throwInvalidDocument_andStoreNothing() throws Exception {
    CloudDocuments docs = open();
    docs.store().setGroups("gw-1", List.of("north"));
    // gw-1 has processed change 3; a document exactly at the size limit, to patch past it
    docs.applyEdgeChanges(
        "gw-1", List.of(value(3, "", "config", "pump", 0, hlc("gw-1"), "{\"a\":1}")));
    String nearlyFull = "{\"pad\":\"" + "x".repeat(MAX_DOC_BYTES - 10) + "\"}";
    docs.put("fleet", "config", "full", nearlyFull.getBytes(UTF_8), null);
    long fullVersion = docs.store().get("fleet", "config", "full").version();
    Hlc h = hlc("gw-1");
    DocChange ok = value(4, "", "config", "pump", 1, h, "{\"a\":2}");
    String tooBig = "{\"pad\":\"" + "x".repeat(MAX_DOC_BYTES) + "\"}";

    List<Invalid> cases =
        List.of(
            new Invalid(
                "unknown collection",
                value(5, "", "nope", "k", 0, h, "{}"),
                "unknown collection 'nope': the server declares ["),
            new Invalid(
                "invalid collection name",
                value(5, "", "no/pe", "k", 0, h, "{}"),
                "invalid collection name 'no/pe'"),
            new Invalid(
                "bad key",
                value(5, "", "config", "../etc", 0, h, "{}"),
                "invalid document key '../etc'"),
            new Invalid(
                "empty key", value(5, "", "config", "", 0, h, "{}"), "invalid document key ''"),
            new Invalid(
                "not JSON",
                value(5, "", "config", "k", 0, h, "{rate: 5}"),
                "document config/k is not valid JSON"),
            new Invalid(
                "two JSON values",
                value(5, "", "config", "k", 0, h, "{} {}"),
                "document config/k is not valid JSON"),
            new Invalid(
                "oversized value",
                value(5, "", "config", "k", 0, h, tooBig),
                "document config/k is " + tooBig.length() + " bytes; the limit is 4096"),
            new Invalid(
                "oversized patch",
                patch(5, "", "config", "pump", 1, h, tooBig),
                "bytes; the limit is 4096"),
            new Invalid(
                "patch without base",
                patch(5, "", "config", "k", 0, h, "{\"a\":1}"),
                "a merge_patch needs a base_version (document config/k)"),
            new Invalid(
                "no body",
                change(5, "", "config", "k", 0, h).build(),
                "DocChange for config/k has no value, patch or delete"),
            new Invalid(
                "decreasing change_seq",
                value(2, "", "config", "k", 0, h, "{}"),
                "DocChange sequences must increase: 2 after 4"),
            new Invalid(
                "repeated change_seq",
                value(4, "", "config", "k", 0, h, "{}"),
                "DocChange sequences must increase: 4 after 4"),
            new Invalid(
                "HLC without node",
                change(5, "", "config", "k", 0, h)
                    .setHlc(HlcTimestamp.newBuilder().setWallMs(5))
                    .setValue(ByteString.copyFromUtf8("{}"))
                    .build(),
                "invalid HLC timestamp 5.0@''"),
            new Invalid(
                "base_version beyond int64",
                value(5, "", "config", "k", -1, h, "{}"),
                "base_version 18446744073709551615 is out of range"),
            new Invalid(
                "no scope name (an unauthorized scope is refused, not invalid:"
                    + " DeviceAuthorizationTest)",
                value(5, "bogus", "config", "k", 0, h, "{}"),
                "invalid scope 'bogus': device, fleet or group:<name>"),
            new Invalid(
                "patch growing the document past the limit (found inside the transaction)",
                patch(5, "fleet", "config", "full", fullVersion, h, "{\"more\":1}"),
                "document config/full would be "));

    Snapshot before = snapshot();
    for (Invalid c : cases) {
      assertThatThrownBy(() -> docs.applyEdgeChanges("gw-1", List.of(ok, c.change())))
          .as(c.what())
          .isInstanceOfSatisfying(
              ProtocolException.class,
              e -> assertThat(e.code()).as(c.what()).isEqualTo(ErrorCode.INVALID_DOCUMENT))
          .hasMessageContaining(c.message());
      assertThat(snapshot()).as(c.what()).isEqualTo(before);
    }
    assertThat(text(docs.store().get("device:gw-1", "config", "pump"))).isEqualTo("{\"a\":1}");

    // the valid change alone still goes through, at the next version (no version was used up)
    assertThat(docs.applyEdgeChanges("gw-1", List.of(ok)))
        .isEqualTo(new EdgeApplied(4, List.of(), 0));
    StoredDoc pump = docs.store().get("device:gw-1", "config", "pump");
    assertThat(pump.version()).isEqualTo(before.maxVersion() + 1);
    assertThat(text(pump)).isEqualTo("{\"a\":2}");
    // and writing a group the device is in is allowed
    assertThat(
            docs.applyEdgeChanges(
                "gw-1", List.of(value(5, "group:north", "config", "k", 0, h, "{}"))))
        .isEqualTo(new EdgeApplied(5, List.of(), 0));
  }

  // ------------------------------------------------------------------ cloud writes

  @Test
  void cloudPut_withIfMatch_writesOnlyOnTheExpectedVersion() throws Exception {
    CloudDocuments docs = open();
    byte[] a = "{\"v\":\"a\"}".getBytes(UTF_8);
    byte[] b = "{\"v\":\"b\"}".getBytes(UTF_8);

    StoredDoc v1 = docs.put("fleet", "config", "k", a, 0L); // 0: must not exist yet
    assertThat(v1.version()).isEqualTo(1);
    assertThat(v1.writer()).isEqualTo(ConflictDecider.CLOUD);
    assertThat(v1.hlc().node()).isEqualTo("cloud");

    Snapshot before = snapshot();
    refused(() -> docs.put("fleet", "config", "k", b, 0L), Kind.CONFLICT)
        .hasMessage("document config/k is at version 1, not 0");
    refused(() -> docs.put("fleet", "config", "k", b, 7L), Kind.CONFLICT);
    assertThat(snapshot()).isEqualTo(before);

    StoredDoc v2 = docs.put("fleet", "config", "k", b, 1L);
    assertThat(v2.version()).isEqualTo(2);
    assertThat(v2.hlc()).isGreaterThan(v1.hlc());
    assertThat(text(docs.store().get("fleet", "config", "k"))).isEqualTo("{\"v\":\"b\"}");
    assertThat(docs.put("fleet", "config", "k", a, null).version()).isEqualTo(3);
  }

  @Test
  void cloudPut_refusesBadInput_storingNothing() throws Exception {
    CloudDocuments docs = open();
    Snapshot before = snapshot();
    refused(() -> docs.put("fleet", "nope", "k", "{}".getBytes(UTF_8), null), Kind.NOT_FOUND)
        .hasMessageContaining("unknown collection 'nope'");
    refused(() -> docs.put("fleet", "config", "a b", "{}".getBytes(UTF_8), null), Kind.INVALID);
    refused(() -> docs.put("fleet", "config", "k", "{".getBytes(UTF_8), null), Kind.INVALID)
        .hasMessageStartingWith("the body is not valid JSON");
    byte[] big = ("[\"" + "x".repeat(MAX_DOC_BYTES) + "\"]").getBytes(UTF_8);
    refused(() -> docs.put("fleet", "config", "k", big, null), Kind.TOO_LARGE);
    assertThat(snapshot()).isEqualTo(before);
  }

  @Test
  void cloudDelete_ofAMissingDocument_isNotFound_andOfAnExistingOne_leavesATombstone()
      throws Exception {
    CloudDocuments docs = open();
    Snapshot empty = snapshot();
    refused(() -> docs.delete("fleet", "config", "ghost", null), Kind.NOT_FOUND)
        .hasMessage("no document config/ghost in fleet");
    assertThat(snapshot()).isEqualTo(empty);

    docs.put("fleet", "config", "k", "{}".getBytes(UTF_8), null);
    StoredDoc tombstone = docs.delete("fleet", "config", "k", 1L);
    assertThat(tombstone.deleted()).isTrue();
    assertThat(tombstone.version()).isEqualTo(2);
    assertThat(docs.store().get("fleet", "config", "k").deleted()).isTrue();
    assertThat(docs.store().list("fleet", "config", "", 10)).isEmpty();
    assertThat(docs.store().changesAfter("fleet", 1, 10))
        .extracting(StoredDoc::version)
        .containsExactly(2L);
    // deleting it again: there is nothing to delete
    refused(() -> docs.delete("fleet", "config", "k", null), Kind.NOT_FOUND);
    // If-Match 0 ("must not exist") holds for a deleted key
    assertThat(docs.put("fleet", "config", "k", "{}".getBytes(UTF_8), 0L).version()).isEqualTo(3);
  }

  // ------------------------------------------------------------------ manual conflicts

  @Test
  void manualConflict_staysOpenUntilResolved_thenTheResolutionIsANewVersionWithOneAuditRecord()
      throws Exception {
    CloudDocuments docs = open();
    DocumentStore store = docs.store();
    docs.put("fleet", "manual", "mode", "{\"m\":\"base\"}".getBytes(UTF_8), null); // v1
    docs.put("fleet", "manual", "mode", "{\"m\":\"cloud\"}".getBytes(UTF_8), 1L); // v2

    EdgeApplied applied =
        docs.applyEdgeChanges(
            "gw-1",
            List.of(value(1, "fleet", "manual", "mode", 1, hlc("gw-1"), "{\"m\":\"edge\"}")));

    assertThat(applied.conflicts()).isEqualTo(1);
    StoredDoc waiting = store.get("fleet", "manual", "mode");
    assertThat(text(waiting)).isEqualTo("{\"m\":\"cloud\"}");
    assertThat(waiting.conflictId()).isNotZero();
    List<ConflictRecord> open = conflicts(store, ConflictRecord.OPEN);
    assertThat(open).hasSize(1);
    ConflictRecord c = open.get(0);
    assertThat(c.id()).isEqualTo(waiting.conflictId());
    assertThat(c.deviceId()).isEqualTo("gw-1");
    assertThat(c.strategy()).isEqualTo("manual");
    assertThat(c.flagged()).isTrue();
    assertThat(c.baseVersion()).isEqualTo(1);
    assertThat(text(c.baseValue())).isEqualTo("{\"m\":\"base\"}");
    assertThat(c.cloudVersion()).isEqualTo(2);
    assertThat(text(c.cloudValue())).isEqualTo("{\"m\":\"cloud\"}");
    assertThat(text(c.edgeValue())).isEqualTo("{\"m\":\"edge\"}");
    assertThat(audit(store, "mode")).isEmpty();

    // the device edits again while the conflict is open: its newer value replaces the waiting one
    docs.applyEdgeChanges(
        "gw-1",
        List.of(
            value(
                2,
                "fleet",
                "manual",
                "mode",
                waiting.version(),
                hlc("gw-1"),
                "{\"m\":\"edge2\"}")));
    assertThat(conflicts(store, ConflictRecord.OPEN)).hasSize(1);
    assertThat(text(store.conflict(c.id()).edgeValue())).isEqualTo("{\"m\":\"edge2\"}");
    assertThat(text(store.get("fleet", "manual", "mode"))).isEqualTo("{\"m\":\"cloud\"}");

    clock.advance(1_000);
    StoredDoc resolved = docs.resolve(c.id(), "edge", null, "alice");

    assertThat(text(resolved)).isEqualTo("{\"m\":\"edge2\"}");
    StoredDoc current = store.get("fleet", "manual", "mode");
    assertThat(current.version()).isEqualTo(resolved.version());
    assertThat(current.conflictId()).isZero();
    assertThat(current.writer()).isEqualTo(ConflictDecider.CLOUD);
    assertThat(conflicts(store, ConflictRecord.OPEN)).isEmpty();
    ConflictRecord closed = store.conflict(c.id());
    assertThat(closed.status()).isEqualTo(ConflictRecord.RESOLVED);
    assertThat(closed.outcome()).isEqualTo("edge");
    assertThat(closed.resolvedBy()).isEqualTo("alice");
    assertThat(closed.resultVersion()).isEqualTo(resolved.version());
    assertThat(closed.resolvedMs()).isEqualTo(T0 + 1_000);
    List<AuditRecord> audit = audit(store, "mode");
    assertThat(audit).hasSize(1);
    AuditRecord a = audit.get(0);
    assertThat(a.conflictId()).isEqualTo(c.id());
    assertThat(a.outcome()).isEqualTo("edge");
    assertThat(a.resolvedBy()).isEqualTo("alice");
    assertThat(a.deviceId()).isEqualTo("gw-1");
    assertThat(text(a.baseValue())).isEqualTo("{\"m\":\"base\"}");
    assertThat(text(a.cloudValue())).isEqualTo("{\"m\":\"cloud\"}");
    assertThat(text(a.edgeValue())).isEqualTo("{\"m\":\"edge2\"}");
    assertThat(text(a.resultValue())).isEqualTo("{\"m\":\"edge2\"}");
    assertThat(a.resultVersion()).isEqualTo(resolved.version());

    // resolving twice is refused and changes nothing
    Snapshot before = snapshot();
    refused(() -> docs.resolve(c.id(), "cloud", null, "bob"), Kind.CONFLICT)
        .hasMessage("conflict " + c.id() + " is already resolved (edge by alice)");
    assertThat(snapshot()).isEqualTo(before);
    assertThat(audit(store, "mode")).hasSize(1);
  }

  @Test
  void conflictIdBefore_isWhereAPeriodsConflictsStart() throws Exception {
    CloudDocuments docs = open();
    DocumentStore store = docs.store();
    assertThat(store.conflictIdBefore(T0)).as("no conflicts at all").isZero();
    long[] ids = new long[2];
    for (int i = 0; i < 2; i++) {
      String key = "k" + i;
      docs.put("fleet", "manual", key, "{\"m\":0}".getBytes(UTF_8), null);
      long base = store.get("fleet", "manual", key).version();
      docs.put("fleet", "manual", key, "{\"m\":1}".getBytes(UTF_8), base);
      docs.applyEdgeChanges(
          "gw-1", List.of(value(i + 1, "fleet", "manual", key, base, hlc("gw-1"), "{\"m\":2}")));
      ids[i] = conflicts(store, ConflictRecord.OPEN).get(i).id();
      clock.advance(1_000);
    }
    assertThat(store.conflictIdBefore(T0)).isEqualTo(ids[0] - 1);
    assertThat(store.conflictIdBefore(T0 + 1_000)).isEqualTo(ids[1] - 1);
    assertThat(store.conflictIdBefore(T0 + 60_000))
        .as("none since: nothing to read")
        .isEqualTo(ids[1]);
  }

  @Test
  void resolve_withAGivenValue_orBadArguments() throws Exception {
    CloudDocuments docs = open();
    docs.put("fleet", "manual", "k", "{\"n\":1}".getBytes(UTF_8), null);
    docs.put("fleet", "manual", "k", "{\"n\":2}".getBytes(UTF_8), null);
    docs.applyEdgeChanges(
        "gw-1", List.of(value(1, "fleet", "manual", "k", 1, hlc("gw-1"), "{\"n\":3}")));
    long id = conflicts(docs.store(), ConflictRecord.OPEN).get(0).id();

    Snapshot before = snapshot();
    refused(() -> docs.resolve(id, "sideways", null, "bob"), Kind.INVALID);
    refused(() -> docs.resolve(id, null, "{".getBytes(UTF_8), "bob"), Kind.INVALID);
    refused(() -> docs.resolve(id + 100, "edge", null, "bob"), Kind.NOT_FOUND);
    assertThat(snapshot()).isEqualTo(before);

    StoredDoc r = docs.resolve(id, null, "{\"n\":\"both\"}".getBytes(UTF_8), "bob");
    assertThat(text(docs.store().get("fleet", "manual", "k"))).isEqualTo("{\"n\":\"both\"}");
    assertThat(docs.store().conflict(id).outcome()).isEqualTo("value");
    assertThat(audit(docs.store(), "k"))
        .singleElement()
        .satisfies(a -> assertThat(a.resultVersion()).isEqualTo(r.version()));
  }

  // ------------------------------------------------------------------ tombstones

  @Test
  void tombstones_areCollectedOnceEveryReaderHasSeenThem_andKeptWhileOneIsBehind()
      throws Exception {
    SqliteCloudStore raw = db.open();
    CloudDocuments docs = new CloudDocuments(raw.documents(), rules(false), clock);
    raw.registerDevice("gw-1", T0);
    raw.registerDevice("gw-2", T0);
    docs.put("fleet", "config", "k", "{}".getBytes(UTF_8), null); // v1
    docs.put("fleet", "config", "keep", "{}".getBytes(UTF_8), null); // v2
    docs.delete("fleet", "config", "k", null); // v3: tombstone
    DocumentStore store = docs.store();

    store.saveCursors("gw-2", Map.of("fleet", 2L)); // gw-2 has not seen the delete
    store.saveCursors("gw-1", Map.of("fleet", 3L));

    assertThat(store.get("fleet", "config", "k").deleted()).isTrue();
    assertThat(store.changesAfter("fleet", 2, 10))
        .extracting(StoredDoc::version)
        .containsExactly(3L);

    store.saveCursors("gw-2", Map.of("fleet", 3L));

    assertThat(store.get("fleet", "config", "k")).isNull();
    assertThat(store.changesAfter("fleet", 0, 10))
        .extracting(StoredDoc::key)
        .containsExactly("keep");
    assertThat(store.get("fleet", "config", "keep")).isNotNull();

    // a device's own scope: its one reader is the device
    docs.put("device:gw-1", "config", "own", "{}".getBytes(UTF_8), null); // v4
    docs.delete("device:gw-1", "config", "own", null); // v5
    store.saveCursors("gw-1", Map.of("device:gw-1", 4L));
    assertThat(store.get("device:gw-1", "config", "own")).isNotNull();
    store.saveCursors("gw-1", Map.of("device:gw-1", 5L));
    assertThat(store.get("device:gw-1", "config", "own")).isNull();
  }

  @Test
  void aChangeOnAnOlderBase_fromADeviceWithNoSessionYet_meetsACollectedDeleteAsAConflict()
      throws Exception {
    SqliteCloudStore raw = db.open();
    CloudDocuments docs = new CloudDocuments(raw.documents(), rules(false), clock);
    raw.registerDevice("gw-1", T0);
    // gw-9 writes offline before its first session, while the cloud creates and deletes the key
    Hlc offlineEdit = hlc("gw-9");
    clock.advance(1_000);
    docs.put("fleet", "lww", "k", "{\"v\":1}".getBytes(UTF_8), null); // v1
    docs.put("fleet", "manual", "m", "{\"v\":1}".getBytes(UTF_8), null); // v2
    docs.put("fleet", "lww", "new", "{}".getBytes(UTF_8), null); // v3
    docs.delete("fleet", "lww", "k", null); // v4
    docs.delete("fleet", "manual", "m", null); // v5
    docs.store().saveCursors("gw-1", Map.of("fleet", 5L)); // the one reader with a session
    assertThat(docs.store().get("fleet", "lww", "k")).as("tombstone collected").isNull();
    assertThat(docs.store().get("fleet", "manual", "m")).isNull();

    EdgeApplied applied =
        docs.applyEdgeChanges(
            "gw-9",
            List.of(
                value(1, "fleet", "lww", "k", 0, offlineEdit, "{\"edge\":1}"),
                value(2, "fleet", "manual", "m", 0, offlineEdit, "{\"edge\":2}"),
                value(3, "fleet", "lww", "fresh", 0, hlc("gw-9"), "{\"edge\":3}")));

    assertThat(applied.conflicts()).as("both changes met the deletes").isEqualTo(2);
    // last_write_wins: the delete is later than the offline edit, so it stays deleted, audited
    StoredDoc k = docs.store().get("fleet", "lww", "k");
    assertThat(k.deleted()).isTrue();
    assertThat(audit(docs.store(), "k"))
        .singleElement()
        .satisfies(
            a -> {
              assertThat(a.deviceId()).isEqualTo("gw-9");
              assertThat(text(a.edgeValue())).isEqualTo("{\"edge\":1}");
            });
    // manual: the edge value waits in an open conflict against the collected delete
    ConflictRecord open = conflicts(docs.store(), ConflictRecord.OPEN).get(0);
    assertThat(open.key()).isEqualTo("m");
    assertThat(open.cloudVersion()).isEqualTo(5);
    assertThat(open.cloudValue()).isNull();
    assertThat(text(open.edgeValue())).isEqualTo("{\"edge\":2}");
    // a key never deleted is created as before, without a conflict
    assertThat(text(docs.store().get("fleet", "lww", "fresh"))).isEqualTo("{\"edge\":3}");
    assertThat(audit(docs.store(), "fresh")).isEmpty();
  }

  @Test
  void tombstones_areKeptForAReaderThatSaidHelloWithCursorZero_andMayHoldTheKey() throws Exception {
    SqliteCloudStore raw = db.open();
    CloudDocuments docs = new CloudDocuments(raw.documents(), rules(false), clock);
    for (String d : List.of("gw-1", "gw-2", "gw-3")) {
      raw.registerDevice(d, T0);
    }
    DocumentStore store = docs.store();
    docs.put("fleet", "config", "k", "{}".getBytes(UTF_8), null); // v1
    // gw-3's first Hello (it had nothing); the session then pushes it v1 and it disconnects
    store.saveCursors("gw-3", Map.of("fleet", 0L));
    assertThat(store.changesAfter("fleet", 0, 10)).extracting(StoredDoc::key).containsExactly("k");
    docs.delete("fleet", "config", "k", null); // v2
    store.saveCursors("gw-1", Map.of("fleet", 2L));
    store.saveCursors("gw-2", Map.of("fleet", 2L));

    // gw-3 comes back with cursor 1 and must still learn that k was deleted
    assertThat(store.changesAfter("fleet", 1, 10))
        .extracting(StoredDoc::key, StoredDoc::deleted)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("k", true));
  }

  // ------------------------------------------------------------------ clock drift

  private Hlc farAhead(String device) {
    return new Hlc(clock.nowMs() + 10 * MAX_DRIFT_MS, 0, device);
  }

  @Test
  void driftingClock_flagMode_concurrentChangeIsAppliedButFlagged_andTheCloudClockStaysPut()
      throws Exception {
    CloudDocuments docs = open(false);
    docs.put("fleet", "lww", "k", "{\"v\":0}".getBytes(UTF_8), null); // v1
    docs.put("fleet", "lww", "k", "{\"v\":1}".getBytes(UTF_8), null); // v2
    Hlc ahead = farAhead("gw-1");

    EdgeApplied applied =
        docs.applyEdgeChanges(
            "gw-1", List.of(value(1, "fleet", "lww", "k", 1, ahead, "{\"v\":\"edge\"}")));

    assertThat(applied.conflicts()).isEqualTo(1);
    assertThat(docs.clockDriftsSeen()).isEqualTo(1);
    StoredDoc d = docs.store().get("fleet", "lww", "k");
    assertThat(text(d)).isEqualTo("{\"v\":\"edge\"}"); // applied (its HLC is later)
    ConflictRecord c = conflicts(docs.store(), ConflictRecord.RESOLVED).get(0);
    assertThat(c.flagged()).isTrue();
    assertThat(c.note()).contains("ms ahead of the cloud clock");
    assertThat(audit(docs.store(), "k"))
        .singleElement()
        .satisfies(
            a -> assertThat(a.note()).contains("is more than 60000 ms ahead of the cloud clock"));

    StoredDoc cloudWrite = docs.put("fleet", "lww", "other", "{}".getBytes(UTF_8), null);
    assertThat(cloudWrite.hlc().wallMs()).isEqualTo(clock.nowMs());
  }

  @Test
  void driftingClock_rejectMode_changeToAnExistingKeyOpensAConflict_andTheCloudClockStaysPut()
      throws Exception {
    CloudDocuments docs = open(true);
    docs.put("fleet", "lww", "k", "{\"v\":0}".getBytes(UTF_8), null); // v1
    Snapshot before = snapshot();

    // not even concurrent (made on the current version): a drifting clock alone opens it
    EdgeApplied applied =
        docs.applyEdgeChanges(
            "gw-1",
            List.of(value(1, "fleet", "lww", "k", 1, farAhead("gw-1"), "{\"v\":\"edge\"}")));

    assertThat(applied.conflicts()).isEqualTo(1);
    assertThat(docs.clockDriftsSeen()).isEqualTo(1);
    StoredDoc d = docs.store().get("fleet", "lww", "k");
    assertThat(text(d)).isEqualTo("{\"v\":0}");
    assertThat(d.conflictId()).isNotZero();
    assertThat(d.hlc().wallMs()).isEqualTo(clock.nowMs());
    ConflictRecord c = docs.store().conflict(d.conflictId());
    assertThat(c.status()).isEqualTo(ConflictRecord.OPEN);
    assertThat(text(c.edgeValue())).isEqualTo("{\"v\":\"edge\"}");
    assertThat(c.note()).contains("ms ahead of the cloud clock");
    assertThat(snapshot().conflicts()).isEqualTo(before.conflicts() + 1);

    StoredDoc cloudWrite = docs.put("fleet", "lww", "other", "{}".getBytes(UTF_8), null);
    assertThat(cloudWrite.hlc().wallMs()).isEqualTo(clock.nowMs());
  }

  @Test
  void driftingClock_flagMode_nonConcurrentChangeIsAppliedAndFlaggedInTheAudit() throws Exception {
    CloudDocuments docs = open(false);
    docs.put("fleet", "lww", "k", "{\"v\":0}".getBytes(UTF_8), null); // v1

    docs.applyEdgeChanges(
        "gw-1", List.of(value(1, "fleet", "lww", "k", 1, farAhead("gw-1"), "{\"v\":\"edge\"}")));

    assertThat(text(docs.store().get("fleet", "lww", "k"))).isEqualTo("{\"v\":\"edge\"}");
    assertThat(docs.clockDriftsSeen()).isEqualTo(1);
    assertThat(audit(docs.store(), "k"))
        .as("the drifting change is flagged in the audit")
        .singleElement()
        .satisfies(a -> assertThat(a.note()).contains("ahead of the cloud clock"));
  }

  @Test
  void driftingClock_rejectMode_changeCreatingAKeyIsNotAppliedEither() throws Exception {
    CloudDocuments docs = open(true);

    docs.applyEdgeChanges(
        "gw-1", List.of(value(1, "fleet", "lww", "new", 0, farAhead("gw-1"), "{\"v\":\"edge\"}")));

    assertThat(docs.clockDriftsSeen()).isEqualTo(1);
    StoredDoc d = docs.store().get("fleet", "lww", "new");
    assertThat(d == null || d.hlc().wallMs() <= clock.nowMs() + MAX_DRIFT_MS)
        .as("no version carries the drifting HLC: %s", d == null ? null : d.hlc())
        .isTrue();
    assertThat(conflicts(docs.store(), ConflictRecord.OPEN))
        .as("the edge value waits in the inbox")
        .singleElement()
        .satisfies(c -> assertThat(text(c.edgeValue())).isEqualTo("{\"v\":\"edge\"}"));
  }

  // ------------------------------------------------------------------ restart

  @Test
  void versionsChangeSequencesAndTheHlc_resumeAfterReopeningTheStore() throws Exception {
    CloudDocuments docs = open();
    docs.put("fleet", "config", "a", "{}".getBytes(UTF_8), null);
    docs.applyEdgeChanges(
        "gw-1",
        List.of(
            value(1, "", "config", "x", 0, hlc("gw-1"), "{\"n\":1}"),
            value(2, "", "config", "y", 0, hlc("gw-1"), "{\"n\":2}")));
    // the cloud merged an edge HLC a little ahead of its own wall clock (within the drift)
    Hlc edgeAhead = new Hlc(clock.nowMs() + 5_000, 3, "gw-1");
    docs.applyEdgeChanges("gw-1", List.of(value(3, "", "config", "x", 2, edgeAhead, "{\"n\":3}")));
    StoredDoc lastBefore = docs.put("fleet", "config", "a", "{\"z\":1}".getBytes(UTF_8), null);
    assertThat(lastBefore.version()).isEqualTo(5);
    assertThat(lastBefore.hlc()).isGreaterThan(edgeAhead);
    db.closeLast();

    clock.set(T0 - 3_600_000); // the server restarts with its wall clock an hour behind
    CloudDocuments reopened = open();

    StoredDoc next = reopened.put("fleet", "config", "b", "{}".getBytes(UTF_8), null);
    assertThat(next.version()).isEqualTo(6);
    assertThat(next.hlc()).isGreaterThan(lastBefore.hlc());
    assertThat(text(reopened.store().get("device:gw-1", "config", "x"))).isEqualTo("{\"n\":3}");
    // change sequences survive too: a resend of change 3 is skipped (only its outcome echoed)
    EdgeApplied resent =
        reopened.applyEdgeChanges(
            "gw-1", List.of(value(3, "", "config", "x", 2, edgeAhead, "{\"n\":3}")));
    assertThat(resent.lastChangeSeq()).isEqualTo(3);
    assertThat(resent.unchanged()).extracting(u -> u.current().version()).containsExactly(4L);
    assertThat(reopened.store().changesAfter("fleet", 0, 10))
        .extracting(StoredDoc::version)
        .containsExactly(5L, 6L);
  }
}
