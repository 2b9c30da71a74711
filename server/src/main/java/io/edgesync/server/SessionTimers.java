package io.edgesync.server;

import io.edgesync.protocol.wire.Frame;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Histograms of what devices wait for, in {@link ServerMetrics}' registry (docs/metrics.md):
 *
 * <ul>
 *   <li>{@code edgesync_commit_seconds{frame}}: from a frame that commits (a Hello, a record batch,
 *       a gap, document changes, a command's status) reaching its session to its answer being sent,
 *       the store's commit included; a session's frames are handled one at a time, so this is the
 *       device's acknowledgement latency without the network.
 *   <li>{@code edgesync_push_lag_seconds}: from a document version's commit to its push to a
 *       connected device that reads it.
 * </ul>
 *
 * Buckets are fixed (1 ms .. 30 s) so that the series stay few and quantiles can be computed across
 * nodes. Thread safe.
 */
final class SessionTimers {
  private static final Duration[] BUCKETS = {
    Duration.ofMillis(1),
    Duration.ofMillis(2),
    Duration.ofMillis(5),
    Duration.ofMillis(10),
    Duration.ofMillis(25),
    Duration.ofMillis(50),
    Duration.ofMillis(100),
    Duration.ofMillis(250),
    Duration.ofMillis(500),
    Duration.ofSeconds(1),
    Duration.ofMillis(2500),
    Duration.ofSeconds(5),
    Duration.ofSeconds(10),
    Duration.ofSeconds(30)
  };

  /** The frames whose handling includes a commit, by their label. */
  private static final Map<Frame.BodyCase, String> COMMITTING =
      Map.of(
          Frame.BodyCase.HELLO, "hello",
          Frame.BodyCase.BATCH, "batch",
          Frame.BodyCase.GAP, "gap",
          Frame.BodyCase.DOC_CHANGES, "doc_changes",
          Frame.BodyCase.COMMAND_STATUS, "command_status");

  private final Map<Frame.BodyCase, Timer> commits = new EnumMap<>(Frame.BodyCase.class);
  private final DistributionSummary pushLag;

  SessionTimers(MeterRegistry registry) {
    for (Map.Entry<Frame.BodyCase, String> e : COMMITTING.entrySet()) {
      commits.put(
          e.getKey(),
          Timer.builder("edgesync.commit")
              .description(
                  "from a frame that commits reaching its session to its answer being sent")
              .tag("frame", e.getValue())
              .serviceLevelObjectives(BUCKETS)
              .register(registry));
    }
    double[] lagBuckets = new double[BUCKETS.length];
    for (int i = 0; i < BUCKETS.length; i++) {
      lagBuckets[i] = BUCKETS[i].toNanos() / 1e9;
    }
    pushLag =
        DistributionSummary.builder("edgesync.push.lag")
            .description("from a document version's commit to its push to a connected device")
            .baseUnit("seconds")
            .serviceLevelObjectives(lagBuckets)
            .register(registry);
  }

  /** A frame of {@code kind} was handled in {@code nanos}; only committing kinds are recorded. */
  void handled(Frame.BodyCase kind, long nanos) {
    Timer t = commits.get(kind);
    if (t != null) {
      t.record(nanos, TimeUnit.NANOSECONDS);
    }
  }

  /** A version reached a device {@code lagMs} after its commit. */
  void pushed(long lagMs) {
    pushLag.record(lagMs / 1000.0);
  }
}
