package io.edgesync.server;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Finds device connections the server has heard nothing from for longer than the heartbeat timeout
 * (docs/protocol.md, "Heartbeats"), so that a device that went away without closing (power cut, a
 * NAT that forgot the flow, a cable pulled) does not count as connected until the operating
 * system's TCP timeout, many minutes later.
 *
 * <p>"Heard" is any byte read from the connection, not only whole frames: a device sends a large
 * batch as WebSocket fragments, and a batch that takes longer than the timeout to cross a slow link
 * must not end its own session (the slow-link livelock of docs/testing.md, seen from the cloud's
 * side). A connection that cannot report its bytes counts whole frames only. And the time the
 * server spends handling a frame is never silence: while it commits, it reads nothing more from
 * that connection, and a slow store must not close the sessions that wait for it.
 *
 * <p>Time is monotonic ({@code System.nanoTime} in the server): a wall clock that steps neither
 * closes a live session nor keeps a dead one open. A connection is reported silent once, no sooner
 * than the timeout after the last byte, and no later than the timeout plus the interval at which
 * {@link #check} runs.
 *
 * <p>Thread safe: connections are added, heard and removed on the transport's threads and checked
 * on one timer thread; each entry is guarded by itself.
 */
final class SilenceWatch {
  /** What the watch needs of a connection. */
  interface Connection {
    /** Bytes read from the connection so far; -1 if the transport cannot tell. */
    long bytesIn();

    /** Nothing arrived for {@code silentMs}: end the session. Called at most once. */
    void onSilent(long silentMs);
  }

  private static final class Entry {
    final Connection connection;
    long bytesIn;
    long heardNanos;
    boolean handling;

    Entry(Connection connection, long bytesIn, long heardNanos) {
      this.connection = connection;
      this.bytesIn = bytesIn;
      this.heardNanos = heardNanos;
    }
  }

  private final long timeoutNanos;
  private final LongSupplier nanoTime;
  private final Map<String, Entry> entries = new ConcurrentHashMap<>();

  /**
   * @param timeoutMs a connection silent for longer than this is reported
   * @param nanoTime a monotonic clock in nanoseconds ({@code System::nanoTime})
   */
  SilenceWatch(long timeoutMs, LongSupplier nanoTime) {
    if (timeoutMs < 1) {
      throw new IllegalArgumentException("timeoutMs must be >= 1, was " + timeoutMs);
    }
    this.timeoutNanos = timeoutMs * 1_000_000;
    this.nanoTime = nanoTime;
  }

  /** Starts watching a connection that just opened (its opening counts as heard). */
  void watch(String id, Connection connection) {
    entries.put(id, new Entry(connection, connection.bytesIn(), nanoTime.getAsLong()));
  }

  /** A whole frame arrived on the connection; the server handles it until {@link #handled}. */
  void handling(String id) {
    mark(id, true);
  }

  /** The server finished handling the connection's frame and reads on. */
  void handled(String id) {
    mark(id, false);
  }

  private void mark(String id, boolean handling) {
    Entry e = entries.get(id);
    if (e != null) {
      synchronized (e) {
        e.handling = handling;
        e.heardNanos = nanoTime.getAsLong();
      }
    }
  }

  /** The connection ended: forget it. */
  void unwatch(String id) {
    entries.remove(id);
  }

  /** Connections being watched. */
  int size() {
    return entries.size();
  }

  /**
   * Checks every connection once and reports (then forgets) those silent for longer than the
   * timeout. Returns how many were reported.
   */
  int check() {
    long now = nanoTime.getAsLong();
    List<Connection> silent = new ArrayList<>();
    List<Long> silentMs = new ArrayList<>();
    for (Map.Entry<String, Entry> me : entries.entrySet()) {
      Entry e = me.getValue();
      long quietNanos;
      synchronized (e) {
        long bytes = e.connection.bytesIn();
        if (e.handling || bytes != e.bytesIn) {
          e.bytesIn = bytes;
          e.heardNanos = now;
          continue;
        }
        quietNanos = now - e.heardNanos;
      }
      if (quietNanos > timeoutNanos && entries.remove(me.getKey(), e)) {
        silent.add(e.connection);
        silentMs.add(quietNanos / 1_000_000);
      }
    }
    // Outside the entries' locks: ending a session takes the transport's and the session's.
    for (int i = 0; i < silent.size(); i++) {
      silent.get(i).onSilent(silentMs.get(i));
    }
    return silent.size();
  }
}
