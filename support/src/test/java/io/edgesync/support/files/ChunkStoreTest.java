package io.edgesync.support.files;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChunkStoreTest {
  @TempDir Path dir;

  @Test
  void aChunkIsStoredOnceUnderItsHash_andReadBackChecked() throws Exception {
    ChunkStore store = new ChunkStore(dir.resolve("chunks"));
    byte[] data = "firmware block".getBytes(StandardCharsets.UTF_8);
    String name = ChunkStore.sha256(data);
    assertThat(store.has(name)).isFalse();
    assertThat(store.get(name)).isEmpty();
    assertThat(store.put(name, data)).isTrue();
    assertThat(store.put(name, data)).as("the same chunk again").isFalse();
    assertThat(store.has(name)).isTrue();
    assertThat(store.get(name)).hasValue(data);
    assertThat(dir.resolve("chunks").resolve(name.substring(0, 2)).resolve(name)).exists();
    try (var files = Files.list(dir.resolve("chunks").resolve(name.substring(0, 2)))) {
      assertThat(files).as("no temporary file left").hasSize(1);
    }
  }

  @Test
  void require_returnsAHeldChunk_andNamesAMissingOne() throws Exception {
    ChunkStore store = new ChunkStore(dir);
    byte[] data = "held".getBytes(StandardCharsets.UTF_8);
    String hex = ChunkStore.sha256(data);
    store.put(hex, data);
    assertThat(store.require(java.util.HexFormat.of().parseHex(hex))).isEqualTo(data);

    byte[] missing = new byte[32];
    assertThatThrownBy(() -> store.require(missing))
        .isInstanceOf(java.nio.file.NoSuchFileException.class)
        .hasMessageContaining("chunk " + "00".repeat(32) + " is not held in " + dir);
  }

  @Test
  void delete_removesTheChunk_andSaysWhetherItWasThere() throws Exception {
    ChunkStore store = new ChunkStore(dir);
    byte[] data = "old version".getBytes(StandardCharsets.UTF_8);
    String name = ChunkStore.sha256(data);
    store.put(name, data);

    assertThat(store.delete(name)).isTrue();
    assertThat(store.has(name)).isFalse();
    assertThat(store.get(name)).isEmpty();
    assertThat(store.delete(name)).isFalse();
    assertThatThrownBy(() -> store.delete("../x")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void bytesThatDoNotMatchTheirName_areRefused_andNothingIsStored() throws Exception {
    ChunkStore store = new ChunkStore(dir);
    byte[] data = "abc".getBytes(StandardCharsets.UTF_8);
    String other = ChunkStore.sha256("abd".getBytes(StandardCharsets.UTF_8));
    assertThatThrownBy(() -> store.put(other, data))
        .isInstanceOf(ChunkStore.ChunkMismatchException.class)
        .hasMessageContaining("chunk " + other + " refused")
        .hasMessageContaining("hash to " + ChunkStore.sha256(data));
    assertThat(store.has(other)).isFalse();
  }

  @Test
  void aChunkDamagedOnDisk_isReportedNotReturned() throws Exception {
    ChunkStore store = new ChunkStore(dir);
    byte[] data = new byte[4096];
    String name = ChunkStore.sha256(data);
    store.put(name, data);
    Path file = dir.resolve(name.substring(0, 2)).resolve(name);
    byte[] onDisk = Files.readAllBytes(file);
    onDisk[100] ^= 1;
    Files.write(file, onDisk);
    assertThatThrownBy(() -> store.get(name))
        .isInstanceOf(ChunkStore.ChunkMismatchException.class)
        .hasMessageContaining("is damaged");
  }

  @Test
  void aNameThatIsNoSha256_isRefusedNamingTheRule() throws Exception {
    ChunkStore store = new ChunkStore(dir);
    assertThatThrownBy(() -> store.has("../../etc/passwd"))
        .hasMessageContaining("64 lower-case hex digits");
    assertThatThrownBy(() -> store.get("ABC")).hasMessageContaining("was 'ABC'");
  }
}
