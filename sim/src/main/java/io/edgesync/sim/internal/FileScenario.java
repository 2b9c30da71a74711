package io.edgesync.sim.internal;

import io.edgesync.engine.files.FileLimits;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * What a files seed ({@code --files}) decides about files: the paths the cloud publishes (one or
 * two), the size of each path's first version (a few KiB to a few MiB; later versions are edits of
 * the previous one, so deltas happen), how many versions each path gets, whether rollouts start on
 * a subset of the devices, each device's size limit (a device with a small one refuses the larger
 * versions), which devices upload files, how long an install (assembly) takes and how long its
 * outcome takes to be recorded. Drawn from a generator of its own, so the seed's other choices are
 * those of the same seed without files. Immutable.
 *
 * @param firstSizes per path, the first version's size in bytes
 * @param maxVersions per path, the most versions the cloud publishes
 * @param subsetPercent chance that a publish targets a random subset of the devices first
 * @param deviceMaxFileBytes per edge (by index), the largest file it accepts
 * @param uploads per edge (by index), whether its programs upload files
 * @param installMaxMs the most an assembly (check and atomic install) takes
 * @param recordMaxMs the most the outcome of an assembly takes to reach the engine afterwards
 */
public record FileScenario(
    List<String> paths,
    List<Integer> firstSizes,
    List<Integer> maxVersions,
    int subsetPercent,
    List<Long> deviceMaxFileBytes,
    List<Boolean> uploads,
    long installMaxMs,
    long recordMaxMs) {

  static final List<String> PATHS = List.of("firmware/gateway.img", "models/detector.onnx");

  /** The upload collection the cloud accepts. */
  static final String UPLOADS = "uploads";

  /** An upload collection the cloud refuses: its uploads must end FAILED, never stored. */
  static final String FORBIDDEN = "secrets";

  static FileScenario draw(SplittableRandom r, int edges) {
    int pathCount = 1 + r.nextInt(2);
    List<Integer> sizes = new ArrayList<>();
    List<Integer> versions = new ArrayList<>();
    for (int i = 0; i < pathCount; i++) {
      sizes.add(r.nextInt(10) < 7 ? r.nextInt(4 << 10, 256 << 10) : r.nextInt(256 << 10, 3 << 20));
      versions.add(r.nextInt(2, 5));
    }
    List<Long> limits = new ArrayList<>();
    List<Boolean> uploads = new ArrayList<>();
    for (int i = 0; i < edges; i++) {
      limits.add(r.nextInt(5) == 0 ? r.nextLong(16 << 10, 1 << 20) : FileLimits.MAX_FILE_BYTES);
      uploads.add(r.nextBoolean());
    }
    return new FileScenario(
        List.copyOf(PATHS.subList(0, pathCount)),
        List.copyOf(sizes),
        List.copyOf(versions),
        r.nextBoolean() ? 0 : 40,
        List.copyOf(limits),
        List.copyOf(uploads),
        List.of(5L, 200L, 2_000L).get(r.nextInt(3)),
        List.of(0L, 50L, 500L).get(r.nextInt(3)));
  }
}
