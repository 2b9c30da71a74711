package io.edgesync.sim.internal;

import io.edgesync.engine.files.Manifest;
import io.edgesync.engine.testing.InMemoryFileInbox;
import io.edgesync.engine.testing.InMemoryFileOutbox;
import io.edgesync.protocol.wire.FileState;
import io.edgesync.sim.SimOptions;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.function.UnaryOperator;

/**
 * The cloud's file stores, one pair per device: the versions rolled out to it (a {@link
 * InMemoryFileOutbox}; a newer version withdraws the older unfinished ones of its path, as the
 * server supersedes older rollouts) and its uploads (a {@link InMemoryFileInbox} that stores what
 * completes and refuses the {@link FileScenario#FORBIDDEN} collection). Like the server's database
 * they survive a cloud crash: every call takes effect when it returns. An upload's assembly takes
 * simulated time ({@link SimAssembler}). Not thread safe; owned by the simulation thread.
 */
final class SimCloudFiles {
  private final SimOptions.PlantedFileBug plantedBug;
  private final Map<String, InMemoryFileOutbox> rollouts = new TreeMap<>();
  private final Map<String, InMemoryFileInbox> uploads = new TreeMap<>();

  SimCloudFiles(World world, SplittableRandom random) {
    this.plantedBug = world.plantedFileBug();
    for (SimEdge e : world.edges()) {
      rollouts.put(e.deviceId(), new InMemoryFileOutbox(UnaryOperator.identity()));
      uploads.put(
          e.deviceId(),
          new InMemoryFileInbox(
                  offer ->
                      FileScenario.FORBIDDEN.equals(offer.getCollection())
                          ? Optional.of(
                              "not_allowed: collection '"
                                  + offer.getCollection()
                                  + "' takes no uploads")
                          : Optional.empty(),
                  FileState.FILE_STATE_STORED)
              .assembleWith(
                  new SimAssembler(
                      world,
                      random,
                      "cloud",
                      () -> world.cloud().alive() ? world.cloud().incarnation() : -1)));
    }
  }

  InMemoryFileOutbox rollouts(String device) {
    return rollouts.get(device);
  }

  InMemoryFileInbox uploads(String device) {
    return uploads.get(device);
  }

  /**
   * A version's rollout reaches {@code device}: offered from now on, older unfinished versions of
   * the path withdrawn.
   */
  void target(FileLedger.Version v, String device) {
    InMemoryFileOutbox out = rollouts.get(device);
    out.withdrawOlder(v.path(), v.version());
    Manifest m = out.add(v.path(), v.version(), v.content(), "");
    if (plantedBug == SimOptions.PlantedFileBug.CORRUPT_CHUNK_SENT && m.chunkCount() > 0) {
      out.corruptChunk(m.hash(0));
    }
  }

  /** A version not (yet) rolled out to {@code device} is kept for it as a delta base. */
  void keep(FileLedger.Version v, String device) {
    rollouts.get(device).keep(v.path(), v.version(), v.content());
  }
}
