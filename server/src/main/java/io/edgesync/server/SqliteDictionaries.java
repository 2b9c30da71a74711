package io.edgesync.server;

import io.edgesync.engine.dict.DictionaryStore;
import io.edgesync.protocol.ProtocolException;
import io.edgesync.protocol.Record;
import io.edgesync.protocol.RecordLayout;
import io.edgesync.protocol.codec.Dictionary;
import io.edgesync.support.jdbc.Jdbc;
import java.sql.Connection;
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

  private final Connection db;
  private final Jdbc jdbc;
  private final Object lock;

  SqliteDictionaries(Jdbc jdbc, Object lock) {
    this.jdbc = jdbc;
    this.db = jdbc.connection();
    this.lock = lock;
  }

  @Override
  public int allocateId(String stream) {
    synchronized (lock) {
      try (PreparedStatement ps =
          db.prepareStatement(
              "INSERT INTO dictionaries(stream, data, trained_at_ms) VALUES (?,NULL,0)")) {
        ps.setString(1, stream);
        ps.executeUpdate();
        long id;
        try (PreparedStatement q = db.prepareStatement("SELECT last_insert_rowid()");
            ResultSet rs = q.executeQuery()) {
          rs.next();
          id = rs.getLong(1);
        }
        if (id <= 0 || id > Integer.MAX_VALUE) {
          throw new IllegalStateException(
              "dictionary ids are exhausted (" + id + "); ids are positive 32-bit integers");
        }
        db.commit();
        return (int) id;
      } catch (SQLException e) {
        jdbc.rollbackQuietly();
        throw jdbc.failure("allocating a dictionary id for " + stream, e);
      }
    }
  }

  @Override
  public List<Integer> save(
      String stream, Dictionary dictionary, long trainedAtMs, int keepPerStream) {
    synchronized (lock) {
      List<Integer> deleted = new ArrayList<>();
      try {
        try (PreparedStatement ps =
            db.prepareStatement(
                "UPDATE dictionaries SET data=?, trained_at_ms=? WHERE id=? AND stream=?")) {
          ps.setBytes(1, dictionary.bytes());
          ps.setLong(2, trainedAtMs);
          ps.setInt(3, dictionary.id());
          ps.setString(4, stream);
          if (ps.executeUpdate() != 1) {
            throw new IllegalStateException(
                "dictionary id " + dictionary.id() + " was not allocated for stream " + stream);
          }
        }
        try (PreparedStatement ps =
            db.prepareStatement(
                "SELECT id FROM dictionaries WHERE stream=? AND (data IS NULL OR id NOT IN"
                    + " (SELECT id FROM dictionaries WHERE stream=? AND data IS NOT NULL"
                    + " ORDER BY id DESC LIMIT ?)) AND id<>?")) {
          ps.setString(1, stream);
          ps.setString(2, stream);
          ps.setInt(3, keepPerStream);
          ps.setInt(4, dictionary.id());
          try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              deleted.add(rs.getInt(1));
            }
          }
        }
        try (PreparedStatement ps = db.prepareStatement("DELETE FROM dictionaries WHERE id=?")) {
          for (int id : deleted) {
            ps.setInt(1, id);
            ps.executeUpdate();
          }
        }
        db.commit();
        return deleted;
      } catch (SQLException e) {
        jdbc.rollbackQuietly();
        throw jdbc.failure("saving dictionary " + dictionary.id() + " of " + stream, e);
      }
    }
  }

  @Override
  public List<Stored> all() {
    synchronized (lock) {
      List<Stored> out = new ArrayList<>();
      try (PreparedStatement ps =
              db.prepareStatement(
                  "SELECT id, stream, data, trained_at_ms FROM dictionaries WHERE data IS NOT NULL"
                      + " ORDER BY id");
          ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(
              new Stored(
                  rs.getString(2), Dictionary.of(rs.getInt(1), rs.getBytes(3)), rs.getLong(4)));
        }
        return out;
      } catch (SQLException e) {
        throw jdbc.failure("reading dictionaries", e);
      }
    }
  }

  @Override
  public List<byte[]> samples(String stream, long maxBytes) {
    synchronized (lock) {
      try {
        List<String> devices = new ArrayList<>();
        try (PreparedStatement ps =
            db.prepareStatement(
                "SELECT s.device FROM streams s JOIN devices d ON d.id=s.device WHERE s.stream=?"
                    + " AND s.records>0 ORDER BY d.last_seen_ms DESC, s.device LIMIT ?")) {
          ps.setString(1, stream);
          ps.setInt(2, MAX_SAMPLE_DEVICES);
          try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              devices.add(rs.getString(1));
            }
          }
        }
        List<byte[]> out = new ArrayList<>();
        if (devices.isEmpty()) {
          return out;
        }
        long share = Math.max(1, maxBytes / devices.size());
        long total = 0;
        try (PreparedStatement ps =
            db.prepareStatement(
                "SELECT first_seq, last_seq, data FROM batches WHERE device=? AND stream=?"
                    + " ORDER BY first_seq DESC")) {
          for (String device : devices) {
            ps.setString(1, device);
            ps.setString(2, stream);
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
        }
        return out;
      } catch (SQLException | ProtocolException e) {
        throw jdbc.failure("reading samples of " + stream, e);
      }
    }
  }
}
