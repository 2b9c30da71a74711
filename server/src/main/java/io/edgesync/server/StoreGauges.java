package io.edgesync.server;

import io.edgesync.protocol.Clock;
import io.edgesync.server.files.FileStore;
import io.edgesync.server.files.RolloutState;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Metrics that count rows of the store (docs/metrics.md): {@code edgesync_conflicts{strategy,
 * status}} and {@code edgesync_rollouts{state}}. A scrape reads them at most once per {@code
 * refreshMs} (one {@code GROUP BY} each), so that frequent scrapes, or several Prometheus servers,
 * do not load the store; between reads they show the last counts. Thread safe.
 */
final class StoreGauges {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(StoreGauges.class);

  /** How old the counts a scrape shows may be. */
  static final long REFRESH_MS = 15_000;

  private final SqliteCloudStore store;
  private final FileStore files; // null without files
  private final Clock clock;
  private final MultiGauge conflicts;
  private final MultiGauge rollouts;
  private long readAtMs = Long.MIN_VALUE;

  StoreGauges(SqliteCloudStore store, FileStore files, Clock clock, MeterRegistry registry) {
    this.store = store;
    this.files = files;
    this.clock = clock;
    this.conflicts =
        MultiGauge.builder("edgesync.conflicts")
            .description(
                "conflicts kept by the store, by strategy (custom resolvers as custom) and status"
                    + " (open: waiting for an operator; resolved: decided by a policy or a person)")
            .register(registry);
    this.rollouts =
        MultiGauge.builder("edgesync.rollouts")
            .description("file rollouts by state")
            .register(registry);
  }

  /** Reads the counts again if the last read is older than {@link #REFRESH_MS}. */
  synchronized void refresh() {
    long now = clock.nowMs();
    if (readAtMs != Long.MIN_VALUE && now - readAtMs < REFRESH_MS) {
      return;
    }
    readAtMs = now;
    try {
      conflicts.register(conflictRows(store.conflictTallies()), true);
      if (files != null) {
        rollouts.register(rolloutRows(files.rolloutsByState()), true);
      }
    } catch (RuntimeException e) {
      // A store that is away must not take the whole scrape with it (the reconnect counter is
      // what operators look at then): the last counts stay.
      log.warn(
          "metrics: counting conflicts and rollouts failed; the last counts stay: {}",
          e.toString());
    }
  }

  private static List<MultiGauge.Row<?>> conflictRows(List<ConflictRows.Tally> tallies) {
    Map<Tags, Long> counts = new LinkedHashMap<>();
    for (ConflictRows.Tally t : tallies) {
      // One series per strategy, not per resolver: a resolver's name is configuration.
      String strategy = t.strategy().startsWith("custom:") ? "custom" : t.strategy();
      // Both statuses of every strategy seen: the last open conflict resolved shows as 0.
      counts.putIfAbsent(Tags.of("strategy", strategy, "status", "open"), 0L);
      counts.putIfAbsent(Tags.of("strategy", strategy, "status", "resolved"), 0L);
      counts.merge(Tags.of("strategy", strategy, "status", t.status()), t.count(), Long::sum);
    }
    List<MultiGauge.Row<?>> rows = new ArrayList<>();
    counts.forEach((tags, n) -> rows.add(MultiGauge.Row.of(tags, n)));
    return rows;
  }

  private static List<MultiGauge.Row<?>> rolloutRows(Map<String, Long> byState) {
    List<MultiGauge.Row<?>> rows = new ArrayList<>();
    for (RolloutState s : RolloutState.values()) {
      rows.add(MultiGauge.Row.of(Tags.of("state", s.label()), byState.getOrDefault(s.label(), 0L)));
    }
    return rows;
  }
}
