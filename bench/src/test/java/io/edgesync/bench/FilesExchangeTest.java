package io.edgesync.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgesync.engine.files.FastCdc;
import io.edgesync.engine.files.Manifest;
import io.edgesync.protocol.wire.PackEncoding;
import io.edgesync.security.ReleaseKey;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The files bench's exchange on a 4 MiB file: the receiver really rebuilds each version from what
 * travelled, byte counts are deterministic, and a receiver whose base differs from the sender's is
 * caught by the whole-file hash (so the bench cannot count bytes of a broken exchange).
 */
class FilesExchangeTest {
  private static final KeyPair KEY = ReleaseKey.generate();
  @TempDir Path dir;
  private byte[] base;
  private FilesExchange.Held held;

  @BeforeEach
  void writeBase() throws Exception {
    base = FilesData.mixed(5, 4 << 20);
    Path file = dir.resolve("base.bin");
    Files.write(file, base);
    held =
        new FilesExchange.Held(
            1, file, base, Manifest.of(new ByteArrayInputStream(base), FastCdc.DEFAULT));
  }

  @Test
  void delta_rebuildsTheEditedVersion_fromAFewPatchBytes() throws Exception {
    byte[] target = FilesData.smallEdits(base, 10, 6);
    Path out = dir.resolve("out.bin");
    FilesExchange.Result r =
        new FilesExchange(KEY).run("firmware/gateway.img", 2, target, held, true, out);
    assertThat(Files.readAllBytes(out)).isEqualTo(target);
    assertThat(r.packs()).containsOnlyKeys(PackEncoding.PACK_ZSTD_PATCH);
    assertThat(r.wireBytes()).isLessThan(2_000);
    assertThat(r.bytesByKind())
        .containsKeys("offer", "requests", "plan/manifest", "packs", "report");
    FilesExchange.Result again =
        new FilesExchange(KEY).run("firmware/gateway.img", 2, target, held, true, out);
    assertThat(again.wireBytes()).isEqualTo(r.wireBytes());
  }

  @Test
  void noBase_sendsTheManifestAndEveryChunk_compressed() throws Exception {
    Path out = dir.resolve("out.bin");
    FilesExchange.Result r =
        new FilesExchange(KEY).run("firmware/gateway.img", 1, base, null, false, out);
    assertThat(Files.readAllBytes(out)).isEqualTo(base);
    assertThat(r.sentChunks()).isEqualTo(r.chunks());
    assertThat(r.sentRawBytes()).isEqualTo(base.length);
    assertThat(r.wireBytes()).isLessThan(base.length);
  }

  @Test
  void sharedContent_sendsOnlyTheChunksTheReceiverLacks() throws Exception {
    byte[] other = FilesData.sharing(base, 0.10, 4, 7);
    Path out = dir.resolve("out.bin");
    FilesExchange.Result r =
        new FilesExchange(KEY).run("models/detector.onnx", 1, other, held, false, out);
    assertThat(Files.readAllBytes(out)).isEqualTo(other);
    assertThat(r.sentChunks()).isPositive().isLessThan(r.chunks() / 2);
  }

  @Test
  void aReceiverWhoseBaseDiffers_failsOnTheWholeFileHash() throws Exception {
    byte[] onDisk = base.clone();
    onDisk[onDisk.length / 3] ^= 1; // in a chunk the delta copies
    Files.write(held.file(), onDisk);
    byte[] target = FilesData.smallEdits(base, 1, 8);
    assertThatThrownBy(
            () ->
                new FilesExchange(KEY)
                    .run("firmware/gateway.img", 2, target, held, true, dir.resolve("out.bin")))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("the rebuilt file's SHA-256 differs from the offer's");
  }
}
