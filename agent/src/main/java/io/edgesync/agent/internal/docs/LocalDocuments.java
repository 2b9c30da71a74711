package io.edgesync.agent.internal.docs;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.ByteString;
import io.edgesync.agent.Document;
import io.edgesync.agent.Documents;
import io.edgesync.engine.docs.DocReplica;
import io.edgesync.engine.docs.JsonDocs;
import io.edgesync.protocol.Clock;
import io.edgesync.protocol.Hlc;
import io.edgesync.protocol.HybridClock;
import io.edgesync.protocol.ProtocolLimits;
import io.edgesync.protocol.wire.DocChange;
import io.edgesync.protocol.wire.DocRefusal;
import io.edgesync.protocol.wire.DocUpdate;
import io.edgesync.support.jdbc.Jdbc;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The device's document replica in {@link DocsFile}: what applications read and write while online
 * or offline ({@link Documents}: get, put, delete, list, watch), and what the sync engine keeps in
 * step with the cloud ({@link DocReplica}: pending changes out, the cloud's updates in).
 *
 * <p>Scopes: {@code device} (this device's documents, read and written here), {@code fleet} and
 * {@code group:<name>} (shared: written here and by the cloud). Every local write is stamped with
 * this device's hybrid logical clock and carries the cloud version it was made on; the change
 * sequence and the last HLC are kept in {@code meta}.
 *
 * <p>Thread safe: every use of the connection holds the {@link DocsFile}'s monitor.
 */
public final class LocalDocuments implements Documents, DocReplica {
  private final DocsFile file;
  private final Connection db;
  private final Jdbc jdbc;
  private final Set<String> collections;
  private final int maxDocumentBytes;
  private final boolean deltaSync;
  private final boolean deduplicate;
  private long deduplicated;
  private final Clock clock;
  private final HybridClock hlc;
  private final List<Watch> watches = new CopyOnWriteArrayList<>();
  private volatile Runnable changeListener = () -> {};
  private long changeSeq;
  private long ackedChangeSeq;

  /**
   * Per key, the newest cloud version not applied because a local change of the key was pending
   * (see {@link #acknowledged}). Held in memory: after a restart, the next Hello's cursor (kept at
   * or below a pending change's base) brings the key's current version again. At most one per
   * pending key.
   */
  private final Map<DocKey, Held> heldBack = new HashMap<>();

  private record Watch(String scope, String collection, Consumer<Document> listener) {}

  private record Held(DocUpdate update, Hlc hlc) {}

  private record DocKey(String scope, String collection, String key) {
    static DocKey of(DocUpdate u) {
      return new DocKey(u.getScope(), u.getCollection(), u.getKey());
    }
  }

  /** Reads the change sequence and the last HLC; {@link DocsFile} commits. */
  LocalDocuments(
      DocsFile file,
      String deviceId,
      Set<String> collections,
      int maxDocumentBytes,
      long maxClockDriftMs,
      boolean deltaSync,
      boolean deduplicate,
      Clock clock)
      throws SQLException {
    this.file = file;
    this.db = file.connection();
    this.jdbc = file.jdbc();
    this.collections = Set.copyOf(collections);
    this.maxDocumentBytes = maxDocumentBytes;
    this.deltaSync = deltaSync;
    this.deduplicate = deduplicate;
    this.clock = clock;
    this.changeSeq = metaLong("change_seq");
    String last = metaText("hlc");
    this.hlc =
        new HybridClock(
            deviceId, clock, maxClockDriftMs, last == null ? Hlc.ZERO : Hlc.parse(last));
  }

  /**
   * Called (on the writer's thread) after each local write, for the adapter that drives the sync
   * engine ({@code EdgeAgent}, or the deterministic simulator): it calls {@code onDocChanged}.
   */
  public void setChangeListener(Runnable listener) {
    this.changeListener = listener;
  }

  @Override
  public Set<String> collections() {
    return collections;
  }

  @Override
  public int maxDocumentBytes() {
    return maxDocumentBytes;
  }

  // ---------------------------------------------------------------- Documents (applications)

  @Override
  public Optional<Document> get(String scope, String collection, String key) {
    synchronized (file) {
      return Optional.ofNullable(row(scope, collection, key)).filter(d -> d.value() != null);
    }
  }

  @Override
  public List<Document> list(String scope, String collection, String afterKey, int limit) {
    synchronized (file) {
      return file.sql(
          () -> {
            List<Document> out = new ArrayList<>();
            try (PreparedStatement ps =
                db.prepareStatement(
                    "SELECT scope, collection, key, value, version, hlc, pending_seq, conflicted FROM"
                        + " docs WHERE scope=? AND collection=? AND key>? AND value IS NOT NULL"
                        + " ORDER BY key LIMIT ?")) {
              Jdbc.bind(ps, scope, collection, afterKey, limit);
              try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                  out.add(document(rs));
                }
              }
            }
            db.commit();
            return out;
          });
    }
  }

  @Override
  public Document put(String scope, String collection, String key, JsonNode value) {
    byte[] bytes = JsonDocs.bytes(value);
    if (bytes.length > maxDocumentBytes) {
      throw new IllegalArgumentException(
          "document "
              + collection
              + "/"
              + key
              + " is "
              + bytes.length
              + " bytes; the limit is "
              + maxDocumentBytes);
    }
    return write(scope, collection, key, bytes);
  }

  /** Throws IllegalArgumentException naming a JSON error. */
  @Override
  public Document put(String collection, String key, String json) {
    return put(collection, key, JsonDocs.parse(json));
  }

  @Override
  public boolean delete(String scope, String collection, String key) {
    synchronized (file) {
      Document d = row(scope, collection, key);
      if (d == null || d.value() == null) {
        requireWritable(scope, collection, key);
        return false;
      }
    }
    write(scope, collection, key, null);
    return true;
  }

  @Override
  public AutoCloseable watch(String scope, String collection, Consumer<Document> listener) {
    Watch w = new Watch(scope, collection, listener);
    watches.add(w);
    return () -> watches.remove(w);
  }

  /** The last HLC this device issued or merged. */
  public Hlc lastHlc() {
    return hlc.last();
  }

  @Override
  public long pendingCount() {
    synchronized (file) {
      return file.sql(() -> file.count("SELECT count(*) FROM docs WHERE pending_seq>0"));
    }
  }

  /** Puts that changed nothing (the same value again) and so were not sent, since start. */
  public long deduplicatedCount() {
    synchronized (file) {
      return deduplicated;
    }
  }

  /** Local changes the cloud refused (e.g. a shared document devices may not write). */
  public long refusedCount() {
    synchronized (file) {
      return file.sql(() -> file.count("SELECT count(*) FROM refusals"));
    }
  }

  public long conflictedCount() {
    synchronized (file) {
      return file.sql(() -> file.count("SELECT count(*) FROM docs WHERE conflicted=1"));
    }
  }

  private Document write(String scope, String collection, String key, byte[] value) {
    requireWritable(scope, collection, key);
    Document after;
    synchronized (file) {
      if (deduplicate && value != null) {
        // The same value again: no change exists, so nothing is sent and no version is made.
        // Skipped here, before a change sequence exists, the cloud's rule that every processed
        // change gets its outcome is untouched.
        Document current = row(scope, collection, key);
        // Both sides parsed from bytes, so equal JSON compares equal whatever built it (5 vs 5L).
        if (current != null && JsonDocs.parse(value).equals(current.value())) {
          deduplicated++;
          return current;
        }
      }
      Hlc stamp = hlc.now();
      long seq = changeSeq + 1;
      byte[] stored = file.seal(DocsFile.place("docs", "value", scope, collection, key), value);
      after =
          file.sql(
              () -> {
                try {
                  int n =
                      jdbc.update(
                          "UPDATE docs SET value=?, hlc=?, pending_seq=?, updated_ms=? WHERE"
                              + " scope=? AND collection=? AND key=?",
                          stored,
                          stamp.toString(),
                          seq,
                          clock.nowMs(),
                          scope,
                          collection,
                          key);
                  if (n == 0) {
                    jdbc.update(
                        "INSERT INTO docs(scope, collection, key, value, version, base_value, hlc,"
                            + " pending_seq, full_required, conflicted, updated_ms) VALUES"
                            + " (?,?,?,?,0,NULL,?,?,0,0,?)",
                        scope,
                        collection,
                        key,
                        stored,
                        stamp.toString(),
                        seq,
                        clock.nowMs());
                  }
                  setMeta("change_seq", seq, null);
                  setMeta("hlc", 0, stamp.toString());
                  db.commit();
                } catch (SQLException | RuntimeException e) {
                  db.rollback();
                  throw e;
                }
                return row(scope, collection, key);
              });
      changeSeq = seq;
    }
    notifyWatches(List.of(after));
    changeListener.run();
    return after;
  }

  private void requireWritable(String scope, String collection, String key) {
    boolean scopeOk =
        scope.equals(DEVICE)
            || scope.equals("fleet")
            || scope.startsWith("group:") && ProtocolLimits.isValidCollection(scope.substring(6));
    if (!scopeOk) {
      throw new IllegalArgumentException(
          "invalid scope '" + scope + "': device, fleet or group:<name>");
    }
    if (!ProtocolLimits.isValidCollection(collection) || !collections.contains(collection)) {
      throw new IllegalArgumentException(
          "unknown collection '"
              + collection
              + "'; declared: "
              + new java.util.TreeSet<>(collections));
    }
    if (!ProtocolLimits.isValidDocKey(key)) {
      throw new IllegalArgumentException(
          "invalid document key '" + key + "': must match " + ProtocolLimits.DOC_KEY_PATTERN);
    }
  }

  // ---------------------------------------------------------------- DocReplica (sync engine)

  @Override
  public Map<String, Long> cursors() {
    synchronized (file) {
      return file.sql(
          () -> {
            Map<String, Long> out = new LinkedHashMap<>();
            try (PreparedStatement ps =
                    db.prepareStatement(
                        "SELECT k, v FROM meta WHERE k LIKE 'cursor:%' ORDER BY k");
                ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                out.put(rs.getString(1).substring("cursor:".length()), rs.getLong(2));
              }
            }
            // The cloud collects a scope's tombstones up to the cursor a device reports. A pending
            // change was made on its base version; a delete after that base has not been applied
            // here (the pending edit waits for its own outcome), and the cloud must keep it until
            // that change is decided against it. So the cursor reported stays at or below the base.
            try (PreparedStatement ps =
                    db.prepareStatement(
                        "SELECT scope, min(version) FROM docs WHERE pending_seq>0 GROUP BY scope");
                ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                out.merge(rs.getString(1), rs.getLong(2), Math::min);
              }
            }
            db.commit();
            return out;
          });
    }
  }

  @Override
  public List<DocChange> pendingChanges(long afterChangeSeq, int maxChanges, int maxBytes) {
    synchronized (file) {
      return file.sql(
          () -> {
            List<DocChange> out = new ArrayList<>();
            int bytes = 0;
            try (PreparedStatement ps =
                db.prepareStatement(
                    "SELECT collection, key, value, version, base_value, hlc, pending_seq,"
                        + " full_required, scope FROM docs WHERE pending_seq>? ORDER BY pending_seq"
                        + " LIMIT ?")) {
              Jdbc.bind(ps, afterChangeSeq, maxChanges);
              try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                  DocChange c =
                      change(
                          rs.getString(1),
                          rs.getString(2),
                          file.open(
                              DocsFile.place(
                                  "docs",
                                  "value",
                                  rs.getString(9),
                                  rs.getString(1),
                                  rs.getString(2)),
                              rs.getBytes(3)),
                          rs.getLong(4),
                          file.open(
                              DocsFile.place(
                                  "docs",
                                  "base_value",
                                  rs.getString(9),
                                  rs.getString(1),
                                  rs.getString(2)),
                              rs.getBytes(5)),
                          Hlc.parse(rs.getString(6)),
                          rs.getLong(7),
                          rs.getInt(8) != 0,
                          rs.getString(9));
                  if (!out.isEmpty() && bytes + c.getSerializedSize() > maxBytes) {
                    break;
                  }
                  out.add(c);
                  bytes += c.getSerializedSize() + 8;
                }
              }
            }
            db.commit();
            return out;
          });
    }
  }

  private DocChange change(
      String collection,
      String key,
      byte[] value,
      long version,
      byte[] baseValue,
      Hlc stamp,
      long seq,
      boolean fullRequired,
      String scope) {
    DocChange.Builder c =
        DocChange.newBuilder()
            .setScope(scope.equals(DEVICE) ? "" : scope)
            .setChangeSeq(seq)
            .setCollection(collection)
            .setKey(key)
            .setBaseVersion(version)
            .setHlc(stamp.toWire());
    if (value == null) {
      return c.setDeleted(true).build();
    }
    if (deltaSync && !fullRequired && version > 0 && baseValue != null) {
      JsonNode patch = JsonDocs.diff(JsonDocs.parse(baseValue), JsonDocs.parse(value));
      if (patch != null) {
        byte[] p = JsonDocs.bytes(patch);
        if (p.length < value.length) {
          return c.setMergePatch(ByteString.copyFrom(p)).build();
        }
      }
    }
    return c.setValue(ByteString.copyFrom(value)).build();
  }

  /**
   * The cloud processed this device's changes up to {@code seq}. Their outcomes were pushed before
   * this acknowledgement, but a cloud write committed between a change and that push supersedes the
   * outcome: the push then carries only the newer version, which arrived while the change was still
   * pending here and was held back. Without applying it now, the key would keep its local value
   * while the cloud holds another until the key changes again. So every held-back version of a key
   * whose change is now settled (processed, refused and reverted, or no longer pending) is applied,
   * if it is newer than what the key holds. A change the cloud asks to be resent whole stays
   * pending under a new sequence, and its held-back version waits.
   */
  @Override
  public void acknowledged(long seq, List<Long> resendFull) {
    List<Document> changed = new ArrayList<>();
    synchronized (file) {
      ackedChangeSeq = Math.max(ackedChangeSeq, seq);
      if (resendFull.isEmpty() && heldBack.isEmpty()) {
        return;
      }
      file.sql(
          () -> {
            try {
              for (long old : resendFull) {
                long next = changeSeq + 1;
                if (jdbc.update(
                        "UPDATE docs SET pending_seq=?, full_required=1 WHERE pending_seq=?",
                        next,
                        old)
                    > 0) {
                  changeSeq = next;
                }
              }
              setMeta("change_seq", changeSeq, null);
              applyHeldBack(List.copyOf(heldBack.keySet()), changed);
              db.commit();
            } catch (SQLException | RuntimeException e) {
              db.rollback();
              throw e;
            }
            return null;
          });
    }
    notifyWatches(changed);
  }

  /** Applies the held-back versions of these keys whose change is settled. */
  private void applyHeldBack(Iterable<DocKey> keys, List<Document> changed) throws SQLException {
    for (DocKey k : keys) {
      Held held = heldBack.get(k);
      if (held == null) {
        continue;
      }
      DocUpdate u = held.update();
      Pending p = pending(k.scope(), k.collection(), k.key());
      if (u.getVersion() <= p.version()) {
        heldBack.remove(k); // the key holds this version or a newer one
      } else if (p.seq() == 0 || p.seq() <= ackedChangeSeq) {
        heldBack.remove(k);
        applyOne(u, held.hlc());
        changed.add(row(k.scope(), k.collection(), k.key()));
      } // else the key's change still waits for its own outcome
    }
  }

  /**
   * Each refused change stops being pending and its key goes back to the cloud's version it was
   * based on (or away, if the cloud had none): the cloud stored nothing of it, and it is never sent
   * again. The refusal is kept in {@code refusals} for the operator.
   */
  @Override
  public void refused(List<DocRefusal> refusals) {
    List<Document> changed = new ArrayList<>();
    synchronized (file) {
      file.sql(
          () -> {
            try {
              for (DocRefusal r : refusals) {
                Document reverted = revertRefused(r);
                if (reverted != null) {
                  changed.add(reverted);
                }
              }
              db.commit();
            } catch (SQLException | RuntimeException e) {
              db.rollback();
              throw e;
            }
            return null;
          });
    }
    notifyWatches(changed);
  }

  /** Records one refusal and reverts its key; returns the reverted document, or null. */
  private Document revertRefused(DocRefusal r) throws SQLException {
    String scope = null;
    String collection = null;
    String key = null;
    long version = 0;
    byte[] base = null;
    try (PreparedStatement ps =
        db.prepareStatement(
            "SELECT scope, collection, key, version, base_value FROM docs WHERE pending_seq=?")) {
      ps.setLong(1, r.getChangeSeq());
      try (ResultSet rs = ps.executeQuery()) {
        if (rs.next()) {
          scope = rs.getString(1);
          collection = rs.getString(2);
          key = rs.getString(3);
          version = rs.getLong(4);
          base =
              file.open(
                  DocsFile.place("docs", "base_value", scope, collection, key), rs.getBytes(5));
        }
      }
    }
    if (scope == null) {
      return null; // a later local edit of the key replaced the change: nothing to revert
    }
    jdbc.update(
        "INSERT OR REPLACE INTO refusals(change_seq, scope, collection, key, code, reason,"
            + " refused_ms) VALUES (?,?,?,?,?,?,?)",
        r.getChangeSeq(),
        scope,
        collection,
        key,
        r.getCode().name(),
        r.getReason(),
        clock.nowMs());
    if (version == 0) {
      jdbc.update(
          "DELETE FROM docs WHERE scope=? AND collection=? AND key=?", scope, collection, key);
    } else {
      jdbc.update(
          "UPDATE docs SET value=?, pending_seq=0, full_required=0 WHERE scope=? AND"
              + " collection=? AND key=?",
          file.seal(DocsFile.place("docs", "value", scope, collection, key), base),
          scope,
          collection,
          key);
    }
    return new Document(
        scope,
        collection,
        key,
        base == null ? null : JsonDocs.parse(base),
        version,
        hlc.last(),
        false,
        false);
  }

  @Override
  public void apply(List<DocUpdate> updates) {
    List<Document> changed = new ArrayList<>();
    synchronized (file) {
      file.sql(
          () -> {
            try {
              Map<String, Long> cursors = new LinkedHashMap<>();
              List<DocKey> applied = new ArrayList<>();
              for (DocUpdate u : updates) {
                Hlc remote = Hlc.fromWire(u.getHlc());
                hlc.observe(remote); // counts a drift if too far ahead...
                hlc.merge(remote); // ...but causality needs it merged regardless
                cursors.merge(u.getScope(), u.getVersion(), Math::max);
                if (applyOne(u, remote)) {
                  changed.add(row(u.getScope(), u.getCollection(), u.getKey()));
                  applied.add(DocKey.of(u));
                }
              }
              if (!heldBack.isEmpty()) { // an outcome applied may free a newer held-back version
                applyHeldBack(applied, changed);
              }
              for (Map.Entry<String, Long> c : cursors.entrySet()) {
                jdbc.update(
                    "INSERT INTO meta(k, v) VALUES (?, ?) ON CONFLICT(k) DO UPDATE SET"
                        + " v=max(v, excluded.v)",
                    "cursor:" + c.getKey(),
                    c.getValue());
              }
              setMeta("hlc", 0, hlc.last().toString());
              db.commit();
            } catch (SQLException | RuntimeException e) {
              db.rollback();
              throw e;
            }
            return null;
          });
    }
    notifyWatches(changed);
  }

  private record Pending(long seq, long version) {}

  /** The key's pending change sequence (0 if none) and the cloud version it holds. */
  private Pending pending(String scope, String collection, String key) throws SQLException {
    try (PreparedStatement ps =
        db.prepareStatement(
            "SELECT pending_seq, version FROM docs WHERE scope=? AND collection=? AND key=?")) {
      Jdbc.bind(ps, scope, collection, key);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? new Pending(rs.getLong(1), rs.getLong(2)) : new Pending(0, 0);
      }
    }
  }

  private boolean applyOne(DocUpdate u, Hlc remote) throws SQLException {
    Pending p = pending(u.getScope(), u.getCollection(), u.getKey());
    if (u.getVersion() < p.version()) {
      return false;
    }
    boolean outcomeOfPending =
        p.seq() == 0
            || p.seq() <= ackedChangeSeq
            || (u.getOriginChangeSeq() != 0 && u.getOriginChangeSeq() >= p.seq());
    if (!outcomeOfPending) {
      // A local edit waits for its own outcome, which will include this version; if a later
      // cloud write supersedes that outcome, this (or a newer) version is all the device gets.
      heldBack.merge(
          DocKey.of(u),
          new Held(u, remote),
          (a, b) -> b.update().getVersion() > a.update().getVersion() ? b : a);
      return false;
    }
    byte[] value = u.getBodyCase() == DocUpdate.BodyCase.VALUE ? u.getValue().toByteArray() : null;
    jdbc.update(
        "INSERT OR REPLACE INTO docs(scope, collection, key, value, version, base_value, hlc,"
            + " pending_seq, full_required, conflicted, updated_ms) VALUES (?,?,?,?,?,?,?,0,0,?,?)",
        u.getScope(),
        u.getCollection(),
        u.getKey(),
        file.seal(
            DocsFile.place("docs", "value", u.getScope(), u.getCollection(), u.getKey()), value),
        u.getVersion(),
        file.seal(
            DocsFile.place("docs", "base_value", u.getScope(), u.getCollection(), u.getKey()),
            value),
        remote.toString(),
        u.getConflicted() ? 1 : 0,
        clock.nowMs());
    return true;
  }

  private void notifyWatches(List<Document> changed) {
    for (Document d : changed) {
      for (Watch w : watches) {
        if (w.scope().equals(d.scope()) && w.collection().equals(d.collection())) {
          w.listener().accept(d);
        }
      }
    }
  }

  // ---------------------------------------------------------------- helpers

  private Document row(String scope, String collection, String key) {
    return file.sql(
        () -> {
          try (PreparedStatement ps =
              db.prepareStatement(
                  "SELECT scope, collection, key, value, version, hlc, pending_seq, conflicted FROM"
                      + " docs WHERE scope=? AND collection=? AND key=?")) {
            Jdbc.bind(ps, scope, collection, key);
            try (ResultSet rs = ps.executeQuery()) {
              Document d = rs.next() ? document(rs) : null;
              db.commit();
              return d;
            }
          }
        });
  }

  private Document document(ResultSet rs) throws SQLException {
    byte[] value =
        file.open(
            DocsFile.place("docs", "value", rs.getString(1), rs.getString(2), rs.getString(3)),
            rs.getBytes(4));
    return new Document(
        rs.getString(1),
        rs.getString(2),
        rs.getString(3),
        value == null ? null : JsonDocs.parse(value),
        rs.getLong(5),
        Hlc.parse(rs.getString(6)),
        rs.getLong(7) > 0,
        rs.getInt(8) != 0);
  }

  private long metaLong(String k) throws SQLException {
    return jdbc.queryLong("SELECT v FROM meta WHERE k=?", 0, k);
  }

  private String metaText(String k) throws SQLException {
    try (PreparedStatement ps = db.prepareStatement("SELECT t FROM meta WHERE k=?")) {
      ps.setString(1, k);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getString(1) : null;
      }
    }
  }

  private void setMeta(String k, long v, String t) throws SQLException {
    jdbc.update("INSERT OR REPLACE INTO meta(k, v, t) VALUES (?,?,?)", k, v, t);
  }
}
