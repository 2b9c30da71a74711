package io.edgesync.sim.internal;

/**
 * An invariant the simulator holds the system to. {@link #afterEvent} runs after every simulated
 * event (safety: must hold at every moment, faults or not); {@link #converged} tells the healing
 * phase when this checker's data has settled, and {@link #atEnd} then checks the final state. A
 * violation throws {@link SimFailure} with a message naming device, stream and sequence.
 */
public interface Checker {
  String name();

  default void afterEvent(World world) {}

  /** True once everything this checker watches has settled; healing waits for all checkers. */
  default boolean converged(World world) {
    return true;
  }

  /**
   * A number that changes whenever this checker's data moves towards convergence (for streams: the
   * sum of acknowledged sequences); healing fails when no checker's mark moves for a long time.
   */
  default long progressMark(World world) {
    return 0;
  }

  /** Why not converged yet (for the report when healing times out). */
  default String progress(World world) {
    return "";
  }

  default void atEnd(World world) {}
}
