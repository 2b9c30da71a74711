package io.edgesync.sim.internal;

import java.util.Map;
import java.util.TreeMap;

/** Named counters of what a run (or many runs) exercised: faults, drops, late frames... */
public final class Stats {
  private final TreeMap<String, Long> counters = new TreeMap<>();

  public void add(String name, long delta) {
    if (delta != 0) {
      counters.merge(name, delta, Long::sum);
    }
  }

  public long get(String name) {
    return counters.getOrDefault(name, 0L);
  }

  public void addAll(Map<String, Long> other) {
    other.forEach(this::add);
  }

  public Map<String, Long> asMap() {
    return new TreeMap<>(counters);
  }
}
