package io.edgesync.sim.internal;

import io.edgesync.agent.OutboxLimits;
import io.edgesync.agent.OverflowPolicy;
import io.edgesync.engine.cloud.ServerPolicy;
import io.edgesync.engine.edge.SyncPolicy;
import io.edgesync.protocol.ProtocolLimits;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * Everything a seed decides before the run starts: how many edges, their streams, queue limits and
 * sync policies, the network's latencies, which fault kinds are switched on and how often they
 * strike ("swarm testing": a seed enables a random subset of faults, so rare combinations get runs
 * of their own), and how long the safety phase lasts. Immutable.
 *
 * @param cloudHandlerMaxMs the most the cloud takes to handle a frame it read (a thread, a commit):
 *     while one session's frame waits, frames of other sessions (of the same device, too) go first
 * @param healingBudgetMs simulated time the healing phase may take to converge
 * @param docs documents and commands: on or off, collections, groups, handlers
 */
public record Scenario(
    List<EdgeSpec> edges,
    ServerPolicy serverPolicy,
    long cloudSkewMs,
    long latencyMinMs,
    long latencyMaxMs,
    long cloudHandlerMaxMs,
    Faults faults,
    long workloadMeanIntervalMs,
    int workloadActions,
    long safetyPhaseMs,
    long healingBudgetMs,
    DocScenario docs) {

  /** True time at which every run starts: an arbitrary instant, the same for all seeds. */
  public static final long EPOCH_MS = 1_700_000_000_000L;

  /** Stream names edges choose from. */
  static final List<String> STREAM_NAMES = List.of("sensor_data", "logs", "events", "audit");

  /**
   * One edge's configuration. {@code commitDelayMaxMs} bounds how long an append takes to become
   * durable (an SD card's fsync is slow): the window in which a crash finds it pending.
   */
  public record EdgeSpec(
      String deviceId,
      Map<String, Integer> priorities,
      int undeclaredPriority,
      OutboxLimits limits,
      SyncPolicy policy,
      long skewMs,
      long driftPpm,
      int maxPadBytes,
      int maxRecordsPerAppend,
      long commitDelayMaxMs) {}

  /**
   * Fault kinds with their mean interval in ms (0 = off) and their sizes.
   *
   * @param tailLossPercent chance that a connection that ends loses what it still had in flight
   * @param silentPercent chance that a connection ends without either side being told (only a
   *     heartbeat timeout or the server's idle timeout finds out)
   * @param refusedPercent chance that connecting to an unreachable cloud is refused at once rather
   *     than left unanswered (then the edge's connect timeout fires)
   */
  public record Faults(
      long cutMeanMs,
      long partitionMeanMs,
      long partitionMaxMs,
      long stallMeanMs,
      long stallMaxMs,
      long edgeCrashMeanMs,
      long edgeDownMaxMs,
      long cloudCrashMeanMs,
      long cloudDownMaxMs,
      long clockStepMeanMs,
      long clockStepBackMaxMs,
      int tailLossPercent,
      int silentPercent,
      int refusedPercent) {}

  /** Draws a scenario; every choice comes from {@code r}. */
  public static Scenario draw(SplittableRandom r) {
    long latencyMin = r.nextInt(0, 20);
    long latencyMax = latencyMin + 1 + (r.nextInt(4) == 0 ? r.nextInt(300) : r.nextInt(40));
    int edgeCount = 1 + r.nextInt(3);
    List<EdgeSpec> edges = new ArrayList<>();
    for (int i = 0; i < edgeCount; i++) {
      edges.add(edge(r, "edge-" + (i + 1), latencyMax));
    }
    ServerPolicy defaults = ServerPolicy.defaults();
    ServerPolicy server =
        new ServerPolicy(
            defaults.serverVersion(),
            true,
            defaults.maxFrameBytes(),
            r.nextInt(4) == 0 ? r.nextInt(1, 16) : ProtocolLimits.DEFAULT_MAX_RECORDS_PER_BATCH,
            defaults.heartbeatIntervalMs());
    Faults faults =
        new Faults(
            maybe(r, 2, 500, 8_000),
            maybe(r, 2, 2_000, 20_000),
            r.nextBoolean() ? 3_000 : 90_000,
            maybe(r, 3, 1_000, 15_000),
            r.nextBoolean() ? 2_000 : 40_000,
            maybe(r, 2, 1_500, 15_000),
            r.nextBoolean() ? 500 : 30_000,
            maybe(r, 3, 3_000, 30_000),
            r.nextBoolean() ? 500 : 20_000,
            maybe(r, 3, 2_000, 20_000),
            r.nextInt(4) == 0 ? 2 * 3_600_000L : 60_000,
            r.nextInt(0, 101),
            r.nextInt(0, 60),
            r.nextInt(0, 101));
    long meanInterval = r.nextInt(4) == 0 ? r.nextInt(200, 1_500) : r.nextInt(5, 200);
    int actions = r.nextInt(20, 120);
    long safety = Math.max(2_000, actions * meanInterval);
    return new Scenario(
        List.copyOf(edges),
        server,
        r.nextLong(-60_000, 60_000),
        latencyMin,
        latencyMax,
        List.of(0L, 3L, 30L, 200L).get(r.nextInt(4)),
        faults,
        meanInterval,
        actions,
        safety,
        4 * 3_600_000L,
        DocScenario.draw(r, edgeCount));
  }

  private static EdgeSpec edge(SplittableRandom r, String id, long latencyMaxMs) {
    Map<String, Integer> priorities = new TreeMap<>();
    for (String s : STREAM_NAMES) {
      if (priorities.isEmpty() || r.nextInt(3) == 0) {
        priorities.put(s, r.nextInt(1, 4));
      }
    }
    OutboxLimits limits =
        OutboxLimits.defaults()
            // Expiry runs on the outbox's writer thread at moments of real time; the simulation
            // keeps it out (see docs/simulator.md).
            .withAge(Long.MAX_VALUE / 4, Long.MAX_VALUE / 4);
    switch (r.nextInt(5)) {
      case 0, 1 -> {}
      case 2, 3 ->
          limits =
              limits.withQueue(r.nextInt(3, 150), Long.MAX_VALUE / 4, OverflowPolicy.DROP_OLDEST);
      default ->
          limits =
              limits.withQueue(
                  r.nextInt(3, 150),
                  r.nextBoolean() ? Long.MAX_VALUE / 4 : r.nextInt(200, 20_000),
                  r.nextInt(3) == 0 ? OverflowPolicy.REJECT : OverflowPolicy.DROP_OLDEST);
    }
    long rtt = 2 * latencyMaxMs;
    long heartbeatInterval = r.nextInt(300, 5_000);
    SyncPolicy policy =
        SyncPolicy.defaults(id)
            .withTriggers(
                r.nextInt(5) != 0,
                r.nextInt(1, 2_000),
                r.nextInt(3) == 0,
                r.nextInt(500, 30_000),
                r.nextInt(1, 200),
                r.nextInt(64, 1 << 20),
                r.nextInt(10, 5_000))
            .withBatching(
                r.nextInt(1, 64),
                r.nextInt(1, 8_192),
                r.nextInt(1, 9),
                r.nextBoolean() ? r.nextInt(1, 65_536) : 8L << 20)
            .withLiveness(
                heartbeatInterval,
                heartbeatInterval * r.nextInt(2, 5) + 2 * rtt,
                2 * rtt + r.nextInt(100, 5_000),
                2 * rtt + r.nextInt(100, 5_000),
                r.nextInt(10, 1_000),
                r.nextInt(1_000, 20_000));
    return new EdgeSpec(
        id,
        priorities,
        r.nextInt(1, 5),
        limits,
        policy,
        r.nextLong(-300_000, 300_000),
        r.nextInt(-20_000, 20_001),
        r.nextInt(8) == 0 ? 2_000 : 80,
        r.nextInt(6) == 0 ? 40 : 5,
        List.of(5L, 40L, 250L).get(r.nextInt(3)));
  }

  /** A fault's mean interval in ms, or 0 (switched off) with probability 1/{@code offOneIn}. */
  private static long maybe(SplittableRandom r, int offOneIn, int minMs, int maxMs) {
    return r.nextInt(offOneIn) == 0 ? 0 : r.nextInt(minMs, maxMs);
  }
}
