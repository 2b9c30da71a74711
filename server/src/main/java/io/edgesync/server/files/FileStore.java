package io.edgesync.server.files;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import io.edgesync.engine.files.Manifest;
import io.edgesync.protocol.wire.FileHeader;
import io.edgesync.protocol.wire.FileMeta;
import io.edgesync.support.jdbc.Jdbc;
import java.nio.ByteBuffer;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Published file versions, rollouts and each targeted device's state in them (tables {@code
 * file_versions}, {@code rollouts}, {@code rollout_devices}, schema {@code db/V9__files.sql}), in
 * the cloud store's database. The chunks themselves are in the shared {@link
 * io.edgesync.support.files.ChunkStorage} (on disk with SQLite, table {@code file_chunks} with
 * PostgreSQL); a version's row holds its manifest (chunk lengths and hashes as two blobs).
 *
 * <p>Thread safe: reads and plain writes run under the store's monitor; the writes that are audited
 * (a new version, a rollout created or changed) run in {@link AuditedTransactions} with their
 * record, through the {@code ...InTransaction} methods.
 */
public final class FileStore {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static final String VERSION_COLUMNS = versionColumns("");
  private static final String ROLLOUT_COLUMNS =
      "id, path, version, target_kind, target, rate_per_min, max_failure_share, min_reports,"
          + " state, reason, admitted, active_ms, active_since_ms, created_by, created_at_ms,"
          + " updated_at_ms";
  private static final String DEVICE_COLUMNS =
      "rollout, device, state, bytes_done, bytes_total, bytes_received, reason, admitted_at_ms,"
          + " updated_at_ms";

  /** A published version as stored (without its chunk list: {@link #manifest}). */
  public record StoredVersion(
      FileHeader header,
      byte[] signature,
      String keyId,
      int chunkCount,
      long publishedAtMs,
      String publisher) {}

  /** What a rollout targets. */
  public enum TargetKind {
    DEVICE,
    GROUP,
    FLEET;

    public String label() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /** A rollout as stored. {@code activeSinceMs} is null while it is not running. */
  public record Rollout(
      long id,
      String path,
      long version,
      TargetKind targetKind,
      String target,
      int ratePerMin,
      double maxFailureShare,
      int minReports,
      RolloutState state,
      String reason,
      long admitted,
      long activeMs,
      Long activeSinceMs,
      String createdBy,
      long createdAtMs,
      long updatedAtMs) {}

  /** One device's row in a rollout. {@code admittedAtMs} is null while pending. */
  public record RolloutDevice(
      long rollout,
      String device,
      DeviceRolloutState state,
      long bytesDone,
      long bytesTotal,
      long bytesReceived,
      String reason,
      Long admittedAtMs,
      long updatedAtMs) {}

  /** A version a device is to be offered, with the rollout that offers it. */
  public record Offerable(long rollout, StoredVersion version) {}

  private final FileSql sql;

  public FileStore(Jdbc jdbc, Object lock) {
    this.sql = new FileSql(jdbc, lock, "file store");
  }

  // ---------------------------------------------------------------- versions

  /**
   * Inside an audited transaction: the version the next publish of {@code path} gets. An audited
   * transaction runs in a document group, which on PostgreSQL holds the store's counter lock
   * (StoreDialect.CounterLock.DOCUMENTS) until it commits: two nodes never take the same version.
   */
  long nextVersionInTransaction(String path) {
    return sql.rowsInTransaction(
                "SELECT coalesce(max(version), 0) FROM file_versions WHERE path=?",
                rs -> rs.getLong(1),
                path)
            .get(0)
        + 1;
  }

  /** Inside an audited transaction: stores a version and its manifest. */
  void insertVersionInTransaction(StoredVersion v, Manifest m, long nowMs) {
    FileHeader h = v.header();
    sql.updateInTransaction(
        "INSERT INTO file_versions(path, version, size, sha256, metadata, signature, key_id,"
            + " chunk_lengths, chunk_hashes, created_at_ms, published_at_ms, publisher)"
            + " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        h.getPath(),
        h.getVersion(),
        h.getSize(),
        h.getSha256().toByteArray(),
        metadataJson(h.getMetadataList()),
        v.signature(),
        v.keyId(),
        lengthsBlob(m.lengths()),
        m.hashes(),
        h.getCreatedAtMs(),
        nowMs,
        v.publisher());
  }

  public Optional<StoredVersion> version(String path, long version) {
    return sql
        .read(
            "SELECT " + VERSION_COLUMNS + " FROM file_versions WHERE path=? AND version=?",
            FileStore::readVersion,
            path,
            version)
        .stream()
        .findFirst();
  }

  public Optional<StoredVersion> latest(String path) {
    return sql
        .read(
            "SELECT "
                + VERSION_COLUMNS
                + " FROM file_versions WHERE path=? ORDER BY version DESC LIMIT 1",
            FileStore::readVersion,
            path)
        .stream()
        .findFirst();
  }

  /** Every version of {@code path}, newest first. */
  public List<StoredVersion> versions(String path) {
    return sql.read(
        "SELECT " + VERSION_COLUMNS + " FROM file_versions WHERE path=? ORDER BY version DESC",
        FileStore::readVersion,
        path);
  }

  /** The newest version of every path, by path. */
  public List<StoredVersion> latestOfEveryPath() {
    return sql.read(
        "SELECT "
            + VERSION_COLUMNS
            + " FROM file_versions v WHERE version = (SELECT max(version) FROM file_versions"
            + " WHERE path=v.path) ORDER BY path",
        FileStore::readVersion);
  }

  public Optional<Manifest> manifest(String path, long version) {
    return sql
        .read(
            "SELECT size, sha256, chunk_lengths, chunk_hashes FROM file_versions"
                + " WHERE path=? AND version=?",
            rs ->
                new Manifest(
                    rs.getLong(1), rs.getBytes(2), lengthsOf(rs.getBytes(3)), rs.getBytes(4)),
            path,
            version)
        .stream()
        .findFirst();
  }

  // ---------------------------------------------------------------- rollouts

  /** Inside an audited transaction: a new running rollout, its targets pending. */
  Rollout insertRolloutInTransaction(Rollout r, List<String> devices, long bytesTotal) {
    long id =
        sql.rowsInTransaction(
                "INSERT INTO rollouts(path, version, target_kind, target, rate_per_min,"
                    + " max_failure_share, min_reports, state, reason, admitted, active_ms,"
                    + " active_since_ms, created_by, created_at_ms, updated_at_ms)"
                    + " VALUES (?,?,?,?,?,?,?,?,NULL,0,0,?,?,?,?) RETURNING id",
                rs -> rs.getLong(1),
                r.path(),
                r.version(),
                r.targetKind().label(),
                r.target(),
                r.ratePerMin(),
                r.maxFailureShare(),
                r.minReports(),
                RolloutState.RUNNING.label(),
                r.createdAtMs(),
                r.createdBy(),
                r.createdAtMs(),
                r.createdAtMs())
            .get(0);
    for (String device : devices) {
      insertPending(id, device, bytesTotal, r.createdAtMs());
    }
    return rolloutInTransaction(id).orElseThrow();
  }

  private void insertPending(long rollout, String device, long bytesTotal, long nowMs) {
    sql.updateInTransaction(
        "INSERT INTO rollout_devices(rollout, device, state, bytes_done, bytes_total,"
            + " bytes_received, reason, admitted_at_ms, updated_at_ms)"
            + " VALUES (?,?,?,0,?,0,NULL,NULL,?) ON CONFLICT DO NOTHING",
        rollout,
        device,
        DeviceRolloutState.PENDING.label(),
        bytesTotal,
        nowMs);
  }

  Optional<Rollout> rolloutInTransaction(long id) {
    return sql
        .rowsInTransaction(
            "SELECT " + ROLLOUT_COLUMNS + " FROM rollouts WHERE id=?", FileStore::readRollout, id)
        .stream()
        .findFirst();
  }

  /** Inside an audited transaction: a rollout's new state, reason and running time. */
  void setRolloutStateInTransaction(
      long id, RolloutState state, String reason, long activeMs, Long activeSinceMs, long nowMs) {
    sql.updateInTransaction(
        "UPDATE rollouts SET state=?, reason=?, active_ms=?, active_since_ms=?, updated_at_ms=?"
            + " WHERE id=?",
        state.label(),
        reason,
        activeMs,
        activeSinceMs,
        nowMs,
        id);
  }

  public Optional<Rollout> rollout(long id) {
    return sql
        .read("SELECT " + ROLLOUT_COLUMNS + " FROM rollouts WHERE id=?", FileStore::readRollout, id)
        .stream()
        .findFirst();
  }

  /** Every rollout, newest first, at most {@code limit}. */
  public List<Rollout> rollouts(int limit) {
    return sql.read(
        "SELECT " + ROLLOUT_COLUMNS + " FROM rollouts ORDER BY id DESC LIMIT ?",
        FileStore::readRollout,
        limit);
  }

  /** How many rollouts are in each state (by its label): for the metrics. */
  public Map<String, Long> rolloutsByState() {
    Map<String, Long> byState = new TreeMap<>();
    for (Map.Entry<String, Long> e :
        sql.read(
            "SELECT state, count(*) FROM rollouts GROUP BY state",
            rs -> Map.entry(rs.getString(1), rs.getLong(2)))) {
      byState.put(e.getKey(), e.getValue());
    }
    return byState;
  }

  public List<Rollout> running() {
    return sql.read(
        "SELECT " + ROLLOUT_COLUMNS + " FROM rollouts WHERE state=? ORDER BY id",
        FileStore::readRollout,
        RolloutState.RUNNING.label());
  }

  /** A rollout's devices, by device id. */
  public List<RolloutDevice> devices(long rollout) {
    return sql.read(
        "SELECT " + DEVICE_COLUMNS + " FROM rollout_devices WHERE rollout=? ORDER BY device",
        FileStore::readDevice,
        rollout);
  }

  /** How many of a rollout's devices are in each state (every state listed). */
  public Map<DeviceRolloutState, Long> counts(long rollout) {
    Map<DeviceRolloutState, Long> out = new EnumMap<>(DeviceRolloutState.class);
    for (DeviceRolloutState s : DeviceRolloutState.values()) {
      out.put(s, 0L);
    }
    for (Object[] row :
        sql.read(
            "SELECT state, count(*) FROM rollout_devices WHERE rollout=? GROUP BY state",
            rs -> new Object[] {rs.getString(1), rs.getLong(2)},
            rollout)) {
      out.put(DeviceRolloutState.of((String) row[0]), (Long) row[1]);
    }
    return out;
  }

  /**
   * Adds the devices a group or fleet rollout targets now and did not when it started (devices
   * registered or grouped since), as pending; then admits up to {@code count} pending devices, by
   * device id, and supersedes each one's unfinished rows of older rollouts of the same path.
   * Returns the admitted devices. One transaction.
   */
  List<String> admit(Rollout r, int maxCount, long bytesTotal, long nowMs) {
    return sql.write(
        () -> {
          if (r.targetKind() != TargetKind.DEVICE) {
            addNewTargets(r, bytesTotal, nowMs);
          }
          List<String> admitted =
              maxCount == 0
                  ? List.of()
                  : sql.rowsInTransaction(
                      "SELECT device FROM rollout_devices WHERE rollout=? AND state=?"
                          + " ORDER BY device LIMIT ?",
                      rs -> rs.getString(1),
                      r.id(),
                      DeviceRolloutState.PENDING.label(),
                      maxCount);
          for (String device : admitted) {
            sql.updateInTransaction(
                "UPDATE rollout_devices SET state=?, admitted_at_ms=?, updated_at_ms=?"
                    + " WHERE rollout=? AND device=?",
                DeviceRolloutState.OFFERED.label(),
                nowMs,
                nowMs,
                r.id(),
                device);
            supersedeOlder(r, device, nowMs);
          }
          sql.updateInTransaction(
              "UPDATE rollouts SET admitted=admitted+? WHERE id=?", admitted.size(), r.id());
          return admitted;
        });
  }

  /** Group members or fleet devices not listed yet: one statement, however large the fleet. */
  private void addNewTargets(Rollout r, long bytesTotal, long nowMs) {
    String source =
        r.targetKind() == TargetKind.GROUP
            ? "SELECT device FROM device_groups WHERE grp=?"
            : "SELECT id FROM devices WHERE ?=''";
    sql.updateInTransaction(
        "INSERT INTO rollout_devices(rollout, device, state, bytes_done, bytes_total,"
            + " bytes_received, reason, admitted_at_ms, updated_at_ms)"
            + " SELECT ?, t.device, ?, 0, ?, 0, NULL, NULL, ? FROM ("
            + source.replace("SELECT id ", "SELECT id AS device ")
            + ") t WHERE true ON CONFLICT DO NOTHING",
        r.id(),
        DeviceRolloutState.PENDING.label(),
        bytesTotal,
        nowMs,
        r.target());
  }

  /** The device's unfinished rows in older rollouts of the same path: superseded by this one. */
  private void supersedeOlder(Rollout r, String device, long nowMs) {
    sql.updateInTransaction(
        "UPDATE rollout_devices SET state=?, reason=?, updated_at_ms=? WHERE device=?"
            + " AND state NOT IN ('installed','failed','superseded') AND rollout IN"
            + " (SELECT id FROM rollouts WHERE path=? AND id<>? AND version<=?)",
        DeviceRolloutState.SUPERSEDED.label(),
        "superseded by rollout " + r.id() + " (version " + r.version() + ")",
        nowMs,
        device,
        r.path(),
        r.id(),
        r.version());
  }

  /** The devices a target names now: the device itself, a group's members, or every device. */
  List<String> targetsInTransaction(TargetKind kind, String target) {
    return switch (kind) {
      case DEVICE -> List.of(target);
      case GROUP ->
          sql.rowsInTransaction(
              "SELECT device FROM device_groups WHERE grp=? ORDER BY device",
              rs -> rs.getString(1),
              target);
      case FLEET ->
          sql.rowsInTransaction("SELECT id FROM devices ORDER BY id", rs -> rs.getString(1));
    };
  }

  /**
   * The versions {@code device} is to be offered: admitted, not final, in running rollouts; the
   * newest version per path only.
   */
  public List<Offerable> offerable(String device) {
    List<Offerable> all =
        sql.read(
            "SELECT r.id, "
                + versionColumns("v.")
                + " FROM rollout_devices d JOIN rollouts r ON r.id=d.rollout"
                + " JOIN file_versions v ON v.path=r.path AND v.version=r.version"
                + " WHERE d.device=? AND r.state=? AND d.state IN ('offered','downloading','verified')"
                + " ORDER BY v.path, v.version DESC, r.id DESC",
            rs -> new Offerable(rs.getLong(1), readVersion(rs, 2)),
            device,
            RolloutState.RUNNING.label());
    List<Offerable> newest = new ArrayList<>();
    for (Offerable o : all) {
      if (newest.isEmpty()
          || !newest
              .get(newest.size() - 1)
              .version()
              .header()
              .getPath()
              .equals(o.version().header().getPath())) {
        newest.add(o);
      }
    }
    return newest;
  }

  /**
   * Records a device's report in a rollout: its state (unless the row is final already), bytes and
   * reason. Returns the row after, or empty if the device has no row in that rollout.
   */
  Optional<RolloutDevice> report(
      long rollout,
      String device,
      DeviceRolloutState state,
      long bytesDone,
      long bytesReceived,
      String reason,
      long nowMs) {
    return sql.write(
        () -> {
          sql.updateInTransaction(
              "UPDATE rollout_devices SET state=?, bytes_done=?, bytes_received=?, reason=?,"
                  + " updated_at_ms=? WHERE rollout=? AND device=?"
                  + " AND state NOT IN ('pending','installed','failed','superseded')",
              state.label(),
              bytesDone,
              bytesReceived,
              reason == null || reason.isEmpty() ? null : reason,
              nowMs,
              rollout,
              device);
          return sql
              .rowsInTransaction(
                  "SELECT " + DEVICE_COLUMNS + " FROM rollout_devices WHERE rollout=? AND device=?",
                  FileStore::readDevice,
                  rollout,
                  device)
              .stream()
              .findFirst();
        });
  }

  /** The rollout of {@code path@version} that admitted {@code device}, newest first. */
  Optional<Long> rolloutOf(String device, String path, long version) {
    return sql
        .read(
            "SELECT r.id FROM rollouts r JOIN rollout_devices d ON d.rollout=r.id"
                + " WHERE d.device=? AND r.path=? AND r.version=? ORDER BY r.id DESC LIMIT 1",
            rs -> rs.getLong(1),
            device,
            path,
            version)
        .stream()
        .findFirst();
  }

  // ---------------------------------------------------------------- encoding

  private static String versionColumns(String t) {
    return String.join(
        ", ",
        t + "path",
        t + "version",
        t + "size",
        t + "sha256",
        t + "metadata",
        t + "signature",
        t + "key_id",
        "length(" + t + "chunk_lengths) / 4",
        t + "created_at_ms",
        t + "published_at_ms",
        t + "publisher");
  }

  static String metadataJson(List<FileMeta> meta) {
    Map<String, String> m = new TreeMap<>();
    for (FileMeta e : meta) {
      m.put(e.getKey(), e.getValue());
    }
    try {
      return JSON.writeValueAsString(m);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  static List<FileMeta> metadataOf(String json) {
    try {
      Map<String, String> m = JSON.readValue(json, new TypeReference<TreeMap<String, String>>() {});
      List<FileMeta> out = new ArrayList<>();
      m.forEach((k, v) -> out.add(FileMeta.newBuilder().setKey(k).setValue(v).build()));
      return out;
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("stored file metadata is not JSON: " + e.getMessage(), e);
    }
  }

  static byte[] lengthsBlob(int[] lengths) {
    ByteBuffer b = ByteBuffer.allocate(lengths.length * 4);
    for (int l : lengths) {
      b.putInt(l);
    }
    return b.array();
  }

  static int[] lengthsOf(byte[] blob) {
    ByteBuffer b = ByteBuffer.wrap(blob);
    int[] out = new int[blob.length / 4];
    for (int i = 0; i < out.length; i++) {
      out[i] = b.getInt();
    }
    return out;
  }

  private static StoredVersion readVersion(ResultSet rs) throws SQLException {
    return readVersion(rs, 1);
  }

  private static StoredVersion readVersion(ResultSet rs, int at) throws SQLException {
    FileHeader h =
        FileHeader.newBuilder()
            .setPath(rs.getString(at))
            .setVersion(rs.getLong(at + 1))
            .setSize(rs.getLong(at + 2))
            .setSha256(ByteString.copyFrom(rs.getBytes(at + 3)))
            .addAllMetadata(metadataOf(rs.getString(at + 4)))
            .setCreatedAtMs(rs.getLong(at + 8))
            .build();
    return new StoredVersion(
        h,
        rs.getBytes(at + 5),
        rs.getString(at + 6),
        rs.getInt(at + 7),
        rs.getLong(at + 9),
        rs.getString(at + 10));
  }

  private static Rollout readRollout(ResultSet rs) throws SQLException {
    long since = rs.getLong(13);
    Long activeSince = rs.wasNull() ? null : since;
    return new Rollout(
        rs.getLong(1),
        rs.getString(2),
        rs.getLong(3),
        TargetKind.valueOf(rs.getString(4).toUpperCase(java.util.Locale.ROOT)),
        rs.getString(5),
        rs.getInt(6),
        rs.getDouble(7),
        rs.getInt(8),
        RolloutState.of(rs.getString(9)),
        rs.getString(10),
        rs.getLong(11),
        rs.getLong(12),
        activeSince,
        rs.getString(14),
        rs.getLong(15),
        rs.getLong(16));
  }

  private static RolloutDevice readDevice(ResultSet rs) throws SQLException {
    long admitted = rs.getLong(8);
    Long admittedAt = rs.wasNull() ? null : admitted;
    return new RolloutDevice(
        rs.getLong(1),
        rs.getString(2),
        DeviceRolloutState.of(rs.getString(3)),
        rs.getLong(4),
        rs.getLong(5),
        rs.getLong(6),
        rs.getString(7),
        admittedAt,
        rs.getLong(9));
  }
}
