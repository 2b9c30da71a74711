package io.edgesync.server;

import io.edgesync.engine.cloud.CloudStore;
import io.edgesync.engine.commands.CommandStore;
import io.edgesync.engine.dict.DictionaryStore;
import io.edgesync.engine.docs.DocumentStore;
import io.edgesync.protocol.ProtocolException;
import io.edgesync.protocol.Record;
import io.edgesync.protocol.RecordLayout;
import io.edgesync.protocol.wire.GapReason;
import io.edgesync.support.Migrations;
import io.edgesync.support.jdbc.Jdbc;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The cloud's {@link CloudStore}: by default one embedded SQLite file (WAL, {@code
 * synchronous=FULL}, so a commit is on disk when it returns); the same class runs on PostgreSQL
 * ({@link #onPostgres}, opened by {@link CloudStores}: one connection of a pool, schema by Flyway
 * in {@code db/postgres/}), whose SQL is written once for both ({@link StoreDialect} has what
 * differs). The name is historic. Records are stored as committed batches, one row per batch in
 * {@link RecordLayout} encoding, which keeps a commit to a single row insert.
 *
 * <p>Schema in {@code db/V1__init.sql} and later scripts: {@code devices}; {@code streams} (per
 * device and stream: the checkpoint, counters, and the bytes its batches cost on the wire, from
 * {@code V3__wire_accounting.sql}); {@code batches} (records stored decoded, in the record layout,
 * whatever codec carried them, so reads never need a session's codec state); {@code gaps}; {@code
 * dictionaries} (trained zstd dictionaries per stream, {@code V5__dictionaries.sql}); {@code
 * api_keys} (the REST API's keys, hashed, {@code V6__api_keys.sql}); {@code audit_log} (the
 * hash-chained audit log, {@link AuditLog}, {@code V7__audit_chain.sql}); {@code enrollment_tokens}
 * (one-time enrollment tokens, hashed, {@link EnrollmentTokens}, {@code
 * V8__enrollment_tokens.sql}); file versions, rollouts and uploads ({@code V9__files.sql}, {@link
 * io.edgesync.server.files.FileStore}, {@link io.edgesync.server.files.UploadStore}); what
 * retention expired per stream ({@code V11__retention.sql}, {@link StreamExpiry}; V10 is taken by
 * another change); {@code file_chunks} ({@code V12__file_chunks.sql}: used on PostgreSQL only,
 * {@link #fileChunks}).
 *
 * <p>Thread safe: all access is serialized on this object (one connection); the checkpoint cache is
 * guarded by the same monitor. It is this process's view: on PostgreSQL another server node's
 * commits do not update it. On PostgreSQL a lost connection is replaced by a fresh one of the pool
 * at the next call ({@link PostgresReconnect}), and the caches are read again from the database.
 */
public final class SqliteCloudStore implements CloudStore {
  private final Jdbc jdbc;
  private final PostgresReconnect reconnect; // null on SQLite, whose connection is a file
  private final Map<String, Map<String, Long>> checkpointCache = new HashMap<>();

  /** The session epoch this node holds per device it claimed ({@link #claimSession}). */
  private final Map<String, Long> claims = new HashMap<>();

  private String nodeId = "local";
  private final SqliteDocuments documents;
  private final SqliteCommands commands;
  private final SqliteDictionaries dictionaries;
  private final ApiKeys apiKeys;
  private final Leases leases;
  private final EnrollmentTokens enrollmentTokens;
  private final io.edgesync.server.files.FileStore files;
  private final io.edgesync.server.files.UploadStore uploads;
  private final Path file; // the SQLite file; null on PostgreSQL
  private final PostgresDatabase database; // the PostgreSQL pool; null on SQLite
  private final StoreDialect dialect;
  private WalCheckpointer checkpointer; // guarded by this

  /** With a background checkpoint, commits checkpoint only past this log size (256 MiB). */
  private static final int BACKSTOP_AUTOCHECKPOINT_PAGES = 65_536;

  private static final String INSERT_BATCH =
      "INSERT INTO batches(device, stream, first_seq, last_seq, committed_at_ms, data)"
          + " VALUES (?,?,?,?,?,?)";
  private static final String INSERT_GAP =
      "INSERT INTO gaps(device, stream, first_seq, last_seq, reason, dropped_at_ms,"
          + " committed_at_ms) VALUES (?,?,?,?,?,?,?)";

  /** Adds a commit's counts to its stream's row (made on the stream's first commit). */
  private static final String BUMP_STREAM =
      "INSERT INTO streams(device, stream, last_seq, records, payload_bytes, gaps,"
          + " dropped_records, wire_batches, wire_raw_bytes, wire_payload_bytes,"
          + " wire_frame_bytes) VALUES (?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(device, stream)"
          + " DO UPDATE SET last_seq=CASE WHEN excluded.last_seq > streams.last_seq"
          + " THEN excluded.last_seq ELSE streams.last_seq END,"
          + " records=streams.records+excluded.records,"
          + " payload_bytes=streams.payload_bytes+excluded.payload_bytes,"
          + " gaps=streams.gaps+excluded.gaps,"
          + " dropped_records=streams.dropped_records+excluded.dropped_records,"
          + " wire_batches=streams.wire_batches+excluded.wire_batches,"
          + " wire_raw_bytes=streams.wire_raw_bytes+excluded.wire_raw_bytes,"
          + " wire_payload_bytes=streams.wire_payload_bytes+excluded.wire_payload_bytes,"
          + " wire_frame_bytes=streams.wire_frame_bytes+excluded.wire_frame_bytes";

  private static final String DEVICE_COLUMNS = "id, registered_at_ms, last_seen_ms";

  public SqliteCloudStore(Path file) throws SQLException {
    this(file, SqliteDocuments.HISTORY_VERSIONS, () -> java.util.UUID.randomUUID().toString());
  }

  /**
   * A store whose command ids come from {@code commandIds} (random UUIDs by default; the
   * deterministic simulator gives its own, so that a seed replays exactly). Ids must be unique.
   */
  public SqliteCloudStore(Path file, java.util.function.Supplier<String> commandIds)
      throws SQLException {
    this(file, SqliteDocuments.HISTORY_VERSIONS, commandIds);
  }

  /** With a document history of {@code historyVersions} versions (tests use small ones). */
  SqliteCloudStore(Path file, long historyVersions) throws SQLException {
    this(file, historyVersions, () -> java.util.UUID.randomUUID().toString());
  }

  /**
   * A store that keeps the newest {@code historyVersions} document versions as merge bases (the
   * default is {@code 2^20}; the simulator uses a short one so that bases do leave the history) and
   * takes command ids from {@code commandIds}.
   */
  public SqliteCloudStore(
      Path file, long historyVersions, java.util.function.Supplier<String> commandIds)
      throws SQLException {
    this(
        openSqlite(file),
        file.toAbsolutePath().toString(),
        file,
        null,
        historyVersions,
        commandIds);
  }

  /**
   * The same store on PostgreSQL: one connection of {@code database}'s pool, held for the store's
   * life (schema migrated already, {@link PostgresDatabase}); closing the store closes the pool.
   */
  static SqliteCloudStore onPostgres(
      PostgresDatabase database,
      long historyVersions,
      java.util.function.Supplier<String> commandIds)
      throws SQLException {
    return new SqliteCloudStore(
        database.connection(), database.url(), null, database, historyVersions, commandIds);
  }

  private SqliteCloudStore(
      Connection db,
      String name,
      Path file,
      PostgresDatabase database,
      long historyVersions,
      java.util.function.Supplier<String> commandIds)
      throws SQLException {
    this.file = file;
    this.database = database;
    this.reconnect =
        database == null ? null : new PostgresReconnect(database, this::forgetAfterReconnect);
    try {
      db.setAutoCommit(false);
      dialect = StoreDialect.of(db);
      jdbc = new Jdbc(db, name, reconnect);
      documents = new SqliteDocuments(jdbc, this, historyVersions);
      commands = new SqliteCommands(jdbc, this, commandIds);
      dictionaries = new SqliteDictionaries(jdbc, this);
      apiKeys = new ApiKeys(jdbc, this, documents.auditLog());
      leases = new Leases(jdbc, this);
      enrollmentTokens = new EnrollmentTokens(jdbc, this, documents.auditLog());
      files = new io.edgesync.server.files.FileStore(jdbc, this);
      uploads = new io.edgesync.server.files.UploadStore(jdbc, this);
      jdbc.prepared(INSERT_BATCH); // the hot statements are prepared before the first commit
      jdbc.prepared(BUMP_STREAM);
    } catch (SQLException | RuntimeException e) {
      db.close();
      if (database != null) {
        database.close();
      }
      throw e;
    }
  }

  /**
   * After a lost connection was replaced (under the monitor): what this node keeps in memory of the
   * database is read again, since other nodes may have committed meanwhile, and a commit whose
   * answer the lost connection never brought may have been stored. Session claims stay: each commit
   * checks its claim against the database anyway ({@link #checkClaim}).
   */
  private void forgetAfterReconnect() {
    checkpointCache.clear();
    documents.forgetCached();
  }

  /** Lost PostgreSQL connections replaced by fresh ones since the store opened (0 on SQLite). */
  public long reconnects() {
    return reconnect == null ? 0 : reconnect.reconnects();
  }

  /**
   * Opens the SQLite file (made if new), WAL and durable commits, migrated to the newest schema.
   */
  private static Connection openSqlite(Path file) throws SQLException {
    try {
      Path parent = file.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
    } catch (IOException e) {
      throw new SQLException("cannot create directory for " + file + ": " + e, e);
    }
    Connection db =
        DriverManager.getConnection(
            "jdbc:sqlite:" + file.toAbsolutePath() + "?jdbc.get_generated_keys=false");
    try (Statement st = db.createStatement()) {
      st.execute("PRAGMA journal_mode=WAL");
      st.execute("PRAGMA synchronous=FULL");
      st.execute("PRAGMA busy_timeout=5000");
      // Documents update random pages of a few tables: a 64 MiB page cache keeps them in memory,
      // and a 64 MiB WAL between checkpoints keeps a checkpoint from following every commit.
      st.execute("PRAGMA cache_size=-65536");
      st.execute("PRAGMA wal_autocheckpoint=16384");
      Migrations.apply(
          db,
          SqliteCloudStore.class,
          "db/V1__init.sql",
          "db/V2__documents.sql",
          "db/V3__wire_accounting.sql",
          "db/V4__doc_log.sql",
          "db/V5__dictionaries.sql",
          "db/V6__api_keys.sql",
          "db/V7__audit_chain.sql",
          "db/V8__enrollment_tokens.sql",
          "db/V9__files.sql",
          "db/V10__sessions_leases.sql",
          "db/V11__retention.sql",
          "db/V12__file_chunks.sql",
          "db/V13__doc_collected.sql");
    } catch (SQLException | RuntimeException e) {
      db.close();
      throw e;
    }
    return db;
  }

  /**
   * The hash-chained audit log in the same file, appended on the document writer thread ({@code
   * db/V7__audit_chain.sql}).
   */
  public AuditLog auditLog() {
    return documents.auditLog();
  }

  /** Conflicts by strategy and status, for the metrics. */
  List<ConflictRows.Tally> conflictTallies() {
    return documents.conflictTallies();
  }

  /** Documents, conflicts and audit in the same file (and under the same monitor). */
  @Override
  public DocumentStore documents() {
    return documents;
  }

  @Override
  public CommandStore commands() {
    return commands;
  }

  /** Trained dictionaries in the same file (and under the same monitor). */
  @Override
  public DictionaryStore dictionaries() {
    return dictionaries;
  }

  /**
   * One-time enrollment tokens, in the same file ({@code db/V8__enrollment_tokens.sql}); each
   * change is committed with its audit record.
   */
  public EnrollmentTokens enrollmentTokens() {
    return enrollmentTokens;
  }

  /**
   * Published file versions and rollouts, in the same file ({@code db/V9__files.sql}); publishes
   * and rollout changes commit with their audit record ({@link #auditedTransactions}).
   */
  public io.edgesync.server.files.FileStore files() {
    return files;
  }

  /**
   * Where file chunks are kept: on PostgreSQL in the database (table {@code file_chunks}, {@link
   * io.edgesync.server.files.PostgresChunkStore}, on connections of the pool, not the store's), so
   * that every node serves every chunk; on SQLite on disk under {@code server.files.dir}, as before
   * ({@code V12} makes the table there too, unused).
   */
  public io.edgesync.server.files.CloudFiles.ChunkPlace fileChunks() {
    return database == null
        ? io.edgesync.server.files.CloudFiles.ChunkPlace.DISK
        : io.edgesync.server.files.CloudFiles.ChunkPlace.database(
            database.dataSource(), database.url());
  }

  /** Devices' uploads, in the same file ({@code db/V9__files.sql}). */
  public io.edgesync.server.files.UploadStore uploads() {
    return uploads;
  }

  /** Transactions whose SQL and audit records commit together (for the file tables). */
  public io.edgesync.server.files.AuditedTransactions auditedTransactions() {
    AuditLog log = auditLog();
    return new io.edgesync.server.files.AuditedTransactions() {
      @Override
      public <T> T inTransaction(java.util.function.Supplier<T> work) {
        return log.inTransaction(work);
      }

      @Override
      public void append(String actor, String action, String target, Map<String, ?> details) {
        log.appendInTransaction(actor, action, target, details);
      }
    };
  }

  /**
   * How this node hears of other nodes' changes: NOTIFY/LISTEN on PostgreSQL ({@link
   * io.edgesync.server.cluster.PostgresBus}, two connections of the pool), {@link
   * io.edgesync.server.cluster.ClusterBus#NONE} on SQLite, whose file one node uses alone.
   */
  public io.edgesync.server.cluster.ClusterBus clusterBus(String node) {
    return database == null
        ? io.edgesync.server.cluster.ClusterBus.NONE
        : new io.edgesync.server.cluster.PostgresBus(node, database.dataSource());
  }

  /** Leases on work that runs on one node at a time, in the same file ({@code V10}). */
  public Leases leases() {
    return leases;
  }

  /**
   * Retention of this store's stream batches ({@link StreamExpiry}; counters in {@code
   * db/V11__retention.sql}), under the same monitor, one bounded transaction at a time.
   */
  public StreamExpiry streamExpiry(
      RetentionRules rules, ExpiryHold hold, io.edgesync.protocol.Clock clock) {
    return streamExpiry(rules, hold, clock, StreamExpiry.MAX_BATCHES_PER_TRANSACTION);
  }

  /** The same, deleting at most {@code maxBatchesPerTransaction} at a time (tests use few). */
  StreamExpiry streamExpiry(
      RetentionRules rules,
      ExpiryHold hold,
      io.edgesync.protocol.Clock clock,
      int maxBatchesPerTransaction) {
    return new StreamExpiry(
        new ExpirySql(jdbc, this), rules, hold, clock, maxBatchesPerTransaction);
  }

  /** The REST API's keys, in the same file (and under the same monitor). */
  public ApiKeys apiKeys() {
    return apiKeys;
  }

  @Override
  public synchronized Optional<Device> device(String deviceId) {
    return first(
        "reading device " + deviceId,
        "SELECT " + DEVICE_COLUMNS + " FROM devices WHERE id=?",
        SqliteCloudStore::readDevice,
        deviceId);
  }

  @Override
  public synchronized Device registerDevice(String deviceId, long nowMs) {
    write(
        "registering device " + deviceId,
        "INSERT INTO devices(id, registered_at_ms, last_seen_ms) VALUES (?,?,?)"
            + " ON CONFLICT(id) DO NOTHING",
        deviceId,
        nowMs,
        nowMs);
    return device(deviceId).orElseThrow();
  }

  /** Reads first: a device bound already (every Hello after its first) costs no write. */
  @Override
  public synchronized String bindStore(String deviceId, String storeId) {
    Optional<String> bound = boundStore(deviceId);
    if (bound.isPresent()) {
      return bound.get();
    }
    write(
        "binding device " + deviceId + " to its store",
        "UPDATE devices SET store_id=? WHERE id=? AND store_id IS NULL",
        storeId,
        deviceId);
    return boundStore(deviceId).orElse(storeId);
  }

  @Override
  public synchronized Optional<String> boundStore(String deviceId) {
    return first(
            "reading the store of device " + deviceId,
            "SELECT store_id FROM devices WHERE id=?",
            rs -> Optional.ofNullable(rs.getString(1)),
            deviceId)
        .flatMap(id -> id);
  }

  /**
   * Names this node in the claims it makes ({@code devices.session_node}, for operators: which node
   * holds a device's session).
   */
  public synchronized void nodeId(String nodeId) {
    this.nodeId = nodeId;
    documents.nodeId(nodeId);
  }

  @Override
  public synchronized long claimSession(String deviceId, long nowMs) {
    long epoch =
        inUnflushedTransaction( // a claim lost in a power failure ended with its sessions
            "claiming the session of device " + deviceId,
            () ->
                jdbc.queryLong(
                    "UPDATE devices SET session_epoch=session_epoch+1, session_node=?,"
                        + " last_seen_ms=? WHERE id=? RETURNING session_epoch",
                    -1,
                    nodeId,
                    nowMs,
                    deviceId));
    if (epoch < 0) {
      throw new IllegalStateException("claiming the session of unregistered device " + deviceId);
    }
    claims.put(deviceId, epoch);
    checkpointCache.remove(deviceId); // the previous holder may have committed since they were read
    return epoch;
  }

  /**
   * Inside a commit's transaction: if this node claimed the device's session, the claim must still
   * be the device's newest. The no-op update also locks the device's row (on PostgreSQL), so a
   * newer claim waits for this commit, and reads checkpoints that include it, or this commit waits
   * for the claim and sees its epoch.
   */
  private void checkClaim(String deviceId) throws SQLException {
    Long epoch = claims.get(deviceId);
    if (epoch != null
        && jdbc.update(
                "UPDATE devices SET session_epoch=session_epoch WHERE id=? AND session_epoch=?",
                deviceId,
                epoch)
            == 0) {
      throw fenced(deviceId); // the stale claim stays: every later commit is fenced too
    }
  }

  /** The device's session epoch as stored ({@code fallback} if it has no row). */
  private long storedEpoch(String deviceId, long fallback) {
    return jdbc.call(
        "reading the session epoch of device " + deviceId,
        () -> jdbc.queryLong("SELECT session_epoch FROM devices WHERE id=?", fallback, deviceId));
  }

  private static SessionFencedException fenced(String deviceId) {
    return new SessionFencedException(
        "device "
            + deviceId
            + " has a newer session through another server node; this node no longer commits"
            + " for it");
  }

  @Override
  public synchronized void touchDevice(String deviceId, long nowMs) {
    inUnflushedTransaction( // a last-seen time lost in a power failure is only older
        "updating device " + deviceId,
        () -> jdbc.update("UPDATE devices SET last_seen_ms=? WHERE id=?", nowMs, deviceId));
  }

  /** Runs one statement and commits; on failure rolls back (and forgets cached checkpoints). */
  private void write(String operation, String sql, Object... args) {
    inTransaction(operation, () -> jdbc.update(sql, args));
  }

  /** {@link #inTransaction} whose commit is not flushed ({@link StoreDialect}). */
  private <T> T inUnflushedTransaction(String operation, Jdbc.SqlWork<T> work) {
    try {
      return dialect.inUnflushedTransaction(jdbc, operation, work);
    } catch (RuntimeException | Error e) {
      checkpointCache.clear();
      throw e;
    }
  }

  /**
   * {@link Jdbc#inTransaction}; a failure also forgets the cached checkpoints (they are read again
   * from what the file holds).
   */
  private <T> T inTransaction(String operation, Jdbc.SqlWork<T> work) {
    try {
      return jdbc.inTransaction(operation, work);
    } catch (RuntimeException | Error e) {
      checkpointCache.clear();
      throw e;
    }
  }

  /** Ends a read's transaction ({@link StoreDialect#endRead}), unless a document group is open. */
  private void endRead() throws SQLException {
    if (!documents.onWriterThread()) {
      dialect.endRead(jdbc);
    }
  }

  /** The first row of a query of fixed text, if any. */
  private <T> Optional<T> first(
      String operation, String sql, Jdbc.RowReader<T> reader, Object... args) {
    List<T> rows = list(operation, sql, reader, args);
    return rows.isEmpty() ? Optional.empty() : Optional.of(rows.get(0));
  }

  /**
   * Every row of a query of fixed text (the statement stays prepared), outside any transaction
   * (then the read ends: {@link StoreDialect#endRead}).
   */
  private <T> List<T> list(String operation, String sql, Jdbc.RowReader<T> reader, Object... args) {
    return jdbc.call(
        operation,
        () -> {
          List<T> rows = StoreSql.rows(jdbc, sql, reader, args);
          endRead();
          return rows;
        });
  }

  private static Device readDevice(ResultSet rs) throws SQLException {
    return new Device(rs.getString(1), rs.getLong(2), rs.getLong(3));
  }

  @Override
  public synchronized Map<String, Long> checkpoints(String deviceId) {
    return Map.copyOf(cached(deviceId));
  }

  @Override
  public synchronized long commitRecords(
      String deviceId, String stream, List<Record> records, long nowMs) throws SequenceException {
    return commitRecords(deviceId, stream, records, nowMs, null);
  }

  @Override
  public synchronized long commitRecords(
      String deviceId, String stream, List<Record> records, long nowMs, WireBytes wire)
      throws SequenceException {
    long last = checkSequence(deviceId, stream, records.get(0).sequence());
    List<Record> fresh = records;
    if (records.get(0).sequence() <= last) {
      fresh = records.stream().filter(r -> r.sequence() > last).toList();
    }
    if (fresh.isEmpty()) {
      if (wire != null) {
        // A resend of what is already committed: nothing to store, but it crossed the link.
        inTransaction(
            "counting a resent batch of " + deviceId + "/" + stream,
            () -> {
              checkClaim(deviceId);
              return bumpStream(deviceId, stream, last, 0, 0, 0, 0, wire);
            });
      }
      return last;
    }
    long first = fresh.get(0).sequence();
    long newLast = fresh.get(fresh.size() - 1).sequence();
    long bytes = 0;
    for (Record r : fresh) {
      bytes += r.payload().length;
    }
    long payloadBytes = bytes;
    List<Record> stored = fresh;
    inTransaction(
        "committing " + fresh.size() + " records of " + deviceId + "/" + stream,
        () -> {
          checkClaim(deviceId);
          jdbc.update(
              INSERT_BATCH, deviceId, stream, first, newLast, nowMs, RecordLayout.encode(stored));
          return bumpStream(deviceId, stream, newLast, stored.size(), payloadBytes, 0, 0, wire);
        });
    cached(deviceId).put(stream, newLast);
    return newLast;
  }

  @Override
  public synchronized long commitGap(
      String deviceId,
      String stream,
      long firstSequence,
      long lastSequence,
      GapReason reason,
      long droppedAtMs,
      long nowMs)
      throws SequenceException {
    long last = checkSequence(deviceId, stream, firstSequence);
    if (lastSequence <= last) {
      return last;
    }
    long first = Math.max(firstSequence, last + 1);
    inTransaction(
        "committing a gap of " + deviceId + "/" + stream,
        () -> {
          checkClaim(deviceId);
          jdbc.update(
              INSERT_GAP,
              deviceId,
              stream,
              first,
              lastSequence,
              reason.getNumber(),
              droppedAtMs,
              nowMs);
          return bumpStream(
              deviceId, stream, lastSequence, 0, 0, 1, lastSequence - first + 1, null);
        });
    cached(deviceId).put(stream, lastSequence);
    return lastSequence;
  }

  @Override
  public synchronized List<Device> devices() {
    return list(
        "listing devices",
        "SELECT " + DEVICE_COLUMNS + " FROM devices ORDER BY id",
        SqliteCloudStore::readDevice);
  }

  @Override
  public synchronized List<StreamSummary> streams(String deviceId) {
    return list(
        "listing streams of " + deviceId,
        "SELECT stream, last_seq, records, payload_bytes, gaps, dropped_records, wire_batches,"
            + " wire_raw_bytes, wire_payload_bytes, wire_frame_bytes, expired_records,"
            + " expired_bytes, expired_through_seq FROM streams WHERE device=? ORDER BY stream",
        rs ->
            new StreamSummary(
                rs.getString(1),
                rs.getLong(2),
                rs.getLong(3),
                rs.getLong(4),
                rs.getLong(5),
                rs.getLong(6),
                rs.getLong(7),
                rs.getLong(8),
                rs.getLong(9),
                rs.getLong(10),
                new StreamSummary.Expired(rs.getLong(11), rs.getLong(12), rs.getLong(13))),
        deviceId);
  }

  @Override
  public synchronized List<StoredGap> gaps(String deviceId, String stream) {
    return list(
        "listing gaps of " + deviceId + "/" + stream,
        "SELECT first_seq, last_seq, reason, dropped_at_ms, committed_at_ms FROM gaps"
            + " WHERE device=? AND stream=? ORDER BY first_seq",
        SqliteCloudStore::readGap,
        deviceId,
        stream);
  }

  private static StoredGap readGap(ResultSet rs) throws SQLException {
    GapReason reason = GapReason.forNumber(rs.getInt(3));
    return new StoredGap(
        rs.getLong(1),
        rs.getLong(2),
        reason == null ? GapReason.GAP_REASON_UNSPECIFIED : reason,
        rs.getLong(4),
        rs.getLong(5));
  }

  @Override
  public synchronized List<Record> read(
      String deviceId, String stream, long afterSequence, int limit) {
    List<Record> out = new ArrayList<>();
    // One unit of work (Jdbc#call), so a lost connection is replaced before it, not within.
    return jdbc.call(
        "reading " + deviceId + "/" + stream,
        () -> {
          // The batch holding afterSequence + 1 starts at or before it.
          long start =
              jdbc.queryLong(
                  "SELECT first_seq FROM batches WHERE device=? AND stream=? AND first_seq<=?"
                      + " ORDER BY first_seq DESC LIMIT 1",
                  afterSequence + 1,
                  deviceId,
                  stream,
                  afterSequence + 1);
          PreparedStatement ps =
              jdbc.prepared(
                  "SELECT first_seq, last_seq, data FROM batches WHERE device=? AND stream=? AND"
                      + " first_seq>=? ORDER BY first_seq");
          Jdbc.bind(ps, deviceId, stream, start);
          try (ResultSet rs = ps.executeQuery()) {
            while (rs.next() && out.size() < limit) {
              long first = rs.getLong(1);
              long last = rs.getLong(2);
              if (last <= afterSequence) {
                continue;
              }
              for (Record r : decode(rs.getBytes(3), first, last)) {
                if (r.sequence() > afterSequence && out.size() < limit) {
                  out.add(r);
                }
              }
            }
          }
          endRead();
          return out;
        });
  }

  /** Each batch's records from the one holding {@code afterSequence + 1} on, with commit times. */
  private static final String READ_COMMITTED =
      "SELECT first_seq, last_seq, committed_at_ms, data FROM batches WHERE device=? AND stream=?"
          + " AND first_seq>=COALESCE((SELECT first_seq FROM batches WHERE device=? AND stream=?"
          + " AND first_seq<=? ORDER BY first_seq DESC LIMIT 1), 0) ORDER BY first_seq LIMIT ?";

  @Override
  public synchronized List<StreamHead> streamHeads() {
    // In a transaction that commits: a read left open would hold an old snapshot of the file.
    return inTransaction(
        "listing stream heads",
        () ->
            StoreSql.rows(
                jdbc,
                "SELECT device, stream, last_seq FROM streams ORDER BY device, stream",
                rs -> new StreamHead(rs.getString(1), rs.getString(2), rs.getLong(3))));
  }

  @Override
  public synchronized List<CommittedRecord> readCommitted(
      String deviceId, String stream, long afterSequence, int limit) {
    return inTransaction(
        "reading " + deviceId + "/" + stream + " for export",
        () -> {
          List<CommittedRecord> out = new ArrayList<>();
          PreparedStatement ps = jdbc.prepared(READ_COMMITTED);
          // A batch holds at least one record: limit + 1 batches hold all that can be wanted.
          Jdbc.bind(ps, deviceId, stream, deviceId, stream, afterSequence + 1, limit + 1L);
          try (ResultSet rs = ps.executeQuery()) {
            while (out.size() < limit && rs.next()) {
              long first = rs.getLong(1);
              long last = rs.getLong(2);
              if (last <= afterSequence) {
                continue;
              }
              long committedAtMs = rs.getLong(3);
              for (Record r : decode(rs.getBytes(4), first, last)) {
                if (r.sequence() > afterSequence && out.size() < limit) {
                  out.add(new CommittedRecord(r, committedAtMs));
                }
              }
            }
          }
          return out;
        });
  }

  private static List<Record> decode(byte[] data, long first, long last) throws SQLException {
    try {
      return RecordLayout.decode(data, first, (int) (last - first + 1));
    } catch (ProtocolException e) {
      throw new SQLException("a stored batch does not decode: " + e.getMessage(), e);
    }
  }

  /**
   * Turns SQLite's automatic checkpoints off and copies the write-ahead log into the database from
   * a thread of its own every {@code intervalMs} instead ({@link WalCheckpointer}): no commit then
   * holds the store while a checkpoint runs. The server does this; without it, the commit that
   * fills the log past 64 MiB checkpoints it. Idempotent.
   */
  public synchronized void checkpointInBackground(long intervalMs) throws SQLException {
    checkpointInBackground(intervalMs, WalCheckpointer.DEFAULT_RESTART_FRAMES);
  }

  /** The same, starting the log over from {@code restartFrames} frames (tests use small ones). */
  synchronized void checkpointInBackground(long intervalMs, long restartFrames)
      throws SQLException {
    if (checkpointer != null || database != null) {
      return; // PostgreSQL checkpoints by itself
    }
    if (jdbc.connection().isClosed()) {
      throw new SQLException("the cloud store " + file + " is closed");
    }
    checkpointer = new WalCheckpointer(file, this, intervalMs, restartFrames);
    try (Statement st = jdbc.connection().createStatement()) {
      // A backstop only: should the checkpoint thread stop, a commit checkpoints at 256 MiB.
      st.execute("PRAGMA wal_autocheckpoint=" + BACKSTOP_AUTOCHECKPOINT_PAGES);
    }
  }

  /** Restarts of the log by the background checkpoint (0 without one). */
  synchronized long walRestartsInBackground() {
    return checkpointer == null ? 0 : checkpointer.restarts();
  }

  /** Log frames the background checkpoint copied into the database (0 without one). */
  synchronized long framesCheckpointedInBackground() {
    return checkpointer == null ? 0 : checkpointer.framesCopied();
  }

  @Override
  public void close() {
    documents.close();
    WalCheckpointer c;
    synchronized (this) {
      c = checkpointer;
      checkpointer = null;
    }
    if (c != null) {
      c.close();
    }
    synchronized (this) {
      closeDb();
    }
  }

  private void closeDb() {
    try {
      jdbc.connection().close();
    } catch (SQLException e) {
      throw jdbc.failure("closing", e);
    } finally {
      if (database != null) {
        database.close();
      }
    }
  }

  private long checkSequence(String deviceId, String stream, long first) throws SequenceException {
    long last = cached(deviceId).getOrDefault(stream, 0L);
    if (first > last + 1) {
      // The cached checkpoint is current while this node's claim is: a lost claim is the
      // reason to end the session, not the sequence the newer holder moved on.
      Long epoch = claims.get(deviceId);
      if (epoch != null && storedEpoch(deviceId, epoch) != epoch.longValue()) {
        throw fenced(deviceId);
      }
      throw new SequenceException(
          "stream '"
              + stream
              + "' of device '"
              + deviceId
              + "' continues at sequence "
              + (last + 1)
              + " but the frame starts at "
              + first
              + "; sequences must be consecutive (report dropped ranges as a Gap first)");
    }
    return last;
  }

  private Map<String, Long> cached(String deviceId) {
    Map<String, Long> m = checkpointCache.get(deviceId);
    if (m != null) {
      return m;
    }
    m = new LinkedHashMap<>();
    for (Map.Entry<String, Long> e :
        list(
            "reading checkpoints of " + deviceId,
            "SELECT stream, last_seq FROM streams WHERE device=?",
            rs -> Map.entry(rs.getString(1), rs.getLong(2)),
            deviceId)) {
      m.put(e.getKey(), e.getValue());
    }
    checkpointCache.put(deviceId, m);
    return m;
  }

  /** Adds to the stream's counters (typed setters: once a commit, on the ingest path). */
  private int bumpStream(
      String deviceId,
      String stream,
      long last,
      long records,
      long bytes,
      long gaps,
      long dropped,
      WireBytes wire)
      throws SQLException {
    PreparedStatement ps = jdbc.prepared(BUMP_STREAM);
    ps.setString(1, deviceId);
    ps.setString(2, stream);
    ps.setLong(3, last);
    ps.setLong(4, records);
    ps.setLong(5, bytes);
    ps.setLong(6, gaps);
    ps.setLong(7, dropped);
    ps.setLong(8, wire == null ? 0 : 1);
    ps.setLong(9, wire == null ? 0 : wire.rawBytes());
    ps.setLong(10, wire == null ? 0 : wire.payloadBytes());
    ps.setLong(11, wire == null ? 0 : wire.frameBytes());
    return ps.executeUpdate();
  }
}
