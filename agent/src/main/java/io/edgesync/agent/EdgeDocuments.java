package io.edgesync.agent;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.ByteString;
import io.edgesync.engine.commands.CommandInbox;
import io.edgesync.engine.docs.DocReplica;
import io.edgesync.engine.docs.JsonDocs;
import io.edgesync.protocol.Clock;
import io.edgesync.protocol.Hlc;
import io.edgesync.protocol.HybridClock;
import io.edgesync.protocol.ProtocolLimits;
import io.edgesync.protocol.wire.Command;
import io.edgesync.protocol.wire.CommandState;
import io.edgesync.protocol.wire.CommandStatus;
import io.edgesync.protocol.wire.DocChange;
import io.edgesync.protocol.wire.DocUpdate;
import io.edgesync.support.Migrations;
import io.edgesync.support.jdbc.Jdbc;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The device's documents: a local replica that applications read and write while online or offline
 * (get, put, delete, list, watch), kept in step with the cloud by the sync engine, and the inbox of
 * commands from the cloud. One SQLite file, {@code edgesync-docs.db} (WAL, {@code
 * synchronous=FULL}: a write is on disk when the call returns). Schema in {@code
 * db/docs/V1__docs.sql}.
 *
 * <p>Scopes: {@code device} (this device's documents, read and written here), {@code fleet} and
 * {@code group:<name>} (written by the cloud, read-only here). Every local write is stamped with
 * this device's hybrid logical clock and carries the cloud version it was made on.
 *
 * <p>Thread safe: every method is synchronized on this object (one connection).
 */
public final class EdgeDocuments implements DocReplica, CommandInbox, AutoCloseable {
  public static final String DEVICE = "device";

  /** Why a command received before a restart of the agent was not run. */
  static final String EXPIRED_BY_RESTART =
      "the agent restarted before it ran; its TTL cannot be checked across a restart";

  /** A document as this device holds it. */
  public record Document(
      String scope,
      String collection,
      String key,
      JsonNode value,
      long version,
      Hlc hlc,
      boolean pending,
      boolean conflicted) {}

  /** A command waiting to run, as handed to a handler or the local API. */
  public record PendingCommand(String id, String name, JsonNode payload, long deadlineMs) {}

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
  private volatile Runnable commandListener = () -> {};
  private long changeSeq;
  private long ackedChangeSeq;

  private record Watch(String scope, String collection, Consumer<Document> listener) {}

  /** With deduplication on (the brief's default). */
  public EdgeDocuments(
      Path file,
      String deviceId,
      Set<String> collections,
      int maxDocumentBytes,
      long maxClockDriftMs,
      boolean deltaSync,
      Clock clock)
      throws SQLException {
    this(file, deviceId, collections, maxDocumentBytes, maxClockDriftMs, deltaSync, true, clock);
  }

  /**
   * @param collections the declared document collections (others are refused)
   * @param deltaSync send a merge patch against the base when it is smaller than the document
   * @param deduplicate a put of the value the document already holds changes nothing and sends
   *     nothing ({@code bandwidth.deduplication})
   */
  public EdgeDocuments(
      Path file,
      String deviceId,
      Set<String> collections,
      int maxDocumentBytes,
      long maxClockDriftMs,
      boolean deltaSync,
      boolean deduplicate,
      Clock clock)
      throws SQLException {
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
    } catch (java.io.IOException e) {
      throw new SQLException("cannot create directory for " + file + ": " + e, e);
    }
    this.db = DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath());
    this.jdbc = new Jdbc(db, file.toAbsolutePath().toString());
    try (Statement st = db.createStatement()) {
      st.execute("PRAGMA journal_mode=WAL");
      st.execute("PRAGMA synchronous=FULL");
      st.execute("PRAGMA busy_timeout=5000");
    }
    Migrations.apply(db, EdgeDocuments.class, "db/docs/V1__docs.sql");
    db.setAutoCommit(false);
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
    // A command that was running when the agent stopped may or may not have done its work:
    // report it failed rather than run it twice.
    exec(
        "UPDATE commands SET state='failed', error='the agent stopped while the command ran',"
            + " confirmed=0 WHERE state='running'");
    // A command still waiting has a deadline in the previous run's time, and no clock measures
    // the time the agent was down (the wall clock may have been stepped meanwhile): its TTL can
    // no longer be honoured, so it is reported expired rather than perhaps run too late.
    exec(
        "UPDATE commands SET state='expired', error='"
            + EXPIRED_BY_RESTART
            + "', confirmed=0 WHERE state='received'");
    db.commit();
  }

  /**
   * Called (on the writer's thread) after each local write, for the adapter that drives the sync
   * engine ({@code EdgeAgent}, or the deterministic simulator): it calls {@code onDocChanged}.
   */
  public void setChangeListener(Runnable listener) {
    this.changeListener = listener;
  }

  /**
   * Called after a new command arrived, a command finished or commands expired before they could
   * run, for the adapter that runs handlers and tells the sync engine ({@code onCommandFinished}).
   */
  public void setCommandListener(Runnable listener) {
    this.commandListener = listener;
  }

  public Set<String> collections() {
    return collections;
  }

  public int maxDocumentBytes() {
    return maxDocumentBytes;
  }

  // ---------------------------------------------------------------- application API

  /** The document in this device's scope, if it exists. */
  public Optional<Document> get(String collection, String key) {
    return get(DEVICE, collection, key);
  }

  /** The document in a scope ({@code device}, {@code fleet}, {@code group:<name>}). */
  public synchronized Optional<Document> get(String scope, String collection, String key) {
    return Optional.ofNullable(row(scope, collection, key)).filter(d -> d.value() != null);
  }

  /** Documents of a collection in key order after {@code afterKey} ("" = from the start). */
  public synchronized List<Document> list(
      String scope, String collection, String afterKey, int limit) {
    return sql(
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

  /** Writes a document of this device; durable when it returns, synced when connected. */
  public Document put(String collection, String key, JsonNode value) {
    return put(DEVICE, collection, key, value);
  }

  /**
   * Writes a document of a scope this device reads: {@code device}, or a shared one ({@code fleet},
   * {@code group:<name>}) that the cloud and other devices may edit too (conflicts are decided by
   * the collection's strategy on the cloud).
   */
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

  /** Writes a document from JSON text; throws IllegalArgumentException naming a JSON error. */
  public Document put(String collection, String key, String json) {
    return put(collection, key, JsonDocs.parse(json));
  }

  /** Deletes a document of this device (a tombstone that syncs); false if it did not exist. */
  public boolean delete(String collection, String key) {
    return delete(DEVICE, collection, key);
  }

  public boolean delete(String scope, String collection, String key) {
    synchronized (this) {
      Document d = row(scope, collection, key);
      if (d == null || d.value() == null) {
        requireWritable(scope, collection, key);
        return false;
      }
    }
    write(scope, collection, key, null);
    return true;
  }

  /** Calls {@code listener} with every change of the collection (local or from the cloud). */
  public AutoCloseable watch(String scope, String collection, Consumer<Document> listener) {
    Watch w = new Watch(scope, collection, listener);
    watches.add(w);
    return () -> watches.remove(w);
  }

  /** The last HLC this device issued or merged. */
  public Hlc lastHlc() {
    return hlc.last();
  }

  /** Documents with a local change waiting for the cloud's outcome. */
  public synchronized long pendingCount() {
    return sql(() -> count("SELECT count(*) FROM docs WHERE pending_seq>0"));
  }

  /** Puts that changed nothing (the same value again) and so were not sent, since start. */
  public synchronized long deduplicatedCount() {
    return deduplicated;
  }

  public synchronized long conflictedCount() {
    return sql(() -> count("SELECT count(*) FROM docs WHERE conflicted=1"));
  }

  private Document write(String scope, String collection, String key, byte[] value) {
    requireWritable(scope, collection, key);
    Document after;
    synchronized (this) {
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
      after =
          sql(
              () -> {
                try {
                  int n =
                      jdbc.update(
                          "UPDATE docs SET value=?, hlc=?, pending_seq=?, updated_ms=? WHERE"
                              + " scope=? AND collection=? AND key=?",
                          value,
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
                        value,
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
  public synchronized Map<String, Long> cursors() {
    return sql(
        () -> {
          Map<String, Long> out = new LinkedHashMap<>();
          try (PreparedStatement ps =
                  db.prepareStatement("SELECT k, v FROM meta WHERE k LIKE 'cursor:%' ORDER BY k");
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

  @Override
  public synchronized List<DocChange> pendingChanges(
      long afterChangeSeq, int maxChanges, int maxBytes) {
    return sql(
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
                        rs.getBytes(3),
                        rs.getLong(4),
                        rs.getBytes(5),
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

  @Override
  public synchronized void acknowledged(long seq, List<Long> resendFull) {
    ackedChangeSeq = Math.max(ackedChangeSeq, seq);
    if (resendFull.isEmpty()) {
      return;
    }
    sql(
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
            db.commit();
          } catch (SQLException | RuntimeException e) {
            db.rollback();
            throw e;
          }
          return null;
        });
  }

  @Override
  public void apply(List<DocUpdate> updates) {
    List<Document> changed = new ArrayList<>();
    synchronized (this) {
      sql(
          () -> {
            try {
              Map<String, Long> cursors = new LinkedHashMap<>();
              for (DocUpdate u : updates) {
                Hlc remote = Hlc.fromWire(u.getHlc());
                hlc.observe(remote); // counts a drift if too far ahead...
                hlc.merge(remote); // ...but causality needs it merged regardless
                cursors.merge(u.getScope(), u.getVersion(), Math::max);
                if (applyOne(u, remote)) {
                  changed.add(row(u.getScope(), u.getCollection(), u.getKey()));
                }
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

  private boolean applyOne(DocUpdate u, Hlc remote) throws SQLException {
    long pendingSeq = 0;
    long version = 0;
    try (PreparedStatement ps =
        db.prepareStatement(
            "SELECT pending_seq, version FROM docs WHERE scope=? AND collection=? AND key=?")) {
      Jdbc.bind(ps, u.getScope(), u.getCollection(), u.getKey());
      try (ResultSet rs = ps.executeQuery()) {
        if (rs.next()) {
          pendingSeq = rs.getLong(1);
          version = rs.getLong(2);
        }
      }
    }
    boolean outcomeOfPending =
        pendingSeq == 0
            || pendingSeq <= ackedChangeSeq
            || (u.getOriginChangeSeq() != 0 && u.getOriginChangeSeq() >= pendingSeq);
    if (!outcomeOfPending || u.getVersion() < version) {
      return false; // a local edit waits for its own outcome, which will include this version
    }
    byte[] value = u.getBodyCase() == DocUpdate.BodyCase.VALUE ? u.getValue().toByteArray() : null;
    jdbc.update(
        "INSERT OR REPLACE INTO docs(scope, collection, key, value, version, base_value, hlc,"
            + " pending_seq, full_required, conflicted, updated_ms) VALUES (?,?,?,?,?,?,?,0,0,?,?)",
        u.getScope(),
        u.getCollection(),
        u.getKey(),
        value,
        u.getVersion(),
        value,
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

  // ---------------------------------------------------------------- commands

  @Override
  public CommandStatus received(Command command, long nowMs) {
    boolean fresh;
    CommandStatus status;
    synchronized (this) {
      status = commandStatus(command.getId());
      fresh = status == null;
      if (fresh) {
        sql(
            () -> {
              jdbc.update(
                  "INSERT INTO commands(id, name, payload, received_ms, deadline_ms, state,"
                      + " confirmed) VALUES (?,?,?,?,?,'received',0)",
                  command.getId(),
                  command.getName(),
                  command.getPayload().toByteArray(),
                  nowMs,
                  nowMs + Math.max(0, command.getTtlRemainingMs()));
              db.commit();
              return null;
            });
        status =
            CommandStatus.newBuilder()
                .setId(command.getId())
                .setState(CommandState.COMMAND_RECEIVED)
                .build();
      }
    }
    if (fresh) {
      commandListener.run();
    }
    return status;
  }

  @Override
  public synchronized List<CommandStatus> unconfirmed() {
    return sql(
        () -> {
          List<CommandStatus> out = new ArrayList<>();
          try (PreparedStatement ps =
                  db.prepareStatement(
                      "SELECT id FROM commands WHERE confirmed=0 AND state IN"
                          + " ('succeeded','failed','expired') ORDER BY received_ms");
              ResultSet rs = ps.executeQuery()) {
            List<String> ids = new ArrayList<>();
            while (rs.next()) {
              ids.add(rs.getString(1));
            }
            for (String id : ids) {
              out.add(commandStatus(id));
            }
          }
          db.commit();
          return out;
        });
  }

  @Override
  public synchronized void confirmed(String id) {
    sql(
        () -> {
          jdbc.update(
              "UPDATE commands SET confirmed=1 WHERE id=? AND state IN ('succeeded','failed','expired')",
              id);
          db.commit();
          return null;
        });
  }

  /**
   * Takes the oldest received command for running (state running), expiring those past their
   * deadline on the way (then the command listener is called, so that their statuses are reported
   * at once); {@code names} limits it to these command names (null: any). Null if none.
   */
  public PendingCommand takeCommand(Set<String> names, Set<String> excludeNames, long nowMs) {
    int[] expired = {0};
    PendingCommand taken;
    synchronized (this) {
      taken = take(names, excludeNames, nowMs, expired);
    }
    if (expired[0] > 0) {
      // Their EXPIRED statuses must go to the cloud now, not at the next reconnect.
      commandListener.run();
    }
    return taken;
  }

  private PendingCommand take(
      Set<String> names, Set<String> excludeNames, long nowMs, int[] expired) {
    return sql(
        () -> {
          try {
            expired[0] =
                jdbc.update(
                    "UPDATE commands SET state='expired', error='TTL passed before it could run',"
                        + " confirmed=0 WHERE state='received' AND deadline_ms<=?",
                    nowMs);
            PendingCommand found = null;
            try (PreparedStatement ps =
                db.prepareStatement(
                    "SELECT id, name, payload, deadline_ms FROM commands WHERE state='received'"
                        + " ORDER BY received_ms, id")) {
              try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                  String name = rs.getString(2);
                  if ((names == null || names.contains(name)) && !excludeNames.contains(name)) {
                    found =
                        new PendingCommand(
                            rs.getString(1), name, JsonDocs.parse(rs.getBytes(3)), rs.getLong(4));
                    break;
                  }
                }
              }
            }
            if (found != null) {
              jdbc.update("UPDATE commands SET state='running' WHERE id=?", found.id());
            }
            db.commit();
            return found;
          } catch (SQLException | RuntimeException e) {
            db.rollback();
            throw e;
          }
        });
  }

  /** Records a command's result; false if it is not running (unknown, or already finished). */
  public boolean finishCommand(String id, boolean succeeded, JsonNode result, String error) {
    boolean done;
    synchronized (this) {
      done =
          sql(
              () -> {
                int n =
                    jdbc.update(
                        "UPDATE commands SET state=?, result=?, error=?, confirmed=0 WHERE id=? AND"
                            + " state='running'",
                        succeeded ? "succeeded" : "failed",
                        result == null ? null : JsonDocs.bytes(result),
                        error,
                        id);
                db.commit();
                return n > 0;
              });
    }
    if (done) {
      commandListener.run();
    }
    return done;
  }

  /** The local state of a command (received, running, succeeded, failed, expired), or null. */
  public synchronized String commandState(String id) {
    return sql(
        () -> {
          try (PreparedStatement ps =
              db.prepareStatement("SELECT state FROM commands WHERE id=?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
              String s = rs.next() ? rs.getString(1) : null;
              db.commit();
              return s;
            }
          }
        });
  }

  /** How many times commands were started (for tests and metrics: a duplicate never starts). */
  public synchronized long commandsStarted() {
    return sql(
        () -> count("SELECT count(*) FROM commands WHERE state<>'received' AND state<>'expired'"));
  }

  private CommandStatus commandStatus(String id) {
    return sql(
        () -> {
          try (PreparedStatement ps =
              db.prepareStatement("SELECT state, result, error FROM commands WHERE id=?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
              if (!rs.next()) {
                return null;
              }
              CommandStatus.Builder b = CommandStatus.newBuilder().setId(id);
              b.setState(
                  switch (rs.getString(1)) {
                    case "succeeded" -> CommandState.COMMAND_SUCCEEDED;
                    case "failed" -> CommandState.COMMAND_FAILED;
                    case "expired" -> CommandState.COMMAND_EXPIRED;
                    default -> CommandState.COMMAND_RECEIVED;
                  });
              if (rs.getBytes(2) != null) {
                b.setResult(ByteString.copyFrom(rs.getBytes(2)));
              }
              if (rs.getString(3) != null) {
                b.setError(rs.getString(3));
              }
              return b.build();
            }
          }
        });
  }

  @Override
  public synchronized void close() {
    try {
      db.close();
    } catch (SQLException e) {
      // closing: nothing to report
    }
  }

  // ---------------------------------------------------------------- helpers

  private Document row(String scope, String collection, String key) {
    return sql(
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

  private static Document document(ResultSet rs) throws SQLException {
    byte[] value = rs.getBytes(4);
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

  /** A count, ending the read transaction. */
  private long count(String sql) throws SQLException {
    long v = jdbc.queryLong(sql, 0);
    db.commit();
    return v;
  }

  private void exec(String sql) throws SQLException {
    try (Statement st = db.createStatement()) {
      st.execute(sql);
    }
  }

  private interface SqlWork<T> {
    T run() throws SQLException, io.edgesync.protocol.ProtocolException;
  }

  private <T> T sql(SqlWork<T> work) {
    try {
      return work.run();
    } catch (SQLException e) {
      throw jdbc.failure("document store", e);
    } catch (io.edgesync.protocol.ProtocolException e) {
      throw new IllegalStateException(
          "invalid document update from the cloud: " + e.getMessage(), e);
    }
  }
}
