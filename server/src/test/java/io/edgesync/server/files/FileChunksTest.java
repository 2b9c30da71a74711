package io.edgesync.server.files;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.edgesync.security.ReleaseKey;
import io.edgesync.server.SqliteCloudStore;
import io.edgesync.server.StoreFile;
import io.edgesync.server.StoreKind;
import io.edgesync.support.files.ChunkStorage;
import io.edgesync.support.files.ChunkStore;
import io.edgesync.support.files.ChunkStore.ChunkMismatchException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Where the cloud keeps file chunks, on each store: on disk under the files directory with SQLite,
 * in the database (table {@code file_chunks}) with PostgreSQL. Either way nothing unverified is
 * stored or served, a chunk is stored once, and a refused publish leaves no chunk behind; on
 * PostgreSQL a second node with a files directory of its own serves what the first published.
 */
@ParameterizedClass
@EnumSource(StoreKind.class)
class FileChunksTest {
  private static final long T0 = 1_700_000_000_000L;
  private static final String PATH = "firmware/gw.img";

  @RegisterExtension final StoreFile db;
  private final List<CloudFiles> opened = new ArrayList<>();
  private Path releaseKey;

  FileChunksTest(StoreKind kind) {
    db = new StoreFile(kind);
  }

  @BeforeEach
  void keys() throws Exception {
    releaseKey = db.dir().resolve("release.key");
    ReleaseKey.writePrivateKey(releaseKey, ReleaseKey.generate().getPrivate());
  }

  @AfterEach
  void close() {
    opened.forEach(CloudFiles::close);
  }

  /** A node's files: a store of its own on the test's database, and its own data directory. */
  private CloudFiles node(String name) throws Exception {
    return node(name, null);
  }

  /** As {@link #node(String)}, chunks kept in {@code place} (null: where the store says). */
  private CloudFiles node(String name, CloudFiles.ChunkPlace place) throws Exception {
    SqliteCloudStore store = db.open();
    CloudFiles files =
        CloudFiles.open(
            FileSettings.defaults().withReleaseKeyFile(releaseKey),
            Files.createDirectories(db.dir().resolve(name)),
            store.files(),
            store.uploads(),
            store.auditedTransactions(),
            place != null ? place : store.fileChunks(),
            () -> T0);
    opened.add(files);
    return files;
  }

  private static byte[] content(int bytes, long seed) {
    byte[] d = new byte[bytes];
    new Random(seed).nextBytes(d);
    return d;
  }

  private static long publish(CloudFiles files, byte[] content) throws IOException {
    return files
        .publish(
            new CloudFiles.PublishRequest(PATH, Map.of(), null, null, null, "ops"),
            new ByteArrayInputStream(content),
            T0)
        .header()
        .getVersion();
  }

  /** Chunks held: rows of file_chunks (PostgreSQL), chunk files under the node's dir (SQLite). */
  private long storedChunks(String node) throws Exception {
    if (db.kind() == StoreKind.POSTGRES) {
      return db.number("SELECT count(*) FROM file_chunks");
    }
    Path chunks = db.dir().resolve(node).resolve("files").resolve("chunks");
    if (!Files.exists(chunks)) {
      return 0;
    }
    try (Stream<Path> all = Files.walk(chunks)) {
      return all.filter(Files::isRegularFile).count();
    }
  }

  /** Changes a stored chunk's bytes behind the server's back. */
  private void damage(String node, String sha256) throws Exception {
    byte[] other = "not what was stored".getBytes(StandardCharsets.UTF_8);
    if (db.kind() == StoreKind.SQLITE) {
      Path file =
          db.dir()
              .resolve(node)
              .resolve("files")
              .resolve("chunks")
              .resolve(sha256.substring(0, 2))
              .resolve(sha256);
      Files.write(file, other);
      return;
    }
    try (Connection c = db.connect();
        PreparedStatement st =
            c.prepareStatement("UPDATE file_chunks SET data=? WHERE sha256=decode(?, 'hex')")) {
      st.setBytes(1, other);
      st.setString(2, sha256);
      assertThat(st.executeUpdate()).isEqualTo(1);
    }
  }

  @Test
  void onPostgres_aVersionPublishedThroughOneNode_isServedByAnotherWithAnEmptyFilesDir()
      throws Exception {
    assumeTrue(db.kind() == StoreKind.POSTGRES, "two nodes share a store on PostgreSQL only");
    byte[] content = content(3 << 20, 1); // dozens of chunks
    CloudFiles first = node("node-1");
    long version = publish(first, content);

    CloudFiles second = node("node-2"); // no shared volume: its files dir has never held a chunk
    try (InputStream in = second.open(PATH, version)) {
      assertThat(in.readAllBytes()).isEqualTo(content);
    }
    int chunkCount = second.store().manifest(PATH, version).orElseThrow().chunkCount();
    assertThat(storedChunks("node-2")).isEqualTo(chunkCount);
    assertThat(db.dir().resolve("node-1").resolve("files").resolve("chunks")).doesNotExist();
    assertThat(db.dir().resolve("node-2").resolve("files").resolve("chunks")).doesNotExist();
  }

  @Test
  void onPostgres_chunksAnEarlierBuildKeptOnDisk_areImportedAtStart_andServed() throws Exception {
    assumeTrue(db.kind() == StoreKind.POSTGRES, "SQLite keeps its chunks on disk");
    byte[] content = content(1 << 20, 5);
    CloudFiles before = node("node-1", CloudFiles.ChunkPlace.DISK); // as builds before V4 did
    long version = publish(before, content);
    int chunkCount = before.store().manifest(PATH, version).orElseThrow().chunkCount();
    Path chunkDir = db.dir().resolve("node-1").resolve("files").resolve("chunks");
    byte[] damaged = content(1000, 6);
    String damagedName = ChunkStore.sha256(content(1000, 7)); // its bytes are not what it names
    Files.createDirectories(chunkDir.resolve(damagedName.substring(0, 2)));
    Files.write(chunkDir.resolve(damagedName.substring(0, 2)).resolve(damagedName), damaged);
    assertThat(db.number("SELECT count(*) FROM file_chunks")).isZero();

    CloudFiles after = node("node-2"); // a node of this build, its own (empty) files dir...
    try (InputStream in = after.open(PATH, version)) {
      assertThatThrownBy(in::readAllBytes).hasMessageEndingWith(" is missing from the store");
    }
    CloudFiles upgraded = node("node-1"); // ...and the upgraded node on the old one: imports it

    assertThat(db.number("SELECT count(*) FROM file_chunks")).isEqualTo(chunkCount);
    assertThat(upgraded.chunks().has(damagedName)).isFalse();
    assertThat(chunkDir).doesNotExist();
    assertThat(chunkDir.resolveSibling("chunks.imported")).isDirectory();
    try (InputStream in = after.open(PATH, version)) {
      assertThat(in.readAllBytes()).isEqualTo(content);
    }
    node("node-1"); // a later start finds nothing to import
    assertThat(chunkDir.resolveSibling("chunks.imported-2")).doesNotExist();
  }

  @Test
  void aChunkWhoseBytesDoNotMatchItsHash_isRefused_andNothingIsStored() throws Exception {
    CloudFiles files = node("node-1");
    byte[] claimed = "the chunk the name promises".getBytes(StandardCharsets.UTF_8);
    byte[] sent = "other bytes under that name".getBytes(StandardCharsets.UTF_8);
    String name = ChunkStore.sha256(claimed);

    assertThatThrownBy(() -> files.chunks().put(name, sent))
        .isInstanceOf(ChunkMismatchException.class)
        .hasMessage("chunk " + name + " refused: its 27 bytes hash to " + ChunkStore.sha256(sent));

    assertThat(files.chunks().has(name)).isFalse();
    assertThat(files.chunks().get(name)).isEmpty();
    assertThat(storedChunks("node-1")).isZero();
  }

  @Test
  void aChunkDamagedBehindTheServersBack_isReportedOnRead_notServed() throws Exception {
    CloudFiles files = node("node-1");
    long version = publish(files, content(200_000, 2));
    String first = files.store().manifest(PATH, version).orElseThrow().hashHex(0);

    damage("node-1", first);

    assertThatThrownBy(() -> files.chunks().get(first))
        .isInstanceOf(ChunkMismatchException.class)
        .hasMessageContaining("chunk " + first + " in ")
        .hasMessageContaining(" is damaged: its bytes hash to ");
    try (InputStream in = files.open(PATH, version)) {
      assertThatThrownBy(in::readAllBytes)
          .isInstanceOf(ChunkMismatchException.class)
          .hasMessageContaining(first);
    }
  }

  @Test
  void aChunkIsStoredOnce_whenTwoNodesStoreItAtTheSameTime() throws Exception {
    ChunkStorage one = node("node-1").chunks();
    // On PostgreSQL a second node with a store of its own; on SQLite the same chunk directory.
    ChunkStorage two =
        db.kind() == StoreKind.POSTGRES
            ? node("node-2").chunks()
            : new ChunkStore(db.dir().resolve("node-1").resolve("files").resolve("chunks"));
    byte[] data = content(64 << 10, 3);
    String name = ChunkStore.sha256(data);
    int writers = 8;
    ExecutorService pool = Executors.newFixedThreadPool(writers);
    try {
      CountDownLatch go = new CountDownLatch(1);
      List<Future<Boolean>> puts = new ArrayList<>();
      for (int i = 0; i < writers; i++) {
        ChunkStorage node = i % 2 == 0 ? one : two;
        puts.add(
            pool.submit(
                () -> {
                  go.await();
                  return node.put(name, data);
                }));
      }
      go.countDown();
      long firsts = 0;
      for (Future<Boolean> put : puts) {
        firsts += put.get(20, TimeUnit.SECONDS) ? 1 : 0; // none failed
      }
      if (db.kind() == StoreKind.POSTGRES) {
        assertThat(firsts).as("one insert, the others found it").isEqualTo(1);
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(storedChunks("node-1")).isEqualTo(1);
    assertThat(one.get(name)).hasValue(data);
    assertThat(two.get(name)).hasValue(data);
    assertThat(one.put(name, data)).isFalse();
  }

  @Test
  void heldAnswersForManyChunksAtOnce_exactlyThoseStored() throws Exception {
    ChunkStorage chunks = node("node-1").chunks();
    List<String> names = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      byte[] data = content(100, i);
      names.add(ChunkStore.sha256(data));
      if (i % 3 == 0) {
        chunks.put(names.get(i), data);
      }
    }

    assertThat(chunks.held(names))
        .containsExactlyInAnyOrderElementsOf(
            names.stream().filter(n -> names.indexOf(n) % 3 == 0).toList());
    assertThat(chunks.held(List.of())).isEmpty();
  }

  @Test
  void aRefusedPublish_leavesNoChunkInTheStore_nothingStagedIsKept() throws Exception {
    CloudFiles files = node("node-1");
    var forged =
        new CloudFiles.PublishRequest(PATH, Map.of(), 1L, new byte[64], "0123456789abcdef", "ops");

    assertThatThrownBy(
            () -> files.publish(forged, new ByteArrayInputStream(content(300_000, 4)), T0))
        .isInstanceOf(FileRefusal.class)
        .hasMessageContaining("bad_signature");

    assertThat(storedChunks("node-1")).isZero();
    try (Stream<Path> staging = Files.list(db.dir().resolve("node-1/files/staging"))) {
      assertThat(staging).isEmpty();
    }
  }

  @Test
  void aChunkStoreThatCannotBeReached_saysWhichOne() throws Exception {
    assumeTrue(db.kind() == StoreKind.POSTGRES, "the disk store has no connection to lose");
    CloudFiles files = node("node-1");
    String name = ChunkStore.sha256(new byte[] {1});
    db.closeAll(); // closes the store's pool

    assertThatThrownBy(() -> files.chunks().get(name))
        .isInstanceOf(IOException.class)
        .hasMessageStartingWith("reading chunk " + name + " failed in table file_chunks of ")
        .hasMessageContaining(db.settings().url());
    assertThatThrownBy(() -> files.chunks().has(name))
        .isInstanceOf(UncheckedIOException.class)
        .hasMessageContaining("table file_chunks of ");
  }
}
