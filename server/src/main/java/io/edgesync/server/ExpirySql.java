package io.edgesync.server;

import io.edgesync.support.jdbc.Jdbc;
import java.util.List;

/**
 * The SQL of retention ({@link StreamExpiry}) on the cloud store's tables {@code streams} and
 * {@code batches}, with the expiry counters of {@code db/V11__retention.sql}. Portable: plain
 * SELECT, DELETE and UPDATE that run alike on SQLite and PostgreSQL ({@code length} of a blob or
 * bytea is its size in bytes on both).
 *
 * <p>Thread safe: every method takes the store's monitor ({@code lock}) for one transaction and
 * releases it after, so that commits interleave with a long expiry.
 */
final class ExpirySql {
  /** A device's stream. */
  record StreamKey(String device, String stream) {}

  /** One stored batch, without its data. */
  record StoredBatch(long firstSeq, long lastSeq, long committedAtMs, long bytes) {
    long records() {
      return lastSeq - firstSeq + 1;
    }
  }

  /** Decides how many of the oldest batches (in sequence order) expire: a prefix. */
  @FunctionalInterface
  interface PrefixChooser {
    int expiring(List<StoredBatch> oldest);
  }

  private static final String STREAMS =
      "SELECT device, stream FROM streams ORDER BY device, stream";

  private static final String STORED_BYTES =
      "SELECT COALESCE(SUM(LENGTH(data)), 0) FROM batches WHERE device=? AND stream=?";

  private static final String OLDEST =
      "SELECT first_seq, last_seq, committed_at_ms, LENGTH(data) FROM batches"
          + " WHERE device=? AND stream=? ORDER BY first_seq LIMIT ?";

  private static final String DELETE_THROUGH =
      "DELETE FROM batches WHERE device=? AND stream=? AND first_seq<=?";

  private static final String COUNT_EXPIRED =
      "UPDATE streams SET expired_records=expired_records+?, expired_bytes=expired_bytes+?,"
          + " expired_through_seq=CASE WHEN expired_through_seq<? THEN ? ELSE expired_through_seq"
          + " END WHERE device=? AND stream=?";

  private final Jdbc jdbc;
  private final Object lock;

  ExpirySql(Jdbc jdbc, Object lock) {
    this.jdbc = jdbc;
    this.lock = lock;
  }

  /** Every device's streams, by device and name. */
  List<StreamKey> streams() {
    synchronized (lock) {
      return jdbc.inTransaction(
          "listing streams for retention",
          () ->
              StoreSql.rows(jdbc, STREAMS, rs -> new StreamKey(rs.getString(1), rs.getString(2))));
    }
  }

  /** The bytes {@code key}'s batches take as stored. */
  long storedBytes(StreamKey key) {
    synchronized (lock) {
      return jdbc.inTransaction(
          "measuring " + key.device() + "/" + key.stream() + " for retention",
          () -> jdbc.queryLong(STORED_BYTES, 0, key.device(), key.stream()));
    }
  }

  /**
   * Deletes the prefix of the oldest {@code maxBatches} batches of {@code key} that {@code chooser}
   * picks, and counts it as expired, in one transaction; returns the batches deleted.
   */
  List<StoredBatch> expireOldest(StreamKey key, int maxBatches, PrefixChooser chooser) {
    String operation = "expiring batches of " + key.device() + "/" + key.stream();
    synchronized (lock) {
      return jdbc.inTransaction(
          operation,
          () -> {
            List<StoredBatch> oldest =
                StoreSql.rows(
                    jdbc,
                    OLDEST,
                    rs ->
                        new StoredBatch(rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getLong(4)),
                    key.device(),
                    key.stream(),
                    maxBatches);
            int n = chooser.expiring(oldest);
            if (n == 0) {
              return List.<StoredBatch>of();
            }
            List<StoredBatch> expired = oldest.subList(0, n);
            delete(key, expired);
            return List.copyOf(expired);
          });
    }
  }

  /** Inside the caller's transaction: deletes {@code expired} (the oldest) and counts them. */
  private void delete(StreamKey key, List<StoredBatch> expired) throws java.sql.SQLException {
    StoredBatch last = expired.get(expired.size() - 1);
    int deleted = jdbc.update(DELETE_THROUGH, key.device(), key.stream(), last.firstSeq());
    if (deleted != expired.size()) {
      // The prefix was read in this transaction: anything else is a broken invariant, not a race.
      throw new IllegalStateException(
          "expiry of "
              + key
              + " through batch "
              + last.firstSeq()
              + " would delete "
              + deleted
              + " batches, not the "
              + expired.size()
              + " chosen; rolled back");
    }
    long records = 0;
    long bytes = 0;
    for (StoredBatch b : expired) {
      records += b.records();
      bytes += b.bytes();
    }
    jdbc.update(
        COUNT_EXPIRED, records, bytes, last.lastSeq(), last.lastSeq(), key.device(), key.stream());
  }
}
