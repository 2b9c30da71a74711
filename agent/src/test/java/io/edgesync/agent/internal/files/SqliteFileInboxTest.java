package io.edgesync.agent.internal.files;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.edgesync.engine.files.FileInbox;
import io.edgesync.engine.files.Manifest;
import io.edgesync.protocol.Clock;
import io.edgesync.protocol.wire.ChunkRange;
import io.edgesync.protocol.wire.FileHeader;
import io.edgesync.protocol.wire.FileOffer;
import io.edgesync.protocol.wire.FileState;
import io.edgesync.security.ReleaseKey;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The edge's downloads on a real SQLite file, a real chunk directory and a real install directory,
 * with offers signed by a real Ed25519 key read from its PEM file.
 */
class SqliteFileInboxTest {
  private static final String PATH = "firmware/gateway.img";

  @TempDir Path dir;

  private SignedFiles keys;
  private final List<Store> opened = new ArrayList<>();
  private Store store;

  /** One opening of the store, as the agent does at start. */
  private final class Store implements AutoCloseable {
    final FilesDb db;
    final FileInstaller installer;
    final SqliteFileInbox inbox;

    Store(boolean keepPrevious, long maxFileBytes, Path keyFile) throws Exception {
      db = new FilesDb(dir.resolve("data/edgesync-files.db"), dir.resolve("data/chunks"));
      installer =
          new FileInstaller(db, dir.resolve("files"), keepPrevious, Clock.SYSTEM, (p, v) -> {});
      inbox =
          new SqliteFileInbox(
              db, new OfferCheck(OfferCheck.readKeys(keyFile), maxFileBytes), installer);
      opened.add(this);
    }

    @Override
    public void close() {
      installer.close();
      db.close();
    }
  }

  @BeforeEach
  void open() throws Exception {
    keys = new SignedFiles(dir);
    store = new Store(true, 1L << 30, keys.publicKeyFile);
  }

  @AfterEach
  void closeAll() {
    opened.forEach(Store::close);
  }

  // ---------------------------------------------------------------- refusals

  @Test
  void refusals_nameTheProblem_andNothingIsStoredOrInstalled() throws Exception {
    byte[] content = SignedFiles.content(1, 50_000);
    Manifest m = SignedFiles.manifest(content);
    FileOffer good = keys.signed(PATH, 1, m);
    assertThat(store.inbox.refusal(good)).isEmpty();

    FileOffer unsigned = good.toBuilder().clearSignature().clearKeyId().build();
    assertThat(store.inbox.refusal(unsigned))
        .hasValueSatisfying(r -> assertThat(r).startsWith("unsigned: "));

    SignedFiles other = new SignedFiles(Files.createDirectories(dir.resolve("other")));
    FileOffer untrusted = other.signed(PATH, 1, m);
    assertThat(store.inbox.refusal(untrusted))
        .hasValueSatisfying(
            r -> assertThat(r).startsWith("untrusted_key: ").contains(other.keyId()));

    // Signed by the trusted key, but over another size: the signature no longer covers it.
    FileHeader changed = good.getHeader().toBuilder().setSize(m.size() + 1).build();
    FileOffer forged = good.toBuilder().setHeader(changed).build();
    assertThat(store.inbox.refusal(forged))
        .hasValueSatisfying(r -> assertThat(r).startsWith("bad_signature: "));

    // The right key id with another key's signature.
    byte[] wrongSig =
        ReleaseKey.sign(
            other.key.getPrivate(),
            io.edgesync.engine.files.FileVersion.signingInput(good.getHeader()));
    FileOffer wrongKey = good.toBuilder().setSignature(ByteString.copyFrom(wrongSig)).build();
    assertThat(store.inbox.refusal(wrongKey))
        .hasValueSatisfying(r -> assertThat(r).startsWith("bad_signature: "));

    // No key can sign a bad path (the signing input refuses it): the path is checked first.
    FileOffer badPath =
        good.toBuilder()
            .setTransferId("../etc/passwd@1")
            .setHeader(good.getHeader().toBuilder().setPath("../etc/passwd"))
            .build();
    assertThat(store.inbox.refusal(badPath))
        .hasValueSatisfying(r -> assertThat(r).startsWith("bad_path: "));

    Store small = new Store(true, 1000, keys.publicKeyFile);
    assertThat(small.inbox.refusal(good))
        .hasValueSatisfying(
            r -> assertThat(r).startsWith("too_large: " + m.size() + " bytes").contains("1000"));

    Store noKeys = new Store(true, 1L << 30, null);
    assertThat(noKeys.inbox.refusal(good))
        .hasValueSatisfying(r -> assertThat(r).startsWith("no_trusted_keys: "));

    assertThat(store.inbox.all(10)).isEmpty();
    assertThat(store.inbox.transfer(good.getTransferId())).isEmpty();
    assertThat(filesUnder(dir.resolve("data/chunks"))).isEmpty();
    assertThat(filesUnder(dir.resolve("files"))).isEmpty();
  }

  // ---------------------------------------------------------------- resume and dedup

  @Test
  void putChunks_thenReopenWithoutClosing_missingResumesFromTheLastHeldChunk() throws Exception {
    byte[] content = SignedFiles.content(2, 200_000);
    Manifest m = SignedFiles.manifest(content);
    FileOffer offer = keys.signed(PATH, 1, m);
    String id = offer.getTransferId();
    int n = m.chunkCount();
    assertThat(n).isGreaterThan(10);
    store.inbox.begin(offer, 1000);
    store.inbox.addEntries(id, 0, m.lengths(), m.hashes(), 0);
    store.inbox.putChunks(
        id, 0, SignedFiles.chunks(content, m, 0, 7), SignedFiles.hashes(m, 0, 7), 9999);

    // As after kill -9: the first store is not closed; a new one opens the same files.
    Store restarted = new Store(true, 1L << 30, keys.publicKeyFile);

    assertThat(restarted.inbox.missing(id, 1000))
        .containsExactly(ChunkRange.newBuilder().setFirst(7).setCount(n - 7).build());
    FileInbox.Inbound in = restarted.inbox.transfer(id).orElseThrow();
    assertThat(in.state()).isEqualTo(FileState.FILE_STATE_DOWNLOADING);
    assertThat(in.entriesKnown()).isEqualTo(n);
    assertThat(in.bytesDone()).isEqualTo(m.offset(7));
    assertThat(in.bytesReceived()).isEqualTo(9999);
    assertThat(restarted.inbox.lengths(id, 0, n)).containsExactly(m.lengths());
    assertThat(restarted.inbox.hashes(id, 0, n)).isEqualTo(m.hashes());
  }

  @Test
  void missing_namesRangesOfUnheldEntries_upToTheLimit() throws Exception {
    byte[] content = SignedFiles.content(3, 200_000);
    Manifest m = SignedFiles.manifest(content);
    FileOffer offer = keys.signed(PATH, 1, m);
    String id = offer.getTransferId();
    store.inbox.begin(offer, 1);
    store.inbox.addEntries(id, 0, m.lengths(), m.hashes(), 0);
    store.inbox.putChunks(
        id, 2, SignedFiles.chunks(content, m, 2, 3), SignedFiles.hashes(m, 2, 3), 0);

    assertThat(store.inbox.missing(id, 4)).containsExactly(range(0, 2), range(5, 2));
  }

  @Test
  void entriesWhoseChunksAreHeld_countAsHeldAtOnce_acrossVersions() throws Exception {
    byte[] v1 = SignedFiles.content(4, 200_000);
    byte[] v2 = v1.clone();
    v2[150_000] ^= 1; // one edit: the chunks away from it are the same
    Manifest m1 = SignedFiles.manifest(v1);
    Manifest m2 = SignedFiles.manifest(v2);
    installVersion(1, v1, m1);

    FileOffer offer2 = keys.signed(PATH, 2, m2);
    store.inbox.begin(offer2, 2);
    store.inbox.addEntries(offer2.getTransferId(), 0, m2.lengths(), m2.hashes(), 0);

    List<ChunkRange> missing = store.inbox.missing(offer2.getTransferId(), 1000);
    int missingChunks = missing.stream().mapToInt(ChunkRange::getCount).sum();
    assertThat(missingChunks).isBetween(1, 2);
    long missingBytes = 0;
    for (ChunkRange r : missing) {
      missingBytes += m2.offset(r.getFirst() + r.getCount()) - m2.offset(r.getFirst());
    }
    assertThat(store.inbox.transfer(offer2.getTransferId()).orElseThrow().bytesDone())
        .isEqualTo(m2.size() - missingBytes);
  }

  // ---------------------------------------------------------------- install

  @Test
  void complete_installsAtThePath_keepsThePreviousVersion_andHeldServesTheManifest()
      throws Exception {
    byte[] v1 = SignedFiles.content(5, 120_000);
    byte[] v2 = SignedFiles.content(6, 130_000);
    byte[] v3 = SignedFiles.content(7, 90_000);
    Manifest m1 = SignedFiles.manifest(v1);
    Manifest m2 = SignedFiles.manifest(v2);

    assertThat(installVersion(1, v1, m1)).isEqualTo(done(FileState.FILE_STATE_INSTALLED, null));
    assertThat(Files.readAllBytes(target())).isEqualTo(v1);
    assertThat(installVersion(2, v2, m2)).isEqualTo(done(FileState.FILE_STATE_INSTALLED, null));

    assertThat(Files.readAllBytes(target())).isEqualTo(v2);
    assertThat(Files.readAllBytes(store.installer.previousOf(PATH, 1))).isEqualTo(v1);
    FileInbox.Held held = store.inbox.held(PATH).orElseThrow();
    assertThat(held.version()).isEqualTo(2);
    assertThat(held.manifest()).isEqualTo(m2);
    for (int i = 0; i < m2.chunkCount(); i++) {
      assertThat(store.inbox.chunk(m2.hash(i))).isEqualTo(SignedFiles.chunks(v2, m2, i, 1).get(0));
    }
    assertThat(filesUnder(dir.resolve("files/.edgesync~/incoming"))).isEmpty();

    // A third version: only the one before it is kept, and chunks of version 1 are released.
    installVersion(3, v3, SignedFiles.manifest(v3));
    assertThat(Files.readAllBytes(target())).isEqualTo(v3);
    assertThat(Files.readAllBytes(store.installer.previousOf(PATH, 2))).isEqualTo(v2);
    assertThat(store.installer.previousOf(PATH, 1)).doesNotExist();
    assertThat(store.db.chunks().has(m1.hashHex(0))).isFalse();
    assertThat(store.db.chunks().has(m2.hashHex(0))).isTrue();
  }

  @Test
  void keepPreviousOff_keepsNoOlderVersion() throws Exception {
    store = new Store(false, 1L << 30, keys.publicKeyFile);
    byte[] v1 = SignedFiles.content(8, 50_000);
    byte[] v2 = SignedFiles.content(9, 50_000);
    installVersion(1, v1, SignedFiles.manifest(v1));
    installVersion(2, v2, SignedFiles.manifest(v2));

    assertThat(Files.readAllBytes(target())).isEqualTo(v2);
    assertThat(filesUnder(dir.resolve("files/.edgesync~/versions"))).isEmpty();
  }

  @Test
  void aFileDeletedByHand_isNotNamedAsTheKeptPreviousVersion() throws Exception {
    byte[] v1 = SignedFiles.content(19, 30_000);
    byte[] v2 = SignedFiles.content(20, 30_000);
    installVersion(1, v1, SignedFiles.manifest(v1));
    Files.delete(target());

    installVersion(2, v2, SignedFiles.manifest(v2));

    assertThat(Files.readAllBytes(target())).isEqualTo(v2);
    assertThat(store.installer.previousOf(PATH, 1)).doesNotExist();
    long previous =
        store.db.tx(
            "read",
            j -> j.queryLong("SELECT previous_version FROM installed WHERE path=?", -1, PATH));
    assertThat(previous).isZero();
  }

  @Test
  void hashMismatch_failsAndLeavesThePreviousFileUntouched() throws Exception {
    byte[] v1 = SignedFiles.content(10, 60_000);
    installVersion(1, v1, SignedFiles.manifest(v1));
    byte[] v2 = SignedFiles.content(11, 60_000);
    Manifest m2 = SignedFiles.manifest(v2);
    // The signed header names another SHA-256 than the chunks make up.
    FileHeader lying =
        SignedFiles.header(PATH, 2, m2).toBuilder()
            .setSha256(ByteString.copyFrom(new byte[32]))
            .build();
    FileOffer offer = keys.signed(lying, m2.chunkCount());
    assertThat(store.inbox.refusal(offer)).isEmpty();

    String[] outcome = receive(offer, v2, m2);

    assertThat(outcome[0]).isEqualTo(FileState.FILE_STATE_FAILED.name());
    assertThat(outcome[1]).startsWith("hash_mismatch: ");
    assertThat(Files.readAllBytes(target())).isEqualTo(v1);
    assertThat(store.inbox.held(PATH).orElseThrow().version()).isEqualTo(1);
    assertThat(store.installer.previousOf(PATH, 1)).doesNotExist();
    assertThat(filesUnder(dir.resolve("files/.edgesync~/incoming"))).isEmpty();
  }

  @Test
  void chunkDamagedOnDisk_failsTheInstall_andInstallsNothing() throws Exception {
    byte[] v1 = SignedFiles.content(12, 60_000);
    Manifest m1 = SignedFiles.manifest(v1);
    FileOffer offer = keys.signed(PATH, 1, m1);
    store.inbox.begin(offer, 1);
    store.inbox.addEntries(offer.getTransferId(), 0, m1.lengths(), m1.hashes(), 0);
    store.inbox.putChunks(
        offer.getTransferId(), 0, SignedFiles.chunks(v1, m1, 0, m1.chunkCount()), m1.hashes(), 0);
    Path chunk =
        dir.resolve("data/chunks").resolve(m1.hashHex(1).substring(0, 2)).resolve(m1.hashHex(1));
    byte[] bytes = Files.readAllBytes(chunk);
    bytes[0] ^= 1;
    Files.write(chunk, bytes);

    String[] outcome = complete(offer.getTransferId());

    assertThat(outcome[0]).isEqualTo(FileState.FILE_STATE_FAILED.name());
    assertThat(outcome[1]).startsWith("corrupt_chunk: ");
    assertThat(target()).doesNotExist();
    assertThat(store.inbox.held(PATH)).isEmpty();
  }

  @Test
  void aCrashAfterTheRenameBeforeTheRecord_installsAgainKeepingTheRightPreviousVersion()
      throws Exception {
    byte[] v1 = SignedFiles.content(13, 60_000);
    byte[] v2 = SignedFiles.content(14, 60_000);
    installVersion(1, v1, SignedFiles.manifest(v1));
    installVersion(2, v2, SignedFiles.manifest(v2));
    // Run the install of version 2 once more, as after a crash before the outcome reached the
    // engine: the file and the kept version stay right.
    String[] again = complete(PATH + "@2");

    assertThat(again[0]).isEqualTo(FileState.FILE_STATE_INSTALLED.name());
    assertThat(Files.readAllBytes(target())).isEqualTo(v2);
    assertThat(Files.readAllBytes(store.installer.previousOf(PATH, 1))).isEqualTo(v1);
    assertThat(store.installer.previousOf(PATH, 2)).doesNotExist();
  }

  @Test
  void closingDuringAnInstall_isNotAFailure_andTheNextOpeningInstallsIt() throws Exception {
    byte[] big = SignedFiles.content(18, 32 << 20);
    Manifest m = SignedFiles.manifest(big, io.edgesync.engine.files.FastCdc.DEFAULT);
    FileOffer offer = keys.signed(PATH, 1, m);
    String id = offer.getTransferId();
    store.inbox.begin(offer, 1);
    store.inbox.addEntries(id, 0, m.lengths(), m.hashes(), 0);
    for (int first = 0; first < m.chunkCount(); first += 64) {
      int n = Math.min(64, m.chunkCount() - first);
      store.inbox.putChunks(
          id, first, SignedFiles.chunks(big, m, first, n), SignedFiles.hashes(m, first, n), 0);
    }
    CompletableFuture<String> outcome = new CompletableFuture<>();
    store.inbox.complete(id, (t, state, reason) -> outcome.complete(state.name()));
    store.installer.close(); // the agent closes while the file is being assembled

    // Either it finished before the close, or it reports nothing: never a failure.
    String seen = outcome.completeOnTimeout("none", 3, TimeUnit.SECONDS).get();
    assertThat(seen).isIn("none", FileState.FILE_STATE_INSTALLED.name());
    assertThat(filesUnder(dir.resolve("files/.edgesync~/incoming"))).isEmpty();
    Store restarted = new Store(true, 1L << 30, keys.publicKeyFile);
    assertThat(restarted.inbox.transfer(id).orElseThrow().state())
        .isEqualTo(FileState.FILE_STATE_DOWNLOADING);
    store = restarted;
    assertThat(complete(id)[0]).isEqualTo(FileState.FILE_STATE_INSTALLED.name());
    assertThat(Files.size(target())).isEqualTo(big.length);
  }

  // ---------------------------------------------------------------- states and reports

  @Test
  void unreported_listsStateChangesUntilReported_oldestFirst_acrossARestart() throws Exception {
    byte[] a = SignedFiles.content(15, 10_000);
    Manifest m = SignedFiles.manifest(a);
    store.inbox.begin(keys.signed("models/a.onnx", 1, m), 1);
    store.inbox.begin(keys.signed("models/b.onnx", 1, m), 2);
    assertThat(store.inbox.unreported(10)).isEmpty(); // downloading: progress, not a change

    store.inbox.setState("models/b.onnx@1", FileState.FILE_STATE_FAILED, "bad_signature: x", 3);
    store.inbox.setState("models/a.onnx@1", FileState.FILE_STATE_FAILED, "superseded: y", 4);
    assertThat(store.inbox.unreported(10))
        .extracting(i -> i.offer().getTransferId())
        .containsExactly("models/b.onnx@1", "models/a.onnx@1");

    store.inbox.reported("models/a.onnx@1", FileState.FILE_STATE_FAILED);
    Store restarted = new Store(true, 1L << 30, keys.publicKeyFile);
    List<FileInbox.Inbound> left = restarted.inbox.unreported(10);
    assertThat(left).hasSize(1);
    assertThat(left.get(0).state()).isEqualTo(FileState.FILE_STATE_FAILED);
    assertThat(left.get(0).reason()).isEqualTo("bad_signature: x");
    restarted.inbox.reported("models/b.onnx@1", FileState.FILE_STATE_FAILED);
    assertThat(restarted.inbox.unreported(10)).isEmpty();
  }

  @Test
  void aNewerVersionSupersedesAnUnfinishedOlderOne() throws Exception {
    byte[] a = SignedFiles.content(16, 10_000);
    Manifest m = SignedFiles.manifest(a);
    store.inbox.begin(keys.signed(PATH, 1, m), 1);
    store.inbox.begin(keys.signed(PATH, 2, m), 2);
    store.inbox.begin(keys.signed(PATH, 2, m), 3); // again: nothing changes

    FileInbox.Inbound old = store.inbox.transfer(PATH + "@1").orElseThrow();
    assertThat(old.state()).isEqualTo(FileState.FILE_STATE_FAILED);
    assertThat(old.reason()).startsWith("superseded");
    assertThat(store.inbox.transfer(PATH + "@2").orElseThrow().state())
        .isEqualTo(FileState.FILE_STATE_DOWNLOADING);
    assertThat(store.inbox.all(10)).hasSize(2);
  }

  /**
   * The race the simulator found (files seeds 95, 149, 200): a version waiting for the installer is
   * superseded by a newer offer; installing it then would replace the base the newer version's
   * delta was planned against, and put an older version over a newer one.
   */
  @Test
  void aVersionSupersededWhileItWaitedForTheInstaller_isNotInstalled() throws Exception {
    byte[] v1 = SignedFiles.content(18, 30_000);
    Manifest m = SignedFiles.manifest(v1);
    FileOffer offer = keys.signed(PATH, 1, m);
    store.inbox.begin(offer, 1);
    store.inbox.addEntries(offer.getTransferId(), 0, m.lengths(), m.hashes(), 0);
    for (ChunkRange r : store.inbox.missing(offer.getTransferId(), 1000)) {
      store.inbox.putChunks(
          offer.getTransferId(),
          r.getFirst(),
          SignedFiles.chunks(v1, m, r.getFirst(), r.getCount()),
          SignedFiles.hashes(m, r.getFirst(), r.getCount()),
          0);
    }
    store.inbox.begin(keys.signed(PATH, 2, m), 2); // supersedes version 1 before it installs

    String[] outcome = complete(offer.getTransferId());

    assertThat(outcome[0]).isEqualTo("FILE_STATE_FAILED");
    assertThat(outcome[1]).startsWith("superseded");
    assertThat(target()).doesNotExist();
    assertThat(store.inbox.held(PATH)).isEmpty();
  }

  @Test
  void installFailedByTheProgram_becomesFailedUnreported_andSurvivesTheEngineRecordingInstalled()
      throws Exception {
    byte[] v1 = SignedFiles.content(17, 30_000);
    installVersion(1, v1, SignedFiles.manifest(v1));
    store.inbox.reported(PATH + "@1", FileState.FILE_STATE_INSTALLED);

    assertThat(store.inbox.installFailed(PATH, 2, "no such version", 5)).isFalse();
    assertThat(store.inbox.installFailed(PATH, 1, "flash verify error", 5)).isTrue();
    store.inbox.setState(PATH + "@1", FileState.FILE_STATE_INSTALLED, null, 6);

    FileInbox.Inbound in = store.inbox.unreported(10).get(0);
    assertThat(in.state()).isEqualTo(FileState.FILE_STATE_FAILED);
    assertThat(in.reason()).isEqualTo("install_failed: flash verify error");
    assertThat(Files.readAllBytes(target())).isEqualTo(v1);
  }

  // ---------------------------------------------------------------- helpers

  private static ChunkRange range(int first, int count) {
    return ChunkRange.newBuilder().setFirst(first).setCount(count).build();
  }

  private Path target() {
    return dir.resolve("files").resolve(PATH);
  }

  private static String done(FileState state, String reason) {
    return state.name() + "/" + reason;
  }

  /** Receives and installs a version as the engine would; returns "STATE/reason". */
  private String installVersion(long version, byte[] content, Manifest m) throws Exception {
    String[] o = receive(keys.signed(PATH, version, m), content, m);
    return o[0] + "/" + o[1];
  }

  private String[] receive(FileOffer offer, byte[] content, Manifest m) throws Exception {
    String id = offer.getTransferId();
    store.inbox.begin(offer, 1);
    store.inbox.addEntries(id, 0, m.lengths(), m.hashes(), 0);
    for (ChunkRange r : store.inbox.missing(id, 1000)) {
      store.inbox.putChunks(
          id,
          r.getFirst(),
          SignedFiles.chunks(content, m, r.getFirst(), r.getCount()),
          SignedFiles.hashes(m, r.getFirst(), r.getCount()),
          0);
    }
    assertThat(store.inbox.missing(id, 1000)).isEmpty();
    String[] outcome = complete(id);
    store.inbox.setState(id, FileState.valueOf(outcome[0]), outcome[1], 2);
    return outcome;
  }

  private String[] complete(String id) throws Exception {
    CompletableFuture<String[]> f = new CompletableFuture<>();
    store.inbox.complete(id, (t, state, reason) -> f.complete(new String[] {state.name(), reason}));
    return f.get(30, TimeUnit.SECONDS);
  }

  private static List<Path> filesUnder(Path root) throws IOException {
    if (!Files.exists(root)) {
      return List.of();
    }
    try (Stream<Path> s = Files.walk(root)) {
      return s.filter(Files::isRegularFile).toList();
    }
  }
}
