package io.edgesync.agent.internal.files;

import com.google.protobuf.InvalidProtocolBufferException;
import io.edgesync.engine.files.FileInbox;
import io.edgesync.engine.files.FileVersion;
import io.edgesync.engine.files.IndexRanges;
import io.edgesync.engine.files.Manifest;
import io.edgesync.protocol.wire.ChunkRange;
import io.edgesync.protocol.wire.FileOffer;
import io.edgesync.protocol.wire.FileState;
import io.edgesync.support.jdbc.Jdbc;
import java.io.IOException;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;

/**
 * The edge's downloads, durable in {@link FilesDb}: the offers taken, each transfer's chunk entries
 * and which of them are held in the chunk store. Every mutating call commits before it returns, so
 * after a crash (kill -9) {@link #missing} names exactly the chunks not yet recorded as held, and
 * the transfer resumes from there. Assembly and install are {@link FileInstaller}'s.
 *
 * <p>Thread safe (the engine's loop calls it; the installer and the Java API read it): every use of
 * the database holds {@link FilesDb}'s monitor, and {@link #putChunks} writes its chunks under it
 * too, so that a chunk release never deletes a chunk between its write and its row.
 */
public final class SqliteFileInbox implements FileInbox {
  private static final int HASH = Manifest.HASH_BYTES;
  private static final String COLUMNS =
      "offer, state, reason, entries_known, delta_base, bytes_done, bytes_received";

  private final FilesDb db;
  private final OfferCheck check;
  private final FileInstaller installer;

  public SqliteFileInbox(FilesDb db, OfferCheck check, FileInstaller installer) {
    this.db = db;
    this.check = check;
    this.installer = installer;
  }

  @Override
  public Optional<Inbound> transfer(String transferId) {
    return db.tx(
        "read a download",
        j ->
            first(
                j.list(
                    "SELECT " + COLUMNS + " FROM downloads WHERE transfer_id=?",
                    SqliteFileInbox::inbound,
                    transferId)));
  }

  /** Every download, newest first (at most {@code max}). */
  public List<Inbound> all(int max) {
    return db.tx(
        "list downloads",
        j ->
            j.list(
                "SELECT " + COLUMNS + " FROM downloads ORDER BY change_seq DESC LIMIT ?",
                SqliteFileInbox::inbound,
                max));
  }

  @Override
  public Optional<String> refusal(FileOffer offer) {
    return check.refusal(offer);
  }

  @Override
  public void begin(FileOffer offer, long nowMs) {
    String path = offer.getHeader().getPath();
    long version = offer.getHeader().getVersion();
    db.tx(
        "record a download",
        j -> {
          if (j.queryLong(
                  "SELECT count(*) FROM downloads WHERE transfer_id=?", 0, offer.getTransferId())
              > 0) {
            return null;
          }
          j.update(
              "UPDATE downloads SET state=?, reason=?, change_seq=(SELECT coalesce(max(change_seq),0)+1"
                  + " FROM downloads), updated_ms=? WHERE path=? AND version<? AND state IN (?,?)",
              FileState.FILE_STATE_FAILED_VALUE,
              "superseded: version " + version + " was offered",
              nowMs,
              path,
              version,
              FileState.FILE_STATE_DOWNLOADING_VALUE,
              FileState.FILE_STATE_VERIFIED_VALUE);
          j.update(
              "INSERT INTO downloads(transfer_id, path, version, offer, state, reason, entries_known,"
                  + " delta_base, bytes_done, bytes_received, reported_state, change_seq, updated_ms)"
                  + " VALUES (?,?,?,?,?,NULL,0,0,0,0,0,(SELECT coalesce(max(change_seq),0)+1 FROM"
                  + " downloads),?)",
              offer.getTransferId(),
              path,
              version,
              offer.toByteArray(),
              FileState.FILE_STATE_DOWNLOADING_VALUE,
              nowMs);
          return null;
        });
  }

  @Override
  public Optional<Held> held(String path) {
    return db.tx("read an installed file", j -> heldIn(j, path));
  }

  /** The installed version of {@code path} with its manifest, read inside a transaction. */
  static Optional<Held> heldIn(Jdbc j, String path) throws SQLException {
    long version = j.queryLong("SELECT version FROM installed WHERE path=?", 0, path);
    if (version == 0) {
      return Optional.empty();
    }
    return manifestIn(j, FileVersion.transferId(path, version)).map(m -> new Held(version, m));
  }

  /** The manifest of a download whose entries are all known and held. */
  static Optional<Manifest> manifestIn(Jdbc j, String transferId) throws SQLException {
    List<FileOffer> offer =
        j.list(
            "SELECT offer FROM downloads WHERE transfer_id=?", SqliteFileInbox::offer, transferId);
    if (offer.isEmpty()) {
      return Optional.empty();
    }
    int n = offer.get(0).getChunkCount();
    int[] lengths = new int[n];
    byte[] hashes = new byte[n * HASH];
    int[] count = {0};
    try (PreparedStatement ps =
        j.connection()
            .prepareStatement(
                "SELECT idx, length, hash FROM download_entries WHERE transfer_id=? AND held=1"
                    + " ORDER BY idx")) {
      ps.setString(1, transferId);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          int i = rs.getInt(1);
          if (i >= n) {
            return Optional.empty();
          }
          lengths[i] = rs.getInt(2);
          System.arraycopy(rs.getBytes(3), 0, hashes, i * HASH, HASH);
          count[0]++;
        }
      }
    }
    if (count[0] != n) {
      return Optional.empty();
    }
    return Optional.of(
        new Manifest(
            offer.get(0).getHeader().getSize(),
            offer.get(0).getHeader().getSha256().toByteArray(),
            lengths,
            hashes));
  }

  @Override
  public void addEntries(
      String transferId, int first, int[] lengths, byte[] hashes, long deltaBase) {
    if (hashes.length != lengths.length * HASH) {
      throw new IllegalArgumentException(
          lengths.length + " entries but " + hashes.length + " hash bytes");
    }
    db.tx(
        "record chunk entries",
        j -> {
          Inbound in = require(j, transferId);
          if (first != in.entriesKnown()) {
            throw new IllegalStateException(
                transferId + ": entries from " + first + " added, " + in.entriesKnown() + " known");
          }
          if ((long) first + lengths.length > in.offer().getChunkCount()) {
            throw new IllegalArgumentException(
                transferId
                    + ": entries up to "
                    + (first + lengths.length)
                    + " of "
                    + in.offer().getChunkCount()
                    + " chunks");
          }
          long heldBytes = insertEntries(j, transferId, first, lengths, hashes);
          j.update(
              "UPDATE downloads SET entries_known=entries_known+?, bytes_done=bytes_done+?,"
                  + " delta_base=CASE WHEN ?=0 THEN ? ELSE delta_base END WHERE transfer_id=?",
              lengths.length,
              heldBytes,
              first,
              deltaBase,
              transferId);
          return null;
        });
  }

  /** Inserts entries; those whose hash the chunk store holds are held at once. */
  private long insertEntries(Jdbc j, String transferId, int first, int[] lengths, byte[] hashes)
      throws SQLException {
    long heldBytes = 0;
    PreparedStatement ps =
        j.prepared(
            "INSERT INTO download_entries(transfer_id, idx, length, hash, held) VALUES (?,?,?,?,?)");
    for (int i = 0; i < lengths.length; i++) {
      if (lengths[i] <= 0) {
        throw new IllegalArgumentException(
            transferId + ": entry " + (first + i) + " has length " + lengths[i]);
      }
      byte[] h = java.util.Arrays.copyOfRange(hashes, i * HASH, (i + 1) * HASH);
      boolean held = !FilesDb.isZero(h) && db.chunks().has(FilesDb.HEX.formatHex(h));
      heldBytes += held ? lengths[i] : 0;
      Jdbc.bind(ps, transferId, first + i, lengths[i], h, held ? 1 : 0);
      ps.addBatch();
    }
    ps.executeBatch();
    return heldBytes;
  }

  @Override
  public List<ChunkRange> missing(String transferId, int maxChunks) {
    List<Integer> idx =
        db.tx(
            "find missing chunks",
            j ->
                j.list(
                    "SELECT idx FROM download_entries WHERE transfer_id=? AND held=0 ORDER BY idx"
                        + " LIMIT ?",
                    rs -> rs.getInt(1),
                    transferId,
                    maxChunks));
    return IndexRanges.of(idx);
  }

  @Override
  public int[] lengths(String transferId, int first, int count) {
    List<Integer> l =
        db.tx(
            "read chunk lengths",
            j ->
                j.list(
                    "SELECT length FROM download_entries WHERE transfer_id=? AND idx>=? AND idx<?"
                        + " ORDER BY idx",
                    rs -> rs.getInt(1),
                    transferId,
                    first,
                    first + count));
    checkCount(transferId, first, count, l.size());
    return l.stream().mapToInt(Integer::intValue).toArray();
  }

  @Override
  public byte[] hashes(String transferId, int first, int count) {
    List<byte[]> h =
        db.tx(
            "read chunk hashes",
            j ->
                j.list(
                    "SELECT hash FROM download_entries WHERE transfer_id=? AND idx>=? AND idx<?"
                        + " ORDER BY idx",
                    rs -> rs.getBytes(1),
                    transferId,
                    first,
                    first + count));
    checkCount(transferId, first, count, h.size());
    byte[] out = new byte[h.size() * HASH];
    for (int i = 0; i < h.size(); i++) {
      System.arraycopy(h.get(i), 0, out, i * HASH, HASH);
    }
    return out;
  }

  private static void checkCount(String transferId, int first, int count, int found) {
    if (found != count) {
      throw new IllegalArgumentException(
          transferId + ": entries [" + first + ", " + (first + count) + ") are not all known");
    }
  }

  @Override
  public void putChunks(
      String transferId, int first, List<byte[]> data, byte[] hashes, long frameBytes)
      throws IOException {
    if (hashes.length != data.size() * HASH) {
      throw new IllegalArgumentException(
          data.size() + " chunks but " + hashes.length + " hash bytes");
    }
    synchronized (db) {
      for (int i = 0; i < data.size(); i++) {
        db.chunks().put(FilesDb.HEX.formatHex(hashes, i * HASH, (i + 1) * HASH), data.get(i));
      }
      db.tx(
          "record held chunks",
          j -> {
            long bytes = 0;
            for (int i = 0; i < data.size(); i++) {
              byte[] h = java.util.Arrays.copyOfRange(hashes, i * HASH, (i + 1) * HASH);
              int changed =
                  j.update(
                      "UPDATE download_entries SET held=1, hash=? WHERE transfer_id=? AND idx=? AND"
                          + " held=0 AND length=?",
                      h,
                      transferId,
                      first + i,
                      data.get(i).length);
              bytes += changed > 0 ? data.get(i).length : 0;
            }
            j.update(
                "UPDATE downloads SET bytes_done=bytes_done+?, bytes_received=bytes_received+?"
                    + " WHERE transfer_id=?",
                bytes,
                frameBytes,
                transferId);
            return null;
          });
    }
  }

  @Override
  public byte[] chunk(byte[] hash) throws IOException {
    return db.chunks().require(hash);
  }

  /** Progress (DOWNLOADING) is reported at the engine's pace, so only other states are listed. */
  @Override
  public List<Inbound> unreported(int max) {
    return db.tx(
        "list unreported downloads",
        j ->
            j.list(
                "SELECT "
                    + COLUMNS
                    + " FROM downloads WHERE reported_state<>state AND state<>? ORDER BY"
                    + " change_seq LIMIT ?",
                SqliteFileInbox::inbound,
                FileState.FILE_STATE_DOWNLOADING_VALUE,
                max));
  }

  @Override
  public void reported(String transferId, FileState state) {
    db.tx(
        "record a report",
        j ->
            j.update(
                "UPDATE downloads SET reported_state=? WHERE transfer_id=?",
                state.getNumber(),
                transferId));
  }

  /**
   * Records a state. One transition is refused: INSTALLED over FAILED, which is how a failure the
   * device's program reported ({@link #installFailed}) survives the engine recording the install
   * that finished just before.
   */
  @Override
  public void setState(String transferId, FileState state, String reason, long nowMs) {
    db.tx(
        "record a download's state",
        j ->
            j.update(
                "UPDATE downloads SET state=?, reason=?, change_seq=(SELECT max(change_seq)+1 FROM"
                    + " downloads), updated_ms=? WHERE transfer_id=? AND NOT (?=? AND state=?)",
                state.getNumber(),
                reason == null || reason.isEmpty() ? null : reason,
                nowMs,
                transferId,
                state.getNumber(),
                FileState.FILE_STATE_INSTALLED_VALUE,
                FileState.FILE_STATE_FAILED_VALUE));
  }

  /**
   * The device's program could not use the installed {@code path@version}: the transfer becomes
   * FAILED "install_failed: ..." (to be reported to the cloud). False if that version is not the
   * one installed at the path.
   */
  public boolean installFailed(String path, long version, String reason, long nowMs) {
    String id = FileVersion.transferId(path, version);
    return db.tx(
        "record a failed install",
        j -> {
          if (j.queryLong("SELECT version FROM installed WHERE path=?", 0, path) != version) {
            return false;
          }
          j.update(
              "UPDATE downloads SET state=?, reason=?, change_seq=(SELECT max(change_seq)+1 FROM"
                  + " downloads), updated_ms=? WHERE transfer_id=?",
              FileState.FILE_STATE_FAILED_VALUE,
              "install_failed: " + reason,
              nowMs,
              id);
          return true;
        });
  }

  @Override
  public void complete(String transferId, Completion done) {
    installer.submit(transferId, done);
  }

  private Inbound require(Jdbc j, String transferId) throws SQLException {
    return first(
            j.list(
                "SELECT " + COLUMNS + " FROM downloads WHERE transfer_id=?",
                SqliteFileInbox::inbound,
                transferId))
        .orElseThrow(() -> new IllegalArgumentException("no download " + transferId));
  }

  private static <T> Optional<T> first(List<T> l) {
    return l.isEmpty() ? Optional.empty() : Optional.of(l.get(0));
  }

  private static Inbound inbound(ResultSet rs) throws SQLException {
    return new Inbound(
        offer(rs),
        FileState.forNumber(rs.getInt(2)),
        rs.getString(3),
        rs.getInt(4),
        rs.getLong(5),
        rs.getLong(6),
        rs.getLong(7));
  }

  static FileOffer offer(ResultSet rs) throws SQLException {
    try {
      return FileOffer.parseFrom(rs.getBytes(1));
    } catch (InvalidProtocolBufferException e) {
      throw new SQLException("a stored offer does not parse: " + e.getMessage(), e);
    }
  }
}
