package io.edgesync.server.files;

import com.google.protobuf.ByteString;
import io.edgesync.engine.files.FastCdc;
import io.edgesync.engine.files.FileInbox;
import io.edgesync.engine.files.FileOutbox;
import io.edgesync.engine.files.FileVersion;
import io.edgesync.engine.files.Manifest;
import io.edgesync.protocol.ProtocolLimits;
import io.edgesync.protocol.wire.FileHeader;
import io.edgesync.protocol.wire.FileMeta;
import io.edgesync.protocol.wire.FileReport;
import io.edgesync.security.ReleaseKey;
import io.edgesync.server.files.FileStore.Rollout;
import io.edgesync.server.files.FileStore.StoredVersion;
import io.edgesync.server.files.FileStore.TargetKind;
import io.edgesync.support.files.ChunkStorage;
import io.edgesync.support.files.ChunkStore;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cloud's files: publishing a version (streamed into chunks, signed), rollouts (created, paced,
 * paused, resumed, cancelled, paused by failures) and each device's {@link FileOutbox} and {@link
 * FileInbox} for its sessions. docs/files.md, "Cloud: store, rollouts, uploads".
 *
 * <p>A publish never holds the file in memory: the body is cut by FastCDC as it arrives, each chunk
 * written to a staging chunk store, the whole hashed; only once the signature is good are the
 * chunks moved into the shared chunk store and the version row written with its {@code
 * file.publish} audit record (one transaction). A refused publish leaves nothing behind.
 *
 * <p>The shared chunk store is where the cloud store puts it ({@link ChunkPlace}): on disk under
 * {@code server.files.dir} with SQLite, in the database with PostgreSQL (so that every node serves
 * every chunk). Staging is always on this node's disk, under {@code server.files.dir/staging}, so a
 * publish refused or interrupted before its chunks moved leaves them there only (removed when the
 * files open again), never in the shared store.
 *
 * <p>Thread safe: state is in the store (its own locking) and the chunk store (safe for several
 * writers). {@link #tick} runs on the server's timer; listeners of {@link #onOffered} are called on
 * the thread that admitted, paused, resumed or cancelled, and must hand off quickly.
 */
public final class CloudFiles implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(CloudFiles.class);

  /** Who the audit names for what the server does on its own (an automatic pause). */
  public static final String SERVER_ACTOR = "$server";

  /** Most rollouts listed. */
  public static final int MAX_LISTED_ROLLOUTS = 1000;

  private final FileSettings settings;
  private final FileStore store;
  private final UploadStore uploads;
  private final AuditedTransactions audit;
  private final ChunkStorage chunks;
  private final Path stagingDir;
  private final PrivateKey releaseKey; // null: publishers sign
  private final List<PublicKey> trustedKeys; // a publisher's signature must verify with one
  private final ExecutorService assembler =
      Executors.newSingleThreadExecutor(
          r -> {
            Thread t = new Thread(r, "edgesync-files-assemble");
            t.setDaemon(true);
            return t;
          });
  private final LongSupplier clock;
  private volatile Consumer<Collection<String>> offered = devices -> {};

  private CloudFiles(
      FileSettings settings,
      FileStore store,
      UploadStore uploads,
      AuditedTransactions audit,
      Path dir,
      ChunkPlace chunkPlace,
      PrivateKey releaseKey,
      List<PublicKey> trustedKeys,
      LongSupplier clock)
      throws IOException {
    this.clock = clock;
    this.settings = settings;
    this.store = store;
    this.uploads = uploads;
    this.audit = audit;
    this.chunks = chunkPlace.open(dir);
    this.stagingDir = Files.createDirectories(dir.resolve("staging"));
    this.releaseKey = releaseKey;
    this.trustedKeys = List.copyOf(trustedKeys);
    clearStaging();
  }

  /**
   * Where a server keeps its shared chunks, given its files directory ({@code server.files.dir}).
   * The cloud store decides ({@code SqliteCloudStore.fileChunks()}): {@link #DISK} with SQLite, the
   * database ({@link PostgresChunkStore}) with PostgreSQL.
   */
  @FunctionalInterface
  public interface ChunkPlace {
    /** On this node's disk, {@code <files dir>/chunks} ({@link ChunkStore}). */
    ChunkPlace DISK = dir -> new ChunkStore(dir.resolve("chunks"));

    /**
     * In the PostgreSQL database behind {@code pool} ({@link PostgresChunkStore}); chunks that an
     * earlier build kept in {@code <files dir>/chunks} are imported first ({@link
     * DiskChunkImport}).
     */
    static ChunkPlace database(javax.sql.DataSource pool, String url) {
      return dir -> {
        PostgresChunkStore chunks = new PostgresChunkStore(pool, url);
        DiskChunkImport.run(dir.resolve("chunks"), chunks);
        return chunks;
      };
    }

    ChunkStorage open(Path filesDir) throws IOException;
  }

  /**
   * Opens the files of a server whose data is in {@code dataDir}, keeping chunks where {@code
   * chunkPlace} says: reads the release key and the trusted public keys the settings name.
   *
   * @throws IllegalStateException naming the setting whose file cannot be read
   */
  public static CloudFiles open(
      FileSettings settings,
      Path dataDir,
      FileStore store,
      UploadStore uploads,
      AuditedTransactions audit,
      ChunkPlace chunkPlace,
      LongSupplier clock) {
    PrivateKey key = null;
    List<PublicKey> trusted = new ArrayList<>();
    try {
      if (settings.releaseKeyFile() != null) {
        key = ReleaseKey.readPrivateKey(settings.releaseKeyFile());
        trusted.add(ReleaseKey.publicKeyOf(key));
      }
    } catch (IOException e) {
      throw new IllegalStateException("server.files.release_key_file: " + e.getMessage(), e);
    }
    try {
      if (settings.releasePublicKeysFile() != null) {
        trusted.addAll(ReleaseKey.readPublicKeys(settings.releasePublicKeysFile()));
      }
    } catch (IOException e) {
      throw new IllegalStateException(
          "server.files.release_public_keys_file: " + e.getMessage(), e);
    }
    Path dir = settings.dirIn(dataDir);
    try {
      return new CloudFiles(settings, store, uploads, audit, dir, chunkPlace, key, trusted, clock);
    } catch (IOException e) {
      throw new IllegalStateException("server.files.dir " + dir + ": " + e.getMessage(), e);
    }
  }

  /** Called with devices whose offers changed: admitted, or their rollout paused or ended. */
  public void onOffered(Consumer<Collection<String>> listener) {
    this.offered = listener;
  }

  public FileSettings settings() {
    return settings;
  }

  public FileStore store() {
    return store;
  }

  public UploadStore uploads() {
    return uploads;
  }

  ChunkStorage chunks() {
    return chunks;
  }

  long nowMs() {
    return clock.getAsLong();
  }

  /** The sending side of {@code device}'s sessions: its rollouts' versions. */
  public FileOutbox outbox(String device) {
    return outbox(() -> device);
  }

  /**
   * The sending side of a session whose device is known once its Hello was handled: {@code device}
   * is asked at each call (a session calls only after its Hello).
   */
  public FileOutbox outbox(Supplier<String> device) {
    return new DeviceFileOutbox(device, this);
  }

  /** The receiving side of {@code device}'s sessions: its uploads. */
  public FileInbox inbox(String device) {
    return inbox(() -> device);
  }

  /** As {@link #outbox(Supplier)}, for uploads. */
  public FileInbox inbox(Supplier<String> device) {
    return new DeviceFileInbox(device, this, assembler);
  }

  /** The device a session names, which it must have by the time it calls. */
  static String deviceOf(Supplier<String> device) {
    String d = device.get();
    if (d == null) {
      throw new IllegalStateException("a session called its files before its Hello named a device");
    }
    return d;
  }

  @Override
  public void close() {
    assembler.shutdownNow();
  }

  // ---------------------------------------------------------------- publish

  /**
   * A publish: the path, its metadata, and either nothing (the server signs with its release key)
   * or the publisher's signature of {@code version} made with the key {@code keyId}.
   */
  public record PublishRequest(
      String path,
      Map<String, String> metadata,
      Long version,
      byte[] signature,
      String keyId,
      String publisher) {}

  /**
   * Publishes {@code body} as the next version of the request's path. The stream is read to its end
   * (not closed).
   *
   * @throws FileRefusal naming the problem (bad path or metadata, unsigned without a release key, a
   *     signature that does not verify, a version taken, too large); nothing stored
   */
  public StoredVersion publish(PublishRequest req, InputStream body, long nowMs)
      throws IOException {
    FileHeader draft = draftHeader(req, nowMs);
    checkSigningPossible(req);
    long expected = req.version() != null ? req.version() : nextVersion(req.path());
    Path staging = stagingDir.resolve(UUID.randomUUID().toString());
    try {
      ChunkStore staged = new ChunkStore(staging);
      Manifest m = stage(body, staged);
      FileHeader h =
          draft.toBuilder()
              .setVersion(expected)
              .setSize(m.size())
              .setSha256(ByteString.copyFrom(m.sha256()))
              .build();
      byte[] signature;
      String keyId;
      if (req.signature() != null) {
        keyId = verifiedKeyId(h, req);
        signature = req.signature();
      } else {
        signature = ReleaseKey.sign(releaseKey, FileVersion.signingInput(h));
        keyId = ReleaseKey.keyId(ReleaseKey.publicKeyOf(releaseKey));
      }
      if (nextVersion(req.path()) != expected) {
        throw versionTaken(req.path(), expected);
      }
      promote(m, staged);
      StoredVersion v =
          new StoredVersion(h, signature, keyId, m.chunkCount(), nowMs, req.publisher());
      record(v, m, req.signature() != null, nowMs);
      return v;
    } finally {
      deleteTree(staging);
    }
  }

  private FileHeader draftHeader(PublishRequest req, long nowMs) {
    FileHeader.Builder b =
        FileHeader.newBuilder()
            .setPath(req.path() == null ? "" : req.path())
            .setVersion(1)
            .setSha256(ByteString.copyFrom(new byte[32]))
            .setCreatedAtMs(nowMs);
    new TreeMap<>(req.metadata())
        .forEach((k, v) -> b.addMetadata(FileMeta.newBuilder().setKey(k).setValue(v)));
    try {
      return FileVersion.check(b.build());
    } catch (IllegalArgumentException e) {
      throw FileRefusal.badInput(e.getMessage());
    }
  }

  private void checkSigningPossible(PublishRequest req) {
    if (req.signature() == null) {
      if (releaseKey == null) {
        throw FileRefusal.badInput(
            "unsigned: this server has no release key (server.files.release_key_file), so the"
                + " publisher must sign: edgesync files publish --sign-key release.key");
      }
      return;
    }
    if (req.version() == null || req.version() < 1) {
      throw FileRefusal.badInput(
          "a signed publish names the version it signed (query parameter version >= 1)");
    }
    if (req.signature().length != ReleaseKey.SIGNATURE_BYTES) {
      throw FileRefusal.badInput(
          "bad_signature: an Ed25519 signature is "
              + ReleaseKey.SIGNATURE_BYTES
              + " bytes, this one "
              + req.signature().length);
    }
    if (trustedKeys.isEmpty() && (req.keyId() == null || !req.keyId().matches("[0-9a-f]{16}"))) {
      throw FileRefusal.badInput(
          "a signed publish names its key id (16 lower-case hex digits, edgesync files publish"
              + " sends it)");
    }
    long next = nextVersion(req.path());
    if (req.version() != next) {
      throw versionTaken(req.path(), req.version());
    }
  }

  private static FileRefusal versionTaken(String path, long version) {
    return FileRefusal.conflict(
        "version: "
            + path
            + " version "
            + version
            + " is not the next version (another publish came first); sign the next one again");
  }

  /** The key id of the trusted key the publisher's signature verifies with (any, if none kept). */
  private String verifiedKeyId(FileHeader h, PublishRequest req) {
    byte[] input = FileVersion.signingInput(h);
    if (trustedKeys.isEmpty()) {
      return req.keyId();
    }
    for (PublicKey k : trustedKeys) {
      if (ReleaseKey.verify(k, input, req.signature())) {
        String id = ReleaseKey.keyId(k);
        if (req.keyId() != null && !req.keyId().equals(id)) {
          throw FileRefusal.badInput(
              "bad_signature: it verifies with key " + id + ", not the named " + req.keyId());
        }
        return id;
      }
    }
    throw FileRefusal.badInput(
        "bad_signature: the signature of "
            + h.getPath()
            + " version "
            + h.getVersion()
            + " (sha256 "
            + HexFormat.of().formatHex(h.getSha256().toByteArray())
            + ") verifies with none of the "
            + trustedKeys.size()
            + " trusted release keys (server.files.release_public_keys_file)");
  }

  /** Cuts the body into chunks as it arrives, into {@code staged}, hashing the whole. */
  private Manifest stage(InputStream body, ChunkStore staged) throws IOException {
    MessageDigest whole = Manifest.newDigest();
    FastCdc.Chunks cut = new FastCdc.Chunks(body, FastCdc.DEFAULT);
    List<Integer> lengths = new ArrayList<>();
    ByteArrayOutputStream hashes = new ByteArrayOutputStream();
    long size = 0;
    for (FastCdc.Chunk c = cut.next(); c != null; c = cut.next()) {
      size += c.data().length;
      if (size > settings.maxFileBytes()) {
        throw FileRefusal.badInput(
            "too_large: the file is over server.files.max_file_bytes ("
                + settings.maxFileBytes()
                + " bytes)");
      }
      whole.update(c.data());
      String hex = ChunkStore.sha256(c.data());
      staged.put(hex, c.data());
      hashes.writeBytes(HexFormat.of().parseHex(hex));
      lengths.add(c.data().length);
    }
    return new Manifest(
        size,
        whole.digest(),
        lengths.stream().mapToInt(Integer::intValue).toArray(),
        hashes.toByteArray());
  }

  /** Moves the staged chunks into the shared store (each verified again on the way). */
  private void promote(Manifest m, ChunkStore staged) throws IOException {
    for (int i = 0; i < m.chunkCount(); i++) {
      String hex = m.hashHex(i);
      if (!chunks.has(hex)) {
        chunks.put(hex, staged.get(hex).orElseThrow(() -> new IOException("staged chunk lost")));
      }
    }
  }

  private void record(StoredVersion v, Manifest m, boolean publisherSigned, long nowMs) {
    FileHeader h = v.header();
    audit.inTransaction(
        () -> {
          if (store.nextVersionInTransaction(h.getPath()) != h.getVersion()) {
            throw versionTaken(h.getPath(), h.getVersion());
          }
          store.insertVersionInTransaction(v, m, nowMs);
          Map<String, Object> details = new LinkedHashMap<>();
          details.put("version", h.getVersion());
          details.put("sha256", HexFormat.of().formatHex(h.getSha256().toByteArray()));
          details.put("size", h.getSize());
          details.put("keyId", v.keyId());
          details.put("signedBy", publisherSigned ? "publisher" : "server");
          audit.append(v.publisher(), "file.publish", h.getPath(), details);
          return null;
        });
  }

  private long nextVersion(String path) {
    return store.latest(path).map(v -> v.header().getVersion() + 1).orElse(1L);
  }

  /** The bytes of a published version, read from its chunks (verified on the way). */
  public InputStream open(String path, long version) {
    Manifest m =
        store
            .manifest(path, version)
            .orElseThrow(() -> FileRefusal.notFound("no version " + version + " of " + path));
    return new ChunkStream(
        chunks,
        m.chunkCount(),
        (first, count) -> {
          List<byte[]> out = new ArrayList<>(count);
          for (int i = first; i < first + count; i++) {
            out.add(m.hash(i));
          }
          return out;
        });
  }

  /**
   * The bytes of a device's stored upload, read from its chunks (verified on the way).
   *
   * @throws FileRefusal if the device has no such upload, or it is not stored (under way, failed)
   */
  public InputStream openUpload(String device, String path, long version) {
    String id = FileVersion.transferId(path, version);
    FileInbox.Inbound t =
        uploads
            .transfer(device, id)
            .orElseThrow(() -> FileRefusal.notFound("device " + device + " uploaded no " + id));
    if (t.state() != io.edgesync.protocol.wire.FileState.FILE_STATE_STORED) {
      throw FileRefusal.conflict(
          "upload "
              + id
              + " of device "
              + device
              + " is not stored: "
              + t.state()
              + (t.reason() == null ? "" : " (" + t.reason() + ")"));
    }
    return new ChunkStream(
        chunks,
        t.offer().getChunkCount(),
        (first, count) -> {
          List<byte[]> out = new ArrayList<>(count);
          for (Object[] e : uploads.entries(device, id, first, count)) {
            out.add((byte[]) e[1]);
          }
          return out;
        });
  }

  private void clearStaging() throws IOException {
    try (Stream<Path> left = Files.list(stagingDir)) {
      for (Path p : (Iterable<Path>) left::iterator) {
        deleteTree(p); // a publish a crash interrupted
      }
    }
  }

  private static void deleteTree(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> all = Files.walk(dir)) {
      all.sorted(Comparator.reverseOrder()).forEach(CloudFiles::deleteQuietly);
    } catch (IOException e) {
      log.warn("cannot remove staging directory {}: {}", dir, e.toString());
    }
  }

  private static void deleteQuietly(Path p) {
    try {
      Files.deleteIfExists(p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  // ---------------------------------------------------------------- rollouts

  /** A rollout to create: what, to whom, how fast, and when it pauses itself. */
  public record RolloutRequest(
      String path,
      long version,
      TargetKind targetKind,
      String target,
      int ratePerMin,
      double maxFailureShare,
      int minReports) {}

  /** Most devices a rollout admits per minute. */
  public static final int MAX_RATE_PER_MIN = 1_000_000;

  /**
   * Creates a running rollout, audited ({@code rollout.create}), and admits its first device at
   * once.
   *
   * @throws FileRefusal naming the bad field, or the version that does not exist; nothing stored
   */
  public Rollout createRollout(RolloutRequest r, String actor, long nowMs) {
    checkRollout(r);
    StoredVersion v =
        store
            .version(r.path(), r.version())
            .orElseThrow(
                () ->
                    FileRefusal.notFound(
                        "no version " + r.version() + " of " + r.path() + " was published"));
    Rollout draft =
        new Rollout(
            0,
            r.path(),
            r.version(),
            r.targetKind(),
            r.targetKind() == TargetKind.FLEET ? "" : r.target(),
            r.ratePerMin(),
            r.maxFailureShare(),
            r.minReports(),
            RolloutState.RUNNING,
            null,
            0,
            0,
            nowMs,
            actor,
            nowMs,
            nowMs);
    Rollout created =
        audit.inTransaction(
            () -> {
              Rollout made =
                  store.insertRolloutInTransaction(
                      draft,
                      store.targetsInTransaction(draft.targetKind(), draft.target()),
                      v.header().getSize());
              Map<String, Object> d = new LinkedHashMap<>();
              d.put("id", made.id());
              d.put("version", made.version());
              d.put("target", made.targetKind().label() + ":" + made.target());
              d.put("ratePerMin", made.ratePerMin());
              d.put(
                  "maxFailureShare",
                  Double.toString(made.maxFailureShare())); // no floats in canonical JSON
              d.put("minReports", made.minReports());
              audit.append(actor, "rollout.create", made.path(), d);
              return made;
            });
    admit(created, nowMs);
    return store.rollout(created.id()).orElseThrow();
  }

  private static void checkRollout(RolloutRequest r) {
    try {
      FileVersion.checkPath(r.path());
    } catch (IllegalArgumentException e) {
      throw FileRefusal.badInput(e.getMessage());
    }
    if (r.version() < 1) {
      throw FileRefusal.badInput("version must be >= 1, was " + r.version());
    }
    if (r.targetKind() == null) {
      throw FileRefusal.badInput("name exactly one target: device, group or fleet");
    }
    if (r.targetKind() == TargetKind.DEVICE && !ProtocolLimits.isValidDeviceId(r.target())) {
      throw FileRefusal.badInput(
          "device id '"
              + r.target()
              + "' is not valid; allowed: "
              + ProtocolLimits.DEVICE_ID_PATTERN);
    }
    if (r.targetKind() == TargetKind.GROUP && !ProtocolLimits.isValidCollection(r.target())) {
      throw FileRefusal.badInput(
          "group '" + r.target() + "' is not valid; allowed: " + ProtocolLimits.COLLECTION_PATTERN);
    }
    if (r.ratePerMin() < 1 || r.ratePerMin() > MAX_RATE_PER_MIN) {
      throw FileRefusal.badInput(
          "ratePerMinute must be 1.." + MAX_RATE_PER_MIN + " devices, was " + r.ratePerMin());
    }
    if (!(r.maxFailureShare() >= 0 && r.maxFailureShare() <= 1)) {
      throw FileRefusal.badInput(
          "maxFailureShare must be 0..1 (a share of the devices that reported), was "
              + r.maxFailureShare());
    }
    if (r.minReports() < 1 || r.minReports() > 1_000_000) {
      throw FileRefusal.badInput("minReports must be 1..1000000, was " + r.minReports());
    }
  }

  /** Pauses a running rollout: it admits nobody and offers nothing until resumed. */
  public Rollout pause(long id, String reason, String actor, long nowMs) {
    return transition(id, RolloutState.PAUSED, reason, actor, nowMs);
  }

  /** Resumes a paused rollout; it admits at its rate from where it stood. */
  public Rollout resume(long id, String actor, long nowMs) {
    Rollout r = transition(id, RolloutState.RUNNING, null, actor, nowMs);
    admit(r, nowMs);
    return store.rollout(id).orElseThrow();
  }

  /** Cancels a rollout for good: nothing more is offered. */
  public Rollout cancel(long id, String reason, String actor, long nowMs) {
    return transition(id, RolloutState.CANCELLED, reason, actor, nowMs);
  }

  private Rollout transition(long id, RolloutState to, String reason, String actor, long nowMs) {
    Rollout after =
        audit.inTransaction(
            () -> {
              Rollout r =
                  store
                      .rolloutInTransaction(id)
                      .orElseThrow(() -> FileRefusal.notFound("no rollout " + id));
              if (!r.state().next().contains(to)) {
                throw FileRefusal.conflict(
                    "rollout "
                        + id
                        + " is "
                        + r.state().label()
                        + "; it cannot be "
                        + (to == RolloutState.RUNNING ? "resumed" : to.label()));
              }
              long activeMs = RolloutPacing.activeMs(r.activeMs(), r.activeSinceMs(), nowMs);
              Long since = to == RolloutState.RUNNING ? nowMs : null;
              store.setRolloutStateInTransaction(id, to, reason, activeMs, since, nowMs);
              Map<String, Object> d = new LinkedHashMap<>();
              d.put("id", id);
              d.put("version", r.version());
              if (reason != null) {
                d.put("reason", reason);
              }
              String action =
                  switch (to) {
                    case RUNNING -> "rollout.resume";
                    case PAUSED -> "rollout.pause";
                    case CANCELLED -> "rollout.cancel";
                  };
              audit.append(actor, action, r.path(), d);
              return store.rolloutInTransaction(id).orElseThrow();
            });
    notifyDevicesOf(id);
    return after;
  }

  /** Admits the devices every running rollout is due to admit now (the server's timer). */
  public void tick(long nowMs) {
    for (Rollout r : store.running()) {
      admit(r, nowMs);
    }
  }

  private void admit(Rollout r, long nowMs) {
    if (r.state() != RolloutState.RUNNING) {
      return;
    }
    long activeMs = RolloutPacing.activeMs(r.activeMs(), r.activeSinceMs(), nowMs);
    int due = RolloutPacing.due(r.ratePerMin(), activeMs, r.admitted(), Integer.MAX_VALUE);
    long size = store.version(r.path(), r.version()).map(v -> v.header().getSize()).orElse(0L);
    List<String> admitted = store.admit(r, due, size, nowMs);
    if (!admitted.isEmpty()) {
      log.info("rollout {} of {}@{} admitted {}", r.id(), r.path(), r.version(), admitted);
      offered.accept(admitted);
    }
  }

  private void notifyDevicesOf(long rollout) {
    List<String> devices = new ArrayList<>();
    for (FileStore.RolloutDevice d : store.devices(rollout)) {
      if (d.admittedAtMs() != null) {
        devices.add(d.device());
      }
    }
    if (!devices.isEmpty()) {
      offered.accept(devices);
    }
  }

  /**
   * A device's report on a rollout's version: recorded, and a failure checked against the rollout's
   * failure limit (pausing it, audited as {@code rollout.pause} by {@value #SERVER_ACTOR}).
   */
  void onReport(String device, FileReport report, long nowMs) {
    DeviceRolloutState state = DeviceRolloutState.fromReport(report.getState());
    int at = report.getTransferId().lastIndexOf('@');
    if (state == null || at <= 0) {
      return;
    }
    String path = report.getTransferId().substring(0, at);
    long version;
    try {
      version = Long.parseLong(report.getTransferId().substring(at + 1));
    } catch (NumberFormatException e) {
      return;
    }
    Optional<Long> rollout = rolloutOfReport(device, report, path, version);
    if (rollout.isEmpty()) {
      log.debug("report of {} on {} names no rollout of it", device, report.getTransferId());
      return;
    }
    store.report(
        rollout.get(),
        device,
        state,
        report.getBytesDone(),
        report.getBytesReceived(),
        boundedReason(report.getReason()),
        nowMs);
    if (state == DeviceRolloutState.FAILED) {
      pauseIfTooManyFailures(rollout.get(), nowMs);
    }
  }

  /** Longest failure reason a device's report may store, in characters (the rest is cut). */
  static final int MAX_REPORT_REASON_CHARS = 1024;

  /** A device names its failure; the cloud keeps at most {@value #MAX_REPORT_REASON_CHARS}. */
  private static String boundedReason(String reason) {
    return reason.length() <= MAX_REPORT_REASON_CHARS
        ? reason
        : reason.substring(0, MAX_REPORT_REASON_CHARS - 1) + "…";
  }

  private Optional<Long> rolloutOfReport(
      String device, FileReport report, String path, long version) {
    if (!report.getRollout().isEmpty()) {
      try {
        long id = Long.parseLong(report.getRollout());
        Optional<Rollout> r = store.rollout(id);
        if (r.isPresent() && r.get().path().equals(path) && r.get().version() == version) {
          return Optional.of(id);
        }
      } catch (NumberFormatException e) {
        // not one of ours: look it up by the transfer
      }
    }
    return store.rolloutOf(device, path, version);
  }

  private void pauseIfTooManyFailures(long id, long nowMs) {
    Rollout r = store.rollout(id).orElseThrow();
    Map<DeviceRolloutState, Long> counts = store.counts(id);
    long failed = counts.get(DeviceRolloutState.FAILED);
    long reported = failed + counts.get(DeviceRolloutState.INSTALLED);
    if (r.state() == RolloutState.RUNNING
        && RolloutPacing.tooManyFailures(failed, reported, r.maxFailureShare(), r.minReports())) {
      String reason =
          "failures: "
              + failed
              + " of "
              + reported
              + " devices that reported failed, over the limit of "
              + r.maxFailureShare();
      try {
        pause(id, reason, SERVER_ACTOR, nowMs);
        log.warn("rollout {} paused: {}", id, reason);
      } catch (FileRefusal e) {
        log.debug("rollout {} changed state meanwhile: {}", id, e.getMessage()); // paused already
      }
    }
  }
}
