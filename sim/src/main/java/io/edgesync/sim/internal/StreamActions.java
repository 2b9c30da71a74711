package io.edgesync.sim.internal;

import java.util.List;
import java.util.random.RandomGenerator;

/** The stream workload: appends (single, batched, bursts that overflow small queues), sync-now. */
public final class StreamActions {
  private StreamActions() {}

  public static List<Action> all() {
    return List.of(new Append(), new Burst(), new UndeclaredStream(), new SyncNow());
  }

  /** A few records to one declared stream of one device. */
  static final class Append implements Action {
    @Override
    public String name() {
      return "append";
    }

    @Override
    public int weight(World world) {
      return 80;
    }

    @Override
    public void perform(World world, RandomGenerator random) {
      SimEdge e = world.randomEdge(random);
      List<String> streams = List.copyOf(e.spec().priorities().keySet());
      String stream = streams.get(random.nextInt(streams.size()));
      e.submitAppend(
          stream, random.nextInt(1, e.spec().maxRecordsPerAppend() + 1), e.spec().maxPadBytes());
    }
  }

  /** Many appends at once: fills small queues past their limit, so overflow drops or refuses. */
  static final class Burst implements Action {
    @Override
    public String name() {
      return "burst";
    }

    @Override
    public int weight(World world) {
      return 6;
    }

    @Override
    public void perform(World world, RandomGenerator random) {
      SimEdge e = world.randomEdge(random);
      List<String> streams = List.copyOf(e.spec().priorities().keySet());
      int appends = random.nextInt(5, 40);
      for (int i = 0; i < appends; i++) {
        e.submitAppend(
            streams.get(random.nextInt(streams.size())),
            random.nextInt(1, 2 * e.spec().maxRecordsPerAppend() + 1),
            e.spec().maxPadBytes());
      }
    }
  }

  /** A stream the configuration does not declare: it gets the default priority. */
  static final class UndeclaredStream implements Action {
    @Override
    public String name() {
      return "appendUndeclared";
    }

    @Override
    public int weight(World world) {
      return 3;
    }

    @Override
    public void perform(World world, RandomGenerator random) {
      SimEdge e = world.randomEdge(random);
      e.submitAppend("adhoc." + random.nextInt(2), random.nextInt(1, 4), e.spec().maxPadBytes());
    }
  }

  /** The application asks for a sync now (the on-demand trigger). */
  static final class SyncNow implements Action {
    @Override
    public String name() {
      return "syncNow";
    }

    @Override
    public int weight(World world) {
      return 4;
    }

    @Override
    public void perform(World world, RandomGenerator random) {
      world.randomEdge(random).syncNow();
    }
  }
}
