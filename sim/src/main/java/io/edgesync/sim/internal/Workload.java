package io.edgesync.sim.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * The random workload: a list of weighted {@link Action}s, one picked at every tick of the
 * application clock. Streams bring their actions ({@link StreamActions}); other data kinds add
 * theirs with {@link #add}. Not thread safe.
 */
public final class Workload {
  private final List<Action> actions = new ArrayList<>();

  public Workload add(Action action) {
    actions.add(action);
    return this;
  }

  public List<Action> actions() {
    return List.copyOf(actions);
  }

  /** Picks an action by weight and performs it; returns it, or null if every weight is 0. */
  public Action step(World world, RandomGenerator random) {
    int total = 0;
    int[] weights = new int[actions.size()];
    for (int i = 0; i < actions.size(); i++) {
      weights[i] = Math.max(0, actions.get(i).weight(world));
      total += weights[i];
    }
    if (total == 0) {
      return null;
    }
    int pick = random.nextInt(total);
    for (int i = 0; i < actions.size(); i++) {
      pick -= weights[i];
      if (pick < 0) {
        Action a = actions.get(i);
        a.perform(world, random);
        world.stats().add("actions." + a.name(), 1);
        return a;
      }
    }
    throw new IllegalStateException("unreachable");
  }
}
