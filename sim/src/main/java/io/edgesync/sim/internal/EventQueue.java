package io.edgesync.sim.internal;

import java.util.PriorityQueue;

/**
 * The simulator's agenda: actions ordered by simulated time, ties broken by the order in which they
 * were scheduled, so that a run depends only on its seed. Not thread safe; owned by the simulation
 * thread.
 */
public final class EventQueue {
  private record Event(long atMs, long order, Runnable action) implements Comparable<Event> {
    @Override
    public int compareTo(Event o) {
      int c = Long.compare(atMs, o.atMs);
      return c != 0 ? c : Long.compare(order, o.order);
    }
  }

  private final PriorityQueue<Event> queue = new PriorityQueue<>();
  private long order;

  /** Runs {@code action} at simulated time {@code atMs}. */
  public void at(long atMs, Runnable action) {
    queue.add(new Event(atMs, order++, action));
  }

  public boolean isEmpty() {
    return queue.isEmpty();
  }

  /** The time of the next event; the queue must not be empty. */
  public long nextAtMs() {
    return queue.peek().atMs();
  }

  /** Removes the next event and returns its action. */
  public Runnable poll() {
    return queue.poll().action();
  }

  public int size() {
    return queue.size();
  }
}
