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
import io.edgesync.protocol.wire.ErrorCode;
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
  private final java.util.concurrent.atomic.AtomicLong patchesApplied =
      new java.util.concurrent.atomic.AtomicLong();

  public CloudDocuments(DocumentStore store, DocumentRules rules, Clock clock) {
    this.store = store;
    this.rules = rules;
    this.clock = clock;
    Hlc resume = store.inTransaction(DocumentStore.Tx::lastHlc);
    this.hlc = new HybridClock("cloud", clock, rules.maxClockDriftMs(), resume);
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
    return patchesApplied.get();
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
      long lastChangeSeq, List<Long> resendFull, int conflicts, List<Unchanged> unchanged) {
    public EdgeApplied(long lastChangeSeq, List<Long> resendFull, int conflicts) {
      this(lastChangeSeq, resendFull, conflicts, List.of());
    }
  }

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
      if (e.getCause() instanceof InvalidInTransaction invalid) {
        throw invalid(invalid.getMessage());
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
    private final List<Parsed> parsed;

    private PreparedChanges(String deviceId, List<Parsed> parsed) {
      this.deviceId = deviceId;
      this.parsed = parsed;
    }
  }

  /**
   * Validates and parses a device's changes without queueing them: a caller that receives frames
   * faster than the store commits (a server with many sessions, a benchmark) does this work on its
   * own threads, and queued transactions then meet in one group commit.
   *
   * @throws ProtocolException if any change is invalid
   */
  public PreparedChanges prepareEdgeChanges(String deviceId, List<DocChange> changes)
      throws ProtocolException {
    List<Parsed> parsed = new ArrayList<>(changes.size());
    long previous = 0;
    List<String> readable = changes.isEmpty() ? List.of() : scopesOf(deviceId);
    for (DocChange c : changes) {
      if (c.getChangeSeq() <= previous) {
        throw invalid(
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
      if (!readable.contains(scope)
          || scope.startsWith("device:") && !scope.equals(deviceScope(deviceId))) {
        throw invalid(
            "device '"
                + deviceId
                + "' may not write scope '"
                + c.getScope()
                + "'; it reads "
                + readable);
      }
      parsed.add(parse(c, scope));
    }
    return new PreparedChanges(deviceId, parsed);
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
    List<Parsed> parsed = prepared.parsed;
    long nowMs = clock.nowMs();
    return store.inTransactionAsync(
        tx -> {
          long last = tx.lastChangeSeq(deviceId);
          List<Long> resend = new ArrayList<>();
          List<Unchanged> unchanged = new ArrayList<>();
          int conflicts = 0;
          for (Parsed p : parsed) {
            if (p.changeSeq <= last) {
              continue;
            }
            int before = unchanged.size();
            tx.resendMet(deviceId, p.changeSeq, p.scope, p.collection, p.key);
            if (applyOne(tx, deviceId, p.scope, p, resend, unchanged, nowMs)) {
              conflicts++;
            }
            if (unchanged.size() == before) {
              changed.add(p.scope); // a new version: push it to the scope's readers
            }
            last = p.changeSeq;
          }
          tx.setLastChangeSeq(deviceId, last);
          tx.saveHlc(hlc.last());
          return new EdgeApplied(last, List.copyOf(resend), conflicts, List.copyOf(unchanged));
        });
  }

  /** A validated change: the value parsed (null for delete), or the patch parsed. */
  private record Parsed(
      String scope,
      long changeSeq,
      String collection,
      String key,
      long baseVersion,
      Hlc hlc,
      JsonNode value,
      byte[] valueBytes,
      JsonNode patch) {}

  private Parsed parse(DocChange c, String scope) throws ProtocolException {
    String collection = c.getCollection();
    if (!ProtocolLimits.isValidCollection(collection)) {
      throw invalid("invalid collection name '" + collection + "'");
    }
    if (rules.policy(collection) == null) {
      throw invalid(
          "unknown collection '"
              + collection
              + "': the server declares "
              + rules.collections().keySet());
    }
    if (!ProtocolLimits.isValidDocKey(c.getKey())) {
      throw invalid(
          "invalid document key '"
              + c.getKey()
              + "': must match "
              + ProtocolLimits.DOC_KEY_PATTERN);
    }
    if (c.getBaseVersion() < 0) {
      throw invalid(
          "base_version " + Long.toUnsignedString(c.getBaseVersion()) + " is out of range");
    }
    Hlc h = Hlc.fromWire(c.getHlc());
    switch (c.getBodyCase()) {
      case VALUE -> {
        byte[] bytes = c.getValue().toByteArray();
        JsonNode value = parseValue(bytes, collection, c.getKey());
        return new Parsed(
            scope,
            c.getChangeSeq(),
            collection,
            c.getKey(),
            c.getBaseVersion(),
            h,
            value,
            bytes,
            null);
      }
      case MERGE_PATCH -> {
        JsonNode patch = parseValue(c.getMergePatch().toByteArray(), collection, c.getKey());
        if (c.getBaseVersion() == 0) {
          throw invalid(
              "a merge_patch needs a base_version (document "
                  + collection
                  + "/"
                  + c.getKey()
                  + ")");
        }
        return new Parsed(
            scope,
            c.getChangeSeq(),
            collection,
            c.getKey(),
            c.getBaseVersion(),
            h,
            null,
            null,
            patch);
      }
      case DELETED -> {
        return new Parsed(
            scope,
            c.getChangeSeq(),
            collection,
            c.getKey(),
            c.getBaseVersion(),
            h,
            null,
            null,
            null);
      }
      default ->
          throw invalid(
              "DocChange for " + collection + "/" + c.getKey() + " has no value, patch or delete");
    }
  }

  private JsonNode parseValue(byte[] bytes, String collection, String key)
      throws ProtocolException {
    if (bytes.length > rules.maxDocumentBytes()) {
      throw invalid(
          "document "
              + collection
              + "/"
              + key
              + " is "
              + bytes.length
              + " bytes; the limit is "
              + rules.maxDocumentBytes());
    }
    try {
      return JsonDocs.parse(bytes);
    } catch (IllegalArgumentException e) {
      throw invalid("document " + collection + "/" + key + " is " + e.getMessage());
    }
  }

  /** Returns true if the change was concurrent (a conflict was decided or opened). */
  private boolean applyOne(
      DocumentStore.Tx tx,
      String deviceId,
      String scope,
      Parsed p,
      List<Long> resend,
      List<Unchanged> unchanged,
      long nowMs) {
    StoredDoc current = tx.doc(scope, p.collection, p.key);
    StoredDoc base = null;
    if (p.baseVersion > 0) {
      base =
          current != null && current.version() == p.baseVersion
              ? current
              : tx.version(scope, p.collection, p.key, p.baseVersion);
    }
    JsonNode edgeValue = p.value;
    byte[] edgeBytes = p.valueBytes;
    if (p.patch != null) {
      if (base == null) {
        // The base is gone: the edge sends the whole document again (asked until it does).
        resend.add(p.changeSeq);
        tx.requestResend(deviceId, p.changeSeq, scope, p.collection, p.key);
        return false;
      }
      edgeValue = JsonDocs.applyPatch(base.deleted() ? null : parsed(base.value()), p.patch);
      edgeBytes = JsonDocs.bytes(edgeValue);
      patchesApplied.incrementAndGet();
      if (edgeBytes.length > rules.maxDocumentBytes()) {
        throw new InvalidInTransaction(
            "document "
                + p.collection
                + "/"
                + p.key
                + " would be "
                + edgeBytes.length
                + " bytes after its merge patch; the limit is "
                + rules.maxDocumentBytes());
      }
    }
    remember(edgeBytes, edgeValue); // the next change of the key need not parse it again
    boolean drift = !hlc.observe(p.hlc);
    ConflictPolicy policy = rules.policy(p.collection);
    ConflictDecider.Change change =
        new ConflictDecider.Change(deviceId, p.changeSeq, p.baseVersion, p.hlc, edgeValue);
    boolean reject = drift && rules.rejectDriftingClocks();
    if (!reject
        && (current == null
            || (current.conflictId() == 0
                && !ConflictDecider.concurrent(
                    current.writer(), current.version(), current.foreignVersion(), change)))) {
      if (rules.deduplicate()
          && !drift
          && current != null
          && sameValue(current, edgeValue, edgeBytes)) {
        // Nothing to change: no version, no fan-out to the scope's other readers. The device
        // still gets its outcome (this version) before the DocAck.
        unchanged.add(new Unchanged(current, p.changeSeq));
        return false;
      }
      long foreign =
          current == null
              ? 0
              : current.writer().equals(deviceId) ? current.foreignVersion() : current.version();
      StoredDoc written =
          tx.write(
              new DocWrite(
                  scope,
                  p.collection,
                  p.key,
                  edgeBytes,
                  p.hlc,
                  deviceId,
                  foreign,
                  0,
                  deviceId,
                  p.changeSeq,
                  nowMs));
      if (drift) {
        // Applied, but flagged: an operator should look at this device's clock.
        tx.audit(
            new AuditRecord(
                0,
                nowMs,
                0,
                scope,
                p.collection,
                p.key,
                deviceId,
                strategyName(policy),
                "applied",
                "auto",
                p.baseVersion,
                base == null ? null : base.value(),
                current == null ? 0 : current.version(),
                current == null ? null : current.value(),
                current == null ? Hlc.ZERO : current.hlc(),
                edgeBytes,
                p.hlc,
                written.version(),
                edgeBytes,
                driftNote(p.hlc)));
      }
      return false;
    }
    if (current == null) {
      // Only a drifting clock in reject mode gets here: the key has no cloud version yet. The
      // conflicted tombstone written for it goes to devices, whose HLC parser refuses ZERO (it
      // names no node): "absent" is stamped by the cloud, now.
      current =
          new StoredDoc(
              scope,
              p.collection,
              p.key,
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
    JsonNode cloudValue = current.deleted() ? null : parsed(current.value());
    JsonNode baseValue = base == null || base.deleted() ? null : parsed(base.value());
    ConflictDecider.Current cur =
        new ConflictDecider.Current(
            current.version(),
            cloudValue,
            current.hlc(),
            current.writer(),
            current.foreignVersion(),
            current.conflictId() != 0);
    ConflictDecider.Decision d;
    String note = drift ? driftNote(p.hlc) : null;
    if (drift && rules.rejectDriftingClocks()) {
      d =
          new ConflictDecider.Decision(
              ConflictDecider.Kind.OPEN,
              cloudValue,
              "open",
              ConflictDecider.CLOUD,
              0,
              List.of(),
              true,
              note);
    } else {
      d = ConflictDecider.decide(cur, baseValue, change, policy, scope, p.collection, p.key);
      if (note != null) {
        d =
            new ConflictDecider.Decision(
                d.kind(),
                d.value(),
                d.outcome(),
                d.writer(),
                d.foreignVersion(),
                d.fieldConflicts(),
                true,
                join(d.note(), note));
      }
    }
    if (d.kind() == ConflictDecider.Kind.FAST_FORWARD) {
      tx.write(
          new DocWrite(
              scope,
              p.collection,
              p.key,
              edgeBytes,
              p.hlc,
              deviceId,
              d.foreignVersion(),
              0,
              deviceId,
              p.changeSeq,
              nowMs));
      return false;
    }
    if (!drift) {
      hlc.merge(p.hlc);
    }
    byte[] resultBytes = d.value() == null ? null : JsonDocs.bytes(d.value());
    remember(resultBytes, d.value());
    if (d.kind() == ConflictDecider.Kind.OPEN) {
      // One open conflict per device and key: the device's newer value replaces the one waiting
      // in its own conflict, wherever that is among the key's open conflicts (another device's
      // may be the newest), so that resolving it cannot bring back a value the device replaced.
      long conflictId = tx.openConflictOf(scope, p.collection, p.key, deviceId);
      if (conflictId != 0) {
        tx.updateConflictEdge(conflictId, deviceId, p.changeSeq, edgeBytes, p.hlc);
      } else {
        // Each device's contested value gets its own conflict: none replaces another's.
        conflictId =
            tx.openConflict(
                conflictRecord(
                    scope,
                    p,
                    deviceId,
                    policy,
                    base,
                    current,
                    edgeBytes,
                    d,
                    ConflictRecord.OPEN,
                    0,
                    null,
                    nowMs));
      }
      tx.write(
          new DocWrite(
              scope,
              p.collection,
              p.key,
              resultBytes,
              current.hlc(),
              current.writer(),
              current.foreignVersion(),
              conflictId,
              deviceId,
              p.changeSeq,
              nowMs));
      return true;
    }
    // The result keeps the winner's timestamp; a new value (merge, custom) is stamped now.
    Hlc resultHlc =
        switch (d.outcome()) {
          case "edge" -> p.hlc;
          case "cloud" -> current.hlc();
          default -> hlc.now();
        };
    StoredDoc written =
        tx.write(
            new DocWrite(
                scope,
                p.collection,
                p.key,
                resultBytes,
                resultHlc,
                d.writer(),
                d.foreignVersion(),
                0,
                deviceId,
                p.changeSeq,
                nowMs));
    long conflictId =
        tx.openConflict(
            conflictRecord(
                scope,
                p,
                deviceId,
                policy,
                base,
                current,
                edgeBytes,
                d,
                ConflictRecord.RESOLVED,
                written.version(),
                resultBytes,
                nowMs));
    tx.audit(
        new AuditRecord(
            0,
            nowMs,
            conflictId,
            scope,
            p.collection,
            p.key,
            deviceId,
            strategyName(policy),
            d.outcome(),
            "auto",
            p.baseVersion,
            base == null ? null : base.value(),
            current.version(),
            current.value(),
            current.hlc(),
            edgeBytes,
            p.hlc,
            written.version(),
            resultBytes,
            d.note()));
    return true;
  }

  /** The change's value (null: delete) equals the stored version's value (or both are deleted). */
  private boolean sameValue(StoredDoc current, JsonNode edgeValue, byte[] edgeBytes) {
    if (edgeBytes == null || current.deleted()) {
      return edgeBytes == null && current.deleted();
    }
    return java.util.Arrays.equals(edgeBytes, current.value())
        || parsed(current.value()).equals(edgeValue);
  }

  /** A value and its parsed tree; trees here are never changed after they are made. */
  private record ParsedValue(byte[] bytes, JsonNode tree) {}

  private static final int PARSED_SLOTS = 4096;

  /**
   * The parsed trees of values recently written or read in a transaction, found by the identity of
   * their bytes (the store hands back the arrays it was given, so the next change of a key finds
   * the tree its previous version was written from): a change then parses nothing but its own
   * patch. Direct-mapped and lock-free: a slot holds one immutable entry, and a race only costs a
   * miss.
   */
  private final java.util.concurrent.atomic.AtomicReferenceArray<ParsedValue> parsedValues =
      new java.util.concurrent.atomic.AtomicReferenceArray<>(PARSED_SLOTS);

  private JsonNode parsed(byte[] value) {
    int slot = System.identityHashCode(value) & (PARSED_SLOTS - 1);
    ParsedValue p = parsedValues.get(slot);
    if (p != null && p.bytes() == value) {
      return p.tree();
    }
    JsonNode tree = JsonDocs.parse(value);
    parsedValues.set(slot, new ParsedValue(value, tree));
    return tree;
  }

  private void remember(byte[] value, JsonNode tree) {
    if (value != null && tree != null) {
      parsedValues.set(
          System.identityHashCode(value) & (PARSED_SLOTS - 1), new ParsedValue(value, tree));
    }
  }

  private static ConflictRecord conflictRecord(
      String scope,
      Parsed p,
      String deviceId,
      ConflictPolicy policy,
      StoredDoc base,
      StoredDoc current,
      byte[] edgeBytes,
      ConflictDecider.Decision d,
      String status,
      long resultVersion,
      byte[] resultValue,
      long nowMs) {
    return new ConflictRecord(
        0,
        scope,
        p.collection,
        p.key,
        deviceId,
        strategyName(policy),
        status,
        d.flagged(),
        p.baseVersion,
        base == null ? null : base.value(),
        current.version(),
        current.value(),
        current.hlc(),
        p.changeSeq,
        edgeBytes,
        p.hlc,
        String.join(",", d.fieldConflicts()),
        d.note(),
        status.equals(ConflictRecord.OPEN) ? null : d.outcome(),
        status.equals(ConflictRecord.OPEN) ? null : "auto",
        resultVersion,
        resultValue,
        nowMs,
        status.equals(ConflictRecord.OPEN) ? 0 : nowMs);
  }

  private static String strategyName(ConflictPolicy policy) {
    return policy.strategy() == ConflictStrategy.CUSTOM
        ? "custom:" + policy.resolverName()
        : policy.strategy().configName();
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
    JsonNode given = null;
    if (value != null) {
      if (value.length > rules.maxDocumentBytes()) {
        throw new DocumentException(
            Kind.TOO_LARGE,
            "value is " + value.length + " bytes; the limit is " + rules.maxDocumentBytes());
      }
      try {
        given = JsonDocs.parse(value);
      } catch (IllegalArgumentException e) {
        throw new DocumentException(Kind.INVALID, "value is " + e.getMessage());
      }
    } else if (!"edge".equals(take) && !"cloud".equals(take)) {
      throw new DocumentException(
          Kind.INVALID,
          "give {\"take\":\"edge\"} or {\"take\":\"cloud\"} or {\"value\": ...}; got take=" + take);
    }
    JsonNode resolution = given;
    long nowMs = clock.nowMs();
    StoredDoc[] out = new StoredDoc[1];
    store.inTransaction(
        tx -> {
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
              new AuditRecord(
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
                  written.version(),
                  result,
                  c.note()));
          out[0] = written;
          return null;
        });
    notifyChanged(Set.of(out[0].scope()));
    return out[0];
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

  private String driftNote(Hlc edge) {
    return "edge HLC "
        + edge
        + " is more than "
        + rules.maxClockDriftMs()
        + " ms ahead of the cloud clock";
  }

  private static String join(String a, String b) {
    return a == null ? b : a + "; " + b;
  }

  private static ProtocolException invalid(String message) {
    return new ProtocolException(ErrorCode.INVALID_DOCUMENT, message);
  }

  /** Carries a validation failure found inside a transaction out of it (rolling it back). */
  private static final class InvalidInTransaction extends RuntimeException {
    InvalidInTransaction(String message) {
      super(message, null, false, false);
    }
  }
}
