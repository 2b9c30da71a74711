package io.edgesync.sim.internal;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgesync.engine.docs.DocKey;
import io.edgesync.engine.docs.DocumentStore;
import io.edgesync.engine.docs.DocumentStore.AuditRecord;
import io.edgesync.engine.docs.DocumentStore.ConflictRecord;
import io.edgesync.engine.docs.DocumentStore.StoredDoc;
import io.edgesync.protocol.Hlc;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * DESIGN.md invariants 2 and 3 for documents, and "nothing a device wrote is silently dropped".
 *
 * <p>Converged (healing waits for it): the cloud and every edge are up, no edge has a pending
 * change, every edge's replica of every scope it reads equals the cloud's (value, version and the
 * conflicted mark; a tombstone the cloud collected may stay on an edge), and no conflict is open
 * unless the seed's operator leaves them open (then the document is conflicted on every replica).
 *
 * <p>At the end: the same, reported in detail; every edge's last write to each document reached the
 * cloud (its change was processed: the {@link DocLedger} already checked that the edge's value is
 * that version's or a conflict record's); every resolved conflict has exactly one audit record and
 * no open one has any; open conflicts hold both values; automatic resolutions follow their strategy
 * and an operator's follow the request. The hash-chained audit log verifies, one record per audit
 * record, after every crash.
 */
final class DocChecker implements Checker {
  private long evaluatedAtProgress = -1;
  private String notConverged = "not evaluated yet";

  @Override
  public String name() {
    return "documents";
  }

  @Override
  public boolean converged(World world) {
    String down = world.downNode();
    if (down != null) {
      notConverged = down;
      return false;
    }
    long progress = world.docLedger().progress();
    if (progress != evaluatedAtProgress) {
      evaluatedAtProgress = progress;
      world.stats().add("docs.convergenceChecks", 1);
      notConverged = difference(world);
    }
    return notConverged == null;
  }

  @Override
  public long progressMark(World world) {
    return world.docLedger().progress();
  }

  @Override
  public String progress(World world) {
    return notConverged == null ? "converged" : notConverged;
  }

  /** Why the replicas are not converged, or null if they are. */
  private String difference(World world) {
    DocumentStore store = world.cloud().rawDocuments();
    boolean openAllowed = world.scenario().docs().operatorLeavesConflictsOpen();
    if (!openAllowed
        && !store
            .conflicts(new DocumentStore.ConflictFilter(ConflictRecord.OPEN, null, null, 0, 1))
            .isEmpty()) {
      return "open conflicts wait for the operator";
    }
    Map<String, Map<DocKey, StoredDoc>> cloudByScope = new HashMap<>();
    for (SimEdge e : world.edges()) {
      Map<DocKey, ReplicaFile.Row> local = new TreeMap<>();
      for (ReplicaFile.Row r : e.rows()) {
        DocKey k =
            new DocKey(DocLedger.storeScope(e.deviceId(), r.scope()), r.collection(), r.key());
        if (r.pending()) {
          return e.deviceId() + " has a pending change of " + k;
        }
        local.put(k, r);
      }
      List<String> scopes = e.scopes();
      for (DocKey k : local.keySet()) {
        if (!scopes.contains(k.scope())) {
          return e.deviceId() + " holds " + k + " of a scope it does not read";
        }
      }
      for (String scope : scopes) {
        Map<DocKey, StoredDoc> cloud =
            cloudByScope.computeIfAbsent(scope, s -> cloudDocs(store, s));
        for (StoredDoc d : cloud.values()) {
          DocKey k = new DocKey(d.scope(), d.collection(), d.key());
          ReplicaFile.Row r = local.get(k);
          if (r == null) {
            if (d.deleted()) {
              continue; // never seen, deleted: the same as absent
            }
            return e.deviceId() + " lacks " + k + " (cloud v" + d.version() + ")";
          }
          if (r.version() != d.version()
              || !Arrays.equals(r.value(), d.value())
              || r.conflicted() != (d.conflictId() != 0)) {
            return e.deviceId()
                + " holds "
                + k
                + " v"
                + r.version()
                + " = "
                + DocLedger.text(r.value())
                + (r.conflicted() ? " (conflicted)" : "")
                + ", the cloud v"
                + d.version()
                + " = "
                + DocLedger.text(d.value())
                + (d.conflictId() != 0 ? " (conflicted)" : "");
          }
        }
        for (Map.Entry<DocKey, ReplicaFile.Row> l : local.entrySet()) {
          if (l.getKey().scope().equals(scope)
              && !cloud.containsKey(l.getKey())
              && l.getValue().value() != null) {
            return e.deviceId()
                + " holds "
                + l.getKey()
                + " = "
                + DocLedger.text(l.getValue().value())
                + " which the cloud does not have";
          }
        }
      }
    }
    return null;
  }

  private static Map<DocKey, StoredDoc> cloudDocs(DocumentStore store, String scope) {
    Map<DocKey, StoredDoc> out = new TreeMap<>();
    for (StoredDoc d : store.changesAfter(scope, 0, 1_000_000)) {
      out.put(new DocKey(d.scope(), d.collection(), d.key()), d);
    }
    return out;
  }

  @Override
  public void atEnd(World world) {
    String diff = difference(world);
    if (diff != null) {
      throw new SimFailure("documents not converged at the end: " + diff);
    }
    DocLedger ledger = world.docLedger();
    DocumentStore store = world.cloud().rawDocuments();
    checkNothingDropped(world, ledger);
    ledger.checkForbiddenRefused(store);
    checkConflictsAndAudit(world, ledger, store);
    checkAuditChain(world, store);
  }

  /**
   * The hash-chained audit log verifies after every crash the run had, and holds exactly one record
   * per document audit record: none lost with a crash or a failed transaction, none doubled.
   */
  private static void checkAuditChain(World world, DocumentStore store) {
    io.edgesync.server.AuditLog chain = world.cloud().auditLog();
    io.edgesync.server.AuditVerifier.Report r = chain.verify(null);
    if (!r.ok()) {
      throw new SimFailure("the audit chain does not verify: " + r.summary());
    }
    int audit = store.audit(new DocumentStore.AuditFilter(null, null, null, 0, 1_000_000)).size();
    if (r.records() != audit) {
      throw new SimFailure(
          "the audit chain holds " + r.records() + " records for " + audit + " audit records");
    }
  }

  /**
   * A change the cloud processed without a version (bandwidth.deduplication): it was not concurrent
   * and its value equals the version it was based on, so the cloud answered with that version. It
   * counts as processed when the cloud's last processed change of the device is at or past it and
   * its value is the value of its base version.
   */
  private static boolean unchangedByCloud(World world, DocLedger ledger, String device, long seq) {
    long processedUpTo =
        world.cloud().rawDocuments().<Long>inTransaction(tx -> tx.lastChangeSeq(device));
    DocLedger.Sent s = ledger.sent(device, seq);
    if (processedUpTo < seq || s == null) {
      return false;
    }
    // Equal to the cloud's current version when processed: the base or a later version of the key
    // (e.g. the device's own earlier write). A delete equals a tombstone (seed 2125: a device
    // deleted a document it had deleted before; the cloud answered with that tombstone).
    for (DocLedger.Version v : ledger.log().getOrDefault(s.key(), java.util.List.of())) {
      if (v.version() >= s.baseVersion()
          && (v.value() == null
              ? s.value() == null
              : s.value() != null
                  && io.edgesync.engine.docs.JsonDocs.parse(v.value()).equals(s.value()))) {
        return true;
      }
    }
    return false;
  }

  /** Every edge's last write to each document was processed by the cloud. */
  private static void checkNothingDropped(World world, DocLedger ledger) {
    for (SimEdge e : world.edges()) {
      for (Map.Entry<DocKey, DocLedger.LocalWrite> w : ledger.lastWrites(e.deviceId()).entrySet()) {
        String what =
            e.deviceId()
                + "'s last write to "
                + w.getKey()
                + " ("
                + DocLedger.text(w.getValue().value())
                + ")";
        Long seq = ledger.lastSentSeq(e.deviceId(), w.getKey());
        if (seq == null || ledger.sent(e.deviceId(), seq).writeNo() != w.getValue().no()) {
          throw new SimFailure(
              what + " was never sent, yet nothing is pending on the edge: silently dropped");
        }
        if (ledger.processedAs(e.deviceId(), seq) == null
            && !unchangedByCloud(world, ledger, e.deviceId(), seq)) {
          throw new SimFailure(
              what
                  + " went as change "
                  + seq
                  + ", which the cloud never processed, yet nothing is pending on the edge:"
                  + " silently dropped");
        }
      }
    }
  }

  private static void checkConflictsAndAudit(World world, DocLedger ledger, DocumentStore store) {
    List<ConflictRecord> conflicts =
        store.conflicts(new DocumentStore.ConflictFilter(null, null, null, 0, 1_000_000));
    List<AuditRecord> audit =
        store.audit(new DocumentStore.AuditFilter(null, null, null, 0, 1_000_000));
    Map<Long, ConflictRecord> byId = new HashMap<>();
    for (ConflictRecord c : conflicts) {
      byId.put(c.id(), c);
    }
    Map<Long, Integer> auditsPerConflict = checkAudit(ledger, audit, byId);
    boolean openAllowed = world.scenario().docs().operatorLeavesConflictsOpen();
    for (ConflictRecord c : conflicts) {
      checkConflict(world, ledger, c, auditsPerConflict.getOrDefault(c.id(), 0), openAllowed);
    }
    world.stats().add("docs.conflicts", conflicts.size());
    world.stats().add("docs.audit", audit.size());
  }

  /**
   * Every audit record without a conflict is an application; every other one matches its resolved
   * conflict and the version the cloud wrote. Returns the number of audit records per conflict id.
   */
  private static Map<Long, Integer> checkAudit(
      DocLedger ledger, List<AuditRecord> audit, Map<Long, ConflictRecord> conflictsById) {
    Map<Long, Integer> auditsPerConflict = new HashMap<>();
    for (AuditRecord a : audit) {
      if (a.conflictId() == 0) {
        if (!a.outcome().equals("applied")) {
          throw new SimFailure(
              "audit record " + a.id() + " has no conflict but outcome " + a.outcome());
        }
        continue;
      }
      auditsPerConflict.merge(a.conflictId(), 1, Integer::sum);
      ConflictRecord c = conflictsById.get(a.conflictId());
      if (c == null
          || !c.status().equals(ConflictRecord.RESOLVED)
          || c.resultVersion() != a.resultVersion()
          || !Arrays.equals(c.resultValue(), a.resultValue())) {
        throw new SimFailure(
            "audit record "
                + a.id()
                + " (result v"
                + a.resultVersion()
                + ") does not match conflict "
                + a.conflictId()
                + (c == null ? " (missing)" : " (" + c.status() + ", v" + c.resultVersion() + ")"));
      }
      DocLedger.Version result = ledger.version(a.resultVersion());
      if (result == null || !Arrays.equals(result.value(), a.resultValue())) {
        throw new SimFailure(
            "audit record "
                + a.id()
                + " says version "
                + a.resultVersion()
                + " = "
                + DocLedger.text(a.resultValue())
                + " but the cloud wrote "
                + (result == null ? "no such version" : DocLedger.text(result.value())));
      }
    }
    return auditsPerConflict;
  }

  /**
   * An open conflict (only where the operator leaves them open) has no audit record; a resolved one
   * has exactly one and the result its strategy or operator asked for. Both hold both values.
   */
  private static void checkConflict(
      World world, DocLedger ledger, ConflictRecord c, int audits, boolean openAllowed) {
    String where = "conflict " + c.id() + " on " + c.scope() + "/" + c.collection() + "/" + c.key();
    if (c.status().equals(ConflictRecord.OPEN)) {
      if (audits != 0 || !openAllowed) {
        throw new SimFailure(where + " is still open at the end with " + audits + " audit records");
      }
      checkBothValues(ledger, c, where);
      return;
    }
    if (audits != 1) {
      throw new SimFailure(where + " is resolved with " + audits + " audit records, not one");
    }
    checkBothValues(ledger, c, where);
    JsonNode expected = expectedResult(ledger, c, where);
    if (!DocLedger.same(DocLedger.json(c.resultValue()), expected)) {
      throw new SimFailure(
          where
              + " ("
              + c.strategy()
              + ", "
              + c.outcome()
              + " by "
              + c.resolvedBy()
              + ") resolved to "
              + DocLedger.text(c.resultValue())
              + ", expected "
              + DocLedger.text(expected)
              + " (edge "
              + DocLedger.text(c.edgeValue())
              + " "
              + c.edgeHlc()
              + ", cloud "
              + DocLedger.text(c.cloudValue())
              + " "
              + c.cloudHlc()
              + ")");
    }
    world.stats().add("docs.conflictsResolved." + c.resolvedBy(), 1);
  }

  /** Both values of a conflict are what the edge sent and what the cloud had. */
  private static void checkBothValues(DocLedger ledger, ConflictRecord c, String where) {
    DocLedger.Sent sent = ledger.sent(c.deviceId(), c.edgeChangeSeq());
    if (sent == null || !DocLedger.same(DocLedger.json(c.edgeValue()), sent.value())) {
      throw new SimFailure(
          where
              + " holds edge value "
              + DocLedger.text(c.edgeValue())
              + " but "
              + c.deviceId()
              + "'s change "
              + c.edgeChangeSeq()
              + " was "
              + (sent == null ? "never sent" : DocLedger.text(sent.value())));
    }
    if (c.cloudVersion() > 0) {
      DocLedger.Version v = ledger.version(c.cloudVersion());
      if (v == null || !Arrays.equals(v.value(), c.cloudValue())) {
        throw new SimFailure(
            where
                + " holds cloud value "
                + DocLedger.text(c.cloudValue())
                + " for version "
                + c.cloudVersion()
                + ", which was "
                + (v == null ? "never written" : DocLedger.text(v.value())));
      }
    }
  }

  /** What the resolution must be, by who resolved it and the strategy. */
  private static JsonNode expectedResult(DocLedger ledger, ConflictRecord c, String where) {
    JsonNode edge = DocLedger.json(c.edgeValue());
    JsonNode cloud = DocLedger.json(c.cloudValue());
    if (!c.resolvedBy().equals("auto")) {
      DocLedger.OperatorResolution r = ledger.operatorResolution(c.id());
      if (r == null) {
        throw new SimFailure(where + " was resolved by " + c.resolvedBy() + ", who never asked");
      }
      return DocLedger.json(r.expected());
    }
    Hlc edgeHlc = c.edgeHlc();
    return switch (c.strategy()) {
      case "cloud_wins" -> cloud;
      case "edge_wins" -> edge;
      case "last_write_wins" -> edgeHlc.after(c.cloudHlc()) ? edge : cloud;
      case "custom:" + DocScenario.RESOLVER_NAME -> SimResolver.decide(cloud, edge);
      // merge: the three-way merge itself is JsonDocs' (unit-tested); here the result must be
      // what the record says, which the audit comparison above pins down.
      default -> DocLedger.json(c.resultValue());
    };
  }
}
