package io.edgesync.engine.docs;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgesync.engine.docs.DocumentStore.AuditRecord;
import io.edgesync.engine.docs.DocumentStore.ConflictRecord;
import io.edgesync.engine.docs.DocumentStore.DocWrite;
import io.edgesync.engine.docs.DocumentStore.StoredDoc;
import io.edgesync.engine.docs.DocumentStore.Tx;
import io.edgesync.protocol.Hlc;
import io.edgesync.protocol.HybridClock;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Decides one edge change inside its transaction and writes what follows: the change applied
 * (fast-forward, or made nothing new when it equals the current value), a resend asked for (a patch
 * whose base is gone), a conflict decided by the collection's strategy (new version, conflict
 * record and audit), or a conflict left open for a person.
 *
 * <p>Thread safe: each call works on its own transaction; the HLC and the value cache are thread
 * safe.
 */
final class EdgeChangeWriter {
  private final DocumentRules rules;
  private final HybridClock hlc;
  private final ParsedValues values = new ParsedValues();
  private final AtomicLong patchesApplied = new AtomicLong();

  EdgeChangeWriter(DocumentRules rules, HybridClock hlc) {
    this.rules = rules;
    this.hlc = hlc;
  }

  /** Edge changes that arrived as merge patches and were applied against their base. */
  long patchesApplied() {
    return patchesApplied.get();
  }

  /**
   * Applies change {@code p} of {@code deviceId}. A change whose base is gone adds its sequence to
   * {@code resend}; one equal to the current value goes to {@code unchanged}. Returns true if the
   * change was concurrent (a conflict was decided or opened).
   *
   * @throws InvalidInTransaction if the change is invalid only against the stored base (a patch
   *     that makes the document too large); the transaction then rolls back
   */
  boolean apply(
      Tx tx,
      String deviceId,
      EdgeChange p,
      List<Long> resend,
      List<CloudDocuments.Unchanged> unchanged,
      long nowMs) {
    One one = new One(tx, deviceId, p, nowMs);
    if (!one.resolveEdgeValue()) {
      // The base is gone: the edge sends the whole document again (asked until it does).
      resend.add(p.changeSeq());
      tx.requestResend(deviceId, p.changeSeq(), p.scope(), p.collection(), p.key());
      return false;
    }
    values.remember(one.edgeBytes, one.edgeValue); // the next change of the key need not parse it
    one.drift = !hlc.observe(p.hlc());
    boolean reject = one.drift && rules.rejectDriftingClocks();
    if (!reject && !one.concurrent()) {
      one.applyDirectly(unchanged);
      return false;
    }
    ConflictDecider.Decision d = one.decide(reject);
    if (d.kind() == ConflictDecider.Kind.FAST_FORWARD) {
      one.write(one.edgeBytes, p.hlc(), deviceId, d.foreignVersion(), 0);
      return false;
    }
    if (!one.drift) {
      hlc.merge(p.hlc());
    }
    byte[] resultBytes = d.value() == null ? null : JsonDocs.bytes(d.value());
    values.remember(resultBytes, d.value());
    if (d.kind() == ConflictDecider.Kind.OPEN) {
      one.open(d, resultBytes);
    } else {
      one.resolved(d, resultBytes);
    }
    return true;
  }

  /** Carries a validation failure found inside a transaction out of it (rolling it back). */
  static final class InvalidInTransaction extends RuntimeException {
    InvalidInTransaction(String message) {
      super(message, null, false, false);
    }
  }

  /** One change in its transaction: what is stored and what the change makes of it. */
  private final class One {
    final Tx tx;
    final String deviceId;
    final EdgeChange p;
    final long nowMs;
    final ConflictPolicy policy;
    StoredDoc current;
    final StoredDoc base;
    JsonNode edgeValue;
    byte[] edgeBytes;
    boolean drift;

    One(Tx tx, String deviceId, EdgeChange p, long nowMs) {
      this.tx = tx;
      this.deviceId = deviceId;
      this.p = p;
      this.nowMs = nowMs;
      this.current = currentOrCollectedDelete();
      this.base = p.baseVersion() > 0 ? base() : null;
      this.edgeValue = p.value();
      this.edgeBytes = p.valueBytes();
      this.policy = rules.policy(p.collection());
    }

    /**
     * The key's current version; for a key without one, the delete whose tombstone was collected if
     * the change was made on an older base: a device that had no session when the tombstone was
     * collected (only readers with a session hold collection back) may have changed the key before
     * the delete, and its change is concurrent with it, not a create over nothing.
     */
    private StoredDoc currentOrCollectedDelete() {
      StoredDoc doc = tx.doc(p.scope(), p.collection(), p.key());
      if (doc != null) {
        return doc;
      }
      StoredDoc gone = tx.collectedDelete(p.scope(), p.collection(), p.key());
      return gone != null && p.baseVersion() < gone.version() ? gone : null;
    }

    private StoredDoc base() {
      return current != null && current.version() == p.baseVersion()
          ? current
          : tx.version(p.scope(), p.collection(), p.key(), p.baseVersion());
    }

    /** The change's value: as sent, or its patch applied to the base; false if the base is gone. */
    boolean resolveEdgeValue() {
      if (p.patch() == null) {
        return true;
      }
      if (base == null) {
        return false;
      }
      edgeValue =
          JsonDocs.applyPatch(base.deleted() ? null : values.parsed(base.value()), p.patch());
      edgeBytes = JsonDocs.bytes(edgeValue);
      patchesApplied.incrementAndGet();
      if (edgeBytes.length > rules.maxDocumentBytes()) {
        throw new InvalidInTransaction(
            "document "
                + p.collection()
                + "/"
                + p.key()
                + " would be "
                + edgeBytes.length
                + " bytes after its merge patch; the limit is "
                + rules.maxDocumentBytes());
      }
      return true;
    }

    ConflictDecider.Change change() {
      return new ConflictDecider.Change(
          deviceId, p.changeSeq(), p.baseVersion(), p.hlc(), edgeValue);
    }

    /** Whether the current version is concurrent with the change or in an open conflict. */
    boolean concurrent() {
      return current != null
          && (current.conflictId() != 0
              || ConflictDecider.concurrent(
                  current.writer(), current.version(), current.foreignVersion(), change()));
    }

    /** Not concurrent: the change is the new version (flagged when its clock drifts). */
    void applyDirectly(List<CloudDocuments.Unchanged> unchanged) {
      if (rules.deduplicate() && !drift && current != null && sameValue()) {
        // Nothing to change: no version, no fan-out to the scope's other readers. The device
        // still gets its outcome (this version) before the DocAck.
        unchanged.add(new CloudDocuments.Unchanged(current, p.changeSeq()));
        return;
      }
      long foreign =
          current == null
              ? 0
              : current.writer().equals(deviceId) ? current.foreignVersion() : current.version();
      StoredDoc written = write(edgeBytes, p.hlc(), deviceId, foreign, 0);
      if (drift) {
        // Applied, but flagged: an operator should look at this device's clock.
        tx.audit(audit(0, "applied", written.version(), edgeBytes, driftNote()));
      }
    }

    /**
     * The strategy's decision on a concurrent change (or an open conflict, for a drifting clock).
     */
    ConflictDecider.Decision decide(boolean reject) {
      if (current == null) {
        // Only a drifting clock in reject mode gets here: the key has no cloud version yet. The
        // conflicted tombstone written for it goes to devices, whose HLC parser refuses ZERO (it
        // names no node): "absent" is stamped by the cloud, now.
        current =
            new StoredDoc(
                p.scope(),
                p.collection(),
                p.key(),
                0,
                null,
                hlc.now(),
                ConflictDecider.CLOUD,
                0,
                0,
                "",
                0,
                nowMs);
      }
      JsonNode cloudValue = current.deleted() ? null : values.parsed(current.value());
      JsonNode baseValue = base == null || base.deleted() ? null : values.parsed(base.value());
      String note = drift ? driftNote() : null;
      if (reject) {
        return new ConflictDecider.Decision(
            ConflictDecider.Kind.OPEN,
            cloudValue,
            "open",
            ConflictDecider.CLOUD,
            0,
            List.of(),
            true,
            note);
      }
      ConflictDecider.Current cur =
          new ConflictDecider.Current(
              current.version(),
              cloudValue,
              current.hlc(),
              current.writer(),
              current.foreignVersion(),
              current.conflictId() != 0);
      ConflictDecider.Decision d =
          ConflictDecider.decide(
              cur, baseValue, change(), policy, p.scope(), p.collection(), p.key());
      if (note == null) {
        return d;
      }
      return new ConflictDecider.Decision(
          d.kind(),
          d.value(),
          d.outcome(),
          d.writer(),
          d.foreignVersion(),
          d.fieldConflicts(),
          true,
          d.note() == null ? note : d.note() + "; " + note);
    }

    /** Left for a person: the cloud value stays, conflicted; the device's value waits. */
    void open(ConflictDecider.Decision d, byte[] resultBytes) {
      // One open conflict per device and key: the device's newer value replaces the one waiting
      // in its own conflict, wherever that is among the key's open conflicts (another device's
      // may be the newest), so that resolving it cannot bring back a value the device replaced.
      long conflictId = tx.openConflictOf(p.scope(), p.collection(), p.key(), deviceId);
      if (conflictId != 0) {
        tx.updateConflictEdge(conflictId, deviceId, p.changeSeq(), edgeBytes, p.hlc());
      } else {
        // Each device's contested value gets its own conflict: none replaces another's.
        conflictId = tx.openConflict(conflict(d, ConflictRecord.OPEN, 0, null));
      }
      write(resultBytes, current.hlc(), current.writer(), current.foreignVersion(), conflictId);
    }

    /** Decided by the strategy: the result is the new version, recorded and audited. */
    void resolved(ConflictDecider.Decision d, byte[] resultBytes) {
      // The result keeps the winner's timestamp; a new value (merge, custom) is stamped now.
      Hlc resultHlc =
          switch (d.outcome()) {
            case "edge" -> p.hlc();
            case "cloud" -> current.hlc();
            default -> hlc.now();
          };
      StoredDoc written = write(resultBytes, resultHlc, d.writer(), d.foreignVersion(), 0);
      long conflictId =
          tx.openConflict(conflict(d, ConflictRecord.RESOLVED, written.version(), resultBytes));
      tx.audit(audit(conflictId, d.outcome(), written.version(), resultBytes, d.note()));
    }

    /** The change's value (null: delete) equals the stored version's (or both are deleted). */
    private boolean sameValue() {
      if (edgeBytes == null || current.deleted()) {
        return edgeBytes == null && current.deleted();
      }
      return java.util.Arrays.equals(edgeBytes, current.value())
          || values.parsed(current.value()).equals(edgeValue);
    }

    /** Writes the key's next version as the outcome of this change. */
    StoredDoc write(byte[] value, Hlc stamp, String writer, long foreignVersion, long conflictId) {
      return tx.write(
          new DocWrite(
              p.scope(),
              p.collection(),
              p.key(),
              value,
              stamp,
              writer,
              foreignVersion,
              conflictId,
              deviceId,
              p.changeSeq(),
              nowMs));
    }

    private AuditRecord audit(
        long conflictId, String outcome, long resultVersion, byte[] result, String note) {
      return new AuditRecord(
          0,
          nowMs,
          conflictId,
          p.scope(),
          p.collection(),
          p.key(),
          deviceId,
          strategyName(policy),
          outcome,
          "auto",
          p.baseVersion(),
          base == null ? null : base.value(),
          current == null ? 0 : current.version(),
          current == null ? null : current.value(),
          current == null ? Hlc.ZERO : current.hlc(),
          edgeBytes,
          p.hlc(),
          resultVersion,
          result,
          note);
    }

    private ConflictRecord conflict(
        ConflictDecider.Decision d, String status, long resultVersion, byte[] resultValue) {
      boolean open = status.equals(ConflictRecord.OPEN);
      return new ConflictRecord(
          0,
          p.scope(),
          p.collection(),
          p.key(),
          deviceId,
          strategyName(policy),
          status,
          d.flagged(),
          p.baseVersion(),
          base == null ? null : base.value(),
          current.version(),
          current.value(),
          current.hlc(),
          p.changeSeq(),
          edgeBytes,
          p.hlc(),
          String.join(",", d.fieldConflicts()),
          d.note(),
          open ? null : d.outcome(),
          open ? null : "auto",
          resultVersion,
          resultValue,
          nowMs,
          open ? 0 : nowMs);
    }

    private String driftNote() {
      return "edge HLC "
          + p.hlc()
          + " is more than "
          + rules.maxClockDriftMs()
          + " ms ahead of the cloud clock";
    }
  }

  static String strategyName(ConflictPolicy policy) {
    return policy.strategy() == ConflictStrategy.CUSTOM
        ? "custom:" + policy.resolverName()
        : policy.strategy().configName();
  }
}
