package io.edgesync.server.files;

import com.google.protobuf.InvalidProtocolBufferException;
import io.edgesync.engine.files.FileInbox.Inbound;
import io.edgesync.engine.files.IndexRanges;
import io.edgesync.engine.files.Manifest;
import io.edgesync.protocol.wire.ChunkRange;
import io.edgesync.protocol.wire.FileOffer;
import io.edgesync.protocol.wire.FileState;
import io.edgesync.support.jdbc.Jdbc;
import java.io.ByteArrayOutputStream;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * Devices' uploads (tables {@code uploads} and {@code upload_chunks}, schema {@code
 * db/V9__files.sql}), in the cloud store's file: per device and transfer, the offer as received,
 * its state, and each chunk entry with whether the chunk store holds it. Every call commits before
 * it returns, so a transfer resumes from what was recorded.
 *
 * <p>Thread safe: every call runs under the store's monitor.
 */
public final class UploadStore {
  private static final String COLUMNS =
      "offer, state, reason, entries_known, delta_base, bytes_done, bytes_received";

  /** An upload as listed: who sent what, and where it stands. */
  public record Upload(
      String device,
      String transferId,
      String collection,
      String path,
      long version,
      long size,
      byte[] sha256,
      FileState state,
      String reason,
      long bytesDone,
      long bytesReceived,
      long startedAtMs,
      long updatedAtMs) {}

  private final FileSql sql;

  public UploadStore(Jdbc jdbc, Object lock) {
    this.sql = new FileSql(jdbc, lock, "upload store");
  }

  public Optional<Inbound> transfer(String device, String transferId) {
    return sql
        .read(
            "SELECT " + COLUMNS + " FROM uploads WHERE device=? AND transfer_id=?",
            UploadStore::readInbound,
            device,
            transferId)
        .stream()
        .findFirst();
  }

  /** Bytes of the device's uploads that are stored or under way (not failed). */
  long bytesInUse(String device) {
    return sql.read(
            "SELECT coalesce(sum(size), 0) FROM uploads WHERE device=? AND state<>?",
            rs -> rs.getLong(1),
            device,
            FileState.FILE_STATE_FAILED.name())
        .get(0);
  }

  /** A new transfer (DOWNLOADING, no entries), superseding unfinished older ones of the path. */
  void begin(String device, FileOffer offer, long nowMs) {
    sql.write(
        () -> {
          int inserted =
              sql.updateInTransaction(
                  "INSERT INTO uploads(device, transfer_id, collection, path, version, size,"
                      + " sha256, offer, state, reason, chunk_count, entries_known, delta_base,"
                      + " bytes_done, bytes_received, reported_state, started_at_ms,"
                      + " updated_at_ms) VALUES (?,?,?,?,?,?,?,?,?,NULL,?,0,0,0,0,NULL,?,?)"
                      + " ON CONFLICT DO NOTHING",
                  device,
                  offer.getTransferId(),
                  offer.getCollection(),
                  offer.getHeader().getPath(),
                  offer.getHeader().getVersion(),
                  offer.getHeader().getSize(),
                  offer.getHeader().getSha256().toByteArray(),
                  offer.toByteArray(),
                  FileState.FILE_STATE_DOWNLOADING.name(),
                  offer.getChunkCount(),
                  nowMs,
                  nowMs);
          if (inserted == 1) {
            sql.updateInTransaction(
                "UPDATE uploads SET state=?, reason=?, updated_at_ms=? WHERE device=? AND path=?"
                    + " AND version<? AND state IN (?,?)",
                FileState.FILE_STATE_FAILED.name(),
                "superseded: version " + offer.getHeader().getVersion() + " was offered",
                nowMs,
                device,
                offer.getHeader().getPath(),
                offer.getHeader().getVersion(),
                FileState.FILE_STATE_DOWNLOADING.name(),
                FileState.FILE_STATE_VERIFIED.name());
          }
          return null;
        });
  }

  /**
   * Appends entries {@code [first, first + lengths.length)}; those {@code held} says the chunk
   * store holds count as held at once.
   *
   * @throws IllegalArgumentException if {@code first} is not the count known, or the entries run
   *     past the offer's chunk count; nothing recorded
   */
  void addEntries(
      String device,
      String transferId,
      int first,
      int[] lengths,
      byte[] hashes,
      long deltaBase,
      Predicate<byte[]> held) {
    if (hashes.length != lengths.length * Manifest.HASH_BYTES) {
      throw new IllegalArgumentException(
          lengths.length + " chunk entries need " + lengths.length * 32 + " hash bytes");
    }
    sql.write(
        () -> {
          Inbound t = requireInTransaction(device, transferId);
          if (first != t.entriesKnown() || first + lengths.length > t.offer().getChunkCount()) {
            throw new IllegalArgumentException(
                "entries ["
                    + first
                    + ", "
                    + (first + lengths.length)
                    + ") of "
                    + transferId
                    + ": "
                    + t.entriesKnown()
                    + " known of "
                    + t.offer().getChunkCount());
          }
          long heldBytes = 0;
          for (int i = 0; i < lengths.length; i++) {
            byte[] h = Arrays.copyOfRange(hashes, i * 32, (i + 1) * 32);
            boolean has = !isZero(h) && held.test(h);
            heldBytes += has ? lengths[i] : 0;
            sql.updateInTransaction(
                "INSERT INTO upload_chunks(device, transfer_id, idx, length, hash, held)"
                    + " VALUES (?,?,?,?,?,?)",
                device,
                transferId,
                first + i,
                lengths[i],
                h,
                has ? 1 : 0);
          }
          sql.updateInTransaction(
              "UPDATE uploads SET entries_known=?, delta_base=CASE WHEN ?=0 THEN ? ELSE"
                  + " delta_base END, bytes_done=bytes_done+? WHERE device=? AND transfer_id=?",
              first + lengths.length,
              first,
              deltaBase,
              heldBytes,
              device,
              transferId);
          return null;
        });
  }

  /** Up to {@code maxChunks} entries not held, in order, as ranges. */
  List<ChunkRange> missing(String device, String transferId, int maxChunks) {
    List<Integer> idx =
        sql.read(
            "SELECT idx FROM upload_chunks WHERE device=? AND transfer_id=? AND held=0"
                + " ORDER BY idx LIMIT ?",
            rs -> rs.getInt(1),
            device,
            transferId,
            maxChunks);
    return IndexRanges.of(idx);
  }

  int[] lengths(String device, String transferId, int first, int count) {
    List<Integer> l =
        sql.read(
            "SELECT length FROM upload_chunks WHERE device=? AND transfer_id=? AND idx>=?"
                + " AND idx<? ORDER BY idx",
            rs -> rs.getInt(1),
            device,
            transferId,
            first,
            first + count);
    return l.stream().mapToInt(Integer::intValue).toArray();
  }

  byte[] hashes(String device, String transferId, int first, int count) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(count * 32);
    for (byte[] h :
        sql.read(
            "SELECT hash FROM upload_chunks WHERE device=? AND transfer_id=? AND idx>=?"
                + " AND idx<? ORDER BY idx",
            rs -> rs.getBytes(1),
            device,
            transferId,
            first,
            first + count)) {
      out.writeBytes(h);
    }
    return out.toByteArray();
  }

  /**
   * Marks entries {@code [first, first + count)} held with these hashes (their chunks are in the
   * chunk store now): adds the bytes of those not held before to bytes_done, and {@code frameBytes}
   * to bytes_received.
   */
  void held(
      String device, String transferId, int first, int count, byte[] hashes, long frameBytes) {
    sql.write(
        () -> {
          long newly = 0;
          for (int i = 0; i < count; i++) {
            List<Object[]> row =
                sql.rowsInTransaction(
                    "SELECT length, held FROM upload_chunks WHERE device=? AND transfer_id=?"
                        + " AND idx=?",
                    rs -> new Object[] {rs.getInt(1), rs.getInt(2)},
                    device,
                    transferId,
                    first + i);
            if (row.isEmpty()) {
              throw new IllegalArgumentException(
                  "chunk " + (first + i) + " of " + transferId + " has no entry yet");
            }
            if ((int) row.get(0)[1] == 0) {
              newly += (int) row.get(0)[0];
            }
            sql.updateInTransaction(
                "UPDATE upload_chunks SET hash=?, held=1 WHERE device=? AND transfer_id=?"
                    + " AND idx=?",
                Arrays.copyOfRange(hashes, i * 32, (i + 1) * 32),
                device,
                transferId,
                first + i);
          }
          sql.updateInTransaction(
              "UPDATE uploads SET bytes_done=bytes_done+?, bytes_received=bytes_received+?"
                  + " WHERE device=? AND transfer_id=?",
              newly,
              frameBytes,
              device,
              transferId);
          return null;
        });
  }

  /** Entries not held (0 once the upload holds every chunk of its offer). */
  long notHeld(String device, String transferId) {
    Inbound t = transfer(device, transferId).orElseThrow();
    long heldCount =
        sql.read(
                "SELECT count(*) FROM upload_chunks WHERE device=? AND transfer_id=? AND held=1",
                rs -> rs.getLong(1),
                device,
                transferId)
            .get(0);
    return t.offer().getChunkCount() - heldCount;
  }

  List<Inbound> unreported(String device, int max) {
    return sql.read(
        "SELECT "
            + COLUMNS
            + " FROM uploads WHERE device=? AND (reported_state IS NULL OR reported_state<>state)"
            + " ORDER BY updated_at_ms, transfer_id LIMIT ?",
        UploadStore::readInbound,
        device,
        max);
  }

  void reported(String device, String transferId, FileState state) {
    sql.write(
        () ->
            sql.updateInTransaction(
                "UPDATE uploads SET reported_state=? WHERE device=? AND transfer_id=?",
                state.name(),
                device,
                transferId));
  }

  /** Records a state; a final state (STORED, FAILED) is never left again. */
  void setState(String device, String transferId, FileState state, String reason, long nowMs) {
    sql.write(
        () ->
            sql.updateInTransaction(
                "UPDATE uploads SET state=?, reason=?, updated_at_ms=? WHERE device=?"
                    + " AND transfer_id=? AND state NOT IN (?,?)",
                state.name(),
                reason == null || reason.isEmpty() ? null : reason,
                nowMs,
                device,
                transferId,
                FileState.FILE_STATE_STORED.name(),
                FileState.FILE_STATE_FAILED.name()));
  }

  /** Hashes of entries {@code [first, first + count)} with their lengths, for reading in order. */
  List<Object[]> entries(String device, String transferId, int first, int count) {
    return sql.read(
        "SELECT length, hash, held FROM upload_chunks WHERE device=? AND transfer_id=?"
            + " AND idx>=? AND idx<? ORDER BY idx",
        rs -> new Object[] {rs.getInt(1), rs.getBytes(2), rs.getInt(3) == 1},
        device,
        transferId,
        first,
        first + count);
  }

  /** A device's uploads (every device's if {@code device} is null), newest first. */
  public List<Upload> list(String device, int limit) {
    String where = device == null ? "" : " WHERE device=?";
    Object[] args = device == null ? new Object[] {limit} : new Object[] {device, limit};
    return sql.read(
        "SELECT device, transfer_id, collection, path, version, size, sha256, state, reason,"
            + " bytes_done, bytes_received, started_at_ms, updated_at_ms FROM uploads"
            + where
            + " ORDER BY updated_at_ms DESC, transfer_id LIMIT ?",
        rs ->
            new Upload(
                rs.getString(1),
                rs.getString(2),
                rs.getString(3),
                rs.getString(4),
                rs.getLong(5),
                rs.getLong(6),
                rs.getBytes(7),
                FileState.valueOf(rs.getString(8)),
                rs.getString(9),
                rs.getLong(10),
                rs.getLong(11),
                rs.getLong(12),
                rs.getLong(13)),
        args);
  }

  private Inbound requireInTransaction(String device, String transferId) {
    return sql
        .rowsInTransaction(
            "SELECT " + COLUMNS + " FROM uploads WHERE device=? AND transfer_id=?",
            UploadStore::readInbound,
            device,
            transferId)
        .stream()
        .findFirst()
        .orElseThrow(
            () ->
                new IllegalArgumentException(
                    "no upload " + transferId + " of device " + device + " was begun"));
  }

  private static boolean isZero(byte[] h) {
    for (byte b : h) {
      if (b != 0) {
        return false;
      }
    }
    return true;
  }

  private static Inbound readInbound(ResultSet rs) throws SQLException {
    FileOffer offer;
    try {
      offer = FileOffer.parseFrom(rs.getBytes(1));
    } catch (InvalidProtocolBufferException e) {
      throw new SQLException("a stored upload offer does not parse: " + e.getMessage(), e);
    }
    return new Inbound(
        offer,
        FileState.valueOf(rs.getString(2)),
        rs.getString(3),
        rs.getInt(4),
        rs.getLong(5),
        rs.getLong(6),
        rs.getLong(7));
  }
}
