package io.edgesync.agent.internal.outbox;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.edgesync.agent.OutboxLimits;
import io.edgesync.agent.StorageKeyException;
import io.edgesync.agent.StorageKeyException.Reason;
import io.edgesync.agent.internal.atrest.StorageCipher;
import io.edgesync.agent.internal.atrest.StorageKeys;
import io.edgesync.engine.edge.Outbox.Item;
import io.edgesync.protocol.Record;
import io.edgesync.testing.FakeClock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The outbox's at-rest encryption against real SQLite files and real key files. */
class OutboxEncryptionTest {
  private static final String SECRET = "SECRET-PAYLOAD-4711";
  private static final SecureRandom RANDOM = new SecureRandom();

  @TempDir Path dir;

  private final FakeClock clock = new FakeClock(1_700_000_000_000L);
  private final List<SqliteOutbox> opened = new ArrayList<>();
  private final String key1 = newKey();
  private final String key2 = newKey();

  @AfterEach
  void closeAll() {
    opened.forEach(SqliteOutbox::close);
  }

  @Test
  void encryptedChunks_holdNoPlaintextOnDisk_andReadBackAfterReopen() throws Exception {
    StorageCipher keys = keys("1:" + key1);
    SqliteOutbox outbox = open(dir.resolve("enc.db"), keys);
    for (int i = 0; i < 20; i++) {
      append(outbox, "s", SECRET + i);
    }
    assertThat(containsOnDisk(dir, "enc.db", SECRET)).as("plaintext on disk while open").isFalse();
    outbox.close();
    assertThat(containsOnDisk(dir, "enc.db", SECRET)).as("plaintext on disk after close").isFalse();
    assertThat(payloads(open(dir.resolve("enc.db"), keys).read("s", 1, 100, Long.MAX_VALUE)))
        .hasSize(20)
        .startsWith(SECRET + 0);

    // The same appends without a key leave the payload readable in the file: the grep works.
    SqliteOutbox plain = open(dir.resolve("plain.db"), StorageCipher.OFF);
    append(plain, "s", SECRET);
    plain.close();
    assertThat(containsOnDisk(dir, "plain.db", SECRET)).isTrue();
  }

  @Test
  void wrongKey_isRefusedAtOpenAsWrongKey_andTheQueueIsKeptForTheRightKey() throws Exception {
    Path file = dir.resolve("o.db");
    SqliteOutbox outbox = open(file, keys("1:" + key1));
    append(outbox, "s", "a", "b");
    outbox.close();

    StorageKeyException e = refused(() -> open(file, keys("1:" + key2)));
    assertThat(e.reason()).isEqualTo(Reason.WRONG_KEY);
    assertThat(e).hasMessageContaining("key id 1").hasMessageContaining(file.toString());

    assertThat(payloads(open(file, keys("1:" + key1)).read("s", 1, 100, Long.MAX_VALUE)))
        .containsExactly("a", "b");
  }

  @Test
  void missingKey_isRefusedAtOpenAsKeyMissing_whetherNoKeyOrAnotherId() throws Exception {
    Path file = dir.resolve("o.db");
    SqliteOutbox outbox = open(file, keys("1:" + key1));
    append(outbox, "s", "a");
    outbox.close();

    StorageKeyException none = refused(() -> open(file, StorageCipher.OFF));
    assertThat(none.reason()).isEqualTo(Reason.KEY_MISSING);
    assertThat(none).hasMessageContaining("no key is configured");
    StorageKeyException other = refused(() -> open(file, keys("2:" + key2)));
    assertThat(other.reason()).isEqualTo(Reason.KEY_MISSING);
    assertThat(other).hasMessageContaining("1 values encrypted under key id 1");

    assertThat(payloads(open(file, keys("1:" + key1)).read("s", 1, 100, Long.MAX_VALUE)))
        .containsExactly("a");
  }

  @Test
  void tamperedCiphertext_failsItsReadAsTampered() throws Exception {
    Path file = dir.resolve("o.db");
    SqliteOutbox outbox = open(file, keys("1:" + key1));
    append(outbox, "s", SECRET);
    outbox.close();
    byte[] data = chunkData(file, 1);
    data[data.length - 20] ^= 1;
    setChunkData(file, 1, data);

    SqliteOutbox reopened = open(file, keys("1:" + key1));
    StorageKeyException e = refused(() -> reopened.read("s", 1, 100, Long.MAX_VALUE));
    assertThat(e.reason()).isEqualTo(Reason.TAMPERED);
    assertThat(e).hasMessageContaining("chunk|s|1|1");
  }

  @Test
  void swappedCiphertexts_failTheirReadAsTampered() throws Exception {
    Path file = dir.resolve("o.db");
    SqliteOutbox outbox = open(file, keys("1:" + key1));
    append(outbox, "s", "one");
    append(outbox, "s", "two");
    outbox.close();
    byte[] first = chunkData(file, 1);
    byte[] second = chunkData(file, 2);
    setChunkData(file, 1, second);
    setChunkData(file, 2, first);

    SqliteOutbox reopened = open(file, keys("1:" + key1));
    StorageKeyException e = refused(() -> reopened.read("s", 1, 100, Long.MAX_VALUE));
    assertThat(e.reason()).isEqualTo(Reason.TAMPERED);
  }

  @Test
  void rotation_readsQueuedValuesUnderTheOldKey_sealsNewOnesUnderTheNew_andRetiresTheOld()
      throws Exception {
    Path file = dir.resolve("o.db");
    SqliteOutbox outbox = open(file, keys("1:" + key1));
    append(outbox, "s", "k1-a", "k1-b");
    outbox.close();

    outbox = open(file, keys("1:" + key1 + "\n2:" + key2));
    append(outbox, "s", "k2-c");
    assertThat(payloads(outbox.read("s", 1, 100, Long.MAX_VALUE)))
        .containsExactly("k1-a", "k1-b", "k2-c");
    assertThat(chunkData(file, 3)[2]).as("key id of the new chunk").isEqualTo((byte) 2);
    outbox.close();

    // Key 1 cannot go while values under it are queued...
    assertThat(refused(() -> open(file, keys("2:" + key2))).reason()).isEqualTo(Reason.KEY_MISSING);
    // ...and can once they are acknowledged and pruned.
    outbox = open(file, keys("1:" + key1 + "\n2:" + key2));
    outbox.acknowledge("s", 2);
    outbox.close();
    assertThat(payloads(open(file, keys("2:" + key2)).read("s", 3, 100, Long.MAX_VALUE)))
        .containsExactly("k2-c");
  }

  @Test
  void encryptionOnAnUnencryptedStoreWithQueuedRecords_isRefusedAsUnencryptedStore()
      throws Exception {
    Path file = dir.resolve("o.db");
    SqliteOutbox plain = open(file, StorageCipher.OFF);
    append(plain, "s", "a");
    plain.close();

    assertThat(refused(() -> open(file, keys("1:" + key1))).reason())
        .isEqualTo(Reason.UNENCRYPTED_STORE);
    // Nothing changed: the store opens without a key and still holds its record.
    SqliteOutbox again = open(file, StorageCipher.OFF);
    assertThat(payloads(again.read("s", 1, 100, Long.MAX_VALUE))).containsExactly("a");
    // Drained, it may be encrypted from then on.
    again.acknowledge("s", 1);
    again.close();
    SqliteOutbox encrypted = open(file, keys("1:" + key1));
    append(encrypted, "s", SECRET);
    assertThat(payloads(encrypted.read("s", 2, 100, Long.MAX_VALUE))).containsExactly(SECRET);
  }

  @Test
  void crashWithoutClose_reopensACopyOfTheFilesWithEveryCommittedRecord() throws Exception {
    Path file = dir.resolve("live/o.db");
    SqliteOutbox outbox = open(file, keys("1:" + key1));
    for (int i = 0; i < 50; i++) {
      append(outbox, "s", SECRET + i);
    }
    // What a kill -9 leaves: the database and its WAL as they are, never closed or checkpointed.
    Path crashed = Files.createDirectories(dir.resolve("crashed"));
    for (String suffix : new String[] {"", "-wal", "-shm"}) {
      Path f = Path.of(file + suffix);
      if (Files.exists(f)) {
        Files.copy(f, crashed.resolve("o.db" + suffix), StandardCopyOption.REPLACE_EXISTING);
      }
    }
    SqliteOutbox reopened = open(crashed.resolve("o.db"), keys("1:" + key1));
    assertThat(payloads(reopened.read("s", 1, 100, Long.MAX_VALUE))).hasSize(50);
    assertThat(containsOnDisk(crashed, "o.db", SECRET)).isFalse();
  }

  @Test
  void keyFileReadableByOthers_isRefusedAsKeyFilePermissions_andEnvironmentWins() throws Exception {
    Path keyFile = dir.resolve("storage.keys");
    Files.writeString(keyFile, "1:" + key1 + "\n");
    Files.setPosixFilePermissions(keyFile, PosixFilePermissions.fromString("rw-r--r--"));
    StorageKeyException e = refused(() -> StorageKeys.load(keyFile, null));
    assertThat(e.reason()).isEqualTo(Reason.KEY_FILE_PERMISSIONS);
    assertThat(e).hasMessageContaining("rw-r--r--").hasMessageContaining("chmod 600");

    Files.setPosixFilePermissions(keyFile, PosixFilePermissions.fromString("rw-------"));
    assertThat(StorageKeys.load(keyFile, null).currentKeyId()).isEqualTo(1);
    assertThat(StorageKeys.load(keyFile, "1:" + key1 + ",7:" + key2).currentKeyId()).isEqualTo(7);
    assertThat(refused(() -> StorageKeys.load(keyFile, "1:c2hvcnQ=")).reason())
        .isEqualTo(Reason.BAD_KEY_FILE);
    assertThat(refused(() -> StorageKeys.load(dir.resolve("absent.keys"), null)).reason())
        .isEqualTo(Reason.KEY_MISSING);
  }

  // ---------------------------------------------------------------- helpers

  private static String newKey() {
    byte[] k = new byte[32];
    RANDOM.nextBytes(k);
    return Base64.getEncoder().encodeToString(k);
  }

  private StorageCipher keys(String ring) throws Exception {
    Path keyFile = Files.createTempFile(dir, "keys", ".txt");
    Files.writeString(keyFile, ring + "\n");
    Files.setPosixFilePermissions(keyFile, PosixFilePermissions.fromString("rw-------"));
    return StorageKeys.load(keyFile, null);
  }

  private SqliteOutbox open(Path file, StorageCipher cipher) throws Exception {
    SqliteOutbox outbox =
        new SqliteOutbox(file, OutboxLimits.defaults(), Map.of(), Map.of(), 10, clock, cipher);
    opened.add(outbox);
    return outbox;
  }

  private static void append(SqliteOutbox outbox, String stream, String... payloads)
      throws Exception {
    List<byte[]> list = new ArrayList<>();
    for (String p : payloads) {
      list.add(p.getBytes(UTF_8));
    }
    outbox.appendAsync(stream, list).get();
  }

  private static List<String> payloads(Item item) {
    assertThat(item).isInstanceOf(Item.Records.class);
    List<String> out = new ArrayList<>();
    for (Record r : ((Item.Records) item).records()) {
      out.add(new String(r.payload(), UTF_8));
    }
    return out;
  }

  private static StorageKeyException refused(ThrowingCallable call) {
    StorageKeyException e = catchThrowableOfType(StorageKeyException.class, call);
    assertThat(e).as("a StorageKeyException").isNotNull();
    return e;
  }

  /** Whether any of the store's files (database, WAL) holds {@code text}'s bytes. */
  private static boolean containsOnDisk(Path in, String name, String text) throws Exception {
    byte[] needle = text.getBytes(UTF_8);
    for (String suffix : new String[] {"", "-wal"}) {
      Path f = in.resolve(name + suffix);
      if (Files.exists(f) && indexOf(Files.readAllBytes(f), needle) >= 0) {
        return true;
      }
    }
    return false;
  }

  private static int indexOf(byte[] hay, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= hay.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (hay[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  private static byte[] chunkData(Path file, long firstSeq) throws Exception {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
        PreparedStatement ps = c.prepareStatement("SELECT data FROM chunks WHERE first_seq=?")) {
      ps.setLong(1, firstSeq);
      try (ResultSet rs = ps.executeQuery()) {
        assertThat(rs.next()).as("chunk " + firstSeq).isTrue();
        return rs.getBytes(1);
      }
    }
  }

  private static void setChunkData(Path file, long firstSeq, byte[] data) throws Exception {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
        PreparedStatement ps = c.prepareStatement("UPDATE chunks SET data=? WHERE first_seq=?")) {
      ps.setBytes(1, data);
      ps.setLong(2, firstSeq);
      assertThat(ps.executeUpdate()).isEqualTo(1);
    }
  }
}
