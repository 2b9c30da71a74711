package io.edgesync.engine.files;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class FastCdcTest {
  private static final FastCdc.Params SMALL = new FastCdc.Params(256, 1024, 4096);

  @Test
  void chunksCoverTheDataExactly_andKeepWithinTheirBounds() throws Exception {
    byte[] data = random(1, 300_000);
    List<FastCdc.Chunk> chunks = chunks(data, SMALL, 1 << 20);
    long offset = 0;
    for (int i = 0; i < chunks.size(); i++) {
      FastCdc.Chunk c = chunks.get(i);
      assertThat(c.offset()).isEqualTo(offset);
      assertThat(c.data())
          .isEqualTo(
              java.util.Arrays.copyOfRange(data, (int) offset, (int) offset + c.data().length));
      assertThat(c.data().length).isLessThanOrEqualTo(SMALL.maxBytes());
      if (i < chunks.size() - 1) {
        assertThat(c.data().length).isGreaterThan(SMALL.minBytes());
      }
      offset += c.data().length;
    }
    assertThat(offset).isEqualTo(data.length);
  }

  @Test
  void averageChunkSize_isNearTheConfiguredAverage() throws Exception {
    byte[] data = random(2, 4_000_000);
    List<FastCdc.Chunk> chunks = chunks(data, SMALL, 1 << 20);
    double mean = (double) data.length / chunks.size();
    // Normalized chunking with skipping: the mean lands near avg (skipped min plus ~avg - min).
    assertThat(mean).isBetween(SMALL.avgBytes() * 0.75, SMALL.avgBytes() * 1.5);
  }

  @Test
  void anInsertInTheMiddle_keepsEveryChunkAwayFromIt() throws Exception {
    byte[] base = random(3, 1_000_000);
    byte[] edited = new byte[base.length + 100];
    System.arraycopy(base, 0, edited, 0, 500_000);
    System.arraycopy(random(4, 100), 0, edited, 500_000, 100);
    System.arraycopy(base, 500_000, edited, 500_100, base.length - 500_000);
    Set<String> before = hashes(chunks(base, SMALL, 1 << 20));
    List<String> after = new ArrayList<>(hashes(chunks(edited, SMALL, 1 << 20)));
    long shared = after.stream().filter(before::contains).count();
    // Only the chunk(s) around the insert differ: a fixed-size split would share none after it.
    assertThat(after.size() - shared).isLessThanOrEqualTo(3);
  }

  @Test
  void streamingInPiecesOfAnySize_cutsWhereTheWholeArrayDoes() throws Exception {
    byte[] data = random(5, 200_000);
    List<String> whole = new ArrayList<>(hashes(chunks(data, SMALL, Integer.MAX_VALUE)));
    for (int piece : new int[] {1, 7, 4096, 65_536}) {
      assertThat(new ArrayList<>(hashes(chunks(data, SMALL, piece)))).isEqualTo(whole);
    }
  }

  @Test
  void emptyAndTinyStreams() throws Exception {
    assertThat(chunks(new byte[0], SMALL, 1024)).isEmpty();
    List<FastCdc.Chunk> one = chunks(new byte[] {1, 2, 3}, SMALL, 1024);
    assertThat(one).hasSize(1);
    assertThat(one.get(0).data()).containsExactly(1, 2, 3);
  }

  @Test
  void theGearTable_isPinned_becauseItIsPartOfTheChunkFormat() throws Exception {
    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    for (long g : FastCdc.GEAR) {
      for (int b = 7; b >= 0; b--) {
        sha.update((byte) (g >>> (8 * b)));
      }
    }
    // Changing the table (or its seed) changes every chunk of every stored file: a format change.
    assertThat(HexFormat.of().formatHex(sha.digest())).isEqualTo(GEAR_TABLE_SHA256);
    assertThat(new HashSet<>(java.util.Arrays.stream(FastCdc.GEAR).boxed().toList())).hasSize(256);
    // The generator is SplitMix64: its published first output for seed 0.
    assertThat(FastCdc.gear(0)[0]).isEqualTo(0xE220A8397B1DCDAFL);
  }

  @Test
  void invalidSizes_areRefusedNamingTheProblem() {
    assertThatThrownBy(() -> new FastCdc.Params(256, 1000, 4096))
        .hasMessageContaining("power of two, was 1000");
    assertThatThrownBy(() -> new FastCdc.Params(2048, 1024, 4096))
        .hasMessageContaining("min < avg < max");
    assertThatThrownBy(() -> new FastCdc.Params(16, 1024, 4096))
        .hasMessageContaining("within 64..");
  }

  private static final String GEAR_TABLE_SHA256 =
      "bd598fbb9e924c5379fd1adfbc0760127754ca62435e83eaa4a2f9defece854d";

  /** Chunks of {@code data} read through a stream that returns at most {@code piece} per read. */
  private static List<FastCdc.Chunk> chunks(byte[] data, FastCdc.Params p, int piece)
      throws IOException {
    InputStream in =
        new FilterInputStream(new ByteArrayInputStream(data)) {
          @Override
          public int read(byte[] b, int off, int len) throws IOException {
            return super.read(b, off, Math.min(len, piece));
          }
        };
    FastCdc.Chunks chunks = new FastCdc.Chunks(in, p);
    List<FastCdc.Chunk> out = new ArrayList<>();
    for (FastCdc.Chunk c; (c = chunks.next()) != null; ) {
      out.add(c);
    }
    return out;
  }

  private static Set<String> hashes(List<FastCdc.Chunk> chunks) throws Exception {
    Set<String> out = new java.util.LinkedHashSet<>();
    for (FastCdc.Chunk c : chunks) {
      out.add(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(c.data())));
    }
    return out;
  }

  private static byte[] random(long seed, int n) {
    byte[] b = new byte[n];
    new SplittableRandom(seed).nextBytes(b);
    return b;
  }
}
