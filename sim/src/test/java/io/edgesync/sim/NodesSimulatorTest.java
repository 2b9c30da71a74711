package io.edgesync.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.edgesync.testing.TestPostgres;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The simulator with three cloud nodes sharing one PostgreSQL ({@code --nodes 3}): connections are
 * spread over the live nodes, the nemesis kills one node at a time, sessions move between nodes,
 * pushes race the sessions that moved; every invariant the checkers hold for one node holds.
 *
 * <p>Seeds: {@code -Dsim.nodeSeeds=N} (default 4; each seed starts fresh nodes on a fresh database,
 * so a seed takes seconds).
 */
class NodesSimulatorTest {
  @Test
  void threeNodesOnOneStore_everyInvariantHolds_whileNodesCrashAndSessionsMove() {
    assumeTrue(
        TestPostgres.available(),
        () -> "skipped: no embedded PostgreSQL here: " + TestPostgres.unavailableReason());
    long seeds = Long.getLong("sim.nodeSeeds", 4);

    Simulator.Summary summary =
        Simulator.runMany(1, seeds, 2, 3, SimOptions.defaults().withCloudNodes(3), r -> {});

    System.out.printf(
        Locale.ROOT,
        "nodes simulator: %d seeds in %.1f s; %s%n",
        summary.seeds(),
        summary.elapsedNanos() / 1e9,
        summary.counters());
    assertThat(summary.failures())
        .as(
            () ->
                summary.failures().stream()
                    .map(SimResult::report)
                    .collect(Collectors.joining("\n")))
        .isEmpty();
    Map<String, Long> c = summary.counters();
    for (String exercised :
        new String[] {"cloud.crashes", "sessions.movedToAnotherNode", "records.appended"}) {
      assertThat(c.getOrDefault(exercised, 0L)).as(exercised).isPositive();
    }
  }
}
