package io.edgesync.engine.files;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.edgesync.protocol.wire.ChunkPack;
import io.edgesync.protocol.wire.ChunkRange;
import io.edgesync.protocol.wire.PackEncoding;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class PackCodecTest {
  private static final List<ChunkRange> RANGES = List.of(range(3, 2), range(9, 1));
  private static final List<ChunkRange> BASE = List.of(range(2, 3));

  @Test
  void incompressibleChunks_travelRaw() throws Exception {
    byte[] raw = random(1, 100_000);
    ChunkPack pack = PackCodec.encode(RANGES, raw, List.of(), null, 3);
    assertThat(pack.getEncoding()).isEqualTo(PackEncoding.PACK_RAW);
    assertThat(pack.getRangesList()).isEqualTo(RANGES);
    assertThat(pack.getPayload().toByteArray()).isEqualTo(raw);
    assertThat(PackCodec.decode(pack, raw.length, null)).isEqualTo(raw);
  }

  @Test
  void compressibleChunks_travelAsOneMagiclessZstdFrame() throws Exception {
    byte[] raw = text(2, 200_000);
    ChunkPack pack = PackCodec.encode(RANGES, raw, List.of(), null, 3);
    assertThat(pack.getEncoding()).isEqualTo(PackEncoding.PACK_ZSTD);
    assertThat(pack.getPayload().size()).isLessThan(raw.length / 2);
    // No 28 B5 2F FD magic: the encoding says what the payload is.
    assertThat(pack.getPayload().substring(0, 4).toByteArray())
        .isNotEqualTo(new byte[] {0x28, (byte) 0xB5, 0x2F, (byte) 0xFD});
    assertThat(pack.getBaseList()).isEmpty();
    assertThat(PackCodec.decode(pack, raw.length, null)).isEqualTo(raw);
  }

  @Test
  void editedBaseChunks_travelAsAPatchAgainstThem_farSmallerThanPlainZstd() throws Exception {
    byte[] dictionary = random(3, 300_000);
    byte[] raw = dictionary.clone();
    for (int i = 1_000; i < raw.length; i += 50_000) {
      raw[i] ^= 0x55;
    }
    ChunkPack pack = PackCodec.encode(RANGES, raw, BASE, dictionary, 3);
    assertThat(pack.getEncoding()).isEqualTo(PackEncoding.PACK_ZSTD_PATCH);
    assertThat(pack.getBaseList()).isEqualTo(BASE);
    assertThat(pack.getPayload().size()).isLessThan(200);
    assertThat(PackCodec.decode(pack, raw.length, dictionary)).isEqualTo(raw);
  }

  @Test
  void aDictionaryThatDoesNotHelp_isNotNamed() throws Exception {
    byte[] raw = random(4, 100_000);
    ChunkPack pack = PackCodec.encode(RANGES, raw, BASE, random(5, 50_000), 3);
    assertThat(pack.getEncoding()).isEqualTo(PackEncoding.PACK_RAW);
    assertThat(pack.getBaseList()).isEmpty();
    assertThat(PackCodec.decode(pack, raw.length, null)).isEqualTo(raw);
  }

  @Test
  void smallEditsAcrossAMultiMegabyteDictionary_costAFewBytesEach_notTheDoubleFastFindersKilobytes()
      throws Exception {
    // Level 3's double-fast match finder loses most matches in a dictionary this large (about 40
    // bytes per edit on the files bench); the lazy finder with 22-bit tables keeps each at ~15.
    byte[] dictionary = random(15, 4 << 20);
    byte[] raw = dictionary.clone();
    SplittableRandom r = new SplittableRandom(16);
    for (int e = 0; e < 50; e++) {
      int at = r.nextInt(raw.length - 8);
      int n = 1 + r.nextInt(8);
      for (int i = 0; i < n; i++) {
        raw[at + i] = (byte) r.nextInt(256);
      }
    }
    ChunkPack pack = PackCodec.encode(RANGES, raw, BASE, dictionary, 3);
    assertThat(pack.getEncoding()).isEqualTo(PackEncoding.PACK_ZSTD_PATCH);
    assertThat(pack.getPayload().size()).isLessThan(50 * 25);
    assertThat(PackCodec.decode(pack, raw.length, dictionary)).isEqualTo(raw);
  }

  @Test
  void truncatedPayloads_areRefusedAsTruncated() throws Exception {
    byte[] raw = text(6, 100_000);
    ChunkPack zstd = PackCodec.encode(RANGES, raw, List.of(), null, 3);
    ChunkPack cut = withPayload(zstd, zstd.getPayload().substring(0, zstd.getPayload().size() / 2));
    assertThatThrownBy(() -> PackCodec.decode(cut, raw.length, null))
        .isInstanceOf(InvalidPackException.class)
        .hasMessageStartingWith("truncated: zstd payload of");
    ChunkPack rawPack = PackCodec.encode(RANGES, random(7, 1000), List.of(), null, 3);
    ChunkPack rawCut = withPayload(rawPack, rawPack.getPayload().substring(0, 999));
    assertThatThrownBy(() -> PackCodec.decode(rawCut, 1000, null))
        .isInstanceOf(InvalidPackException.class)
        .hasMessage("truncated: PACK_RAW payload of 999 bytes, expected 1000");
  }

  @Test
  void wrongExpectedSizes_areRefusedAsSizeMismatch_withoutAllocatingWhatThePayloadClaims()
      throws Exception {
    byte[] raw = new byte[FileLimits.MAX_PACK_RAW_BYTES]; // zeros: a few hundred bytes of zstd
    ChunkPack bomb = PackCodec.encode(RANGES, raw, List.of(), null, 3);
    assertThat(bomb.getPayload().size()).isLessThan(1000);
    assertThatThrownBy(() -> PackCodec.decode(bomb, 1000, null))
        .isInstanceOf(InvalidPackException.class)
        .hasMessageStartingWith("size mismatch: zstd payload decodes to more than 1000 bytes");
    byte[] small = text(8, 10_000);
    ChunkPack pack = PackCodec.encode(RANGES, small, List.of(), null, 3);
    assertThatThrownBy(() -> PackCodec.decode(pack, small.length + 1, null))
        .isInstanceOf(InvalidPackException.class)
        .hasMessage("size mismatch: zstd payload decodes to 10000 bytes, expected 10001");
    assertThatThrownBy(() -> PackCodec.decode(pack, FileLimits.MAX_PACK_RAW_BYTES + 1, null))
        .isInstanceOf(InvalidPackException.class)
        .hasMessage("size mismatch: a pack holds 1..4194304 bytes, expected 4194305");
    ChunkPack rawPack = PackCodec.encode(RANGES, random(9, 1000), List.of(), null, 3);
    assertThatThrownBy(() -> PackCodec.decode(rawPack, 999, null))
        .hasMessage("size mismatch: PACK_RAW payload of 1000 bytes, expected 999");
  }

  @Test
  void patchWithoutItsDictionary_isRefusedAsDictionaryMissing() throws Exception {
    byte[] dictionary = random(10, 50_000);
    byte[] raw = dictionary.clone();
    raw[100] ^= 1;
    ChunkPack pack = PackCodec.encode(RANGES, raw, BASE, dictionary, 3);
    assertThat(pack.getEncoding()).isEqualTo(PackEncoding.PACK_ZSTD_PATCH);
    assertThatThrownBy(() -> PackCodec.decode(pack, raw.length, null))
        .isInstanceOf(InvalidPackException.class)
        .hasMessage("dictionary missing: a PACK_ZSTD_PATCH pack needs its base chunks");
    ChunkPack noBase = pack.toBuilder().clearBase().build();
    assertThatThrownBy(() -> PackCodec.decode(noBase, raw.length, dictionary))
        .isInstanceOf(InvalidPackException.class)
        .hasMessage("dictionary missing: a PACK_ZSTD_PATCH pack names no base chunks");
    // A wrong dictionary cannot be told from the payload: zstd refuses it or the bytes differ
    // (the chunk hashes catch that).
    byte[] wrong = random(11, 50_000);
    try {
      assertThat(PackCodec.decode(pack, raw.length, wrong)).isNotEqualTo(raw);
    } catch (InvalidPackException e) {
      assertThat(e).hasMessageContaining("zstd:");
    }
  }

  @Test
  void unknownEncodingsAndStrayBaseRanges_areRefused() throws Exception {
    byte[] raw = text(12, 1000);
    ChunkPack pack = PackCodec.encode(RANGES, raw, List.of(), null, 3);
    assertThatThrownBy(
            () -> PackCodec.decode(pack.toBuilder().setEncodingValue(7).build(), 1000, null))
        .isInstanceOf(InvalidPackException.class)
        .hasMessage("unknown encoding 7");
    assertThatThrownBy(
            () -> PackCodec.decode(pack.toBuilder().addAllBase(BASE).build(), 1000, null))
        .isInstanceOf(InvalidPackException.class)
        .hasMessage("garbage: a PACK_ZSTD pack names base chunks");
  }

  @Test
  void garbageAndFlippedBytes_areRefusedOrDecodeToOtherBytes_neverAnotherException()
      throws Exception {
    byte[] raw = text(13, 50_000);
    ChunkPack pack = PackCodec.encode(RANGES, raw, List.of(), null, 3);
    ChunkPack garbage = withPayload(pack, ByteString.copyFrom(random(14, 500)));
    assertThatThrownBy(() -> PackCodec.decode(garbage, raw.length, null))
        .isInstanceOf(InvalidPackException.class)
        .hasMessageMatching("(garbage|truncated|size mismatch): .*");
    // The frame header's reserved bit set: refused as garbage.
    byte[] header = pack.getPayload().toByteArray();
    header[0] ^= 0x08;
    assertThatThrownBy(
            () ->
                PackCodec.decode(withPayload(pack, ByteString.copyFrom(header)), raw.length, null))
        .isInstanceOf(InvalidPackException.class)
        .hasMessageStartingWith("garbage: zstd payload of");
    // Without a zstd checksum, a flipped literal may decode (to other bytes, or by chance to the
    // same): the chunk hashes refuse those. Whatever decodes has the expected size.
    byte[] payload = pack.getPayload().toByteArray();
    int refused = 0;
    for (int i = 0; i < payload.length; i += 7) {
      byte[] p = payload.clone();
      p[i] ^= 0x10;
      try {
        byte[] out = PackCodec.decode(withPayload(pack, ByteString.copyFrom(p)), raw.length, null);
        assertThat(out.length).isEqualTo(raw.length);
      } catch (InvalidPackException e) {
        assertThat(e.getMessage()).matches("(garbage|truncated|size mismatch): .*");
        refused++;
      }
    }
    assertThat(refused).isPositive();
  }

  @Test
  void encode_refusesPacksOutsideTheLimits() {
    assertThatThrownBy(
            () ->
                PackCodec.encode(
                    RANGES, new byte[FileLimits.MAX_PACK_RAW_BYTES + 1], List.of(), null, 3))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("a pack holds 1..4194304 bytes, was 4194305");
    assertThatThrownBy(
            () ->
                PackCodec.encode(
                    RANGES, new byte[10], BASE, new byte[FileLimits.MAX_DICTIONARY_BYTES + 1], 3))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("dictionary of 8388609 bytes exceeds 8388608");
    assertThatThrownBy(() -> PackCodec.encode(RANGES, new byte[10], List.of(), new byte[10], 3))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("must come together");
  }

  @Test
  void windowLog_coversDictionaryAndData() {
    assertThat(PackCodec.windowLog(1)).isEqualTo(10);
    assertThat(PackCodec.windowLog(1 << 20)).isEqualTo(20);
    assertThat(PackCodec.windowLog((1 << 20) + 1)).isEqualTo(21);
    assertThat(PackCodec.MAX_WINDOW_LOG).isEqualTo(24);
  }

  // ---------------------------------------------------------------- helpers

  private static ChunkPack withPayload(ChunkPack pack, ByteString payload) {
    return pack.toBuilder().setPayload(payload).build();
  }

  static ChunkRange range(int first, int count) {
    return ChunkRange.newBuilder().setFirst(first).setCount(count).build();
  }

  static byte[] random(long seed, int n) {
    byte[] b = new byte[n];
    new SplittableRandom(seed).nextBytes(b);
    return b;
  }

  static byte[] text(long seed, int n) {
    SplittableRandom r = new SplittableRandom(seed);
    String[] words = {"sensor ", "temperature=", "21.5 ", "ok\n", "status ", "warn ", "id=", "42 "};
    StringBuilder s = new StringBuilder(n + 16);
    while (s.length() < n) {
      s.append(words[r.nextInt(words.length)]);
    }
    return Arrays.copyOf(s.toString().getBytes(java.nio.charset.StandardCharsets.US_ASCII), n);
  }
}
