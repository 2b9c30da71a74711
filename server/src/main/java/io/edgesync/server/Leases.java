package io.edgesync.server;

import io.edgesync.support.jdbc.Jdbc;
import java.util.List;
import java.util.OptionalLong;

/**
 * Leases on work that must run on one server node at a time when several share one store (table
 * {@code leases}, {@code db/V10__sessions_leases.sql}): expiry, the Kafka exporter, dictionary
 * training. A lease names its holder (a node id) and an expiry time; the holder renews it well
 * before then, and another node takes it over only once it expired. Each change of holder takes the
 * next epoch, so work done under a lease can tell an old holder's from a new one's.
 *
 * <p>Expiry is in the holders' own clocks: nodes' clocks must agree to well within the lease's
 * length (NTP; docs/operations.md "Several nodes"). A holder stops its work once it could not renew
 * for half the length ({@link LeaseRunner}), so a skew below that half never lets two run at once.
 *
 * <p>Thread safe: every call runs under the store's monitor.
 */
public final class Leases {
  /** A lease as listed. */
  public record Lease(String name, String holder, long epoch, long expiresAtMs) {}

  private static final String ACQUIRE =
      "INSERT INTO leases(name, holder, epoch, expires_at_ms) VALUES (?,?,1,?)"
          + " ON CONFLICT(name) DO UPDATE SET"
          + " epoch=CASE WHEN leases.holder=excluded.holder THEN leases.epoch"
          + " ELSE leases.epoch+1 END,"
          + " holder=excluded.holder, expires_at_ms=excluded.expires_at_ms"
          + " WHERE leases.holder=excluded.holder OR leases.expires_at_ms<=?"
          + " RETURNING epoch";

  private final StoreSql sql;
  private final Object lock;

  Leases(Jdbc jdbc, Object lock) {
    this.sql = new StoreSql(jdbc, "lease store");
    this.lock = lock;
  }

  /**
   * Takes or renews the lease {@code name} for {@code holder} until {@code nowMs + lengthMs}: held
   * by nobody, by {@code holder} already, or expired at {@code nowMs}.
   *
   * @return the lease's epoch if {@code holder} holds it now, empty if another node does
   */
  public OptionalLong acquire(String name, String holder, long lengthMs, long nowMs) {
    synchronized (lock) {
      long epoch =
          sql.inTransaction(
              () -> sql.jdbc().queryLong(ACQUIRE, -1, name, holder, nowMs + lengthMs, nowMs));
      return epoch < 0 ? OptionalLong.empty() : OptionalLong.of(epoch);
    }
  }

  /** Gives the lease up if {@code holder} holds it, so another node can take it at once. */
  public void release(String name, String holder) {
    synchronized (lock) {
      sql.inTransaction(
          () ->
              sql.jdbc()
                  .update(
                      "UPDATE leases SET expires_at_ms=0 WHERE name=? AND holder=?", name, holder));
    }
  }

  /** Every lease there is, by name. */
  public List<Lease> list() {
    synchronized (lock) {
      return sql.readCommitted(
          "SELECT name, holder, epoch, expires_at_ms FROM leases ORDER BY name",
          rs -> new Lease(rs.getString(1), rs.getString(2), rs.getLong(3), rs.getLong(4)));
    }
  }
}
