package io.edgesync.agent.internal.outbox;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The outbox's dedup windows: per stream that declares one, the SHA-256 of its last {@code
 * dedup_window} records, in memory and in the {@code recent} table. Writer thread only, under the
 * outbox's lock (and at open).
 */
final class OutboxDedup {
  /** A payload's SHA-256 (a collision would need 2^128 work: equal digests are equal payloads). */
  record Key(long a, long b, long c, long d) {
    static Key of(byte[] digest) {
      java.nio.ByteBuffer buf = java.nio.ByteBuffer.wrap(digest);
      return new Key(buf.getLong(), buf.getLong(), buf.getLong(), buf.getLong());
    }

    byte[] bytes() {
      return java.nio.ByteBuffer.allocate(32).putLong(a).putLong(b).putLong(c).putLong(d).array();
    }
  }

  private final Connection db;
  private final Map<String, Integer> windows;
  private final Map<String, Recent> recent = new HashMap<>();
  private final MessageDigest sha256;

  OutboxDedup(Connection db, Map<String, Integer> windows) {
    this.db = db;
    this.windows = Map.copyOf(windows);
    try {
      this.sha256 = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }

  /**
   * Splits the request's payloads into those to append and duplicates of the stream's recent
   * records (or of records accepted earlier in this group: {@code pending}). Nothing changes until
   * the group commits.
   */
  void split(AppendRequest r, Map<Key, AppendRequest.InGroup> pending) {
    r.kept = new ArrayList<>(r.payloads.size());
    r.keptKeys = new ArrayList<>();
    r.dups = new ArrayList<>();
    r.keptBytes = 0;
    Integer window = windows.get(r.stream);
    if (window == null || window <= 0) {
      r.kept.addAll(r.payloads);
      r.keptBytes = r.bytes;
      return;
    }
    Recent ring = recent.computeIfAbsent(r.stream, k -> new Recent(window));
    Map<Key, Integer> own = new HashMap<>();
    for (int i = 0; i < r.payloads.size(); i++) {
      byte[] p = r.payloads.get(i);
      Key key = Key.of(sha256.digest(p));
      Long seq = ring.sequenceOf(key);
      if (seq != null) {
        r.dups.add(new AppendRequest.LeftOut(i, new AppendRequest.Stored(seq)));
      } else if (pending.containsKey(key)) {
        r.dups.add(new AppendRequest.LeftOut(i, pending.get(key)));
      } else if (own.containsKey(key)) {
        r.dups.add(new AppendRequest.LeftOut(i, new AppendRequest.InGroup(r, own.get(key))));
      } else {
        own.put(key, r.kept.size());
        r.kept.add(p);
        r.keptKeys.add(key);
        r.keptBytes += p.length;
      }
    }
  }

  /** Adds the stream's new records to its window (memory and {@code recent}), dropping the old. */
  void remember(String stream, List<AppendRequest> requests, long lastSeq) throws SQLException {
    Recent ring = recent.get(stream);
    if (ring == null) {
      return;
    }
    try (PreparedStatement ins =
        db.prepareStatement("INSERT OR REPLACE INTO recent(stream, seq, digest) VALUES (?,?,?)")) {
      for (AppendRequest r : requests) {
        for (int i = 0; i < r.keptKeys.size(); i++) {
          long seq = r.assigned + i;
          ring.add(r.keptKeys.get(i), seq);
          ins.setString(1, stream);
          ins.setLong(2, seq);
          ins.setBytes(3, r.keptKeys.get(i).bytes());
          ins.executeUpdate();
        }
      }
    }
    try (PreparedStatement del =
        db.prepareStatement("DELETE FROM recent WHERE stream=? AND seq<=?")) {
      del.setString(1, stream);
      del.setLong(2, lastSeq - ring.window);
      del.executeUpdate();
    }
  }

  /** Loads the dedup windows from {@code recent} (streams without a window are ignored). */
  void load() throws SQLException {
    recent.clear();
    try (Statement st = db.createStatement();
        ResultSet rs =
            st.executeQuery("SELECT stream, seq, digest FROM recent ORDER BY stream, seq")) {
      while (rs.next()) {
        Integer window = windows.get(rs.getString(1));
        if (window != null && window > 0) {
          recent
              .computeIfAbsent(rs.getString(1), k -> new Recent(window))
              .add(Key.of(rs.getBytes(3)), rs.getLong(2));
        }
      }
    }
  }

  /** The last {@code window} records of one stream, by payload digest. Oldest first. */
  private static final class Recent {
    final int window;
    final LinkedHashMap<Key, Long> entries = new LinkedHashMap<>();

    Recent(int window) {
      this.window = window;
    }

    Long sequenceOf(Key k) {
      return entries.get(k);
    }

    void add(Key k, long seq) {
      entries.put(k, seq);
      while (entries.size() > window) {
        entries.remove(entries.keySet().iterator().next());
      }
    }
  }
}
