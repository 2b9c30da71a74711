package io.edgesync.sim;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The simulator's files seeds ({@code --files}): file versions published to the devices and uploads
 * from them, under every fault of the seed. Every seed passes the file checkers (and all the
 * others), its trace hash is the one recorded in {@code trace-hashes-files-1-200.txt} (the same
 * seed replays the same run, in any JVM), and the paths that matter are taken.
 *
 * <p>Seeds: {@code -Dsim.fileSeeds=N} or {@code SIM_FILE_SEEDS=N} (default 60, at most 200 are
 * compared with the recorded hashes), threads {@code -Dsim.threads} / {@code SIM_THREADS}.
 */
class FilesSimulatorTest {
  private static final int DEFAULT_SEEDS = 60;
  private static final String HASHES = "/trace-hashes-files-1-200.txt";

  @Test
  void filesSeeds_newestVersionInstalledOrRefused_uploadsStored_tracesAsRecorded()
      throws IOException {
    long seeds = setting("sim.fileSeeds", "SIM_FILE_SEEDS", DEFAULT_SEEDS);
    int threads =
        (int) setting("sim.threads", "SIM_THREADS", Runtime.getRuntime().availableProcessors());
    Map<Long, Long> hashes = new ConcurrentHashMap<>();

    Simulator.Summary summary =
        Simulator.runMany(
            1,
            seeds,
            threads,
            5,
            SimOptions.defaults().withFiles(true),
            r -> hashes.put(r.seed(), r.traceHash()));

    System.out.printf(
        Locale.ROOT,
        "files simulator: %d seeds on %d threads in %.1f s: %.1f seeds/s; %s%n",
        summary.seeds(),
        threads,
        summary.elapsedNanos() / 1e9,
        summary.seedsPerSecond(),
        summary.counters());
    assertThat(summary.failures())
        .as(
            () ->
                summary.failures().stream()
                    .map(SimResult::report)
                    .collect(Collectors.joining("\n")))
        .isEmpty();
    Map<Long, Long> recorded = recordedHashes();
    for (long seed = 1; seed <= Math.min(seeds, recorded.size()); seed++) {
      assertThat(String.format(Locale.ROOT, "%016x", hashes.get(seed)))
          .as("trace hash of files seed %d (an intended change re-records the file)", seed)
          .isEqualTo(String.format(Locale.ROOT, "%016x", recorded.get(seed)));
    }
    if (seeds >= 50) {
      Map<String, Long> c = summary.counters();
      for (String exercised :
          new String[] {
            "files.published",
            "actions.fileRollOn",
            "files.installed",
            "files.stored",
            "files.deltaRequests",
            "files.dataFrames.PLAN",
            "files.dataFrames.MANIFEST",
            "files.dataFrames.PACKS",
            "files.failed.superseded",
            "files.failed.too_large",
            "files.failed.not_allowed",
            "edge.crashes",
            "cloud.crashes",
            "faults.cuts",
            "frames.lostInFlight"
          }) {
        assertThat(c.getOrDefault(exercised, 0L)).as(exercised).isPositive();
      }
    }
  }

  @Test
  void filesSeedTwice_replaysExactly_andDiffersFromTheSeedWithoutFiles() {
    SimOptions files = SimOptions.defaults().withFiles(true);
    SimResult first = Simulator.run(7, files);
    SimResult second = Simulator.run(7, files);

    assertThat(first.passed()).as("%s", first.failure()).isTrue();
    assertThat(second.traceHash()).isEqualTo(first.traceHash());
    assertThat(second.counters()).isEqualTo(first.counters());
    assertThat(first.counters().getOrDefault("files.installed", 0L)).isPositive();
    assertThat(Simulator.run(7, SimOptions.defaults()).traceHash()).isNotEqualTo(first.traceHash());
  }

  @Test
  void
      plantedCorruptChunkFromTheCloud_isRefused_nothingWrongInstalled_theSeedFailsAndSaysHowToReplay() {
    Simulator.Summary summary =
        Simulator.runMany(
            1,
            20,
            2,
            1,
            SimOptions.defaults()
                .withFiles(true)
                .withPlantedFileBug(SimOptions.PlantedFileBug.CORRUPT_CHUNK_SENT),
            r -> {});

    assertThat(summary.failures()).isNotEmpty();
    SimResult failed = summary.failures().get(0);
    assertThat(failed.failure())
        .contains("failed in an honest run")
        .containsAnyOf("corrupt_chunk", "hash_mismatch")
        .doesNotContain("partial or wrong file");
    assertThat(failed.report()).contains("--seed " + failed.seed() + " --files --trace");
  }

  @Test
  void plantedDeviceIgnoringItsSizeLimit_isCaughtWhenItInstallsARefusedVersion() {
    Simulator.Summary summary =
        Simulator.runMany(
            1,
            40,
            2,
            1,
            SimOptions.defaults()
                .withFiles(true)
                .withPlantedFileBug(SimOptions.PlantedFileBug.SIZE_LIMIT_IGNORED),
            r -> {});

    assertThat(summary.failures()).isNotEmpty();
    assertThat(summary.failures().get(0).failure())
        .contains("although the device refuses its size");
  }

  private static Map<Long, Long> recordedHashes() throws IOException {
    Map<Long, Long> out = new TreeMap<>();
    try (InputStream in = FilesSimulatorTest.class.getResourceAsStream(HASHES)) {
      assertThat(in).as(HASHES).isNotNull();
      for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
        if (!line.isBlank()) {
          String[] f = line.trim().split(" ");
          out.put(Long.parseLong(f[0]), Long.parseUnsignedLong(f[1], 16));
        }
      }
    }
    return out;
  }

  private static long setting(String property, String env, long defaultValue) {
    String v = System.getProperty(property);
    if (v == null || v.isBlank()) {
      v = System.getenv(env);
    }
    return v == null || v.isBlank() ? defaultValue : Long.parseLong(v.trim());
  }
}
