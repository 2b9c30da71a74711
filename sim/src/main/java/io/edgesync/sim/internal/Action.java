package io.edgesync.sim.internal;

import java.util.random.RandomGenerator;

/**
 * One kind of thing the simulated applications do (append to a stream, ask for a sync, edit a
 * document, resolve a conflict, queue a command). The {@link Workload} picks actions by weight.
 */
public interface Action {
  /** Short name for traces and statistics. */
  String name();

  /** Relative weight in this world now; 0 switches the action off. */
  int weight(World world);

  /** Does it; every choice comes from {@code random}. */
  void perform(World world, RandomGenerator random);
}
