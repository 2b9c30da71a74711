package io.edgesync.sim.internal;

import java.util.SplittableRandom;

/**
 * The fault injector of the safety phase. Each fault kind the scenario switched on strikes as a
 * Poisson process with its own mean interval: connection cuts, partitions (one device, or the cloud
 * from everyone), stalled connections, edge crashes, cloud crashes, wall-clock steps. Crashed nodes
 * restart after a random downtime, or at once when healing begins. Not thread safe.
 */
final class Nemesis {
  private final World world;
  private final SplittableRandom random;
  private final Scenario.Faults f;
  private boolean active = true;

  Nemesis(World world, SplittableRandom random, Scenario.Faults faults) {
    this.world = world;
    this.random = random;
    this.f = faults;
  }

  void start() {
    schedule(f.cutMeanMs(), this::cut);
    schedule(f.partitionMeanMs(), this::partition);
    schedule(f.stallMeanMs(), this::stall);
    schedule(f.edgeCrashMeanMs(), this::crashEdge);
    schedule(f.cloudCrashMeanMs(), this::crashCloud);
    schedule(f.clockStepMeanMs(), this::stepClock);
  }

  /** Healing: no new faults; crashed nodes come back now. */
  void stop() {
    active = false;
    if (!world.cloud().alive()) {
      world.cloud().start();
    }
    for (SimEdge e : world.edges()) {
      if (!e.alive()) {
        e.start();
      }
    }
  }

  private void schedule(long meanMs, Runnable fault) {
    if (meanMs <= 0) {
      return;
    }
    long delay = (long) (-Math.log(1 - random.nextDouble()) * meanMs);
    world
        .events()
        .at(
            world.now() + delay,
            () -> {
              if (active) {
                fault.run();
                schedule(meanMs, fault);
              }
            });
  }

  private void cut() {
    world.network().cutRandomConnection();
  }

  private void stall() {
    world.network().stallRandomConnection(random.nextLong(1, f.stallMaxMs() + 1));
  }

  private void partition() {
    int edges = world.edges().size();
    int target = random.nextInt(4) == 0 ? -1 : random.nextInt(edges);
    world.network().partition(target, random.nextLong(1, f.partitionMaxMs() + 1));
  }

  private void crashEdge() {
    SimEdge e = world.edges().get(random.nextInt(world.edges().size()));
    if (!e.alive()) {
      return;
    }
    e.crash();
    long down = random.nextLong(1, f.edgeDownMaxMs() + 1);
    int incarnation = e.incarnation();
    world
        .events()
        .at(
            world.now() + down,
            () -> {
              if (!e.alive() && e.incarnation() == incarnation) {
                e.start();
              }
            });
  }

  private void crashCloud() {
    if (!world.cloud().alive()) {
      return;
    }
    SimCloud.Crashed crashed = world.cloud().crash();
    long down = random.nextLong(1, f.cloudDownMaxMs() + 1);
    world.events().at(world.now() + down, () -> world.cloud().restart(crashed));
  }

  private void stepClock() {
    SimEdge e = world.edges().get(random.nextInt(world.edges().size()));
    long delta =
        random.nextInt(3) == 0
            ? random.nextLong(1, 10 * 60_000)
            : -random.nextLong(1, f.clockStepBackMaxMs() + 1);
    e.stepClock(delta);
    world.stats().add(delta < 0 ? "faults.clockStepsBack" : "faults.clockStepsForward", 1);
  }
}
