package io.edgesync.server;

import io.edgesync.protocol.Hlc;
import io.edgesync.support.jdbc.Jdbc;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * The document store's counters, kept in table {@code meta}: the last version written ({@code
 * doc_version}, one counter for the whole store), the last HLC the cloud issued ({@code hlc}) and
 * how far the version log is pruned ({@code doc_log_pruned}). Changed in memory during a group,
 * saved with the group's commit (only those that changed), and put back from a {@link Mark} when a
 * transaction or the group is rolled back.
 *
 * <p>Not thread safe: used only under the document store's monitor.
 */
final class DocMeta {
  private static final String SAVE =
      "INSERT INTO meta(k, v, t) VALUES (?,?,?) ON CONFLICT(k) DO UPDATE SET v=excluded.v, t=excluded.t";

  /** The counters at one moment. */
  record Mark(long version, Hlc hlc, long prunedUpTo) {}

  private final Jdbc jdbc;
  private final StoreDialect dialect;
  private long version;
  private Hlc hlc = Hlc.ZERO;
  private long prunedUpTo;

  /** Reads the counters (a new store starts at version 0 and {@link Hlc#ZERO}). */
  DocMeta(Jdbc jdbc) throws SQLException {
    this.jdbc = jdbc;
    this.dialect = StoreDialect.of(jdbc.connection());
    readStored();
  }

  /**
   * At the start of a document group: on PostgreSQL, where other server nodes write the same
   * counters, takes the {@link StoreDialect.CounterLock#DOCUMENTS} lock for the group's transaction
   * and moves each counter up to what is stored (another node may have written since). Nothing on
   * SQLite, whose single writer is this store.
   */
  void lockAndCatchUp() throws SQLException {
    if (dialect == StoreDialect.POSTGRES) {
      dialect.lock(jdbc, StoreDialect.CounterLock.DOCUMENTS);
      readStored();
    }
  }

  /**
   * Outside a group, on PostgreSQL: moves each counter up to what is stored, so that a read can
   * tell whether another node wrote documents since this one last looked. Nothing on SQLite.
   */
  void catchUp() throws SQLException {
    if (dialect == StoreDialect.POSTGRES) {
      readStored();
    }
  }

  /** Takes each stored counter that is ahead of the one in memory. */
  private void readStored() throws SQLException {
    PreparedStatement ps = jdbc.prepared("SELECT k, v, t FROM meta");
    try (ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        switch (rs.getString(1)) {
          case "doc_version" -> version = Math.max(version, rs.getLong(2));
          case "doc_log_pruned" -> prunedUpTo = Math.max(prunedUpTo, rs.getLong(2));
          case "hlc" -> advanceHlc(rs.getString(3) == null ? Hlc.ZERO : Hlc.parse(rs.getString(3)));
          default -> {}
        }
      }
    }
  }

  long version() {
    return version;
  }

  /** Takes the next version for a write. */
  long nextVersion() {
    return ++version;
  }

  Hlc hlc() {
    return hlc;
  }

  /** Keeps {@code h} if it is after the last HLC (an HLC never goes back). */
  void advanceHlc(Hlc h) {
    if (h.after(hlc)) {
      hlc = h;
    }
  }

  /** Log rows at or below this version are pruned (current ones excepted). */
  long prunedUpTo() {
    return prunedUpTo;
  }

  void prunedUpTo(long version) {
    prunedUpTo = version;
  }

  Mark mark() {
    return new Mark(version, hlc, prunedUpTo);
  }

  void restore(Mark m) {
    version = m.version();
    hlc = m.hlc();
    prunedUpTo = m.prunedUpTo();
  }

  /** Writes the counters that changed since {@code m} (inside the group's transaction). */
  void saveChangedSince(Mark m) throws SQLException {
    if (version != m.version()) {
      jdbc.update(SAVE, "doc_version", version, null);
    }
    if (prunedUpTo != m.prunedUpTo()) {
      jdbc.update(SAVE, "doc_log_pruned", prunedUpTo, null);
    }
    if (!hlc.equals(m.hlc())) {
      jdbc.update(SAVE, "hlc", 0, hlc.toString());
    }
  }
}
