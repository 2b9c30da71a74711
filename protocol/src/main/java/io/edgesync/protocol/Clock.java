package io.edgesync.protocol;

/**
 * The source of wall-clock time for everything that needs it. Engines never read the system clock;
 * they are handed a {@code Clock} (or a {@code nowMs} argument) so that tests and the simulator
 * control time. Implementations must be thread safe.
 */
@FunctionalInterface
public interface Clock {
  /** Milliseconds since the Unix epoch. May step backwards if the wall clock does. */
  long nowMs();

  /** The system wall clock. */
  Clock SYSTEM = System::currentTimeMillis;
}
