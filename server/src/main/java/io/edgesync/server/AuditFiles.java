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
 * The audit log read offline from a server's data directory (read only, in one read transaction, so
 * a running server may go on writing): verified ({@link #verifyStore}) or exported as lines ({@link
 * #export}, the format {@link AuditVerifier} reads). For {@code edgesync audit}.
 *
 * <p>Stateless, thread safe.
 */
public final class AuditFiles {
  private AuditFiles() {}

  /** Verifies the stored chain; checkpoints with the public key beside the store. */
  public static AuditVerifier.Report verifyStore(Path dataDir) throws IOException, SQLException {
    PublicKey key = AuditKeys.readPublic(existing(dataDir.resolve(AuditKeys.PUBLIC_FILE)));
    AuditVerifier v = new AuditVerifier(key);
    eachRecord(dataDir, v::accept);
    return v.report();
  }

  /**
   * Writes every record as a line and a signed end line (with the private key beside the store);
   * returns the number of records.
   */
  public static long export(Path dataDir, Writer out) throws IOException, SQLException {
    PrivateKey key = AuditKeys.readPrivate(existing(dataDir.resolve(AuditKeys.PRIVATE_FILE)));
    Entry[] last = {null};
    IOException[] failed = {null};
    eachRecord(
        dataDir,
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
  private static void eachRecord(Path dataDir, Predicate<Entry> each)
      throws IOException, SQLException {
    Path file = existing(dataDir.resolve(SyncServer.STORE_FILE));
    SQLiteConfig config = new SQLiteConfig();
    config.setReadOnly(true);
    try (Connection db = config.createConnection("jdbc:sqlite:" + file.toAbsolutePath())) {
      db.setAutoCommit(false); // one read transaction: one snapshot
      if (!hasAuditLog(db)) {
        throw new SQLException(
            file + " has no audit log (written by an older version: start the server once)");
      }
      try (PreparedStatement ps = db.prepareStatement(AuditLog.SELECT + " ORDER BY seq");
          ResultSet rs = ps.executeQuery()) {
        while (rs.next() && each.test(AuditLog.read(rs))) {
          // next
        }
      }
    }
  }

  private static boolean hasAuditLog(Connection db) throws SQLException {
    try (PreparedStatement ps =
            db.prepareStatement(
                "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='audit_log'");
        ResultSet rs = ps.executeQuery()) {
      return rs.next() && rs.getInt(1) == 1;
    }
  }

  private static Path existing(Path file) throws IOException {
    if (!Files.exists(file)) {
      throw new IOException(file + " does not exist (is this a server's data directory?)");
    }
    return file;
  }
}
