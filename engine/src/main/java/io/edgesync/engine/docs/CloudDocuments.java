package io.edgesync.engine.docs;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgesync.engine.docs.DocumentException.Kind;
import io.edgesync.engine.docs.DocumentStore.AuditRecord;
import io.edgesync.engine.docs.DocumentStore.ConflictRecord;
import io.edgesync.engine.docs.DocumentStore.DocWrite;
import io.edgesync.engine.docs.DocumentStore.StoredDoc;
import io.edgesync.protocol.Clock;
import io.edgesync.protocol.Hlc;
import io.edgesync.protocol.HybridClock;
import io.edgesync.protocol.ProtocolException;
import io.edgesync.protocol.ProtocolLimits;
import io.edgesync.protocol.wire.DocChange;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The cloud's document authority: applies edge changes (detecting concurrency by base version and
 * deciding conflicts with {@link ConflictDecider}), cloud writes from the REST API and conflict
 * resolutions, each in one store transaction, and tells listeners which scopes changed so that
 * connected devices get the new versions pushed.
 *
 * <p>Scopes are named {@code device:<id>}, {@code fleet} and {@code group:<name>} here and in the
 * store; on the wire a device's own scope is just {@code device}.
 *
 * <p>Thread safe: the store serializes transactions; the HLC is thread safe.
 */
public final class CloudDocuments {
  public static final String FLEET = "fleet";

  private final DocumentStore store;
  private final DocumentRules rules;
  private final Clock clock;
  private final HybridClock hlc;
  private final List<Consumer<Set<String>>> listeners = new CopyOnWriteArrayList<>();
  private final EdgeChangeWriter writer;

  public CloudDocuments(DocumentStore store, DocumentRules rules, Clock clock) {
    this.store = store;
    this.rules = rules;
    this.clock = clock;
    Hlc resume = store.inTransaction(DocumentStore.Tx::lastHlc);
    this.hlc = new HybridClock("cloud", clock, rules.maxClockDriftMs(), resume);
    this.writer = new EdgeChangeWriter(rules, hlc);
  }

  public DocumentStore store() {
    return store;
  }

  public DocumentRules rules() {
    return rules;
  }

  /** Called after each commit that wrote versions, with the scopes written. Returns a token. */
  public AutoCloseable onChange(Consumer<Set<String>> listener) {
    listeners.add(listener);
    return () -> listeners.remove(listener);
  }

  public static String deviceScope(String deviceId) {
    return "device:" + deviceId;
  }

  public static String groupScope(String group) {
    return "group:" + group;
  }

  /** The scopes a device reads, in store naming. */
  public List<String> scopesOf(String deviceId) {
    List<String> scopes = new ArrayList<>();
    scopes.add(deviceScope(deviceId));
    scopes.add(FLEET);
    for (String g : store.groups(deviceId)) {
      scopes.add(groupScope(g));
    }
    return scopes;
  }

  /** Edge changes that arrived as merge patches and were applied against their base. */
  public long patchesApplied() {
    return writer.patchesApplied();
  }

  /** Edge-change clock drifts seen (too far ahead of the cloud's clock). */
  public long clockDriftsSeen() {
    return hlc.driftsSeen();
  }

  // ---------------------------------------------------------------- edge changes

  /**
   * What a batch of edge changes did. {@code unchanged}: non-concurrent changes equal to the
   * current value, which made no new version; each device still gets its outcome, the current
   * version, sent to it alone ({@code CloudSession}).
   */
  public record EdgeApplied(
      long lastChangeSeq,
      List<Long> resendFull,
      int conflicts,
      List<Unchanged> unchanged,
      List<Refused> refused) {
    public EdgeApplied(long lastChangeSeq, List<Long> resendFull, int conflicts) {
      this(lastChangeSeq, resendFull, conflicts, List.of(), List.of());
    }
  }

  /**
   * A change the device was not authorized to make ({@link #prepareEdgeChanges}): processed (its
   * sequence counts as done) but nothing of it stored.
   */
  public record Refused(
      long changeSeq, String scope, String collection, String key, String reason) {}

  /** A change that equalled the current version {@code current}: its outcome is that version. */
  public record Unchanged(StoredDoc current, long changeSeq) {}

  /**
   * Applies a device's changes in one transaction: those at or below the device's last processed
   * change sequence were applied before and are skipped.
   *
   * @throws ProtocolException if any change is invalid (nothing is stored then)
   */
  public EdgeApplied applyEdgeChanges(String deviceId, List<DocChange> changes)
      throws ProtocolException {
    Set<String> changed = new LinkedHashSet<>();
    try {
      EdgeApplied result = transaction(prepareEdgeChanges(deviceId, changes), changed).join();
      // Listeners run on the caller's thread here, never on the store's writer thread.
      notifyChanged(changed);
      return result;
    } catch (java.util.concurrent.CompletionException e) {
      if (e.getCause() instanceof EdgeChangeWriter.InvalidInTransaction invalid) {
        throw EdgeChange.invalid(invalid.getMessage());
      }
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      throw e;
    }
  }

  /**
   * Like {@link #applyEdgeChanges}, without waiting: the future completes after the commit (a group
   * commit shared with other sessions' transactions); change listeners may then run on the store's
   * writer thread, so they must not block or open transactions.
   *
   * @throws ProtocolException if a change is invalid on its own (nothing is queued then)
   */
  public java.util.concurrent.CompletableFuture<EdgeApplied> applyEdgeChangesAsync(
      String deviceId, List<DocChange> changes) throws ProtocolException {
    return applyAsync(prepareEdgeChanges(deviceId, changes));
  }

  /**
   * A device's changes, validated and parsed on the thread that prepared them ({@link
   * #prepareEdgeChanges}), so that the store's writer only decides and writes.
   */
  public static final class PreparedChanges {
    private final String deviceId;
    private final List<EdgeChange> parsed;
    private final List<Refused> refused;

    private PreparedChanges(String deviceId, List<EdgeChange> parsed, List<Refused> refused) {
      this.deviceId = deviceId;
      this.parsed = parsed;
      this.refused = refused;
    }

    /** The changes the device may not make: never stored. */
    public List<Refused> refused() {
      return refused;
    }
  }

  /**
   * Validates and parses a device's changes without queueing them: a caller that receives frames
   * faster than the store commits (a server with many sessions, a benchmark) does this work on its
   * own threads, and queued transactions then meet in one group commit. A change the device may not
   * make ({@link #refusal}) is set aside as refused, not an error: the rest of the frame is applied
   * and the session goes on.
   *
   * @throws ProtocolException if any change is invalid
   */
  public PreparedChanges prepareEdgeChanges(String deviceId, List<DocChange> changes)
      throws ProtocolException {
    List<EdgeChange> parsed = new ArrayList<>(changes.size());
    List<Refused> refused = new ArrayList<>();
    long previous = 0;
    List<String> readable = changes.isEmpty() ? List.of() : scopesOf(deviceId);
    for (DocChange c : changes) {
      if (c.getChangeSeq() <= previous) {
        throw EdgeChange.invalid(
            "DocChange sequences must increase: "
                + Long.toUnsignedString(c.getChangeSeq())
                + " after "
                + previous);
      }
      previous = c.getChangeSeq();
      String scope =
          c.getScope().isEmpty() || c.getScope().equals("device")
              ? deviceScope(deviceId)
              : c.getScope();
      if (!isScopeName(scope)) {
        throw EdgeChange.invalid(
            "invalid scope '" + c.getScope() + "': device, fleet or group:<name>");
      }
      EdgeChange change = EdgeChange.parse(c, scope, rules);
      String reason = refusal(deviceId, readable, scope, c.getCollection());
      if (reason != null) {
        refused.add(new Refused(c.getChangeSeq(), scope, c.getCollection(), c.getKey(), reason));
      } else {
        parsed.add(change);
      }
    }
    return new PreparedChanges(deviceId, parsed, List.copyOf(refused));
  }

  /**
   * Why device {@code deviceId} may not write {@code collection} in {@code scope}, or null if it
   * may: it writes its own scope; the fleet and its groups only where {@link
   * DocumentRules#deviceWritable} allows; nothing else.
   */
  private String refusal(String deviceId, List<String> readable, String scope, String collection) {
    if (scope.equals(deviceScope(deviceId))) {
      return null;
    }
    if (!readable.contains(scope) || scope.startsWith("device:")) {
      return "device '"
          + deviceId
          + "' may not write scope '"
          + scope
          + "'; it writes its own scope and reads "
          + readable;
    }
    if (!rules.deviceWritable().allows(scope, collection)) {
      return "device '"
          + deviceId
          + "' may not write "
          + scope
          + "/"
          + collection
          + ": devices write shared documents only where documents.device_writable allows (it"
          + " allows "
          + rules.deviceWritable().patterns()
          + ")";
    }
    return null;
  }

  private static boolean isScopeName(String scope) {
    return scope.equals(FLEET)
        || scope.startsWith("device:") && ProtocolLimits.isValidDeviceId(scope.substring(7))
        || scope.startsWith("group:") && ProtocolLimits.isValidCollection(scope.substring(6));
  }

  /** {@link #applyEdgeChangesAsync} of changes prepared before. */
  public java.util.concurrent.CompletableFuture<EdgeApplied> applyAsync(PreparedChanges prepared) {
    Set<String> changed = new LinkedHashSet<>();
    return transaction(prepared, changed)
        .thenApply(
            result -> {
              notifyChanged(changed);
              return result;
            });
  }

  /** Queues the transaction of prepared changes; fills {@code changed}. */
  private java.util.concurrent.CompletableFuture<EdgeApplied> transaction(
      PreparedChanges prepared, Set<String> changed) {
    String deviceId = prepared.deviceId;
    List<EdgeChange> parsed = prepared.parsed;
    long nowMs = clock.nowMs();
    return store.inTransactionAsync(
        tx -> {
          long last = tx.lastChangeSeq(deviceId);
          List<Long> resend = new ArrayList<>();
          List<Unchanged> unchanged = new ArrayList<>();
          int conflicts = 0;
          for (Refused r : prepared.refused) {
            // Processed, nothing stored: the sequence counts as done so that it is not resent.
            tx.resendMet(deviceId, r.changeSeq(), r.scope(), r.collection(), r.key());
          }
          for (EdgeChange p : parsed) {
            if (p.changeSeq() <= last) {
              echoProcessed(tx, p, unchanged);
              continue;
            }
            int before = unchanged.size();
            tx.resendMet(deviceId, p.changeSeq(), p.scope(), p.collection(), p.key());
            if (writer.apply(tx, deviceId, p, resend, unchanged, nowMs)) {
              conflicts++;
            }
            if (unchanged.size() == before) {
              changed.add(p.scope()); // a new version: push it to the scope's readers
            }
            last = p.changeSeq();
          }
          if (!prepared.refused.isEmpty()) {
            last = Math.max(last, prepared.refused.get(prepared.refused.size() - 1).changeSeq());
          }
          tx.setLastChangeSeq(deviceId, last);
          tx.saveHlc(hlc.last());
          return new EdgeApplied(
              last, List.copyOf(resend), conflicts, List.copyOf(unchanged), prepared.refused);
        });
  }

  /**
   * A change the device sent again although it was processed (it re-sends, after a Welcome, every
   * processed change whose outcome it has not seen): its outcome may have been lost with the link
   * and may never come back through the scope's cursor (an unchanged outcome is no newer than what
   * the device holds), so the key's current version goes back to it as that change's outcome.
   */
  private static void echoProcessed(DocumentStore.Tx tx, EdgeChange p, List<Unchanged> unchanged) {
    StoredDoc current = tx.doc(p.scope(), p.collection(), p.key());
    if (current != null) {
      unchanged.add(new Unchanged(current, p.changeSeq()));
    }
  }

  // ---------------------------------------------------------------- cloud writes

  /**
   * Writes a document from the cloud side (REST). {@code ifVersion} (nullable): write only if the
   * current version is this one (0 = the key must not exist).
   */
  public StoredDoc put(String scope, String collection, String key, byte[] json, Long ifVersion) {
    requireDeclared(collection, key);
    if (json.length > rules.maxDocumentBytes()) {
      throw new DocumentException(
          Kind.TOO_LARGE,
          "document is " + json.length + " bytes; the limit is " + rules.maxDocumentBytes());
    }
    JsonNode value;
    try {
      value = JsonDocs.parse(json);
    } catch (IllegalArgumentException e) {
      throw new DocumentException(Kind.INVALID, "the body is " + e.getMessage());
    }
    return cloudWrite(scope, collection, key, JsonDocs.bytes(value), ifVersion);
  }

  public StoredDoc delete(String scope, String collection, String key, Long ifVersion) {
    requireDeclared(collection, key);
    return cloudWrite(scope, collection, key, null, ifVersion);
  }

  private StoredDoc cloudWrite(
      String scope, String collection, String key, byte[] value, Long ifVersion) {
    long nowMs = clock.nowMs();
    StoredDoc written =
        store.inTransaction(
            tx -> {
              StoredDoc current = tx.doc(scope, collection, key);
              long currentVersion = current == null || current.deleted() ? 0 : current.version();
              if (ifVersion != null && ifVersion != currentVersion) {
                throw new DocumentException(
                    Kind.CONFLICT,
                    "document "
                        + collection
                        + "/"
                        + key
                        + " is at version "
                        + currentVersion
                        + ", not "
                        + ifVersion);
              }
              if (value == null && currentVersion == 0) {
                throw new DocumentException(
                    Kind.NOT_FOUND, "no document " + collection + "/" + key + " in " + scope);
              }
              Hlc stamp = hlc.now();
              tx.saveHlc(stamp);
              return tx.write(
                  new DocWrite(
                      scope,
                      collection,
                      key,
                      value,
                      stamp,
                      ConflictDecider.CLOUD,
                      0,
                      current == null ? 0 : current.conflictId(),
                      "",
                      0,
                      nowMs));
            });
    notifyChanged(Set.of(scope));
    return written;
  }

  /**
   * Resolves an open conflict: {@code take} is "edge" or "cloud", or {@code value} is the
   * resolution. The result is a new version that syncs everywhere; the audit records it.
   */
  public StoredDoc resolve(long conflictId, String take, byte[] value, String resolvedBy) {
    JsonNode resolution = resolution(take, value);
    long nowMs = clock.nowMs();
    StoredDoc written =
        store.inTransaction(tx -> resolveIn(tx, conflictId, take, resolution, resolvedBy, nowMs));
    notifyChanged(Set.of(written.scope()));
    return written;
  }

  /** The given resolution value parsed, or null when {@code take} names a side (checked). */
  private JsonNode resolution(String take, byte[] value) {
    if (value != null) {
      if (value.length > rules.maxDocumentBytes()) {
        throw new DocumentException(
            Kind.TOO_LARGE,
            "value is " + value.length + " bytes; the limit is " + rules.maxDocumentBytes());
      }
      try {
        return JsonDocs.parse(value);
      } catch (IllegalArgumentException e) {
        throw new DocumentException(Kind.INVALID, "value is " + e.getMessage());
      }
    } else if (!"edge".equals(take) && !"cloud".equals(take)) {
      throw new DocumentException(
          Kind.INVALID,
          "give {\"take\":\"edge\"} or {\"take\":\"cloud\"} or {\"value\": ...}; got take=" + take);
    }
    return null;
  }

  /** The transaction of {@link #resolve}: closes the conflict, writes and audits the result. */
  private StoredDoc resolveIn(
      DocumentStore.Tx tx,
      long conflictId,
      String take,
      JsonNode resolution,
      String resolvedBy,
      long nowMs) {
    ConflictRecord c = tx.conflict(conflictId);
    if (c == null) {
      throw new DocumentException(Kind.NOT_FOUND, "no conflict " + conflictId);
    }
    if (!c.status().equals(ConflictRecord.OPEN)) {
      throw new DocumentException(
          Kind.CONFLICT,
          "conflict "
              + conflictId
              + " is already resolved ("
              + c.outcome()
              + " by "
              + c.resolvedBy()
              + ")");
    }
    StoredDoc current = tx.doc(c.scope(), c.collection(), c.key());
    byte[] result;
    String outcome;
    if (resolution != null) {
      result = JsonDocs.bytes(resolution);
      outcome = "value";
    } else if (take.equals("edge")) {
      result = c.edgeValue();
      outcome = "edge";
    } else {
      result = current == null ? null : current.value();
      outcome = "cloud";
    }
    Hlc stamp = hlc.now();
    tx.saveHlc(stamp);
    tx.closeConflict(conflictId, outcome, resolvedBy, 0, result, nowMs);
    // Another device's value may still wait on this key: the document stays conflicted.
    long stillOpen = tx.openConflictOn(c.scope(), c.collection(), c.key());
    StoredDoc written =
        tx.write(
            new DocWrite(
                c.scope(),
                c.collection(),
                c.key(),
                result,
                stamp,
                ConflictDecider.CLOUD,
                0,
                stillOpen,
                "",
                0,
                nowMs));
    tx.closeConflict(conflictId, outcome, resolvedBy, written.version(), result, nowMs);
    tx.audit(
        resolutionAudit(
            conflictId, c, current, outcome, resolvedBy, written.version(), result, nowMs));
    return written;
  }

  /** The audit of a resolution of conflict {@code conflictId}, {@code c}. */
  private static AuditRecord resolutionAudit(
      long conflictId,
      ConflictRecord c,
      StoredDoc current,
      String outcome,
      String resolvedBy,
      long resultVersion,
      byte[] result,
      long nowMs) {
    return new AuditRecord(
        0,
        nowMs,
        conflictId,
        c.scope(),
        c.collection(),
        c.key(),
        c.deviceId(),
        c.strategy(),
        outcome,
        resolvedBy,
        c.baseVersion(),
        c.baseValue(),
        current == null ? 0 : current.version(),
        current == null ? null : current.value(),
        current == null ? Hlc.ZERO : current.hlc(),
        c.edgeValue(),
        c.edgeHlc(),
        resultVersion,
        result,
        c.note());
  }

  private void requireDeclared(String collection, String key) {
    if (!ProtocolLimits.isValidCollection(collection) || rules.policy(collection) == null) {
      throw new DocumentException(
          Kind.NOT_FOUND,
          "unknown collection '" + collection + "'; declared: " + rules.collections().keySet());
    }
    if (!ProtocolLimits.isValidDocKey(key)) {
      throw new DocumentException(
          Kind.INVALID,
          "invalid document key '" + key + "': must match " + ProtocolLimits.DOC_KEY_PATTERN);
    }
  }

  private void notifyChanged(Set<String> scopes) {
    if (scopes.isEmpty()) {
      return;
    }
    for (Consumer<Set<String>> l : listeners) {
      l.accept(scopes);
    }
  }
}
