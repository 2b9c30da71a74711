package io.edgesync.sim.internal;

import io.edgesync.engine.testing.InMemoryFileInbox;
import java.util.SplittableRandom;
import java.util.function.IntSupplier;

/**
 * A node's file assembly in simulated time: the check and atomic install (or store) of a complete
 * transfer runs a random while after the engine asked for it, and its outcome reaches the engine
 * another while later. Assemblies run one at a time in the order asked, as on the agent's single
 * installer thread. A crash of the node before the install loses the assembly; a crash between the
 * install and the record leaves the file installed and the transfer unfinished (the next session
 * assembles it again). Not thread safe; owned by the simulation thread.
 */
final class SimAssembler implements InMemoryFileInbox.Assembler {
  private final World world;
  private final SplittableRandom random;
  private final String node;

  /** The node's current run: changes with every crash; negative while it is down. */
  private final IntSupplier run;

  /** When the installer thread of run {@link #busyRun} is free again, and its last record. */
  private long busyUntilMs;

  private long lastRecordMs;
  private int busyRun = Integer.MIN_VALUE;

  SimAssembler(World world, SplittableRandom random, String node, IntSupplier run) {
    this.world = world;
    this.random = random;
    this.node = node;
    this.run = run;
  }

  @Override
  public void start(Runnable assembly, Runnable report) {
    int started = run.getAsInt();
    if (started != busyRun) { // a new process: a new installer thread
      busyRun = started;
      busyUntilMs = 0;
      lastRecordMs = 0;
    }
    FileScenario fs = world.fileScenario();
    long installAt = Math.max(world.now(), busyUntilMs) + delay(fs.installMaxMs());
    long recordAt = Math.max(installAt + delay(fs.recordMaxMs()), lastRecordMs);
    busyUntilMs = installAt;
    lastRecordMs = recordAt;
    world
        .events()
        .at(
            installAt,
            () -> {
              if (run.getAsInt() != started) {
                world.trace(node + " assembly lost in a crash");
                world.stats().add("files.assembliesLost", 1);
                return;
              }
              assembly.run();
              world
                  .events()
                  .at(
                      recordAt,
                      () -> {
                        if (run.getAsInt() != started) {
                          world.trace(node + " assembled, the record lost in a crash");
                          world.stats().add("files.assembledUnrecorded", 1);
                          return;
                        }
                        report.run();
                      });
            });
  }

  private long delay(long maxMs) {
    return maxMs == 0 ? 0 : random.nextLong(0, maxMs + 1);
  }
}
