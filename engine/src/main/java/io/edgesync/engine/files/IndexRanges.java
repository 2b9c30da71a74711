package io.edgesync.engine.files;

import io.edgesync.protocol.wire.ChunkRange;
import java.util.ArrayList;
import java.util.List;

/** Chunk indices as ranges: what a receiver's store returns for {@link FileInbox#missing}. */
public final class IndexRanges {
  private IndexRanges() {}

  /** Ascending indices as the fewest ranges of consecutive ones, in order. */
  public static List<ChunkRange> of(List<Integer> ascending) {
    List<ChunkRange> out = new ArrayList<>();
    int start = -1;
    int count = 0;
    for (int i : ascending) {
      if (start >= 0 && i == start + count) {
        count++;
        continue;
      }
      if (start >= 0) {
        out.add(ChunkRange.newBuilder().setFirst(start).setCount(count).build());
      }
      start = i;
      count = 1;
    }
    if (start >= 0) {
      out.add(ChunkRange.newBuilder().setFirst(start).setCount(count).build());
    }
    return out;
  }
}
