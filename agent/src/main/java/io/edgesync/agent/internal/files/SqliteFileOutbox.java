package io.edgesync.agent.internal.files;

import com.google.protobuf.ByteString;
import io.edgesync.engine.files.FastCdc;
import io.edgesync.engine.files.FileOutbox;
import io.edgesync.engine.files.FileVersion;
import io.edgesync.engine.files.Manifest;
import io.edgesync.protocol.wire.FileHeader;
import io.edgesync.protocol.wire.FileOffer;
import io.edgesync.protocol.wire.FileReport;
import io.edgesync.protocol.wire.FileState;
import io.edgesync.support.jdbc.Jdbc;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/**
 * The edge's uploads, durable in {@link FilesDb}: {@link #put} cuts a stream into chunks (FastCDC)
 * straight into the chunk store while reading it, holding one chunk buffer ({@code 2 ×} the largest
 * chunk) and 32 bytes per chunk, whatever the file's size; then it stores the upload's row and
 * chunk list in one transaction and the version is offered until the cloud reports it final.
 *
 * <p>Thread safe: {@link #put} runs on the caller's thread (the Java API, the local API), the rest
 * on the engine's loop; the database is used under {@link FilesDb}'s monitor.
 */
public final class SqliteFileOutbox implements FileOutbox {
  private static final int HASH = Manifest.HASH_BYTES;
  private static final String COLUMNS =
      "path, version, collection, size, sha256, chunk_count, created_ms, state, reason, bytes_done";

  private final FilesDb db;
  private final Map<String, Integer> priorities;
  private final long maxFileBytes;

  /** An upload as stored; state 0 while the cloud has reported nothing. */
  public record Upload(
      String path,
      long version,
      String collection,
      long size,
      byte[] sha256,
      int chunkCount,
      long createdMs,
      int state,
      String reason,
      long bytesDone) {}

  public SqliteFileOutbox(FilesDb db, Map<String, Integer> priorities, long maxFileBytes) {
    this.db = db;
    this.priorities = Map.copyOf(priorities);
    this.maxFileBytes = maxFileBytes;
  }

  /**
   * Stores {@code in} as the next version of {@code <collection>/<name>} and queues it; returns the
   * upload. Nothing is recorded when the stream fails or exceeds the size limit.
   *
   * @throws IllegalArgumentException for an unknown collection, a bad name or a file too large
   */
  public Upload put(String collection, String name, InputStream in, long nowMs) throws IOException {
    Integer priority = priorities.get(collection);
    if (priority == null) {
      throw new IllegalArgumentException(
          "unknown upload collection '"
              + collection
              + "'; configured (files.uploads): "
              + new TreeSet<>(priorities.keySet()));
    }
    if (name == null || name.isEmpty()) {
      throw new IllegalArgumentException("an upload needs a file name");
    }
    String path = FileVersion.checkPath(collection + "/" + name);
    // No chunk is released from the first chunk written until the rows name them all.
    db.uploadStarted();
    ByteArrayOutputStream written = new ByteArrayOutputStream();
    boolean recorded = false;
    try {
      Upload u = record(path, collection, priority, chunk(in, written), nowMs);
      recorded = true;
      return u;
    } finally {
      db.uploadEnded();
      if (!recorded) {
        releaseQuietly(written.toByteArray()); // what a failed or refused stream left behind
      }
    }
  }

  private Upload record(String path, String collection, int priority, Chunked c, long nowMs) {
    return db.tx(
        "record an upload",
        j -> {
          long version =
              j.queryLong("SELECT coalesce(max(version),0)+1 FROM uploads WHERE path=?", 1, path);
          j.update(
              "INSERT INTO uploads(path, version, collection, priority, size, sha256, chunk_count,"
                  + " created_ms, state, reason, bytes_done) VALUES (?,?,?,?,?,?,?,?,0,NULL,0)",
              path,
              version,
              collection,
              priority,
              c.size,
              c.sha256,
              c.lengths.size(),
              nowMs);
          PreparedStatement ps =
              j.prepared(
                  "INSERT INTO upload_chunks(path, version, idx, length, hash) VALUES (?,?,?,?,?)");
          for (int i = 0; i < c.lengths.size(); i++) {
            byte[] h = java.util.Arrays.copyOfRange(c.hashes, i * HASH, (i + 1) * HASH);
            Jdbc.bind(ps, path, version, i, c.lengths.get(i), h);
            ps.addBatch();
          }
          ps.executeBatch();
          return new Upload(
              path, version, collection, c.size, c.sha256, c.lengths.size(), nowMs, 0, null, 0);
        });
  }

  private record Chunked(long size, byte[] sha256, List<Integer> lengths, byte[] hashes) {}

  /** Reads the stream into the chunk store, a chunk at a time. */
  private Chunked chunk(InputStream in, ByteArrayOutputStream hashes) throws IOException {
    MessageDigest whole = Manifest.newDigest();
    List<Integer> lengths = new java.util.ArrayList<>();
    long size = 0;
    try {
      FastCdc.Chunks chunks = new FastCdc.Chunks(in, FastCdc.DEFAULT);
      for (FastCdc.Chunk c = chunks.next(); c != null; c = chunks.next()) {
        size += c.data().length;
        if (size > maxFileBytes) {
          throw new IllegalArgumentException(
              "too_large: the upload exceeds "
                  + maxFileBytes
                  + " bytes (files.max_file_bytes); nothing was stored");
        }
        byte[] h = MessageDigest.getInstance("SHA-256").digest(c.data());
        db.chunks().put(FilesDb.HEX.formatHex(h), c.data());
        whole.update(c.data());
        hashes.writeBytes(h);
        lengths.add(c.data().length);
      }
      return new Chunked(size, whole.digest(), lengths, hashes.toByteArray());
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }

  @Override
  public List<FileOffer> offers(long nowMs, int max) {
    return db.tx(
        "list uploads to offer",
        j ->
            j.list(
                "SELECT "
                    + COLUMNS
                    + " FROM uploads WHERE state NOT IN (?,?) ORDER BY priority, created_ms, path,"
                    + " version LIMIT ?",
                rs -> offerOf(upload(rs)),
                FileState.FILE_STATE_STORED_VALUE,
                FileState.FILE_STATE_FAILED_VALUE,
                max));
  }

  /** Every upload, newest first (at most {@code max}). */
  public List<Upload> all(int max) {
    return db.tx(
        "list uploads",
        j ->
            j.list(
                "SELECT " + COLUMNS + " FROM uploads ORDER BY created_ms DESC, path LIMIT ?",
                SqliteFileOutbox::upload,
                max));
  }

  public Optional<Upload> upload(String path, long version) {
    List<Upload> l =
        db.tx(
            "read an upload",
            j ->
                j.list(
                    "SELECT " + COLUMNS + " FROM uploads WHERE path=? AND version=?",
                    SqliteFileOutbox::upload,
                    path,
                    version));
    return l.isEmpty() ? Optional.empty() : Optional.of(l.get(0));
  }

  static FileOffer offerOf(Upload u) {
    FileHeader h =
        FileHeader.newBuilder()
            .setPath(u.path())
            .setVersion(u.version())
            .setSize(u.size())
            .setSha256(ByteString.copyFrom(u.sha256()))
            .setCreatedAtMs(u.createdMs())
            .build();
    return FileOffer.newBuilder()
        .setTransferId(FileVersion.transferId(u.path(), u.version()))
        .setHeader(h)
        .setChunkCount(u.chunkCount())
        .setCollection(u.collection())
        .build();
  }

  @Override
  public Optional<Manifest> manifest(String path, long version) {
    return db.tx(
        "read an upload's manifest",
        j -> {
          List<Upload> u =
              j.list(
                  "SELECT " + COLUMNS + " FROM uploads WHERE path=? AND version=?",
                  SqliteFileOutbox::upload,
                  path,
                  version);
          if (u.isEmpty()) {
            return Optional.empty();
          }
          int n = u.get(0).chunkCount();
          int[] lengths = new int[n];
          byte[] hashes = new byte[n * HASH];
          int found = 0;
          try (PreparedStatement ps =
              j.connection()
                  .prepareStatement(
                      "SELECT idx, length, hash FROM upload_chunks WHERE path=? AND version=?"
                          + " ORDER BY idx")) {
            Jdbc.bind(ps, path, version);
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next() && rs.getInt(1) < n) {
                lengths[rs.getInt(1)] = rs.getInt(2);
                System.arraycopy(rs.getBytes(3), 0, hashes, rs.getInt(1) * HASH, HASH);
                found++;
              }
            }
          }
          if (found != n) {
            return Optional.empty(); // released: the cloud stored it, or it failed
          }
          return Optional.of(new Manifest(u.get(0).size(), u.get(0).sha256(), lengths, hashes));
        });
  }

  @Override
  public byte[] chunk(byte[] hash) throws IOException {
    return db.chunks().require(hash);
  }

  /**
   * The cloud's report: progress is recorded; STORED and FAILED end the upload, and its chunks are
   * released (a chunk another file still names stays).
   */
  @Override
  public void onReport(FileReport report, long nowMs) {
    String id = report.getTransferId();
    int at = id.lastIndexOf('@');
    if (at <= 0) {
      return;
    }
    String path = id.substring(0, at);
    long version;
    try {
      version = Long.parseLong(id.substring(at + 1));
    } catch (NumberFormatException e) {
      return;
    }
    boolean fin =
        report.getState() == FileState.FILE_STATE_STORED
            || report.getState() == FileState.FILE_STATE_FAILED;
    byte[] released =
        db.tx(
            "record an upload report",
            j -> {
              int changed =
                  j.update(
                      "UPDATE uploads SET state=?, reason=?, bytes_done=? WHERE path=? AND"
                          + " version=? AND state NOT IN (?,?)",
                      report.getStateValue(),
                      report.getReason().isEmpty() ? null : report.getReason(),
                      report.getBytesDone(),
                      path,
                      version,
                      FileState.FILE_STATE_STORED_VALUE,
                      FileState.FILE_STATE_FAILED_VALUE);
              if (changed == 0 || !fin) {
                return new byte[0];
              }
              List<byte[]> h =
                  j.list(
                      "SELECT hash FROM upload_chunks WHERE path=? AND version=?",
                      rs -> rs.getBytes(1),
                      path,
                      version);
              j.update("DELETE FROM upload_chunks WHERE path=? AND version=?", path, version);
              ByteArrayOutputStream out = new ByteArrayOutputStream();
              h.forEach(out::writeBytes);
              return out.toByteArray();
            });
    releaseQuietly(released);
  }

  private void releaseQuietly(byte[] hashes) {
    try {
      db.releaseChunks(hashes);
    } catch (SQLException | IOException e) {
      org.slf4j.LoggerFactory.getLogger(SqliteFileOutbox.class)
          .warn("releasing chunks failed; they stay on disk: {}", e.toString());
    }
  }

  private static Upload upload(ResultSet rs) throws SQLException {
    return new Upload(
        rs.getString(1),
        rs.getLong(2),
        rs.getString(3),
        rs.getLong(4),
        rs.getBytes(5),
        rs.getInt(6),
        rs.getLong(7),
        rs.getInt(8),
        rs.getString(9),
        rs.getLong(10));
  }
}
