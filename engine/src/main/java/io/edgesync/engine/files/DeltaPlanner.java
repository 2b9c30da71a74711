package io.edgesync.engine.files;

import io.edgesync.protocol.wire.ChunkRange;
import io.edgesync.protocol.wire.DeltaPlan;
import io.edgesync.protocol.wire.DeltaRun;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Plans a new file version as runs over an earlier one (the base) that the receiver holds whole,
 * and picks the base chunks that serve as a zstd "patch-from" dictionary for the new chunks. Both
 * sides use it: the sender to make the plan and the packs, the receiver to read the plan. Stateless
 * and thread safe; every answer depends only on the arguments, so the two sides agree.
 *
 * <p><b>The plan.</b> Target chunks are matched to base chunks by SHA-256. A copy run is extended
 * while the next target chunk equals the next base chunk; otherwise the target chunk's hash is
 * looked up (the first base chunk with that hash) to start a new copy run; otherwise it is new and
 * its length is added to the current run. The runs cover the target in order.
 *
 * <p><b>What bounds a plan's size.</b> A plan is one FileData frame. It holds at most one run per
 * target chunk (a new copy run starts only where the previous one breaks off, and new chunks join
 * the run before them) and one packed length per new chunk: at most {@value #MAX_RUN_BYTES} bytes
 * per run plus {@value #MAX_NEW_LENGTH_BYTES} per new chunk, so at most 24 bytes per target chunk
 * (typically 10 when every chunk copies from elsewhere, 3 when it is new). A 64 MiB file of default
 * chunks (about 1,000) plans in at most 24 KB, a 1 GiB file (about 16,000) in at most 400 KB, and
 * any file of up to 170,000 chunks (about 10 GiB at the default average) fits the default 4 MiB
 * frame (ProtocolLimits) whatever its content. The plan is not bounded by {@link
 * FileLimits#MAX_PAGE_CHUNKS}: a sender checks {@link #fitsFrame} and, when the plan does not fit,
 * answers with the manifest instead (the receiver then fetches missing chunks by hash, as for a
 * file it never had).
 */
public final class DeltaPlanner {
  /** Most serialized bytes of one run without its new lengths: tags, lengths, two varints. */
  static final int MAX_RUN_BYTES = 1 + 5 + 1 + 5 + 1 + 5 + 1 + 5;

  /** Most serialized bytes of one new chunk's length (a varint of up to 64 MiB). */
  static final int MAX_NEW_LENGTH_BYTES = 4;

  private DeltaPlanner() {}

  /**
   * The plan of {@code target} over {@code base} (which the receiver holds as {@code baseVersion}).
   */
  public static DeltaPlan plan(long baseVersion, Manifest base, Manifest target) {
    Map<HashKey, Integer> firstByHash = firstIndexByHash(base);
    byte[] baseHashes = base.hashes();
    byte[] targetHashes = target.hashes();
    DeltaPlan.Builder plan = DeltaPlan.newBuilder().setBaseVersion(baseVersion);
    DeltaRun.Builder run = null;
    for (int t = 0; t < target.chunkCount(); t++) {
      if (run != null && run.getNewLengthsCount() == 0 && run.getCopyCount() > 0) {
        int next = run.getCopyFirst() + run.getCopyCount();
        if (next < base.chunkCount() && sameHash(baseHashes, next, targetHashes, t)) {
          run.setCopyCount(run.getCopyCount() + 1);
          continue;
        }
      }
      Integer b = firstByHash.get(new HashKey(targetHashes, t));
      if (b != null) {
        if (run != null) {
          plan.addRuns(run);
        }
        run = DeltaRun.newBuilder().setCopyFirst(b).setCopyCount(1);
      } else {
        if (run == null) {
          run = DeltaRun.newBuilder();
        }
        run.addNewLengths(target.length(t));
      }
    }
    if (run != null) {
      plan.addRuns(run);
    }
    return plan.build();
  }

  /**
   * Whether a FileData frame carrying {@code plan} fits in {@code maxFrameBytes}, allowing {@code
   * 1024} bytes for the frame, the transfer id and the trailer.
   */
  public static boolean fitsFrame(DeltaPlan plan, int maxFrameBytes) {
    return plan.getSerializedSize() + 1024 <= maxFrameBytes;
  }

  /** Chunks of the target the plan describes. */
  public static int targetChunkCount(DeltaPlan plan) {
    long n = 0;
    for (DeltaRun r : plan.getRunsList()) {
      n += Integer.toUnsignedLong(r.getCopyCount()) + r.getNewLengthsCount();
    }
    return (int) Math.min(n, Integer.MAX_VALUE);
  }

  /**
   * Checks a received plan: copies within the base, chunk lengths within {@code 1..maxChunkBytes},
   * and exactly {@code targetChunkCount} chunks of {@code targetSize} bytes in all.
   *
   * @throws IllegalArgumentException naming the first problem
   */
  public static void check(
      DeltaPlan plan, Manifest base, int maxChunkBytes, int targetChunkCount, long targetSize) {
    long chunks = 0;
    long bytes = 0;
    for (int i = 0; i < plan.getRunsCount(); i++) {
      DeltaRun r = plan.getRuns(i);
      long first = Integer.toUnsignedLong(r.getCopyFirst());
      long count = Integer.toUnsignedLong(r.getCopyCount());
      if (first + count > base.chunkCount()) {
        throw new IllegalArgumentException(
            "delta plan run "
                + i
                + " copies base chunks ["
                + first
                + ", "
                + (first + count)
                + ") but the base has "
                + base.chunkCount());
      }
      if (count > 0) {
        bytes += base.offset((int) (first + count)) - base.offset((int) first);
      }
      for (int len : r.getNewLengthsList()) {
        if (len <= 0 || len > maxChunkBytes) {
          throw new IllegalArgumentException(
              "delta plan run "
                  + i
                  + " has a new chunk of "
                  + Integer.toUnsignedString(len)
                  + " bytes, allowed 1.."
                  + maxChunkBytes);
        }
        bytes += len;
      }
      chunks += count + r.getNewLengthsCount();
    }
    if (chunks != targetChunkCount || bytes != targetSize) {
      throw new IllegalArgumentException(
          "delta plan describes "
              + chunks
              + " chunks of "
              + bytes
              + " bytes, the offer has "
              + targetChunkCount
              + " chunks of "
              + targetSize
              + " bytes");
    }
  }

  /**
   * For each target chunk, the base chunk it copies, or -1 for a new chunk. The plan must have
   * passed {@link #check}.
   */
  public static int[] baseIndexes(DeltaPlan plan) {
    int[] out = new int[targetChunkCount(plan)];
    int t = 0;
    for (DeltaRun r : plan.getRunsList()) {
      for (int i = 0; i < r.getCopyCount(); i++) {
        out[t++] = r.getCopyFirst() + i;
      }
      for (int i = 0; i < r.getNewLengthsCount(); i++) {
        out[t++] = -1;
      }
    }
    return out;
  }

  /** The target index ranges of the new chunks, ascending, each as long as possible. */
  public static List<ChunkRange> newRanges(DeltaPlan plan) {
    List<ChunkRange> out = new ArrayList<>();
    int t = 0;
    for (DeltaRun r : plan.getRunsList()) {
      t += r.getCopyCount();
      int n = r.getNewLengthsCount();
      if (n > 0) {
        out.add(range(t, n));
        t += n;
      }
    }
    return out;
  }

  /**
   * The base chunks to use as the dictionary of a pack of the new target chunks {@code newChunks}
   * (target index ranges, ascending and not overlapping, as in a ChunkPack; chunks that are not new
   * are ignored): base index ranges, ascending and merged, of {@code maxDictBytes} bytes at most.
   *
   * <p>For each stretch of new chunks, the base region it replaced is the one between the copy runs
   * around it: for an edit in the middle of a chunk, that is the edited base chunk, whose bytes
   * zstd then finds almost whole. Where nothing was replaced (an insertion exactly at a chunk
   * boundary, or an append), the base chunks on either side stand in: inserted data often resembles
   * its neighbours. Regions are taken in target order until the budget is spent; a region that does
   * not fit whole is cut to the chunks that do.
   */
  public static List<ChunkRange> dictionaryFor(
      Manifest base, DeltaPlan plan, List<ChunkRange> newChunks, int maxDictBytes) {
    if (maxDictBytes < 0 || maxDictBytes > FileLimits.MAX_DICTIONARY_BYTES) {
      throw new IllegalArgumentException(
          "maxDictBytes must be within 0.."
              + FileLimits.MAX_DICTIONARY_BYTES
              + ", was "
              + maxDictBytes);
    }
    boolean[] chosen = new boolean[base.chunkCount()];
    long budget = maxDictBytes;
    List<DeltaRun> runs = plan.getRunsList();
    long t = 0;
    int k = 0; // newChunks before k end at or before t: both lists ascend
    for (int i = 0; i < runs.size() && k < newChunks.size(); i++) {
      DeltaRun r = runs.get(i);
      t += Integer.toUnsignedLong(r.getCopyCount());
      int n = r.getNewLengthsCount();
      while (k < newChunks.size() && end(newChunks.get(k)) <= t) {
        k++;
      }
      if (n > 0
          && k < newChunks.size()
          && Integer.toUnsignedLong(newChunks.get(k).getFirst()) < t + n) {
        budget = choose(base, replacedRegion(base, runs, i), chosen, budget);
      }
      t += n;
    }
    return ranges(chosen);
  }

  /**
   * The base chunks [from, to) replaced by run {@code i}'s new chunks: from the end of its copy (or
   * of the last copy before it) to the start of the next copy; widened to the neighbouring chunks
   * when that is empty.
   */
  static int[] replacedRegion(Manifest base, List<DeltaRun> runs, int i) {
    int from = 0;
    for (int j = i; j >= 0; j--) {
      DeltaRun r = runs.get(j);
      if (r.getCopyCount() > 0) {
        from = r.getCopyFirst() + r.getCopyCount();
        break;
      }
    }
    int to = base.chunkCount();
    for (int j = i + 1; j < runs.size(); j++) {
      DeltaRun r = runs.get(j);
      if (r.getCopyCount() > 0) {
        to = r.getCopyFirst();
        break;
      }
    }
    if (to <= from) {
      int at = Math.min(from, base.chunkCount());
      return new int[] {Math.max(0, at - 1), Math.min(base.chunkCount(), at + 1)};
    }
    return new int[] {from, to};
  }

  private static long choose(Manifest base, int[] region, boolean[] chosen, long budget) {
    for (int b = region[0]; b < region[1] && budget > 0; b++) {
      if (chosen[b]) {
        continue;
      }
      if (base.length(b) > budget) {
        break;
      }
      chosen[b] = true;
      budget -= base.length(b);
    }
    return budget;
  }

  private static long end(ChunkRange r) {
    return Integer.toUnsignedLong(r.getFirst()) + Integer.toUnsignedLong(r.getCount());
  }

  private static List<ChunkRange> ranges(boolean[] chosen) {
    List<ChunkRange> out = new ArrayList<>();
    int i = 0;
    while (i < chosen.length) {
      if (!chosen[i]) {
        i++;
        continue;
      }
      int start = i;
      while (i < chosen.length && chosen[i]) {
        i++;
      }
      out.add(range(start, i - start));
    }
    return out;
  }

  private static ChunkRange range(int first, int count) {
    return ChunkRange.newBuilder().setFirst(first).setCount(count).build();
  }

  private static Map<HashKey, Integer> firstIndexByHash(Manifest base) {
    byte[] hashes = base.hashes();
    Map<HashKey, Integer> first = new HashMap<>(base.chunkCount() * 2);
    for (int b = 0; b < base.chunkCount(); b++) {
      first.putIfAbsent(new HashKey(hashes, b), b);
    }
    return first;
  }

  private static boolean sameHash(byte[] a, int ai, byte[] b, int bi) {
    int h = Manifest.HASH_BYTES;
    return Arrays.equals(a, ai * h, (ai + 1) * h, b, bi * h, (bi + 1) * h);
  }

  /** A chunk hash as a map key, without copying it out of the manifest's array. */
  private static final class HashKey {
    private final byte[] hashes;
    private final int index;
    private final int hash;

    HashKey(byte[] hashes, int index) {
      this.hashes = hashes;
      this.index = index;
      int off = index * Manifest.HASH_BYTES;
      // SHA-256 bytes are uniform: the first four make a good hash code.
      this.hash =
          (hashes[off] & 0xff) << 24
              | (hashes[off + 1] & 0xff) << 16
              | (hashes[off + 2] & 0xff) << 8
              | (hashes[off + 3] & 0xff);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof HashKey k && sameHash(hashes, index, k.hashes, k.index);
    }

    @Override
    public int hashCode() {
      return hash;
    }
  }
}
