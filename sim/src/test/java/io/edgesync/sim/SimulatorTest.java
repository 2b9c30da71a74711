package io.edgesync.sim;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgesync.engine.cloud.CloudStore;
import io.edgesync.engine.commands.CommandStore;
import io.edgesync.engine.docs.DocumentStore;
import io.edgesync.engine.docs.ForwardingDocumentStore;
import io.edgesync.engine.testing.ForwardingCloudStore;
import io.edgesync.engine.testing.ForwardingCommandStore;
import io.edgesync.protocol.Record;
import io.edgesync.protocol.wire.GapReason;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The deterministic simulator over many seeds (invariant 1 for streams, invariants 2 and 3 for
 * documents, commands, crash durability, convergence after healing), the replay guarantee, and
 * planted bugs the checkers must catch.
 *
 * <p>Seeds: {@code -Dsim.seeds=N} or {@code SIM_SEEDS=N} (default 2,000), first seed {@code
 * -Dsim.from} / {@code SIM_FROM} (default 1), threads {@code -Dsim.threads} / {@code SIM_THREADS}
 * (default: the number of processors).
 */
class SimulatorTest {
  private static final int DEFAULT_SEEDS = 2_000;

  @Test
  void manySeeds_recordsReachTheCloudOnce_documentsConverge_conflictsAudited_commandsRunOnce() {
    long seeds = setting("sim.seeds", "SIM_SEEDS", DEFAULT_SEEDS);
    long from = setting("sim.from", "SIM_FROM", 1);
    int threads =
        (int) setting("sim.threads", "SIM_THREADS", Runtime.getRuntime().availableProcessors());

    Simulator.Summary summary =
        Simulator.runMany(from, seeds, threads, 5, SimOptions.defaults(), r -> {});

    System.out.printf(
        Locale.ROOT,
        "simulator: %d seeds (%d..%d) on %d threads in %.1f s: %.1f seeds/s; %s%n",
        summary.seeds(),
        from,
        from + seeds - 1,
        threads,
        summary.elapsedNanos() / 1e9,
        summary.seedsPerSecond(),
        summary.counters());
    assertThat(summary.failures())
        .as(
            () ->
                summary.failures().stream()
                    .map(SimResult::report)
                    .collect(Collectors.joining("\n")))
        .isEmpty();
    assertThat(summary.seeds()).isEqualTo(seeds);
    if (seeds >= 1_000) {
      // The faults and workload paths are really taken, not silently switched off.
      Map<String, Long> c = summary.counters();
      for (String exercised :
          List.of(
              "edge.crashes",
              "cloud.crashes",
              "faults.cuts",
              "faults.partitions",
              "faults.stalls",
              "faults.clockStepsBack",
              "frames.lostInFlight",
              "frames.lateAtCloud",
              "frames.resentAtCloud",
              "sessions.overlapping",
              "records.dropped",
              "appends.rejected",
              "appends.lostInCrash",
              "appends.unheardCommitted",
              "actions.docEdgePut",
              "actions.docEdgeDelete",
              "actions.docCloudPut",
              "actions.docCloudDelete",
              "actions.docResolve",
              "docs.conflictsResolved.auto",
              "docs.conflictsResolved.operator",
              "docs.lateChangesAtCloud",
              "docs.concurrentWithDelete",
              "docs.patchesSent",
              "docs.resendFull",
              "batches.CODEC_TEMPLATE_STREAM",
              "batches.CODEC_ZSTD",
              "batches.CODEC_NONE",
              "commands.run",
              "commands.succeeded",
              "commands.failed",
              "commands.expired")) {
        assertThat(c.getOrDefault(exercised, 0L)).as(exercised).isPositive();
      }
    }
  }

  @Test
  void sameSeedTwice_replaysExactly() {
    long docChangesSeen = 0;
    for (long seed : new long[] {3, 41, 977}) {
      SimResult first = Simulator.run(seed, SimOptions.defaults());
      SimResult second = Simulator.run(seed, SimOptions.defaults());

      assertThat(first.passed()).as("seed %d: %s", seed, first.failure()).isTrue();
      assertThat(second.traceHash()).as("seed %d", seed).isEqualTo(first.traceHash());
      assertThat(second.traceLines()).isEqualTo(first.traceLines());
      assertThat(second.counters()).isEqualTo(first.counters());
      assertThat(first.traceLines()).isGreaterThan(50);
      docChangesSeen += first.counters().getOrDefault("docs.cloudSteps", 0L);
    }
    assertThat(docChangesSeen).as("documents are part of the replayed runs").isPositive();
    assertThat(Simulator.run(4, SimOptions.defaults()).traceHash())
        .isNotEqualTo(Simulator.run(3, SimOptions.defaults()).traceHash());
  }

  @Test
  void plantedBug_cloudAcknowledgesARecordItStoredCorrupted_isCaught() {
    UnaryOperator<CloudStore> corrupting =
        store ->
            new ForwardingCloudStore(store) {
              @Override
              public long commitRecords(
                  String device, String stream, List<Record> records, long nowMs, WireBytes wire)
                  throws SequenceException {
                List<Record> changed = new ArrayList<>();
                for (Record r : records) {
                  changed.add(
                      r.sequence() == 7
                          ? new Record(r.sequence(), r.originMs(), "{}".getBytes())
                          : r);
                }
                return delegate.commitRecords(device, stream, changed, nowMs, wire);
              }
            };

    SimResult failed = caughtAndReplayable(corrupting);

    assertThat(failed.failure()).contains("sequence 7 differs");
  }

  @Test
  void plantedBug_cloudReportsMoreLostThanTheEdgeDropped_isCaught() {
    UnaryOperator<CloudStore> widening =
        store ->
            new ForwardingCloudStore(store) {
              @Override
              public long commitGap(
                  String device,
                  String stream,
                  long first,
                  long last,
                  GapReason reason,
                  long droppedAtMs,
                  long nowMs)
                  throws SequenceException {
                // The gap swallows the record after it: that record is skipped when it arrives.
                return delegate.commitGap(
                    device, stream, first, last + 1, reason, droppedAtMs, nowMs);
              }
            };

    SimResult failed = caughtAndReplayable(widening);

    // Caught either at the end (a gap over a record the edge kept) or at once (the gap ran past
    // the last record the edge stored).
    assertThat(failed.failure())
        .containsAnyOf("the edge never dropped it", "but the edge only ever stored");
  }

  @Test
  void plantedBug_cloudForgetsCommitsAcrossARestart_isCaught() {
    // Every store instance after the first acts as if the last commit of each stream was lost:
    // what a store that acknowledges before its data is durable does in a crash.
    UnaryOperator<CloudStore> forgetful =
        new UnaryOperator<>() {
          @Override
          public CloudStore apply(CloudStore store) {
            boolean restarted = !store.devices().isEmpty();
            return !restarted
                ? store
                : new ForwardingCloudStore(store) {
                  @Override
                  public Map<String, Long> checkpoints(String device) {
                    return delegate.checkpoints(device).entrySet().stream()
                        .collect(
                            Collectors.toMap(
                                Map.Entry::getKey, e -> Math.max(0, e.getValue() - 1)));
                  }
                };
          }
        };

    SimResult failed = caughtAndReplayable(forgetful);

    assertThat(failed.failure())
        .containsAnyOf(
            "went back", "as acknowledged but the cloud committed only", "never dropped");
  }

  @Test
  void plantedBug_cloudReturnsARecordTwice_isCaught() {
    UnaryOperator<CloudStore> duplicating =
        store ->
            new ForwardingCloudStore(store) {
              @Override
              public List<Record> read(String device, String stream, long after, int limit) {
                List<Record> out = new ArrayList<>(delegate.read(device, stream, after, limit));
                if (out.size() > 3) {
                  out.add(3, out.get(2));
                }
                return out;
              }
            };

    SimResult failed = caughtAndReplayable(duplicating);

    assertThat(failed.failure()).contains("(duplicate)");
  }

  @Test
  void plantedBug_cloudFastForwardsAChangeOverATombstone_isCaught() {
    // The cloud forgets tombstones while edges may still hold changes made before the delete: what
    // collecting them too early does. An edge's edit then overwrites the delete without a conflict.
    UnaryOperator<DocumentStore> forgetful =
        store ->
            new ForwardingDocumentStore(store) {
              @Override
              protected DocumentStore.StoredDoc doc(
                  DocumentStore.Tx tx, String scope, String collection, String key) {
                DocumentStore.StoredDoc d = tx.doc(scope, collection, key);
                return d != null && d.deleted() && d.conflictId() == 0 ? null : d;
              }
            };

    SimResult failed =
        caughtAndReplayable(SimOptions.defaults().withDocumentStoreWrapper(forgetful));

    assertThat(failed.failure()).contains("without a conflict: that write is silently lost");
  }

  @Test
  void plantedBug_conflictDecidedWithoutAnAuditRecord_isCaught() {
    UnaryOperator<DocumentStore> noAudit =
        store ->
            new ForwardingDocumentStore(store) {
              @Override
              protected void audit(DocumentStore.Tx tx, DocumentStore.AuditRecord record) {
                if (record.conflictId() == 0) {
                  tx.audit(record);
                }
              }
            };

    SimResult failed = caughtAndReplayable(SimOptions.defaults().withDocumentStoreWrapper(noAudit));

    assertThat(failed.failure()).containsAnyOf("audit missing", "audit records, not one");
  }

  @Test
  void plantedBug_pushSkipsAVersion_replicasDivergeAndItIsCaught() {
    UnaryOperator<DocumentStore> skipping =
        store ->
            new ForwardingDocumentStore(store) {
              @Override
              public List<DocumentStore.StoredDoc> changesAfter(
                  String scope, long afterVersion, int limit) {
                List<DocumentStore.StoredDoc> out =
                    new ArrayList<>(delegate.changesAfter(scope, afterVersion, limit));
                if (out.size() > 1) {
                  out.remove(0);
                }
                return out;
              }
            };

    SimResult failed =
        caughtAndReplayable(SimOptions.defaults().withDocumentStoreWrapper(skipping));

    assertThat(failed.failure()).containsAnyOf("documents not converged", "documents: ");
  }

  @Test
  void plantedBug_cloudIgnoresADevicesFinalCommandStatus_isCaught() {
    UnaryOperator<CommandStore> deaf =
        store ->
            new ForwardingCommandStore(store) {
              @Override
              public StoredCommand report(
                  String deviceId,
                  String id,
                  String state,
                  byte[] result,
                  String error,
                  long nowMs) {
                return delegate.report(
                    deviceId,
                    id,
                    state.equals(CommandStore.SUCCEEDED) ? CommandStore.DELIVERED : state,
                    result,
                    error,
                    nowMs);
              }
            };

    SimResult failed = caughtAndReplayable(SimOptions.defaults().withCommandStoreWrapper(deaf));

    assertThat(failed.failure()).containsAnyOf("commands: ", "commands not settled");
  }

  /**
   * Runs seeds from 1 with the planted bug until one fails (the checkers must notice soon); the
   * report names the seed, shows the last steps and how to replay, and the seed fails again the
   * same way.
   */
  private static SimResult caughtAndReplayable(UnaryOperator<CloudStore> bug) {
    return caughtAndReplayable(SimOptions.defaults().withCloudStoreWrapper(bug));
  }

  private static SimResult caughtAndReplayable(SimOptions options) {
    for (long seed = 1; seed <= 40; seed++) {
      SimResult failed = Simulator.run(seed, options);
      if (failed.passed()) {
        continue;
      }
      assertThat(failed.report())
          .startsWith("SEED " + seed + " FAILED: ")
          .contains("--seed " + seed);
      assertThat(failed.traceTail()).hasSizeGreaterThan(10);
      SimResult again = Simulator.run(seed, options);
      assertThat(again.failure()).isEqualTo(failed.failure());
      assertThat(again.traceHash()).isEqualTo(failed.traceHash());
      return failed;
    }
    throw new AssertionError("40 seeds ran with a planted bug and no checker noticed");
  }

  private static long setting(String property, String env, long fallback) {
    String v = System.getProperty(property);
    if (v == null || v.isBlank()) {
      v = System.getenv(env);
    }
    return v == null || v.isBlank() ? fallback : Long.parseLong(v.trim());
  }
}
