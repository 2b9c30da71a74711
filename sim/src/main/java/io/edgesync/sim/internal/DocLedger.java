package io.edgesync.sim.internal;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgesync.engine.docs.DocKey;
import io.edgesync.engine.docs.DocumentStore;
import io.edgesync.engine.docs.DocumentStore.AuditRecord;
import io.edgesync.engine.docs.DocumentStore.ConflictRecord;
import io.edgesync.engine.docs.DocumentStore.StoredDoc;
import io.edgesync.engine.docs.JsonDocs;
import io.edgesync.protocol.Hlc;
import io.edgesync.protocol.ProtocolException;
import io.edgesync.protocol.wire.DocChange;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The simulator's record of documents and commands, beside the real stores: every local write of
 * every edge, every change an edge sent (with its whole value, also when it went as a merge patch),
 * every version the cloud wrote (the store forgets collected tombstones and old history; this log
 * does not), conflicts and audit records as they appeared, and every command with its deliveries
 * and runs.
 *
 * <p>Checks that need the moment are made here as it happens: when the cloud writes a version for
 * an edge change, the edge's value must be that version's value or held by a conflict record, and a
 * change the log says was concurrent must not have been fast-forwarded; an edge change's HLC must
 * sort after its base version's; a command must not run twice, nor after its deadline. {@link
 * DocChecker} and {@link CommandChecker} check the final state. Not thread safe; the simulation
 * thread owns it.
 */
final class DocLedger {
  /** A version the cloud wrote, as it was when written. */
  record Version(
      long version,
      DocKey key,
      byte[] value,
      Hlc hlc,
      String writer,
      long foreignVersion,
      long conflictId,
      String originDevice,
      long originChangeSeq) {}

  /** A change an edge sent: its document, whole value (null: delete), base and stamp. */
  record Sent(DocKey key, JsonNode value, long baseVersion, Hlc hlc, long writeNo) {}

  /** An edge's local write; {@code no} counts the edge's writes (across its restarts). */
  record LocalWrite(JsonNode value, long no) {}

  /** A command the cloud queued. */
  record Cmd(String id, String device, long ttlMs, long createdAtMs) {}

  private final World world;

  // ---- edges
  private final Map<String, Map<DocKey, LocalWrite>> lastWrite = new HashMap<>();
  private final Map<String, Long> writes = new HashMap<>();
  private final Map<String, Map<Long, Sent>> sent = new HashMap<>();
  private final Map<String, Map<DocKey, Long>> lastSentSeq = new HashMap<>();
  private final Map<String, Map<Long, Long>> processed = new HashMap<>();

  // ---- forbidden changes (the adversary): per device, per key, the last one sent; and those the
  // cloud refused
  private final Map<String, Map<DocKey, Long>> forbiddenSent = new TreeMap<>();
  private final Map<String, Set<Long>> refused = new HashMap<>();

  // ---- cloud
  private final Map<DocKey, List<Version>> log = new TreeMap<>();
  private final Map<Long, Version> byVersion = new HashMap<>();
  private final Map<String, Long> scopeSeen = new HashMap<>();
  private long lastVersion;
  private long lastAuditId;
  private long lastConflictId;
  private final TreeSet<Long> openConflicts = new TreeSet<>();
  private final Map<String, Long> openByDeviceAndKey = new HashMap<>();
  private final Map<Long, OperatorResolution> operatorResolutions = new HashMap<>();

  /** What an operator asked for: {@code take} edge or cloud, or a value; the expected result. */
  record OperatorResolution(String how, byte[] expected) {}

  // ---- commands
  private final Map<String, Cmd> commands = new LinkedHashMap<>();
  private final Map<String, Long> deadlineTrueMs = new HashMap<>();
  private final Map<String, Integer> runs = new HashMap<>();
  private final Map<String, String> edgeOutcome = new HashMap<>();
  private long nextCommandId;

  /** Grows whenever documents or commands move (the healing phase's progress mark). */
  private long progress;

  DocLedger(World world) {
    this.world = world;
  }

  static String storeScope(String device, String wire) {
    return wire.isEmpty() || wire.equals("device") ? "device:" + device : wire;
  }

  static String wireScope(String device, String store) {
    return store.equals("device:" + device) ? "device" : store;
  }

  static boolean same(JsonNode a, JsonNode b) {
    return a == null ? b == null : a.equals(b);
  }

  static JsonNode json(byte[] bytes) {
    return bytes == null ? null : JsonDocs.parse(bytes);
  }

  static String text(JsonNode v) {
    return v == null ? "(deleted)" : JsonDocs.text(v);
  }

  static String text(byte[] v) {
    return v == null ? "(deleted)" : new String(v, java.nio.charset.StandardCharsets.UTF_8);
  }

  long progress() {
    return progress;
  }

  void moved() {
    progress++;
  }

  // ---------------------------------------------------------------- edges

  /** A local put or delete returned (it is durable now). */
  void edgeWrote(String device, DocKey key, JsonNode value) {
    long no = writes.merge(device, 1L, Long::sum);
    lastWrite.computeIfAbsent(device, d -> new TreeMap<>()).put(key, new LocalWrite(value, no));
    progress++;
  }

  /**
   * The edge sends a change; {@code whole} is its value (for a merge patch: the replica's pending
   * value, which the patch must reproduce at the cloud).
   */
  void edgeSent(String device, DocChange c, JsonNode whole) {
    DocKey key = new DocKey(storeScope(device, c.getScope()), c.getCollection(), c.getKey());
    if (forbidden(device, key)) {
      forbiddenSent
          .computeIfAbsent(device, d -> new TreeMap<>())
          .merge(key, c.getChangeSeq(), Math::max);
      world.stats().add("adversary.edgeChangesSent", 1);
      return;
    }
    Hlc hlc;
    try {
      hlc = Hlc.fromWire(c.getHlc());
    } catch (ProtocolException e) {
      throw new SimFailure(device + " sent change " + c.getChangeSeq() + " with a bad HLC: " + e);
    }
    String sentChange = device + " sent change " + c.getChangeSeq() + " of " + key;
    LocalWrite w = lastWrite.getOrDefault(device, Map.of()).get(key);
    if (w == null) {
      throw new SimFailure(sentChange + " never written");
    }
    if (!same(w.value(), whole)) {
      throw new SimFailure(
          sentChange
              + " as "
              + text(whole)
              + " but its last local write there was "
              + text(w.value()));
    }
    Sent s = new Sent(key, whole, c.getBaseVersion(), hlc, w.no());
    Sent before =
        sent.computeIfAbsent(device, d -> new HashMap<>()).putIfAbsent(c.getChangeSeq(), s);
    if (before != null && (!before.key().equals(key) || !same(before.value(), whole))) {
      throw new SimFailure(
          device
              + " reused change sequence "
              + c.getChangeSeq()
              + ": first "
              + before.key()
              + " = "
              + text(before.value())
              + ", now "
              + key
              + " = "
              + text(whole));
    }
    lastSentSeq
        .computeIfAbsent(device, d -> new HashMap<>())
        .merge(key, c.getChangeSeq(), Math::max);
    if (c.getBaseVersion() > 0) {
      Version base = byVersion.get(c.getBaseVersion());
      if (base == null || !base.key().equals(key)) {
        throw new SimFailure(
            sentChange
                + " on base version "
                + c.getBaseVersion()
                + ", which the cloud never wrote for that document");
      }
      if (!hlc.after(base.hlc())) {
        throw new SimFailure(
            device
                + " stamped change "
                + c.getChangeSeq()
                + " of "
                + key
                + " with HLC "
                + hlc
                + ", not after its base version "
                + base.version()
                + " ("
                + base.hlc()
                + "): causality lost");
      }
    }
  }

  /**
   * Whether {@code device} may not write {@code key} under the seed's rules: another device's
   * scope, a group it is not in, or the read-only collection ({@link DocScenario#READ_ONLY}).
   */
  boolean forbidden(String device, DocKey key) {
    String scope = key.scope();
    if (key.collection().equals(DocScenario.READ_ONLY)) {
      return !scope.equals("device:" + device);
    }
    if (scope.startsWith("device:")) {
      return !scope.equals("device:" + device);
    }
    if (scope.startsWith("group:")) {
      SimEdge e = world.edge(device);
      return e == null
          || !world.scenario().docs().groups().get(e.index()).contains(scope.substring(6));
    }
    return false;
  }

  /**
   * The cloud refused changes of {@code device} (DocAck.refused): each must be one the device may
   * not make; a refused honest change is a lost write.
   */
  void edgeRefused(String device, List<io.edgesync.protocol.wire.DocRefusal> refusals) {
    for (io.edgesync.protocol.wire.DocRefusal r : refusals) {
      boolean wasForbidden =
          forbiddenSent.getOrDefault(device, Map.of()).entrySet().stream()
              .anyMatch(e -> e.getValue() >= r.getChangeSeq());
      if (!wasForbidden || sent(device, r.getChangeSeq()) != null) {
        throw new SimFailure(
            "the cloud refused change "
                + r.getChangeSeq()
                + " of "
                + device
                + ", which it may make: "
                + r.getReason());
      }
      refused.computeIfAbsent(device, d -> new java.util.HashSet<>()).add(r.getChangeSeq());
      world.stats().add("adversary.edgeChangesRefused", 1);
    }
    progress++;
  }

  /**
   * Every forbidden change an edge sent last for its key was refused, and none was stored (checked
   * as versions appear); the cloud holds nothing of the read-only collection.
   */
  void checkForbiddenRefused(DocumentStore store) {
    for (Map.Entry<String, Map<DocKey, Long>> d : forbiddenSent.entrySet()) {
      for (Map.Entry<DocKey, Long> k : d.getValue().entrySet()) {
        if (!refused.getOrDefault(d.getKey(), Set.of()).contains(k.getValue())) {
          throw new SimFailure(
              d.getKey()
                  + "'s forbidden change "
                  + k.getValue()
                  + " of "
                  + k.getKey()
                  + " was never refused, yet nothing is pending on the edge");
        }
      }
    }
    for (Map.Entry<DocKey, List<Version>> e : log.entrySet()) {
      if (e.getKey().collection().equals(DocScenario.READ_ONLY)) {
        throw new SimFailure("the cloud wrote " + e.getKey() + ", which no device may write");
      }
    }
  }

  Map<DocKey, LocalWrite> lastWrites(String device) {
    return lastWrite.getOrDefault(device, Map.of());
  }

  Sent sent(String device, long changeSeq) {
    return sent.getOrDefault(device, Map.of()).get(changeSeq);
  }

  /** The last change sequence the device sent for {@code key}, or null. */
  Long lastSentSeq(String device, DocKey key) {
    return lastSentSeq.getOrDefault(device, Map.of()).get(key);
  }

  /** The version the cloud wrote for the device's change, or null if not processed. */
  Long processedAs(String device, long changeSeq) {
    return processed.getOrDefault(device, Map.of()).get(changeSeq);
  }

  // ---------------------------------------------------------------- cloud

  Map<DocKey, List<Version>> log() {
    return log;
  }

  Version version(long v) {
    return byVersion.get(v);
  }

  long lastVersion() {
    return lastVersion;
  }

  Set<Long> openConflicts() {
    return openConflicts;
  }

  /**
   * The cloud committed writes to {@code scopes} (the {@code CloudDocuments.onChange} hook, called
   * right after the commit): reads the new versions, conflicts and audit records from the store,
   * logs them and checks what the writes did to edge changes.
   */
  void cloudChanged(DocumentStore store, Set<String> scopes) {
    world.stats().add("docs.cloudSteps", 1);
    List<StoredDoc> fresh = new ArrayList<>();
    for (String scope : new TreeSet<>(scopes)) {
      List<StoredDoc> rows = store.changesAfter(scope, scopeSeen.getOrDefault(scope, 0L), 100_000);
      for (StoredDoc d : rows) {
        scopeSeen.merge(scope, d.version(), Math::max);
        fresh.add(d);
      }
    }
    fresh.sort((a, b) -> Long.compare(a.version(), b.version()));
    Map<Long, ConflictRecord> conflictByResult = new HashMap<>();
    for (ConflictRecord c :
        store.conflicts(
            new DocumentStore.ConflictFilter(null, null, null, lastConflictId, 100_000))) {
      lastConflictId = Math.max(lastConflictId, c.id());
      if (c.status().equals(ConflictRecord.OPEN)) {
        openConflicts.add(c.id());
        String owner = c.deviceId() + " on " + c.scope() + "/" + c.collection() + "/" + c.key();
        Long other = openByDeviceAndKey.putIfAbsent(owner, c.id());
        if (other != null) {
          throw new SimFailure(
              "two open conflicts for "
                  + owner
                  + " (ids "
                  + other
                  + " and "
                  + c.id()
                  + "): a device's contested value must wait in one conflict per key,"
                  + " or resolving the older one reverts its newer edit");
        }
      } else {
        conflictByResult.put(c.resultVersion(), c);
      }
    }
    Map<Long, AuditRecord> auditByResult = new HashMap<>();
    for (AuditRecord a :
        store.audit(new DocumentStore.AuditFilter(null, null, null, lastAuditId, 100_000))) {
      lastAuditId = Math.max(lastAuditId, a.id());
      auditByResult.put(a.resultVersion(), a);
    }
    for (StoredDoc d : fresh) {
      if (d.version() != lastVersion + 1) {
        throw new SimFailure(
            "the cloud's versions jump from "
                + lastVersion
                + " to "
                + d.version()
                + " ("
                + d.scope()
                + "/"
                + d.collection()
                + "/"
                + d.key()
                + "): a version was overwritten before anyone could see it");
      }
      lastVersion = d.version();
      DocKey key = new DocKey(d.scope(), d.collection(), d.key());
      Version v =
          new Version(
              d.version(),
              key,
              d.value(),
              d.hlc(),
              d.writer(),
              d.foreignVersion(),
              d.conflictId(),
              d.originDevice(),
              d.originChangeSeq());
      List<Version> versions = log.computeIfAbsent(key, k -> new ArrayList<>());
      Version previous = versions.isEmpty() ? null : versions.get(versions.size() - 1);
      if (!d.originDevice().isEmpty()) {
        edgeChangeWritten(store, v, previous, conflictByResult, auditByResult);
      }
      versions.add(v);
      byVersion.put(v.version(), v);
      progress++;
    }
  }

  /**
   * The cloud wrote version {@code v} for an edge's change: the change was sent and is processed
   * once, the edge's value is the version's or held by a conflict record, and a change concurrent
   * with {@code previous} was not fast-forwarded over it.
   */
  private void edgeChangeWritten(
      DocumentStore store,
      Version v,
      Version previous,
      Map<Long, ConflictRecord> conflictByResult,
      Map<Long, AuditRecord> auditByResult) {
    String what = v.originDevice() + "'s change " + v.originChangeSeq() + " of " + v.key();
    Sent s = sentAndProcessedOnce(v, what);
    boolean decided =
        v.conflictId() != 0
            ? joinedItsConflict(store, v, s, what)
            : checkAutomaticDecision(v, s, what, conflictByResult, auditByResult);
    if (!decided && !same(json(v.value()), s.value())) {
      throw new SimFailure(
          what
              + " (value "
              + text(s.value())
              + ") became version "
              + v.version()
              + " = "
              + text(v.value())
              + " with no conflict record holding the edge's value: silently dropped");
    }
    if (previous == null) {
      if (s.baseVersion() > 0) {
        throw new SimFailure(what + " was made on version " + s.baseVersion() + " the log lacks");
      }
      return;
    }
    checkAgainstPrevious(v, previous, s, what, decided);
  }

  /** The change {@code v} was written for, checked to be sent for its key and processed once. */
  private Sent sentAndProcessedOnce(Version v, String what) {
    String device = v.originDevice();
    long seq = v.originChangeSeq();
    if (forbidden(device, v.key())) {
      throw new SimFailure(
          "the cloud wrote version "
              + v.version()
              + " of "
              + v.key()
              + " for "
              + what
              + ", which "
              + device
              + " may not write: authorization failed");
    }
    Sent s = sent(device, seq);
    if (s == null) {
      throw new SimFailure(
          "the cloud wrote version " + v.version() + " for " + what + ", never sent");
    }
    if (!s.key().equals(v.key())) {
      throw new SimFailure(
          "the cloud wrote version "
              + v.version()
              + " of "
              + v.key()
              + " for "
              + what
              + " of "
              + s.key());
    }
    Long earlier = processed.computeIfAbsent(device, d -> new HashMap<>()).put(seq, v.version());
    if (earlier != null) {
      throw new SimFailure(
          what + " was processed twice: versions " + earlier + " and " + v.version());
    }
    return s;
  }

  /**
   * {@code v} is conflicted: its open conflict must hold the edge's value. Returns true (the change
   * is decided: it waits in the conflict).
   */
  private boolean joinedItsConflict(DocumentStore store, Version v, Sent s, String what) {
    ConflictRecord c = store.conflict(v.conflictId());
    if (c == null
        || !c.status().equals(ConflictRecord.OPEN)
        || !c.deviceId().equals(v.originDevice())
        || c.edgeChangeSeq() != v.originChangeSeq()
        || !same(json(c.edgeValue()), s.value())) {
      throw new SimFailure(
          what
              + " left version "
              + v.version()
              + " conflicted, but its conflict "
              + v.conflictId()
              + " does not hold the edge's value "
              + text(s.value())
              + ": "
              + (c == null
                  ? "no such conflict"
                  : c.status()
                      + " "
                      + c.deviceId()
                      + "/"
                      + c.edgeChangeSeq()
                      + " "
                      + text(c.edgeValue())));
    }
    openConflicts.add(c.id());
    return true;
  }

  /**
   * Whether a policy decided the change automatically into {@code v} (a resolved conflict has it as
   * its result); if so, the conflict and its audit record must hold the edge's value.
   */
  private boolean checkAutomaticDecision(
      Version v,
      Sent s,
      String what,
      Map<Long, ConflictRecord> conflictByResult,
      Map<Long, AuditRecord> auditByResult) {
    ConflictRecord c = conflictByResult.get(v.version());
    if (c == null) {
      return false;
    }
    AuditRecord a = auditByResult.get(v.version());
    if (!c.deviceId().equals(v.originDevice())
        || c.edgeChangeSeq() != v.originChangeSeq()
        || !same(json(c.edgeValue()), s.value())
        || a == null
        || a.conflictId() != c.id()
        || !same(json(a.edgeValue()), s.value())) {
      throw new SimFailure(
          what
              + " was decided automatically into version "
              + v.version()
              + " but its conflict or audit record does not hold the edge value "
              + text(s.value())
              + ": conflict "
              + c.id()
              + " "
              + text(c.edgeValue())
              + ", audit "
              + (a == null ? "missing" : a.conflictId() + " " + text(a.edgeValue())));
    }
    return true;
  }

  /**
   * {@code v} follows {@code previous}: not over an open conflict, and a change concurrent with
   * {@code previous} (made on an older base) was decided or carries the same value.
   */
  private void checkAgainstPrevious(
      Version v, Version previous, Sent s, String what, boolean decided) {
    if (previous.conflictId() != 0 && v.conflictId() == 0) {
      throw new SimFailure(
          what
              + " was applied as version "
              + v.version()
              + " over version "
              + previous.version()
              + ", which has an open conflict: it must join the conflict");
    }
    boolean concurrent =
        previous.writer().equals(v.originDevice())
            ? s.baseVersion() < previous.foreignVersion()
            : s.baseVersion() < previous.version();
    if (concurrent) {
      world.stats().add("docs.concurrentChanges", 1);
      if (previous.value() == null) {
        world.stats().add("docs.concurrentWithDelete", 1);
      }
    }
    if (concurrent && !decided && !same(json(previous.value()), s.value())) {
      throw new SimFailure(
          what
              + ", made on version "
              + s.baseVersion()
              + ", was fast-forwarded to version "
              + v.version()
              + " over concurrent version "
              + previous.version()
              + " by "
              + previous.writer()
              + " ("
              + text(previous.value())
              + ") without a conflict: that write is silently lost");
    }
  }

  /** An operator resolved a conflict through the REST-equivalent call. */
  void operatorResolved(long conflictId, String how, byte[] expectedResult) {
    openConflicts.remove(conflictId);
    openByDeviceAndKey.values().remove(conflictId);
    operatorResolutions.put(conflictId, new OperatorResolution(how, expectedResult));
    progress++;
  }

  OperatorResolution operatorResolution(long conflictId) {
    return operatorResolutions.get(conflictId);
  }

  // ---------------------------------------------------------------- commands

  /** The next command id: deterministic, so that a seed replays exactly. */
  String nextCommandId() {
    return "cmd-" + (++nextCommandId);
  }

  void commandCreated(Cmd c) {
    commands.put(c.id(), c);
    progress++;
  }

  Map<String, Cmd> commands() {
    return commands;
  }

  /** The edge got a Command frame; the first one sets the deadline (later ones are duplicates). */
  void commandDelivered(String device, String id, long trueDeadlineMs) {
    Cmd c = commands.get(id);
    if (c == null || !c.device().equals(device)) {
      throw new SimFailure(device + " received command " + id + " that was not queued for it");
    }
    deadlineTrueMs.putIfAbsent(id, trueDeadlineMs);
    progress++;
  }

  /** A handler started the command at true time {@code trueNowMs}. */
  void commandStarted(String device, String id, long trueNowMs) {
    int n = runs.merge(id, 1, Integer::sum);
    if (n > 1) {
      throw new SimFailure(device + " ran command " + id + " " + n + " times");
    }
    Long deadline = deadlineTrueMs.get(id);
    if (deadline == null) {
      throw new SimFailure(device + " ran command " + id + " it never received");
    }
    // One millisecond for rounding between the device's oscillator and true time.
    if (trueNowMs > deadline + 1) {
      throw new SimFailure(
          device
              + " ran command "
              + id
              + " "
              + (trueNowMs - deadline)
              + " ms after its TTL passed (deadline at "
              + (deadline - Scenario.EPOCH_MS)
              + ", run at "
              + (trueNowMs - Scenario.EPOCH_MS)
              + ", true ms since start)");
    }
    progress++;
  }

  void commandFinished(String id, String outcome) {
    edgeOutcome.put(id, outcome);
    progress++;
  }

  int runs(String id) {
    return runs.getOrDefault(id, 0);
  }

  String edgeOutcome(String id) {
    return edgeOutcome.get(id);
  }

  World world() {
    return world;
  }
}
