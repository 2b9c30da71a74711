package io.edgesync.server.files;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.edgesync.engine.files.FastCdc;
import io.edgesync.engine.files.FileInbox;
import io.edgesync.engine.files.Manifest;
import io.edgesync.protocol.wire.ChunkRange;
import io.edgesync.protocol.wire.FileHeader;
import io.edgesync.protocol.wire.FileOffer;
import io.edgesync.protocol.wire.FileState;
import io.edgesync.server.SqliteCloudStore;
import io.edgesync.server.StoreFile;
import io.edgesync.server.StoreKind;
import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A device's uploads through the {@link FileInbox} the session drives, on a real SQLite store and a
 * real chunk directory: refusals (collection, size, quota), entries and missing chunks, chunks held
 * across uploads (dedup), resumption after the store is reopened, and completion: STORED when the
 * chunks make the offered file, FAILED (nothing served) when they do not.
 */
@ParameterizedClass
@EnumSource(StoreKind.class)
class UploadInboxTest {
  private static final long T0 = 1_700_000_000_000L;

  @RegisterExtension final StoreFile db;
  private Path dir;
  private SqliteCloudStore store;
  private CloudFiles files;
  private final AtomicLong now = new AtomicLong(T0);

  UploadInboxTest(StoreKind kind) {
    db = new StoreFile(kind);
  }

  @BeforeEach
  void open() throws Exception {
    dir = db.dir();
    reopen(FileSettings.defaults());
  }

  private void reopen(FileSettings settings) throws Exception {
    if (files != null) {
      close();
    }
    store = db.open();
    files =
        CloudFiles.open(
            settings,
            dir,
            store.files(),
            store.uploads(),
            store.auditedTransactions(),
            store.fileChunks(),
            now::get);
  }

  @AfterEach
  void close() {
    files.close();
    store.close();
  }

  private static byte[] data(int bytes, long seed) {
    byte[] d = new byte[bytes];
    new Random(seed).nextBytes(d);
    return d;
  }

  private static Manifest manifest(byte[] d) throws Exception {
    return Manifest.of(new ByteArrayInputStream(d), FastCdc.DEFAULT);
  }

  private static FileOffer offer(String path, long version, Manifest m, String collection) {
    return offer(path, version, m, collection, m.sha256());
  }

  private static FileOffer offer(
      String path, long version, Manifest m, String collection, byte[] sha) {
    return FileOffer.newBuilder()
        .setTransferId(path + "@" + version)
        .setHeader(
            FileHeader.newBuilder()
                .setPath(path)
                .setVersion(version)
                .setSize(m.size())
                .setSha256(ByteString.copyFrom(sha)))
        .setChunkCount(m.chunkCount())
        .setCollection(collection)
        .build();
  }

  /** Sends the chunks of {@code ranges} as the session would, hashes checked by the caller. */
  private static void put(FileInbox inbox, String id, byte[] d, Manifest m, List<ChunkRange> ranges)
      throws Exception {
    for (ChunkRange r : ranges) {
      List<byte[]> chunks = new ArrayList<>();
      byte[] hashes = new byte[r.getCount() * 32];
      for (int i = 0; i < r.getCount(); i++) {
        int c = r.getFirst() + i;
        chunks.add(Arrays.copyOfRange(d, (int) m.offset(c), (int) m.offset(c + 1)));
        System.arraycopy(m.hash(c), 0, hashes, i * 32, 32);
      }
      inbox.putChunks(id, r.getFirst(), chunks, hashes, 100);
    }
  }

  private static FileState complete(FileInbox inbox, String id) throws Exception {
    CompletableFuture<FileState> done = new CompletableFuture<>();
    inbox.complete(id, (t, state, reason) -> done.complete(state));
    return done.get(10, TimeUnit.SECONDS);
  }

  @Test
  void upload_roundTrip_storedAndServedByteIdentical_afterAResumeAcrossARestart() throws Exception {
    byte[] d = data(3 << 20, 1);
    Manifest m = manifest(d);
    FileInbox inbox = files.inbox("cam-1");
    FileOffer o = offer("clips/door.mp4", 1, m, "uploads");
    assertThat(inbox.refusal(o)).isEmpty();
    inbox.begin(o, now.get());
    inbox.addEntries(o.getTransferId(), 0, m.lengths(), m.hashes(), 0);
    List<ChunkRange> missing = inbox.missing(o.getTransferId(), 4096);
    assertThat(missing).hasSize(1);
    assertThat(missing.get(0).getCount()).isEqualTo(m.chunkCount());
    put(
        inbox,
        o.getTransferId(),
        d,
        m,
        List.of(ChunkRange.newBuilder().setFirst(0).setCount(3).build()));

    reopen(FileSettings.defaults()); // a server restart mid-upload
    inbox = files.inbox("cam-1");
    FileInbox.Inbound t = inbox.transfer(o.getTransferId()).orElseThrow();
    assertThat(t.bytesDone()).isEqualTo(m.offset(3));
    assertThat(t.bytesReceived()).isEqualTo(100); // one putChunks of 3 chunks
    List<ChunkRange> rest = inbox.missing(o.getTransferId(), 4096);
    assertThat(rest.get(0).getFirst()).isEqualTo(3);
    put(inbox, o.getTransferId(), d, m, rest);
    assertThat(inbox.missing(o.getTransferId(), 4096)).isEmpty();

    assertThat(complete(inbox, o.getTransferId())).isEqualTo(FileState.FILE_STATE_STORED);
    assertThat(inbox.transfer(o.getTransferId()).orElseThrow().state())
        .isEqualTo(FileState.FILE_STATE_STORED);
    assertThat(inbox.held("clips/door.mp4")).isEmpty();
    try (var in = files.openUpload("cam-1", "clips/door.mp4", 1)) {
      assertThat(in.readAllBytes()).isEqualTo(d);
    }
    assertThat(inbox.unreported(10))
        .extracting(FileInbox.Inbound::state)
        .containsExactly(FileState.FILE_STATE_STORED);
    inbox.reported(o.getTransferId(), FileState.FILE_STATE_STORED);
    assertThat(inbox.unreported(10)).isEmpty();
  }

  @Test
  void chunksTheCloudHolds_countAsHeldAtOnce_soAnotherDeviceSendsOnlyWhatIsNew() throws Exception {
    byte[] d = data(1 << 20, 2);
    Manifest m = manifest(d);
    FileInbox first = files.inbox("cam-1");
    FileOffer o = offer("logs/a.tar", 1, m, "uploads");
    first.begin(o, now.get());
    first.addEntries(o.getTransferId(), 0, m.lengths(), m.hashes(), 0);
    put(first, o.getTransferId(), d, m, first.missing(o.getTransferId(), 4096));

    FileInbox second = files.inbox("cam-2");
    second.begin(o, now.get());
    second.addEntries(o.getTransferId(), 0, m.lengths(), m.hashes(), 0);
    assertThat(second.missing(o.getTransferId(), 4096)).isEmpty();
    assertThat(second.transfer(o.getTransferId()).orElseThrow().bytesDone()).isEqualTo(m.size());
    assertThat(complete(second, o.getTransferId())).isEqualTo(FileState.FILE_STATE_STORED);
  }

  @Test
  void chunksThatDoNotMakeTheOfferedSha256_failTheUpload_andNothingIsServed() throws Exception {
    byte[] d = data(500_000, 3);
    Manifest m = manifest(d);
    byte[] wrongSha = m.sha256();
    wrongSha[0] ^= 1;
    FileInbox inbox = files.inbox("cam-1");
    FileOffer o = offer("clips/x.mp4", 1, m, "uploads", wrongSha);
    inbox.begin(o, now.get());
    inbox.addEntries(o.getTransferId(), 0, m.lengths(), m.hashes(), 0);
    put(inbox, o.getTransferId(), d, m, inbox.missing(o.getTransferId(), 4096));

    CompletableFuture<String> reason = new CompletableFuture<>();
    inbox.complete(o.getTransferId(), (t, state, why) -> reason.complete(state + " " + why));
    assertThat(reason.get(10, TimeUnit.SECONDS)).startsWith("FILE_STATE_FAILED sha256_mismatch:");
    assertThat(inbox.transfer(o.getTransferId()).orElseThrow().state())
        .isEqualTo(FileState.FILE_STATE_FAILED);
    assertThatThrownBy(() -> files.openUpload("cam-1", "clips/x.mp4", 1))
        .isInstanceOf(FileRefusal.class)
        .hasMessageContaining("not stored");
    inbox.setState(o.getTransferId(), FileState.FILE_STATE_STORED, "", now.get());
    assertThat(inbox.transfer(o.getTransferId()).orElseThrow().state())
        .as("a final state is never left")
        .isEqualTo(FileState.FILE_STATE_FAILED);
  }

  @Test
  void corruptChunk_isRefusedByPutChunks_andNotMarkedHeld() throws Exception {
    byte[] d = data(200_000, 4);
    Manifest m = manifest(d);
    FileInbox inbox = files.inbox("cam-1");
    FileOffer o = offer("clips/y.mp4", 1, m, "uploads");
    inbox.begin(o, now.get());
    inbox.addEntries(o.getTransferId(), 0, m.lengths(), m.hashes(), 0);
    byte[] chunk = Arrays.copyOfRange(d, 0, m.length(0));
    chunk[7] ^= 1;
    assertThatThrownBy(() -> inbox.putChunks(o.getTransferId(), 0, List.of(chunk), m.hash(0), 10))
        .hasMessageContaining("refused");
    assertThat(inbox.missing(o.getTransferId(), 1).get(0).getFirst()).isZero();
    assertThat(inbox.transfer(o.getTransferId()).orElseThrow().bytesDone()).isZero();
  }

  @Test
  void offers_outsideTheUploadCollections_overTheSizeLimit_orTheQuota_areRefusedWithAReason()
      throws Exception {
    reopen(
        new FileSettings(
            null, null, null, List.of("uploads", "models"), 400_000, 1 << 30, 500_000));
    Manifest small = manifest(data(300_000, 5));
    Manifest big = manifest(data(450_000, 6));
    FileInbox inbox = files.inbox("cam-1");

    assertThat(inbox.refusal(offer("a/b", 1, small, "secrets")))
        .hasValueSatisfying(r -> assertThat(r).startsWith("collection: 'secrets'"));
    assertThat(inbox.refusal(offer("a/b", 1, big, "uploads")))
        .hasValueSatisfying(r -> assertThat(r).startsWith("too_large: 450000 bytes"));
    FileOffer first = offer("a/b", 1, small, "uploads");
    assertThat(inbox.refusal(first)).isEmpty();
    inbox.begin(first, now.get());
    assertThat(inbox.refusal(offer("a/c", 1, small, "models")))
        .hasValueSatisfying(r -> assertThat(r).startsWith("quota: device cam-1 holds 300000"));
    assertThat(inbox.refusal(first)).as("the upload already begun is taken again").isEmpty();
    assertThat(files.uploads().list("cam-1", 10)).hasSize(1);
  }

  @Test
  void newerVersionOfAPath_supersedesTheUnfinishedOlderUpload() throws Exception {
    Manifest m = manifest(data(100_000, 7));
    FileInbox inbox = files.inbox("cam-1");
    inbox.begin(offer("a/b", 1, m, "uploads"), now.get());
    inbox.begin(offer("a/b", 2, m, "uploads"), now.get());
    FileInbox.Inbound old = inbox.transfer("a/b@1").orElseThrow();
    assertThat(old.state()).isEqualTo(FileState.FILE_STATE_FAILED);
    assertThat(old.reason()).startsWith("superseded");
    assertThat(inbox.transfer("a/b@2").orElseThrow().state())
        .isEqualTo(FileState.FILE_STATE_DOWNLOADING);
  }
}
