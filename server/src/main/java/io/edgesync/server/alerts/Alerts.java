package io.edgesync.server.alerts;

import io.edgesync.protocol.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's alerts: evaluates the rules ({@link AlertRules}) on each {@link #evaluate}, keeps
 * the active ones, moves an alert whose condition no longer holds to the resolved ones (the last
 * {@code max_resolved_kept}, newest first), and tells a listener of each alert that fires and each
 * that resolves (the webhook). An alert keeps its id and {@code sinceMs} while it stays active; its
 * message and severity follow the latest evaluation without firing again.
 *
 * <p>Thread safe: the alert timer evaluates, REST and metrics read.
 */
public final class Alerts {
  private static final Logger log = LoggerFactory.getLogger(Alerts.class);

  /** Which way an alert changed. */
  public enum Change {
    FIRED,
    RESOLVED
  }

  private final AlertSettings settings;
  private final AlertRules rules;
  private final Clock clock;
  private final BiConsumer<Change, Alert> listener;
  private final Map<String, Alert> active = new LinkedHashMap<>();
  private final Deque<Alert> resolved = new ArrayDeque<>();
  private final Map<AlertRule, Integer> activeByRule = new EnumMap<>(AlertRule.class);
  private final Object evaluating = new Object();
  private long evaluations;
  private long failures;

  public Alerts(
      AlertSettings settings, AlertInputs in, Clock clock, BiConsumer<Change, Alert> listener) {
    this.settings = settings;
    this.rules = new AlertRules(settings, in);
    this.clock = clock;
    this.listener = listener;
  }

  public AlertSettings settings() {
    return settings;
  }

  /** For the timer: one evaluation; a failure is logged and the previous alerts stay. */
  public void evaluateOnTimer() {
    try {
      evaluate();
    } catch (RuntimeException e) {
      synchronized (this) {
        failures++;
      }
      log.error("evaluating the alert rules failed", e); // the timer keeps running
    }
  }

  /** Evaluates every rule now and tells the listener what fired and what resolved. */
  public void evaluate() {
    synchronized (evaluating) { // one evaluation at a time: the rules keep state between them
      evaluateAlone();
    }
  }

  private void evaluateAlone() {
    long nowMs = clock.nowMs();
    List<Alert> holding = rules.evaluate(nowMs);
    List<Alert> fired = new ArrayList<>();
    List<Alert> ended = new ArrayList<>();
    synchronized (this) {
      Map<String, Alert> next = new LinkedHashMap<>();
      for (Alert a : holding) {
        Alert before = active.remove(a.id());
        next.put(a.id(), before == null ? a : a.since(before.sinceMs()));
        if (before == null) {
          fired.add(a);
        }
      }
      for (Alert gone : active.values()) {
        Alert r = gone.resolved(nowMs);
        ended.add(r);
        resolved.addFirst(r);
      }
      while (resolved.size() > settings.maxResolvedKept()) {
        resolved.removeLast();
      }
      active.clear();
      active.putAll(next);
      activeByRule.clear();
      for (Alert a : next.values()) {
        activeByRule.merge(a.rule(), 1, Integer::sum);
      }
      evaluations++;
    }
    for (Alert a : fired) {
      log.warn("alert {} fired: {}", a.id(), a.message());
      listener.accept(Change.FIRED, a);
    }
    for (Alert a : ended) {
      log.info("alert {} resolved", a.id());
      listener.accept(Change.RESOLVED, a);
    }
  }

  /** The active alerts, in the order the rules found them. */
  public synchronized List<Alert> active() {
    return List.copyOf(active.values());
  }

  /** The last resolved alerts, newest first. */
  public synchronized List<Alert> resolved() {
    return List.copyOf(resolved);
  }

  public synchronized int activeCount(AlertRule rule) {
    return activeByRule.getOrDefault(rule, 0);
  }

  public synchronized long evaluations() {
    return evaluations;
  }

  /** Evaluations that failed (logged) since start. */
  public synchronized long failures() {
    return failures;
  }
}
