package io.edgesync.sim.internal;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/**
 * What happened in a run, one line per step: a hash over every line (two runs of one seed must
 * produce the same hash) and the last lines, printed when a check fails. Lines must hold nothing
 * that differs between runs of one seed (no file paths, no random store ids). Not thread safe.
 */
public final class Trace {
  private static final long FNV_OFFSET = 0xcbf29ce484222325L;
  private static final long FNV_PRIME = 0x100000001b3L;

  private final String[] ring;
  private final PrintStream echo;
  private int next;
  private long lines;
  private long hash = FNV_OFFSET;

  /**
   * @param tailLines how many of the last lines to keep for a failure report
   * @param echo where to print every line as it happens, or null
   */
  public Trace(int tailLines, PrintStream echo) {
    this.ring = new String[Math.max(1, tailLines)];
    this.echo = echo;
  }

  public void add(long trueMs, String line) {
    String full = trueMs + " " + line;
    long h = hash;
    for (int i = 0; i < full.length(); i++) {
      h = (h ^ full.charAt(i)) * FNV_PRIME;
    }
    hash = (h ^ '\n') * FNV_PRIME;
    ring[next] = full;
    next = (next + 1) % ring.length;
    lines++;
    if (echo != null) {
      echo.println(full);
    }
  }

  /** A hash of every line so far. */
  public long hash() {
    long h = hash ^ lines;
    h ^= h >>> 33;
    h *= 0xff51afd7ed558ccdL;
    h ^= h >>> 33;
    return h;
  }

  public long lines() {
    return lines;
  }

  /** The last lines, oldest first. */
  public List<String> tail() {
    List<String> out = new ArrayList<>(ring.length);
    for (int i = 0; i < ring.length; i++) {
      String s = ring[(next + i) % ring.length];
      if (s != null) {
        out.add(s);
      }
    }
    return out;
  }
}
