package io.edgesync.server;

import io.edgesync.server.AuditChain.Entry;
import java.io.IOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.function.Predicate;
import org.sqlite.SQLiteConfig;

/**
 * The audit log read offline from a server's store (read only, in one read transaction, so a
 * running server may go on writing): verified ({@link #verifyStore}) or exported as lines ({@link
 * #export}, the format {@link AuditVerifier} reads). The store is the SQLite file in a data
 * directory, or the one a server config names ({@code server.store}: PostgreSQL too, read through a
 * read-only {@code REPEATABLE READ} transaction; nothing is migrated or written). The signing keys
 * are in the data directory either way. For {@code edgesync audit}.
 *
 * <p>Stateless, thread safe.
 */
public final class AuditFiles {
  private AuditFiles() {}

  /** Verifies the stored chain; checkpoints with the public key beside the store. */
  public static AuditVerifier.Report verifyStore(Path dataDir) throws IOException, SQLException {
    return verifyStore(dataDir, StoreSettings.sqlite());
  }

  /**
   * Verifies the chain in the store {@code config} names; checkpoints with the public key in its
   * data directory.
   */
  public static AuditVerifier.Report verifyStore(ServerConfig config)
      throws IOException, SQLException {
    return verifyStore(config.dataDir(), config.store());
  }

  private static AuditVerifier.Report verifyStore(Path dataDir, StoreSettings store)
      throws IOException, SQLException {
    PublicKey key = AuditKeys.readPublic(existing(dataDir.resolve(AuditKeys.PUBLIC_FILE)));
    AuditVerifier v = new AuditVerifier(key);
    eachRecord(dataDir, store, v::accept);
    return v.report();
  }

  /** {@link #export(Path, Writer)} of the store {@code config} names. */
  public static long export(ServerConfig config, Writer out) throws IOException, SQLException {
    return export(config.dataDir(), config.store(), out);
  }

  /**
   * Writes every record as a line and a signed end line (with the private key beside the store);
   * returns the number of records.
   */
  public static long export(Path dataDir, Writer out) throws IOException, SQLException {
    return export(dataDir, StoreSettings.sqlite(), out);
  }

  private static long export(Path dataDir, StoreSettings store, Writer out)
      throws IOException, SQLException {
    PrivateKey key = AuditKeys.readPrivate(existing(dataDir.resolve(AuditKeys.PRIVATE_FILE)));
    Entry[] last = {null};
    IOException[] failed = {null};
    eachRecord(
        dataDir,
        store,
        e -> {
          try {
            out.write(AuditChain.line(e));
            out.write('\n');
            last[0] = e;
            return true;
          } catch (IOException io) {
            failed[0] = io;
            return false;
          }
        });
    if (failed[0] != null) {
      throw failed[0];
    }
    long seq = last[0] == null ? 0 : last[0].seq();
    byte[] hash = last[0] == null ? new byte[AuditChain.HASH_BYTES] : last[0].hash();
    out.write(AuditVerifier.endLine(seq, hash, key));
    out.write('\n');
    out.flush();
    return seq;
  }

  /** Feeds the stored records in order to {@code each} until it returns false. */
  private static void eachRecord(Path dataDir, StoreSettings store, Predicate<Entry> each)
      throws IOException, SQLException {
    String name;
    Connection db;
    if (store.type() == StoreSettings.Type.SQLITE) {
      Path file = existing(dataDir.resolve(SyncServer.STORE_FILE));
      name = file.toString();
      SQLiteConfig config = new SQLiteConfig();
      config.setReadOnly(true);
      db = config.createConnection("jdbc:sqlite:" + file.toAbsolutePath());
    } else {
      name = store.url();
      db = PostgresDatabase.readOnlyConnection(store);
    }
    try (db) {
      db.setAutoCommit(false); // one read transaction: one snapshot
      if (!hasAuditLog(db)) {
        throw new SQLException(
            name + " has no audit log (written by an older version: start the server once)");
      }
      try (PreparedStatement ps = db.prepareStatement(AuditLog.SELECT + " ORDER BY seq");
          ResultSet rs = ps.executeQuery()) {
        while (rs.next() && each.test(AuditLog.read(rs))) {
          // next
        }
      }
    }
  }

  /** Whether the store has the table (JDBC's catalogue: the same call on both databases). */
  private static boolean hasAuditLog(Connection db) throws SQLException {
    try (ResultSet rs = db.getMetaData().getTables(null, null, "audit_log", null)) {
      return rs.next();
    }
  }

  private static Path existing(Path file) throws IOException {
    if (!Files.exists(file)) {
      throw new IOException(file + " does not exist (is this a server's data directory?)");
    }
    return file;
  }
}
