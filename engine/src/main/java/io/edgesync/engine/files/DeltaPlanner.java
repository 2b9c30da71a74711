package io.edgesync.engine.files;

import io.edgesync.protocol.wire.ChunkRange;
import io.edgesync.protocol.wire.DeltaPlan;
import io.edgesync.protocol.wire.DeltaRun;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** TEMPORARY stand-in until the delta codec lands. */
public final class DeltaPlanner {
  private DeltaPlanner() {}

  public static DeltaPlan plan(long baseVersion, Manifest base, Manifest target) {
    Map<String, Integer> at = new HashMap<>();
    for (int i = base.chunkCount() - 1; i >= 0; i--) {
      at.put(base.hashHex(i), i);
    }
    DeltaPlan.Builder plan = DeltaPlan.newBuilder().setBaseVersion(baseVersion);
    DeltaRun.Builder run = null;
    for (int t = 0; t < target.chunkCount(); t++) {
      Integer b = at.get(target.hashHex(t));
      if (b != null) {
        boolean extends_ =
            run != null
                && run.getNewLengthsCount() == 0
                && run.getCopyFirst() + run.getCopyCount() == b;
        if (extends_) {
          run.setCopyCount(run.getCopyCount() + 1);
          continue;
        }
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

  public static List<ChunkRange> dictionaryFor(
      Manifest base, DeltaPlan plan, List<ChunkRange> newChunks, int maxDictBytes) {
    return List.of();
  }
}
