package io.edgesync.sim.internal;

/** An invariant does not hold: the simulation stops and reports the seed and the trace. */
public final class SimFailure extends RuntimeException {
  public SimFailure(String message) {
    super(message);
  }
}
