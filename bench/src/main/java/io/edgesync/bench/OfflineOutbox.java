package io.edgesync.bench;

import io.edgesync.agent.AgentConfig;
import io.edgesync.agent.internal.outbox.SqliteOutbox;
import io.edgesync.protocol.Clock;
import java.sql.SQLException;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicReference;

/**
 * An agent's outbox file written directly while no agent runs (the device is offline): how the
 * scenarios preload a backlog. At most {@code window} append calls are in flight; {@link #close}
 * waits for all of them, closes the file, then throws the first failed append's error.
 */
final class OfflineOutbox implements AutoCloseable {
  private final SqliteOutbox outbox;
  private final int window;
  private final Semaphore permits;
  private final AtomicReference<Throwable> failure = new AtomicReference<>();

  OfflineOutbox(AgentConfig config, Clock clock, int window) throws SQLException {
    this.outbox = open(config, clock);
    this.window = window;
    this.permits = new Semaphore(window);
  }

  /** The outbox file of {@code config}, opened as the agent opens it. */
  static SqliteOutbox open(AgentConfig config, Clock clock) throws SQLException {
    return new SqliteOutbox(
        config.dataDir().resolve("edgesync-agent.db"),
        config.outbox(),
        config.streamPriorities(),
        config.undeclaredStreamPriority(),
        clock);
  }

  /**
   * Appends one call once a place in the window is free; returns false once an append has failed
   * (stop appending then: {@link #close} throws its error).
   */
  boolean append(String stream, List<byte[]> records) {
    permits.acquireUninterruptibly();
    outbox
        .appendAsync(stream, records)
        .whenComplete(
            (seq, err) -> {
              if (err != null) {
                failure.compareAndSet(null, err);
              }
              permits.release();
            });
    return failure.get() == null;
  }

  @Override
  public void close() {
    permits.acquireUninterruptibly(window);
    outbox.close();
    if (failure.get() != null) {
      throw new IllegalStateException("preload failed: " + failure.get(), failure.get());
    }
  }
}
