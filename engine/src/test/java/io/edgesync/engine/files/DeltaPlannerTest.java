package io.edgesync.engine.files;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgesync.protocol.wire.ChunkRange;
import io.edgesync.protocol.wire.DeltaPlan;
import io.edgesync.protocol.wire.DeltaRun;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class DeltaPlannerTest {
  private static final FastCdc.Params SMALL = new FastCdc.Params(256, 1024, 4096);

  @Test
  void identicalVersions_planOneCopyRunAndNoNewChunks() {
    Manifest m = manifest("A", "B", "C");
    DeltaPlan plan = DeltaPlanner.plan(4, m, m);
    assertThat(plan.getBaseVersion()).isEqualTo(4);
    assertThat(plan.getRunsList()).containsExactly(run(0, 3));
    assertThat(DeltaPlanner.newRanges(plan)).isEmpty();
  }

  @Test
  void editedChunk_isNewBetweenTwoCopies_andItsBaseChunkIsTheDictionary() {
    Manifest base = manifest("A", "B", "C", "D", "E");
    Manifest target = manifest("A", "B", "X", "D", "E");
    DeltaPlan plan = DeltaPlanner.plan(1, base, target);
    assertThat(plan.getRunsList()).containsExactly(run(0, 2, len("X")), run(3, 2));
    assertThat(DeltaPlanner.newRanges(plan)).containsExactly(range(2, 1));
    assertThat(DeltaPlanner.baseIndexes(plan)).containsExactly(0, 1, -1, 3, 4);
    assertThat(DeltaPlanner.dictionaryFor(base, plan, List.of(range(2, 1)), 1 << 20))
        .containsExactly(range(2, 1));
  }

  @Test
  void insertionAtAChunkBoundary_takesTheNeighboursAsDictionary() {
    Manifest base = manifest("A", "B", "C", "D");
    Manifest target = manifest("A", "B", "X", "Y", "C", "D");
    DeltaPlan plan = DeltaPlanner.plan(1, base, target);
    assertThat(plan.getRunsList()).containsExactly(run(0, 2, len("X"), len("Y")), run(2, 2));
    assertThat(DeltaPlanner.newRanges(plan)).containsExactly(range(2, 2));
    assertThat(DeltaPlanner.dictionaryFor(base, plan, List.of(range(2, 2)), 1 << 20))
        .containsExactly(range(1, 2));
  }

  @Test
  void newChunksFirst_startWithAnEmptyCopy_andAppendedOnesUseTheLastBaseChunk() {
    Manifest base = manifest("A", "B");
    Manifest target = manifest("X", "A", "B", "Y");
    DeltaPlan plan = DeltaPlanner.plan(1, base, target);
    assertThat(plan.getRunsList()).containsExactly(run(0, 0, len("X")), run(0, 2, len("Y")));
    assertThat(DeltaPlanner.newRanges(plan)).containsExactly(range(0, 1), range(3, 1));
    assertThat(DeltaPlanner.dictionaryFor(base, plan, List.of(range(0, 1)), 1 << 20))
        .containsExactly(range(0, 1));
    assertThat(DeltaPlanner.dictionaryFor(base, plan, List.of(range(3, 1)), 1 << 20))
        .containsExactly(range(1, 1));
  }

  @Test
  void movedRegions_copyFromWhereverTheyAre() {
    Manifest base = manifest("A", "B", "C", "D");
    Manifest target = manifest("C", "D", "A", "B");
    assertThat(DeltaPlanner.plan(1, base, target).getRunsList())
        .containsExactly(run(2, 2), run(0, 2));
  }

  @Test
  void repeatedChunks_extendTheRunFirst_elseCopyTheFirstOccurrence() {
    Manifest base = manifest("A", "B", "A", "C");
    assertThat(DeltaPlanner.plan(1, base, manifest("A", "C")).getRunsList())
        .containsExactly(run(0, 1), run(3, 1));
    assertThat(DeltaPlanner.plan(1, base, manifest("A", "B", "A", "B")).getRunsList())
        .containsExactly(run(0, 3), run(1, 1));
  }

  @Test
  void dictionary_keepsWithinItsBudget_inTargetOrder_andMergesRanges() {
    Manifest base = manifest("A", "B", "C", "D", "E", "F");
    Manifest target = manifest("A", "X", "D", "Y", "F");
    DeltaPlan plan = DeltaPlanner.plan(1, base, target);
    List<ChunkRange> both = List.of(range(1, 1), range(3, 1));
    // X replaced B and C, Y replaced E: all three fit, B..C and E stay apart.
    assertThat(DeltaPlanner.dictionaryFor(base, plan, both, 1 << 20))
        .containsExactly(range(1, 2), range(4, 1));
    // Room for one chunk: B (X comes first); C does not fit, nor does E after it.
    int one = base.length(1);
    assertThat(DeltaPlanner.dictionaryFor(base, plan, both, one)).containsExactly(range(1, 1));
    // Only Y asked for: only E.
    assertThat(DeltaPlanner.dictionaryFor(base, plan, List.of(range(3, 1)), 1 << 20))
        .containsExactly(range(4, 1));
    assertThatThrownBy(
            () -> DeltaPlanner.dictionaryFor(base, plan, both, FileLimits.MAX_DICTIONARY_BYTES + 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxDictBytes must be within 0..8388608");
  }

  @Test
  void realEdits_planReconstructsTheTarget_deterministically() throws Exception {
    byte[] baseBytes = randomText(7, 200_000);
    byte[] targetBytes = edit(baseBytes, 8);
    Manifest base = Manifest.of(new ByteArrayInputStream(baseBytes), SMALL);
    Manifest target = Manifest.of(new ByteArrayInputStream(targetBytes), SMALL);
    DeltaPlan plan = DeltaPlanner.plan(3, base, target);
    assertThat(DeltaPlanner.plan(3, base, target)).isEqualTo(plan);
    DeltaPlanner.check(plan, base, SMALL.maxBytes(), target.chunkCount(), target.size());

    int[] from = DeltaPlanner.baseIndexes(plan);
    ByteArrayOutputStream rebuilt = new ByteArrayOutputStream();
    int copied = 0;
    for (int t = 0; t < from.length; t++) {
      if (from[t] >= 0) {
        copied++;
        rebuilt.write(baseBytes, (int) base.offset(from[t]), base.length(from[t]));
      } else {
        rebuilt.write(targetBytes, (int) target.offset(t), target.length(t));
      }
    }
    assertThat(rebuilt.toByteArray()).isEqualTo(targetBytes);
    // Eight small edits touch at most a few chunks each; the rest is copied.
    assertThat(copied).isGreaterThan(target.chunkCount() - 30);
    int newCount = DeltaPlanner.newRanges(plan).stream().mapToInt(ChunkRange::getCount).sum();
    assertThat(newCount).isEqualTo(target.chunkCount() - copied);
  }

  @Test
  void check_refusesPlansThatDoNotDescribeTheOfferedVersion() {
    Manifest base = manifest("A", "B");
    long size = base.size();
    DeltaPlan outside = DeltaPlan.newBuilder().addRuns(run(1, 2)).build();
    assertThatThrownBy(() -> DeltaPlanner.check(outside, base, 1000, 2, size))
        .hasMessage("delta plan run 0 copies base chunks [1, 3) but the base has 2");
    DeltaPlan zero = DeltaPlan.newBuilder().addRuns(run(0, 1, 0)).build();
    assertThatThrownBy(() -> DeltaPlanner.check(zero, base, 1000, 2, size))
        .hasMessage("delta plan run 0 has a new chunk of 0 bytes, allowed 1..1000");
    DeltaPlan huge = DeltaPlan.newBuilder().addRuns(run(0, 1, 1001)).build();
    assertThatThrownBy(() -> DeltaPlanner.check(huge, base, 1000, 2, size))
        .hasMessage("delta plan run 0 has a new chunk of 1001 bytes, allowed 1..1000");
    DeltaPlan shortPlan = DeltaPlan.newBuilder().addRuns(run(0, 1)).build();
    assertThatThrownBy(() -> DeltaPlanner.check(shortPlan, base, 1000, 2, size))
        .hasMessage(
            "delta plan describes 1 chunks of "
                + base.length(0)
                + " bytes, the offer has 2 chunks of "
                + size
                + " bytes");
    DeltaPlanner.check(DeltaPlan.newBuilder().addRuns(run(0, 2)).build(), base, 1000, 2, size);
  }

  @Test
  void planOfAThousandChunkFile_fitsOneFrameWithRoomToSpare() {
    String[] ids = new String[1000];
    String[] reversed = new String[1000];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = "c" + i;
      reversed[ids.length - 1 - i] = i % 2 == 0 ? ids[i] : "n" + i;
    }
    DeltaPlan worst = DeltaPlanner.plan(1, manifest(ids), manifest(reversed));
    // The first chunk is new: an empty copy run, then one run per copied chunk.
    assertThat(worst.getRunsCount()).isEqualTo(501);
    assertThat(worst.getSerializedSize()).isLessThan(24 * 1000);
    assertThat(DeltaPlanner.fitsFrame(worst, 4 << 20)).isTrue();
    assertThat(DeltaPlanner.fitsFrame(worst, worst.getSerializedSize() + 100)).isFalse();
  }

  // ---------------------------------------------------------------- helpers

  /** A manifest of named chunks: each name's chunk is its bytes repeated to a length of its own. */
  static Manifest manifest(String... names) {
    int[] lengths = new int[names.length];
    byte[] hashes = new byte[names.length * Manifest.HASH_BYTES];
    long size = 0;
    for (int i = 0; i < names.length; i++) {
      lengths[i] = len(names[i]);
      byte[] h = Manifest.newDigest().digest(names[i].getBytes(StandardCharsets.UTF_8));
      System.arraycopy(h, 0, hashes, i * Manifest.HASH_BYTES, Manifest.HASH_BYTES);
      size += lengths[i];
    }
    return new Manifest(size, new byte[32], lengths, hashes);
  }

  static int len(String name) {
    return 100 + Math.floorMod(name.hashCode(), 900);
  }

  static DeltaRun run(int first, int count, int... newLengths) {
    DeltaRun.Builder r = DeltaRun.newBuilder().setCopyFirst(first).setCopyCount(count);
    for (int n : newLengths) {
      r.addNewLengths(n);
    }
    return r.build();
  }

  static ChunkRange range(int first, int count) {
    return ChunkRange.newBuilder().setFirst(first).setCount(count).build();
  }

  static byte[] randomText(long seed, int n) {
    SplittableRandom r = new SplittableRandom(seed);
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) {
      b[i] = (byte) (r.nextInt(10) == 0 ? '\n' : 'a' + r.nextInt(26));
    }
    return b;
  }

  /** {@code edits} small overwrites, insertions and deletions at seeded places. */
  static byte[] edit(byte[] data, int edits) {
    SplittableRandom r = new SplittableRandom(edits);
    List<Byte> out = new ArrayList<>(data.length + 100);
    for (byte x : data) {
      out.add(x);
    }
    for (int e = 0; e < edits; e++) {
      int at = r.nextInt(out.size() - 10);
      switch (e % 3) {
        case 0 -> out.set(at, (byte) '#');
        case 1 -> out.add(at, (byte) '@');
        default -> out.remove(at);
      }
    }
    byte[] b = new byte[out.size()];
    for (int i = 0; i < b.length; i++) {
      b[i] = out.get(i);
    }
    return Arrays.copyOf(b, b.length);
  }
}
