package io.edgesync.server;

import io.edgesync.engine.commands.CommandStore;
import io.edgesync.support.jdbc.Jdbc;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.function.Supplier;

/**
 * The {@link CommandStore} half of {@link SqliteCloudStore} (table {@code commands}, schema {@code
 * db/V2__documents.sql}); same connection and monitor.
 */
final class SqliteCommands implements CommandStore {
  /** The error of a command the cloud expired itself (queued when its TTL passed). */
  static final String EXPIRED_UNCONFIRMED = "TTL passed before the device received it";

  private static final String COLUMNS =
      "id, device, name, payload, created_ms, expires_ms, state, result, error, deliveries,"
          + " updated_ms";

  private final StoreSql sql;
  private final Object lock;
  private final Supplier<String> ids;

  SqliteCommands(Jdbc jdbc, Object lock, Supplier<String> ids) {
    this.sql = new StoreSql(jdbc, "command store");
    this.lock = lock;
    this.ids = ids;
  }

  @Override
  public StoredCommand create(
      String deviceId, String name, byte[] payload, long ttlMs, long nowMs) {
    String id = ids.get();
    write(
        "INSERT INTO commands(" + COLUMNS + ") VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        id,
        deviceId,
        name,
        payload,
        nowMs,
        nowMs + ttlMs,
        QUEUED,
        null,
        null,
        0,
        nowMs);
    return command(id, nowMs);
  }

  @Override
  public StoredCommand command(String id, long nowMs) {
    expire(nowMs);
    List<StoredCommand> found = query("SELECT " + COLUMNS + " FROM commands WHERE id=?", id);
    return found.isEmpty() ? null : found.get(0);
  }

  @Override
  public List<StoredCommand> commands(String deviceId, int limit, long nowMs) {
    expire(nowMs);
    return query(
        "SELECT " + COLUMNS + " FROM commands WHERE device=? ORDER BY created_ms DESC, id LIMIT ?",
        deviceId,
        limit);
  }

  @Override
  public List<StoredCommand> deliverable(String deviceId, int limit, long nowMs) {
    expire(nowMs);
    return query(
        "SELECT "
            + COLUMNS
            + " FROM commands WHERE device=? AND state='queued' ORDER BY"
            + " created_ms, id LIMIT ?",
        deviceId,
        limit);
  }

  @Override
  public StoredCommand report(
      String deviceId, String id, String state, byte[] result, String error, long nowMs) {
    synchronized (lock) {
      StoredCommand c = command(id, nowMs);
      if (c == null || !c.deviceId().equals(deviceId)) {
        return null;
      }
      // The cloud's own expiry of a command it had sent is a guess: the device's deadline starts
      // when the Command frame arrives, so it may have received and run it in time, and then its
      // report of what happened is the truth.
      boolean guessedExpiry =
          c.state().equals(EXPIRED)
              && c.deliveries() > 0
              && EXPIRED_UNCONFIRMED.equals(c.error())
              && !state.equals(DELIVERED);
      if ((c.isFinal() && !guessedExpiry)
          || (state.equals(DELIVERED) && c.state().equals(DELIVERED))) {
        return c;
      }
      write(
          "UPDATE commands SET state=?, result=?, error=?, updated_ms=? WHERE id=?",
          state,
          result,
          error,
          nowMs,
          id);
      return command(id, nowMs);
    }
  }

  @Override
  public void sent(String id, long nowMs) {
    write("UPDATE commands SET deliveries=deliveries+1, updated_ms=? WHERE id=?", nowMs, id);
  }

  private void expire(long nowMs) {
    write(
        "UPDATE commands SET state='expired', error=?, updated_ms=? WHERE state='queued' AND"
            + " expires_ms<=?",
        EXPIRED_UNCONFIRMED,
        nowMs,
        nowMs);
  }

  private void write(String statement, Object... args) {
    synchronized (lock) {
      sql.inTransaction(() -> sql.jdbc().update(statement, args));
    }
  }

  private List<StoredCommand> query(String statement, Object... args) {
    synchronized (lock) {
      return sql.readCommitted(statement, SqliteCommands::readCommand, args);
    }
  }

  private static StoredCommand readCommand(ResultSet rs) throws SQLException {
    int i = 1;
    return new StoredCommand(
        rs.getString(i++),
        rs.getString(i++),
        rs.getString(i++),
        rs.getBytes(i++),
        rs.getLong(i++),
        rs.getLong(i++),
        rs.getString(i++),
        rs.getBytes(i++),
        rs.getString(i++),
        rs.getInt(i++),
        rs.getLong(i));
  }
}
