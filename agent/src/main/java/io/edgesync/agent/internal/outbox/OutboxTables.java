package io.edgesync.agent.internal.outbox;

import io.edgesync.agent.EdgeSyncException;
import io.edgesync.agent.internal.atrest.StorageCipher;
import io.edgesync.agent.internal.atrest.StoreKeyCheck;
import io.edgesync.engine.edge.Outbox.Item;
import io.edgesync.protocol.ProtocolException;
import io.edgesync.protocol.Record;
import io.edgesync.protocol.RecordLayout;
import io.edgesync.protocol.wire.GapReason;
import io.edgesync.support.Migrations;
import io.edgesync.support.jdbc.StoreException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * The outbox's row-level access to {@code chunks}, {@code gaps}, {@code streams} and the store id
 * in {@code meta} (the file's format is described on {@link SqliteOutbox}). Callers hold the
 * outbox's lock and commit; nothing here commits.
 */
final class OutboxTables {
  /** A chunk row without its data: sequences {@code first..last} holding {@code bytes}. */
  record ChunkRow(String stream, long first, long last, long bytes) {}

  /** Records and payload bytes counted (acknowledged, dropped or freed). */
  record Counted(long records, long bytes) {}

  private final Connection db;
  private final String file;
  private final PreparedStatement insertChunk;
  private final PreparedStatement upsertStream;
  private final StorageCipher cipher;

  OutboxTables(Connection db, String file, StorageCipher cipher) throws SQLException {
    this.db = db;
    this.file = file;
    this.cipher = cipher;
    insertChunk =
        db.prepareStatement(
            "INSERT INTO chunks(stream, first_seq, last_seq, bytes, oldest_ms, newest_ms, data)"
                + " VALUES (?,?,?,?,?,?,?)");
    upsertStream =
        db.prepareStatement(
            "INSERT INTO streams(name, last_seq, acked_seq, synced_records, dropped_records)"
                + " VALUES (?,?,?,?,?) ON CONFLICT(name) DO UPDATE SET last_seq=excluded.last_seq,"
                + " acked_seq=excluded.acked_seq, synced_records=excluded.synced_records,"
                + " dropped_records=excluded.dropped_records");
  }

  /** Opens the file in WAL mode (creating its directory) and brings its schema up to date. */
  static Connection open(Path file, boolean fullSync) throws SQLException {
    try {
      Path parent = file.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
    } catch (java.io.IOException e) {
      throw new SQLException("cannot create directory for " + file + ": " + e, e);
    }
    Connection db = DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath());
    try (Statement st = db.createStatement()) {
      st.execute("PRAGMA journal_mode=WAL");
      st.execute("PRAGMA synchronous=" + (fullSync ? "FULL" : "NORMAL"));
      st.execute("PRAGMA busy_timeout=5000");
    }
    Migrations.apply(
        db,
        SqliteOutbox.class, // the migrations are resources beside SqliteOutbox
        "db/V1__init.sql",
        "db/V2__dedup_budget.sql",
        "db/V3__wire_counters.sql",
        "db/V4__dictionaries.sql");
    db.setAutoCommit(false);
    return db;
  }

  /** The meta table and the chunks, for {@link StoreKeyCheck}. */
  StoreKeyCheck.Meta keyCheckMeta() {
    return new StoreKeyCheck.Meta() {
      @Override
      public String get(String key) throws SQLException {
        try (PreparedStatement ps = db.prepareStatement("SELECT value FROM meta WHERE key=?")) {
          ps.setString(1, key);
          try (ResultSet rs = ps.executeQuery()) {
            return rs.next() ? rs.getString(1) : null;
          }
        }
      }

      @Override
      public void put(String key, String value) throws SQLException {
        try (PreparedStatement ps =
            db.prepareStatement("INSERT OR REPLACE INTO meta(key, value) VALUES (?,?)")) {
          ps.setString(1, key);
          ps.setString(2, value);
          ps.executeUpdate();
        }
      }

      @Override
      public void remove(String key) throws SQLException {
        try (PreparedStatement ps = db.prepareStatement("DELETE FROM meta WHERE key=?")) {
          ps.setString(1, key);
          ps.executeUpdate();
        }
      }

      @Override
      public boolean holdsValues() throws SQLException {
        try (Statement st = db.createStatement();
            ResultSet rs = st.executeQuery("SELECT EXISTS (SELECT 1 FROM chunks)")) {
          return rs.next() && rs.getInt(1) == 1;
        }
      }

      @Override
      public long valuesUnder(int keyId) throws SQLException {
        // A full scan, run only when a key id is missing from the keyring.
        try (PreparedStatement ps =
            db.prepareStatement("SELECT count(*) FROM chunks WHERE substr(data, 1, 3)=?")) {
          ps.setBytes(1, new byte[] {(byte) 0xE5, 1, (byte) keyId});
          try (ResultSet rs = ps.executeQuery()) {
            return rs.next() ? rs.getLong(1) : 0;
          }
        }
      }
    };
  }

  String loadOrCreateStoreId() throws SQLException {
    try (Statement st = db.createStatement();
        ResultSet rs = st.executeQuery("SELECT value FROM meta WHERE key='store_id'")) {
      if (rs.next()) {
        return rs.getString(1);
      }
    }
    String id = java.util.UUID.randomUUID().toString();
    try (PreparedStatement ps =
        db.prepareStatement("INSERT INTO meta(key, value) VALUES ('store_id', ?)")) {
      ps.setString(1, id);
      ps.executeUpdate();
    }
    return id;
  }

  /**
   * Reloads every stream's counters from {@code streams} and recomputes the queued figures from
   * {@code chunks}; {@code counterFor} creates a stream's counters on first sight.
   */
  void loadCounters(Function<String, StreamCounters> counterFor) throws SQLException {
    try (Statement st = db.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT name, last_seq, acked_seq, synced_records, dropped_records FROM streams")) {
      while (rs.next()) {
        StreamCounters c = counterFor.apply(rs.getString(1));
        c.lastSeq = rs.getLong(2);
        c.ackedSeq = rs.getLong(3);
        c.syncedRecords = rs.getLong(4);
        c.droppedRecords = rs.getLong(5);
        c.queuedRecords = 0;
        c.queuedBytes = 0;
      }
    }
    List<ChunkRow> chunks = new ArrayList<>();
    try (Statement st = db.createStatement();
        ResultSet rs = st.executeQuery("SELECT stream, first_seq, last_seq, bytes FROM chunks")) {
      while (rs.next()) {
        chunks.add(new ChunkRow(rs.getString(1), rs.getLong(2), rs.getLong(3), rs.getLong(4)));
      }
    }
    for (ChunkRow chunk : chunks) {
      StreamCounters c = counterFor.apply(chunk.stream());
      long from = Math.max(chunk.first(), c.ackedSeq + 1);
      if (from <= chunk.last()) {
        c.queuedRecords += chunk.last() - from + 1;
        c.queuedBytes += payloadBytes(chunk, from, chunk.last());
      }
    }
  }

  /**
   * Up to {@code maxRecords} records of {@code stream} from {@code fromSequence} on, stopping
   * before the first that would take the total past {@code maxBytes} (the first always fits) and at
   * a hole (a gap, read next time).
   */
  List<Record> readRecords(String stream, long fromSequence, int maxRecords, long maxBytes)
      throws SQLException {
    long start;
    try (PreparedStatement ps =
        db.prepareStatement(
            "SELECT first_seq FROM chunks WHERE stream=? AND first_seq<=?"
                + " ORDER BY first_seq DESC LIMIT 1")) {
      ps.setString(1, stream);
      ps.setLong(2, fromSequence);
      try (ResultSet rs = ps.executeQuery()) {
        start = rs.next() ? rs.getLong(1) : fromSequence;
      }
    }
    List<Record> out = new ArrayList<>();
    long bytes = 0;
    long expected = fromSequence;
    try (PreparedStatement ps =
        db.prepareStatement(
            "SELECT first_seq, last_seq, data FROM chunks WHERE stream=? AND first_seq>=?"
                + " ORDER BY first_seq")) {
      ps.setString(1, stream);
      ps.setLong(2, start);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next() && out.size() < maxRecords) {
          long first = rs.getLong(1);
          long last = rs.getLong(2);
          if (last < expected) {
            continue;
          }
          if (first > expected) {
            break; // a gap follows; it is read next time
          }
          for (Record r : decode(stream, rs.getBytes(3), first, last)) {
            if (r.sequence() < expected) {
              continue;
            }
            if (out.size() >= maxRecords
                || (!out.isEmpty() && bytes + r.payload().length > maxBytes)) {
              return out;
            }
            out.add(r);
            bytes += r.payload().length;
            expected = r.sequence() + 1;
          }
        }
      }
    }
    return out;
  }

  /**
   * Deletes the chunks of {@code stream} wholly at or below {@code sequence}; returns the records
   * and payload bytes of {@code afterSeq+1..sequence} (what an ack up to {@code sequence} settles).
   */
  Counted deleteAcknowledged(String stream, long afterSeq, long sequence) throws SQLException {
    long records = 0;
    long bytes = 0;
    List<ChunkRow> chunks = new ArrayList<>();
    try (PreparedStatement ps =
        db.prepareStatement(
            "SELECT first_seq, last_seq, bytes FROM chunks WHERE stream=? AND first_seq<=?"
                + " AND last_seq>? ")) {
      ps.setString(1, stream);
      ps.setLong(2, sequence);
      ps.setLong(3, afterSeq);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          chunks.add(new ChunkRow(stream, rs.getLong(1), rs.getLong(2), rs.getLong(3)));
        }
      }
    }
    for (ChunkRow chunk : chunks) {
      long from = Math.max(chunk.first(), afterSeq + 1);
      long to = Math.min(chunk.last(), sequence);
      records += to - from + 1;
      bytes += payloadBytes(chunk, from, to);
    }
    try (PreparedStatement ps =
        db.prepareStatement("DELETE FROM chunks WHERE stream=? AND first_seq<=? AND last_seq<=?")) {
      // first_seq bounds the primary-key range, so the delete does not scan the backlog
      ps.setString(1, stream);
      ps.setLong(2, sequence);
      ps.setLong(3, sequence);
      ps.executeUpdate();
    }
    return new Counted(records, bytes);
  }

  /**
   * Marks the holes of {@code from..to} of {@code stream} as not-retained gaps: parts of the range
   * may already be gaps (dropped here earlier, or marked by an earlier call whose session ended
   * before the cloud acknowledged the gap).
   */
  void addNotRetainedGaps(String stream, long from, long to, long nowMs) throws SQLException {
    long next = from;
    List<ChunkRow> existing = new ArrayList<>();
    try (PreparedStatement ps =
        db.prepareStatement(
            "SELECT first_seq, last_seq FROM gaps WHERE stream=? AND last_seq>=? AND"
                + " first_seq<=? ORDER BY first_seq")) {
      ps.setString(1, stream);
      ps.setLong(2, next);
      ps.setLong(3, to);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          existing.add(new ChunkRow(stream, rs.getLong(1), rs.getLong(2), 0));
        }
      }
    }
    for (ChunkRow gap : existing) {
      if (gap.first() > next) {
        addGap(stream, next, gap.first() - 1, GapReason.GAP_REASON_NOT_RETAINED, nowMs);
      }
      next = Math.max(next, gap.last() + 1);
    }
    if (next <= to) {
      addGap(stream, next, to, GapReason.GAP_REASON_NOT_RETAINED, nowMs);
    }
  }

  /** The oldest origin time of a queued (above {@code ackedSeq}) record, or -1. */
  long oldestQueuedMs(String stream, long ackedSeq) throws SQLException {
    try (PreparedStatement ps =
        db.prepareStatement(
            "SELECT oldest_ms FROM chunks WHERE stream=? AND last_seq>? ORDER BY first_seq"
                + " LIMIT 1")) {
      ps.setString(1, stream);
      ps.setLong(2, ackedSeq);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getLong(1) : -1;
      }
    }
  }

  /** Chunks whose newest record is older than {@code cutoffMs}, by stream and sequence. */
  List<ChunkRow> chunksOlderThan(long cutoffMs) throws SQLException {
    List<ChunkRow> out = new ArrayList<>();
    try (PreparedStatement ps =
        db.prepareStatement(
            "SELECT stream, first_seq, last_seq, bytes FROM chunks WHERE newest_ms < ?"
                + " ORDER BY stream, first_seq")) {
      ps.setLong(1, cutoffMs);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(new ChunkRow(rs.getString(1), rs.getLong(2), rs.getLong(3), rs.getLong(4)));
        }
      }
    }
    return out;
  }

  /** The oldest chunk of {@code stream} with its records, or null when it has none. */
  List<Record> oldestChunk(String stream) throws SQLException {
    try (PreparedStatement ps =
        db.prepareStatement(
            "SELECT first_seq, last_seq, data FROM chunks WHERE stream=? ORDER BY first_seq"
                + " LIMIT 1")) {
      ps.setString(1, stream);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return null;
        }
        long first = rs.getLong(1);
        long last = rs.getLong(2);
        return decode(stream, rs.getBytes(3), first, last);
      }
    }
  }

  /** Records in gaps, per stream and reason (the wire reason's number): all time. */
  Map<String, Map<GapReason, Long>> gapRecordsByReason() throws SQLException {
    Map<String, Map<GapReason, Long>> out = new TreeMap<>();
    try (Statement st = db.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT stream, reason, sum(last_seq - first_seq + 1) FROM gaps GROUP BY stream,"
                    + " reason")) {
      while (rs.next()) {
        GapReason reason = GapReason.forNumber(rs.getInt(2));
        out.computeIfAbsent(rs.getString(1), k -> new EnumMap<>(GapReason.class))
            .put(reason == null ? GapReason.GAP_REASON_UNSPECIFIED : reason, rs.getLong(3));
      }
    }
    return out;
  }

  Item.Gap gapAt(String stream, long sequence) throws SQLException {
    try (PreparedStatement ps =
        db.prepareStatement(
            "SELECT first_seq, last_seq, reason, dropped_at_ms FROM gaps WHERE stream=? AND"
                + " first_seq<=? ORDER BY first_seq DESC LIMIT 1")) {
      ps.setString(1, stream);
      ps.setLong(2, sequence);
      try (ResultSet rs = ps.executeQuery()) {
        if (rs.next() && rs.getLong(2) >= sequence) {
          return new Item.Gap(
              sequence, rs.getLong(2), GapReason.forNumber(rs.getInt(3)), rs.getLong(4));
        }
        return null;
      }
    }
  }

  void addGap(String stream, long first, long last, GapReason reason, long nowMs)
      throws SQLException {
    try (PreparedStatement ps =
        db.prepareStatement(
            "UPDATE gaps SET last_seq=? WHERE stream=? AND last_seq=? AND reason=?")) {
      ps.setLong(1, last);
      ps.setString(2, stream);
      ps.setLong(3, first - 1);
      ps.setInt(4, reason.getNumber());
      if (ps.executeUpdate() > 0) {
        return;
      }
    }
    try (PreparedStatement ps =
        db.prepareStatement(
            "INSERT INTO gaps(stream, first_seq, last_seq, reason, dropped_at_ms)"
                + " VALUES (?,?,?,?,?)")) {
      ps.setString(1, stream);
      ps.setLong(2, first);
      ps.setLong(3, last);
      ps.setInt(4, reason.getNumber());
      ps.setLong(5, nowMs);
      ps.executeUpdate();
    }
  }

  /**
   * Payload bytes of sequences {@code from..to} of {@code chunk}. Exact: a part of a chunk (split
   * by an ack) is summed from its records, since records differ in size and a pro-rata share lets
   * the byte counters drift.
   */
  long payloadBytes(ChunkRow chunk, long from, long to) throws SQLException {
    long first = chunk.first();
    long last = chunk.last();
    if (from <= first && to >= last) {
      return chunk.bytes();
    }
    byte[] data;
    try (PreparedStatement ps =
        db.prepareStatement("SELECT data FROM chunks WHERE stream=? AND first_seq=?")) {
      ps.setString(1, chunk.stream());
      ps.setLong(2, first);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          throw new SQLException(
              "chunk " + first + ".." + last + " of " + chunk.stream() + " is missing");
        }
        data = rs.getBytes(1);
      }
    }
    long bytes = 0;
    for (Record r : decode(chunk.stream(), data, first, last)) {
      if (r.sequence() >= from && r.sequence() <= to) {
        bytes += r.payload().length;
      }
    }
    return bytes;
  }

  void deleteChunk(String stream, long first) throws SQLException {
    try (PreparedStatement ps =
        db.prepareStatement("DELETE FROM chunks WHERE stream=? AND first_seq=?")) {
      ps.setString(1, stream);
      ps.setLong(2, first);
      ps.executeUpdate();
    }
  }

  /** Inserts {@code records} (consecutive, at least one) of {@code stream} as one chunk. */
  void insertChunk(String stream, List<Record> records) throws SQLException {
    long bytes = 0;
    for (Record r : records) {
      bytes += r.payload().length;
    }
    insertChunk.setString(1, stream);
    long first = records.get(0).sequence();
    long last = records.get(records.size() - 1).sequence();
    insertChunk.setLong(2, first);
    insertChunk.setLong(3, last);
    insertChunk.setLong(4, bytes);
    insertChunk.setLong(5, records.get(0).originMs());
    insertChunk.setLong(6, records.get(records.size() - 1).originMs());
    insertChunk.setBytes(7, cipher.seal(place(stream, first, last), RecordLayout.encode(records)));
    insertChunk.executeUpdate();
  }

  void saveStream(StreamCounters c) throws SQLException {
    upsertStream.setString(1, c.name);
    upsertStream.setLong(2, c.lastSeq);
    upsertStream.setLong(3, c.ackedSeq);
    upsertStream.setLong(4, c.syncedRecords);
    upsertStream.setLong(5, c.droppedRecords);
    upsertStream.executeUpdate();
  }

  /**
   * A chunk's place, the associated data of its sealed value: a chunk copied to another stream or
   * range does not open.
   */
  static String place(String stream, long first, long last) {
    return "chunk|" + stream + "|" + first + "|" + last;
  }

  List<Record> decode(String stream, byte[] data, long first, long last) {
    try {
      byte[] plain = cipher.open(place(stream, first, last), data);
      return RecordLayout.decode(plain, first, (int) (last - first + 1));
    } catch (ProtocolException e) {
      throw failure("decoding the corrupt chunk " + first + ".." + last, e);
    }
  }

  /** A storage failure of the outbox; the message names the operation and the outbox file. */
  EdgeSyncException failure(String operation, Throwable cause) {
    StoreException e = new StoreException(operation, file, cause);
    return new EdgeSyncException(EdgeSyncException.Code.STORAGE, e.getMessage(), e);
  }
}
