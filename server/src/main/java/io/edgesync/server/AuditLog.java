package io.edgesync.server;

import io.edgesync.server.AuditChain.Entry;
import io.edgesync.support.jdbc.Jdbc;
import java.security.KeyPair;
import java.security.PublicKey;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cloud store's one tamper-evident audit log (table {@code audit_log}, {@code
 * db/V7__audit_chain.sql}; the hash in {@link AuditChain}). Every record is appended on the
 * document store's writer thread, inside the transaction whose change it records, so the log's
 * order is the commit order and a record exists exactly when its change does.
 *
 * <p><b>Action names</b> (documented in docs/security.md): {@code conflict.resolve} (a conflict
 * decided by a strategy or resolved by an operator), {@code document.flag} (a write applied but
 * flagged, e.g. for clock drift), {@value AuditChain#CHECKPOINT}; other features add theirs with
 * {@link #append} ({@code apikey.create}, {@code cert.issue}, {@code enroll}, ...).
 *
 * <p><b>Checkpoints.</b> Once {@link #enableCheckpoints} gave it a key, the log appends a signed
 * checkpoint after every {@code everyRecords} records, and a timer appends one every {@code
 * intervalMs} while records are unanchored.
 *
 * <p>Threads: the chain head ({@link #seq}, {@link #hash}, {@link #sinceCheckpoint}) is owned by
 * the document writer thread, under the store's monitor; {@link #append} may be called from any
 * thread other than that one.
 */
public final class AuditLog implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AuditLog.class);
  private static final String INSERT =
      "INSERT INTO audit_log(seq, at_ms, actor, action, target, details, prev, hash) VALUES ";
  private static final int COLUMNS = 8;

  /** Rows per multi-row statement (and the smaller sizes used for the rest). */
  private static final int[] ROWS_PER_STATEMENT = {32, 4, 1};

  static final String SELECT =
      "SELECT seq, at_ms, actor, action, target, details, prev, hash FROM audit_log";

  /** Where the head was: what a failed transaction or group rolls back to. */
  record Mark(long seq, byte[] hash, long sinceCheckpoint, int pendingRows) {}

  /** Runs work in a document transaction (on the writer thread) and completes with its result. */
  interface Transactions {
    <T> CompletableFuture<T> run(java.util.function.Supplier<T> work);
  }

  private final Jdbc jdbc;
  private final Object lock;
  private final Transactions transactions;
  private final LongSupplier nowMs;
  private long seq;
  private byte[] hash;
  private volatile long sinceCheckpoint;
  private volatile KeyPair key;
  private long everyRecords = Long.MAX_VALUE;
  private ScheduledExecutorService timer;

  /** Rows appended in the running group, written by {@link #flush} just before its commit. */
  private final List<Object[]> pending = new ArrayList<>();

  AuditLog(Jdbc jdbc, Object lock, Transactions transactions, LongSupplier nowMs)
      throws SQLException {
    this.jdbc = jdbc;
    this.lock = lock;
    this.transactions = transactions;
    this.nowMs = nowMs;
    List<Entry> last = jdbc.list(SELECT + " ORDER BY seq DESC LIMIT 1", AuditLog::read);
    seq = last.isEmpty() ? 0 : last.get(0).seq();
    hash = last.isEmpty() ? new byte[AuditChain.HASH_BYTES] : last.get(0).hash();
    sinceCheckpoint =
        jdbc.queryLong(
            "SELECT ? - coalesce(max(seq), 0) FROM audit_log WHERE action=?",
            0,
            seq,
            AuditChain.CHECKPOINT);
  }

  /**
   * Signs a checkpoint with {@code key} after every {@code everyRecords} records and, while records
   * are unanchored, every {@code intervalMs}.
   */
  public synchronized void enableCheckpoints(KeyPair key, long everyRecords, long intervalMs) {
    if (everyRecords < 1 || intervalMs < 1) {
      throw new IllegalArgumentException(
          "audit checkpoints need everyRecords >= 1 and intervalMs >= 1, were "
              + everyRecords
              + " and "
              + intervalMs);
    }
    synchronized (lock) {
      this.everyRecords = everyRecords;
      this.key = key;
    }
    if (timer == null) {
      timer = Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("edgesync-audit"));
      timer.scheduleWithFixedDelay(
          this::checkpointIfUnanchored, intervalMs, intervalMs, TimeUnit.MILLISECONDS);
    }
  }

  /** The public key checkpoints are signed with, or null before {@link #enableCheckpoints}. */
  public PublicKey publicKey() {
    KeyPair k = key;
    return k == null ? null : k.getPublic();
  }

  /**
   * Appends a record in a transaction of its own and returns its sequence number once committed.
   * {@code details} is written as canonical JSON ({@link CanonicalJson}); {@code actor} is who (an
   * API key's name, {@code $server}, a device id), {@code target} what it acted on.
   */
  public long append(String actor, String action, String target, Map<String, ?> details) {
    String text = CanonicalJson.write(details == null ? Map.of() : details);
    return transactions.run(() -> appendNow(nowMs.getAsLong(), actor, action, target, text)).join();
  }

  /**
   * Runs {@code work} in a document transaction of its own and returns its result: the SQL it runs
   * on the store's connection and the records it appends with {@link #appendInTransaction} commit
   * together, or, if it throws, none of them (the exception is rethrown as it was).
   */
  <T> T inTransaction(java.util.function.Supplier<T> work) {
    try {
      return transactions
          .run(
              () -> {
                takeWriteLock();
                return work.get();
              })
          .join();
    } catch (java.util.concurrent.CompletionException e) {
      if (e.getCause() instanceof RuntimeException re) {
        throw re;
      }
      throw e;
    }
  }

  /** Appends a record inside the work of {@link #inTransaction} (details as canonical JSON). */
  long appendInTransaction(String actor, String action, String target, Map<String, ?> details) {
    String text = CanonicalJson.write(details == null ? Map.of() : details);
    return appendNow(nowMs.getAsLong(), actor, action, target, text);
  }

  /** Appends inside the running document transaction (writer thread, under the monitor). */
  long appendNow(long atMs, String actor, String action, String target, String details) {
    long s = insert(atMs, actor, action, target, details);
    sinceCheckpoint++;
    if (sinceCheckpoint >= everyRecords) {
      checkpoint(atMs);
    }
    return s;
  }

  private long insert(long atMs, String actor, String action, String target, String details) {
    long next = seq + 1;
    byte[] h = AuditChain.hash(next, atMs, actor, action, target, details, hash);
    pending.add(new Object[] {next, atMs, actor, action, target, details, hash, h});
    seq = next;
    hash = h;
    return next;
  }

  private void checkpoint(long atMs) {
    insert(atMs, AuditChain.SERVER_ACTOR, AuditChain.CHECKPOINT, "audit", anchor(seq, hash));
    sinceCheckpoint = 0;
  }

  /** A checkpoint's details: the record it anchors ({@code seq}, {@code hash}), signed. */
  private String anchor(long anchoredSeq, byte[] anchoredHash) {
    KeyPair k = key;
    Map<String, Object> d = new LinkedHashMap<>();
    d.put("seq", anchoredSeq);
    d.put("hash", AuditChain.hex(anchoredHash));
    d.put("key", AuditKeys.keyId(k.getPublic()));
    d.put(
        "sig",
        AuditChain.hex(
            AuditKeys.sign(k.getPrivate(), AuditChain.anchorMessage(anchoredSeq, anchoredHash))));
    return CanonicalJson.write(d);
  }

  /**
   * Chains the group's records onto the head the file holds now, if another process (the offline
   * CLI: {@code keys create}, {@code enroll token}) appended since this one last read it: their
   * numbers, {@code prev} and hashes are computed again from that head, and a checkpoint among them
   * is signed again for what it now anchors. Called in the group's transaction, where the writer
   * holds the file's write lock (or takes it with the first insert, which fails rather than forks
   * if another process wrote in between).
   */
  private void rebaseOntoStoredHead() throws SQLException {
    if (pending.isEmpty()) {
      return;
    }
    takeWriteLock();
    List<Entry> last = jdbc.list(SELECT + " ORDER BY seq DESC LIMIT 1", AuditLog::read);
    long storedSeq = last.isEmpty() ? 0 : last.get(0).seq();
    byte[] storedHash = last.isEmpty() ? new byte[AuditChain.HASH_BYTES] : last.get(0).hash();
    Object[] first = pending.get(0);
    if ((long) first[0] == storedSeq + 1 && Arrays.equals((byte[]) first[6], storedHash)) {
      return;
    }
    log.info(
        "the audit log's head moved to record {} outside this server (an offline CLI command);"
            + " chaining {} pending record(s) after it",
        storedSeq,
        pending.size());
    long s = storedSeq;
    byte[] h = storedHash;
    for (Object[] row : pending) {
      if (AuditChain.CHECKPOINT.equals(row[3]) && key != null) {
        row[5] = anchor(s, h);
      }
      s++;
      byte[] next =
          AuditChain.hash(
              s,
              (long) row[1],
              (String) row[2],
              (String) row[3],
              (String) row[4],
              (String) row[5],
              h);
      row[0] = s;
      row[6] = h;
      row[7] = next;
      h = next;
    }
    seq = s;
    hash = h;
  }

  /**
   * Takes the file's write lock now, by a write that changes nothing (a transaction that wrote
   * already holds it). Work that reads before it writes calls this first: SQLite cannot let a
   * transaction that has read wait for the write lock that another process (the offline CLI) holds,
   * and fails it at once with SQLITE_BUSY; a transaction that asks for the lock first waits up to
   * busy_timeout.
   */
  private void takeWriteLock() {
    jdbc.call(
        "taking the write lock", () -> jdbc.update("UPDATE audit_log SET seq = seq WHERE seq < 0"));
  }

  /** The timer's turn: anchors the records written since the last checkpoint, if any. */
  private void checkpointIfUnanchored() {
    if (sinceCheckpoint == 0 || key == null) {
      return;
    }
    try {
      transactions
          .run(
              () -> {
                if (sinceCheckpoint > 0) {
                  checkpoint(nowMs.getAsLong());
                }
                return null;
              })
          .join();
    } catch (RuntimeException e) {
      log.warn("audit checkpoint failed (retried at the next interval): {}", e.toString());
    }
  }

  Mark mark() {
    return new Mark(seq, hash, sinceCheckpoint, pending.size());
  }

  void restore(Mark m) {
    seq = m.seq();
    hash = m.hash();
    sinceCheckpoint = m.sinceCheckpoint();
    pending.subList(m.pendingRows(), pending.size()).clear();
  }

  /**
   * Writes the group's records with multi-row statements (inside the group's transaction, before
   * its commit), so that a record costs no statement of its own on the writer thread.
   */
  void flush() throws SQLException {
    rebaseOntoStoredHead();
    int done = 0;
    for (int i = 0; i < ROWS_PER_STATEMENT.length; i++) {
      int n = ROWS_PER_STATEMENT[i];
      for (; pending.size() - done >= n; done += n) {
        PreparedStatement ps = jdbc.prepared(INSERT + rows(n));
        int p = 1;
        for (Object[] row : pending.subList(done, done + n)) {
          for (Object v : row) {
            bind(ps, p++, v);
          }
        }
        ps.executeUpdate();
      }
    }
    pending.clear();
  }

  /** After the group, committed or not. */
  void endGroup() {
    pending.clear();
  }

  private static void bind(PreparedStatement ps, int index, Object v) throws SQLException {
    if (v instanceof byte[] b) {
      ps.setBytes(index, b);
    } else {
      ps.setObject(index, v);
    }
  }

  private static String rows(int n) {
    String row = "(" + "?,".repeat(COLUMNS - 1) + "?)";
    return String.join(",", Collections.nCopies(n, row));
  }

  /** Records after {@code afterSeq} in order, at most {@code limit} (a read of its own). */
  public List<Entry> read(long afterSeq, int limit) {
    synchronized (lock) {
      return new StoreSql(jdbc, "audit log")
          .readCommitted(
              SELECT + " WHERE seq>? ORDER BY seq LIMIT ?", AuditLog::read, afterSeq, limit);
    }
  }

  /**
   * The targets of the records with {@code action}, in order (a read of its own). It scans the
   * table: for start-up reads, not for every request.
   */
  List<String> targetsOf(String action) {
    synchronized (lock) {
      return new StoreSql(jdbc, "audit log")
          .readCommitted(
              "SELECT target FROM audit_log WHERE action=? ORDER BY seq",
              rs -> rs.getString(1),
              action);
    }
  }

  /** Verifies the stored chain with the checkpoint key (pages of reads between writes). */
  public AuditVerifier.Report verify(PublicKey publicKey) {
    AuditVerifier v = new AuditVerifier(publicKey);
    List<Entry> page;
    do {
      page = read(v.nextSeq() - 1, 1000);
      for (Entry e : page) {
        if (!v.accept(e)) {
          return v.report();
        }
      }
    } while (!page.isEmpty());
    return v.report();
  }

  static Entry read(ResultSet rs) throws SQLException {
    return new Entry(
        rs.getLong(1),
        rs.getLong(2),
        rs.getString(3),
        rs.getString(4),
        rs.getString(5),
        rs.getString(6),
        rs.getBytes(7),
        rs.getBytes(8));
  }

  @Override
  public synchronized void close() {
    if (timer != null) {
      timer.shutdownNow();
    }
  }
}
