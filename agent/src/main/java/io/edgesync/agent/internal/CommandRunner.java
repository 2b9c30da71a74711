package io.edgesync.agent.internal;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgesync.agent.CommandHandler;
import io.edgesync.agent.Commands;
import io.edgesync.agent.PendingCommand;
import io.edgesync.agent.internal.docs.LocalCommandInbox;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's {@link Commands}: Java handlers by command name, run one at a time on a thread of its
 * own ("edgesync-commands-<device>"), and the long poll for commands without a handler. Both take
 * from the {@link LocalCommandInbox}; {@link #wake} is called when a command arrives, finishes or
 * expires, so that neither waits for its next 500 ms look.
 *
 * <p>Thread safe.
 */
public final class CommandRunner implements Commands, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(CommandRunner.class);

  private final LocalCommandInbox inbox;
  private final LongSupplier nowMs;
  private final Map<String, CommandHandler> handlers = new ConcurrentHashMap<>();
  private final Object signal = new Object();
  private final Thread thread;
  private volatile boolean closed;
  // What MQTT subscribers claim (internal.mqtt): names the pollers of next() do not get, or all.
  private volatile Set<String> claimedNames = Set.of();
  private volatile boolean claimedAll;
  private final java.util.List<Runnable> wakeListeners =
      new java.util.concurrent.CopyOnWriteArrayList<>();

  /**
   * @param nowMs the time command deadlines are in (the engine's)
   */
  public CommandRunner(String deviceId, LocalCommandInbox inbox, LongSupplier nowMs) {
    this.inbox = inbox;
    this.nowMs = nowMs;
    this.thread = new Thread(this::runHandlers, "edgesync-commands-" + deviceId);
    thread.setDaemon(true);
  }

  /** Starts the handler thread. */
  public void start() {
    thread.start();
  }

  /** Wakes the handler thread and the pollers: the inbox changed. */
  public void wake() {
    synchronized (signal) {
      signal.notifyAll();
    }
    for (Runnable r : wakeListeners) {
      r.run();
    }
  }

  /** Calls {@code listener} (on the waking thread) whenever the inbox changed. */
  public void addWakeListener(Runnable listener) {
    wakeListeners.add(listener);
  }

  /**
   * Commands with these names (or, with {@code all}, every command without a Java handler) are
   * taken only by {@link #takeClaimed}, no longer by {@link #next}: the local MQTT listener claims
   * the names its subscribers asked for, so that the HTTP pollers and it never race for one.
   */
  public void setClaims(Set<String> names, boolean all) {
    claimedNames = Set.copyOf(names);
    claimedAll = all;
  }

  /**
   * Takes the next command with one of {@code names} (null: any) and no Java handler, without
   * waiting; null if none.
   */
  public PendingCommand takeClaimed(Set<String> names) {
    return inbox.takeCommand(names, Set.copyOf(handlers.keySet()), nowMs.getAsLong());
  }

  @Override
  public AutoCloseable onCommand(String name, CommandHandler handler) {
    if (handlers.putIfAbsent(name, handler) != null) {
      // An argument error, as Runtime.addShutdownHook reports a hook registered twice.
      throw new IllegalArgumentException(
          "a handler for command '" + name + "' is already registered");
    }
    wake();
    return () -> handlers.remove(name, handler);
  }

  @Override
  public PendingCommand next(long waitMs) throws InterruptedException {
    long deadline = System.nanoTime() + waitMs * 1_000_000;
    while (true) {
      PendingCommand c =
          claimedAll ? null : inbox.takeCommand(null, notForPollers(), nowMs.getAsLong());
      long leftMs = (deadline - System.nanoTime()) / 1_000_000;
      if (c != null || leftMs <= 0 || closed) {
        return c;
      }
      synchronized (signal) {
        signal.wait(Math.min(leftMs, 500));
      }
    }
  }

  /** The names next() leaves alone: those with a handler and those MQTT subscribers claimed. */
  private Set<String> notForPollers() {
    Set<String> claimed = claimedNames;
    if (claimed.isEmpty()) {
      return Set.copyOf(handlers.keySet());
    }
    Set<String> out = new java.util.HashSet<>(handlers.keySet());
    out.addAll(claimed);
    return out;
  }

  @Override
  public boolean complete(String id, boolean succeeded, JsonNode result, String error) {
    return inbox.finishCommand(id, succeeded, result, error);
  }

  @Override
  public String state(String id) {
    return inbox.commandState(id);
  }

  /** Stops the handler thread, interrupting a handler that runs; pollers return within 500 ms. */
  @Override
  public void close() {
    closed = true;
    thread.interrupt();
  }

  private void runHandlers() {
    while (!closed) {
      try {
        PendingCommand c =
            handlers.isEmpty()
                ? null
                : inbox.takeCommand(Set.copyOf(handlers.keySet()), Set.of(), nowMs.getAsLong());
        if (c == null) {
          synchronized (signal) {
            signal.wait(500);
          }
          continue;
        }
        run(c, handlers.get(c.name()));
      } catch (InterruptedException e) {
        return;
      } catch (RuntimeException e) {
        if (!closed) {
          log.error("command runner failed", e);
        }
      }
    }
  }

  /** Runs one command and records its outcome; a handler removed meanwhile fails it. */
  private void run(PendingCommand c, CommandHandler h) {
    try {
      JsonNode result = h == null ? null : h.handle(c.id(), c.payload());
      if (h == null) {
        inbox.finishCommand(c.id(), false, null, "no handler for '" + c.name() + "'");
      } else {
        inbox.finishCommand(c.id(), true, result, null);
      }
    } catch (Exception e) {
      inbox.finishCommand(c.id(), false, null, String.valueOf(e.getMessage()));
    }
  }
}
