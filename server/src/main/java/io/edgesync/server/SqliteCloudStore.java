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
 * The default {@link CloudStore}: one embedded SQLite file (WAL, {@code synchronous=FULL}, so a
 * commit is on disk when it returns). Records are stored as committed batches, one row per batch in
 * {@link RecordLayout} encoding, which keeps a commit to a single row insert.
 *
 * <p>Schema in {@code db/V1__init.sql} and later scripts: {@code devices}; {@code streams} (per
 * device and stream: the checkpoint, counters, and the bytes its batches cost on the wire, from
 * {@code V3__wire_accounting.sql}); {@code batches} (records stored decoded, in the record layout,
 * whatever codec carried them, so reads never need a session's codec state); {@code gaps}; {@code
 * dictionaries} (trained zstd dictionaries per stream, {@code V5__dictionaries.sql}).
 *
 * <p>Thread safe: all access is serialized on this object (one connection); the checkpoint cache is
 * guarded by the same monitor.
 */
public final class SqliteCloudStore implements CloudStore {
  private final Connection db;
  private final Jdbc jdbc;
  private final Map<String, Map<String, Long>> checkpointCache = new HashMap<>();
  private final PreparedStatement insertBatch;
  private final PreparedStatement updateStream;
  private final SqliteDocuments documents;
  private final SqliteCommands commands;
  private final SqliteDictionaries dictionaries;
  private final Path file;
  private WalCheckpointer checkpointer; // guarded by this

  /** With a background checkpoint, commits checkpoint only past this log size (256 MiB). */
  private static final int BACKSTOP_AUTOCHECKPOINT_PAGES = 65_536;

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
    try {
      Path parent = file.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
    } catch (IOException e) {
      throw new SQLException("cannot create directory for " + file + ": " + e, e);
    }
    this.file = file;
    db =
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
    }
    Migrations.apply(
        db,
        SqliteCloudStore.class,
        "db/V1__init.sql",
        "db/V2__documents.sql",
        "db/V3__wire_accounting.sql",
        "db/V4__doc_log.sql",
        "db/V5__dictionaries.sql");
    db.setAutoCommit(false);
    jdbc = new Jdbc(db, file.toAbsolutePath().toString());
    documents = new SqliteDocuments(jdbc, this, historyVersions);
    commands = new SqliteCommands(jdbc, this, commandIds);
    dictionaries = new SqliteDictionaries(jdbc, this);
    insertBatch =
        db.prepareStatement(
            "INSERT INTO batches(device, stream, first_seq, last_seq, committed_at_ms, data)"
                + " VALUES (?,?,?,?,?,?)");
    updateStream =
        db.prepareStatement(
            "INSERT INTO streams(device, stream, last_seq, records, payload_bytes, gaps,"
                + " dropped_records, wire_batches, wire_raw_bytes, wire_payload_bytes,"
                + " wire_frame_bytes) VALUES (?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(device, stream)"
                + " DO UPDATE SET last_seq=max(last_seq, excluded.last_seq),"
                + " records=records+excluded.records,"
                + " payload_bytes=payload_bytes+excluded.payload_bytes, gaps=gaps+excluded.gaps,"
                + " dropped_records=dropped_records+excluded.dropped_records,"
                + " wire_batches=wire_batches+excluded.wire_batches,"
                + " wire_raw_bytes=wire_raw_bytes+excluded.wire_raw_bytes,"
                + " wire_payload_bytes=wire_payload_bytes+excluded.wire_payload_bytes,"
                + " wire_frame_bytes=wire_frame_bytes+excluded.wire_frame_bytes");
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

  @Override
  public synchronized Optional<Device> device(String deviceId) {
    return first(
        "reading device " + deviceId,
        "SELECT id, registered_at_ms, last_seen_ms FROM devices WHERE id=?",
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

  @Override
  public synchronized String bindStore(String deviceId, String storeId) {
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

  @Override
  public synchronized void touchDevice(String deviceId, long nowMs) {
    write(
        "updating device " + deviceId,
        "UPDATE devices SET last_seen_ms=? WHERE id=?",
        nowMs,
        deviceId);
  }

  /** Runs one statement and commits; on failure rolls back (and forgets cached checkpoints). */
  private void write(String operation, String sql, Object... args) {
    try {
      jdbc.update(sql, args);
      db.commit();
    } catch (SQLException e) {
      rollback();
      throw jdbc.failure(operation, e);
    }
  }

  /** The first row of a query, if any. */
  private <T> Optional<T> first(
      String operation, String sql, Jdbc.RowReader<T> reader, Object... args) {
    List<T> rows = jdbc.call(operation, () -> jdbc.list(sql, reader, args));
    return rows.isEmpty() ? Optional.empty() : Optional.of(rows.get(0));
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
        try {
          bumpStream(deviceId, stream, last, 0, 0, 0, 0, wire);
          db.commit();
        } catch (SQLException e) {
          rollback();
          throw jdbc.failure("counting a resent batch of " + deviceId + "/" + stream, e);
        }
      }
      return last;
    }
    long first = fresh.get(0).sequence();
    long newLast = fresh.get(fresh.size() - 1).sequence();
    long bytes = 0;
    for (Record r : fresh) {
      bytes += r.payload().length;
    }
    try {
      insertBatch.setString(1, deviceId);
      insertBatch.setString(2, stream);
      insertBatch.setLong(3, first);
      insertBatch.setLong(4, newLast);
      insertBatch.setLong(5, nowMs);
      insertBatch.setBytes(6, RecordLayout.encode(fresh));
      insertBatch.executeUpdate();
      bumpStream(deviceId, stream, newLast, fresh.size(), bytes, 0, 0, wire);
      db.commit();
    } catch (SQLException e) {
      rollback();
      throw jdbc.failure(
          "committing " + fresh.size() + " records of " + deviceId + "/" + stream, e);
    }
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
    try (PreparedStatement ps =
        db.prepareStatement(
            "INSERT INTO gaps(device, stream, first_seq, last_seq, reason, dropped_at_ms,"
                + " committed_at_ms) VALUES (?,?,?,?,?,?,?)")) {
      ps.setString(1, deviceId);
      ps.setString(2, stream);
      ps.setLong(3, first);
      ps.setLong(4, lastSequence);
      ps.setInt(5, reason.getNumber());
      ps.setLong(6, droppedAtMs);
      ps.setLong(7, nowMs);
      ps.executeUpdate();
      bumpStream(deviceId, stream, lastSequence, 0, 0, 1, lastSequence - first + 1, null);
      db.commit();
    } catch (SQLException e) {
      rollback();
      throw jdbc.failure("committing a gap of " + deviceId + "/" + stream, e);
    }
    cached(deviceId).put(stream, lastSequence);
    return lastSequence;
  }

  @Override
  public synchronized List<Device> devices() {
    return jdbc.call(
        "listing devices",
        () ->
            jdbc.list(
                "SELECT id, registered_at_ms, last_seen_ms FROM devices ORDER BY id",
                SqliteCloudStore::readDevice));
  }

  @Override
  public synchronized List<StreamSummary> streams(String deviceId) {
    return jdbc.call(
        "listing streams of " + deviceId,
        () ->
            jdbc.list(
                "SELECT stream, last_seq, records, payload_bytes, gaps, dropped_records,"
                    + " wire_batches, wire_raw_bytes, wire_payload_bytes, wire_frame_bytes FROM"
                    + " streams WHERE device=? ORDER BY stream",
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
                        rs.getLong(10)),
                deviceId));
  }

  @Override
  public synchronized List<StoredGap> gaps(String deviceId, String stream) {
    return jdbc.call(
        "listing gaps of " + deviceId + "/" + stream,
        () ->
            jdbc.list(
                "SELECT first_seq, last_seq, reason, dropped_at_ms, committed_at_ms FROM gaps"
                    + " WHERE device=? AND stream=? ORDER BY first_seq",
                SqliteCloudStore::readGap,
                deviceId,
                stream));
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
    try {
      long start = afterSequence + 1;
      try (PreparedStatement ps =
          db.prepareStatement(
              "SELECT first_seq FROM batches WHERE device=? AND stream=? AND first_seq<=?"
                  + " ORDER BY first_seq DESC LIMIT 1")) {
        ps.setString(1, deviceId);
        ps.setString(2, stream);
        ps.setLong(3, afterSequence + 1);
        try (ResultSet rs = ps.executeQuery()) {
          if (rs.next()) {
            start = rs.getLong(1);
          }
        }
      }
      try (PreparedStatement ps =
          db.prepareStatement(
              "SELECT first_seq, last_seq, data FROM batches WHERE device=? AND stream=? AND"
                  + " first_seq>=? ORDER BY first_seq")) {
        ps.setString(1, deviceId);
        ps.setString(2, stream);
        ps.setLong(3, start);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next() && out.size() < limit) {
            long first = rs.getLong(1);
            long last = rs.getLong(2);
            if (last <= afterSequence) {
              continue;
            }
            for (Record r : RecordLayout.decode(rs.getBytes(3), first, (int) (last - first + 1))) {
              if (r.sequence() > afterSequence && out.size() < limit) {
                out.add(r);
              }
            }
          }
        }
      }
      return out;
    } catch (SQLException | ProtocolException e) {
      throw jdbc.failure("reading " + deviceId + "/" + stream, e);
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
    if (checkpointer != null) {
      return;
    }
    if (db.isClosed()) {
      throw new SQLException("the cloud store " + file + " is closed");
    }
    checkpointer = new WalCheckpointer(file, this, intervalMs, restartFrames);
    try (Statement st = db.createStatement()) {
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
      db.close();
    } catch (SQLException e) {
      throw jdbc.failure("closing", e);
    }
  }

  private long checkSequence(String deviceId, String stream, long first) throws SequenceException {
    long last = cached(deviceId).getOrDefault(stream, 0L);
    if (first > last + 1) {
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
    try (PreparedStatement ps =
        db.prepareStatement("SELECT stream, last_seq FROM streams WHERE device=?")) {
      ps.setString(1, deviceId);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          m.put(rs.getString(1), rs.getLong(2));
        }
      }
    } catch (SQLException e) {
      throw jdbc.failure("reading checkpoints of " + deviceId, e);
    }
    checkpointCache.put(deviceId, m);
    return m;
  }

  private void bumpStream(
      String deviceId,
      String stream,
      long last,
      long records,
      long bytes,
      long gaps,
      long dropped,
      WireBytes wire)
      throws SQLException {
    updateStream.setString(1, deviceId);
    updateStream.setString(2, stream);
    updateStream.setLong(3, last);
    updateStream.setLong(4, records);
    updateStream.setLong(5, bytes);
    updateStream.setLong(6, gaps);
    updateStream.setLong(7, dropped);
    updateStream.setLong(8, wire == null ? 0 : 1);
    updateStream.setLong(9, wire == null ? 0 : wire.rawBytes());
    updateStream.setLong(10, wire == null ? 0 : wire.payloadBytes());
    updateStream.setLong(11, wire == null ? 0 : wire.frameBytes());
    updateStream.executeUpdate();
  }

  private void rollback() {
    jdbc.rollbackQuietly();
    checkpointCache.clear();
  }
}
