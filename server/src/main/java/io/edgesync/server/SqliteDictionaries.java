package io.edgesync.server;

import io.edgesync.engine.dict.DictionaryStore;
import io.edgesync.protocol.ProtocolException;
import io.edgesync.protocol.Record;
import io.edgesync.protocol.RecordLayout;
import io.edgesync.protocol.codec.Dictionary;
import io.edgesync.support.jdbc.Jdbc;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@link DictionaryStore} half of {@link SqliteCloudStore}: table {@code dictionaries} (schema
 * {@code db/V5__dictionaries.sql}); same connection and monitor. An id is allocated as a row
 * without data before the training runs (AUTOINCREMENT: never reused), and filled when the training
 * succeeds; rows without data are ignored and removed with the stream's next save.
 */
final class SqliteDictionaries implements DictionaryStore {
  /** Devices whose records feed one training (the most recently seen ones). */
  static final int MAX_SAMPLE_DEVICES = 64;

  private final Jdbc jdbc;
  private final Object lock;
  private final StoreDialect dialect;

  SqliteDictionaries(Jdbc jdbc, Object lock) throws SQLException {
    this.jdbc = jdbc;
    this.lock = lock;
    this.dialect = StoreDialect.of(jdbc.connection());
  }

  @Override
  public int allocateId(String stream) {
    synchronized (lock) {
      return jdbc.inTransaction(
          "allocating a dictionary id for " + stream,
          () -> {
            long id =
                jdbc.queryLong(
                    "INSERT INTO dictionaries(stream, data, trained_at_ms) VALUES (?,NULL,0)"
                        + " RETURNING id",
                    0,
                    stream);
            if (id <= 0 || id > Integer.MAX_VALUE) {
              throw new IllegalStateException(
                  "dictionary ids are exhausted (" + id + "); ids are positive 32-bit integers");
            }
            return (int) id;
          });
    }
  }

  @Override
  public List<Integer> save(
      String stream, Dictionary dictionary, long trainedAtMs, int keepPerStream) {
    synchronized (lock) {
      return jdbc.inTransaction(
          "saving dictionary " + dictionary.id() + " of " + stream,
          () -> {
            int filled =
                jdbc.update(
                    "UPDATE dictionaries SET data=?, trained_at_ms=? WHERE id=? AND stream=?",
                    dictionary.bytes(),
                    trainedAtMs,
                    dictionary.id(),
                    stream);
            if (filled != 1) {
              throw new IllegalStateException(
                  "dictionary id " + dictionary.id() + " was not allocated for stream " + stream);
            }
            List<Integer> deleted =
                StoreSql.rows(
                    jdbc,
                    "SELECT id FROM dictionaries WHERE stream=? AND (data IS NULL OR id NOT IN"
                        + " (SELECT id FROM dictionaries WHERE stream=? AND data IS NOT NULL"
                        + " ORDER BY id DESC LIMIT ?)) AND id<>?",
                    rs -> rs.getInt(1),
                    stream,
                    stream,
                    keepPerStream,
                    dictionary.id());
            for (int id : deleted) {
              jdbc.update("DELETE FROM dictionaries WHERE id=?", id);
            }
            return deleted;
          });
    }
  }

  @Override
  public List<Stored> all() {
    synchronized (lock) {
      return jdbc.call(
          "reading dictionaries",
          () -> {
            List<Stored> all =
                StoreSql.rows(
                    jdbc,
                    "SELECT id, stream, data, trained_at_ms FROM dictionaries"
                        + " WHERE data IS NOT NULL ORDER BY id",
                    rs ->
                        new Stored(
                            rs.getString(2),
                            Dictionary.of(rs.getInt(1), rs.getBytes(3)),
                            rs.getLong(4)));
            dialect.endRead(jdbc);
            return all;
          });
    }
  }

  @Override
  public List<byte[]> samples(String stream, long maxBytes) {
    synchronized (lock) {
      try {
        List<String> devices =
            StoreSql.rows(
                jdbc,
                "SELECT s.device FROM streams s JOIN devices d ON d.id=s.device WHERE s.stream=?"
                    + " AND s.records>0 ORDER BY d.last_seen_ms DESC, s.device LIMIT ?",
                rs -> rs.getString(1),
                stream,
                MAX_SAMPLE_DEVICES);
        List<byte[]> out = new ArrayList<>();
        if (devices.isEmpty()) {
          dialect.endRead(jdbc);
          return out;
        }
        long share = Math.max(1, maxBytes / devices.size());
        long total = 0;
        PreparedStatement ps =
            jdbc.prepared(
                "SELECT first_seq, last_seq, data FROM batches WHERE device=? AND stream=?"
                    + " ORDER BY first_seq DESC");
        for (String device : devices) {
          Jdbc.bind(ps, device, stream);
          long taken = 0;
          try (ResultSet rs = ps.executeQuery()) {
            while (taken < share && total < maxBytes && rs.next()) {
              long first = rs.getLong(1);
              int count = (int) (rs.getLong(2) - first + 1);
              List<Record> records = RecordLayout.decode(rs.getBytes(3), first, count);
              for (int i = records.size() - 1; i >= 0 && taken < share && total < maxBytes; i--) {
                byte[] p = records.get(i).payload();
                out.add(p);
                taken += p.length;
                total += p.length;
              }
            }
          }
        }
        dialect.endRead(jdbc);
        return out;
      } catch (SQLException | ProtocolException e) {
        throw jdbc.failure("reading samples of " + stream, e);
      }
    }
  }
}
