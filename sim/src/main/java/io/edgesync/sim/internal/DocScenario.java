package io.edgesync.sim.internal;

import io.edgesync.engine.docs.ConflictPolicy;
import io.edgesync.engine.docs.ConflictStrategy;
import io.edgesync.engine.docs.DeviceWrites;
import io.edgesync.engine.docs.DocumentRules;
import io.edgesync.protocol.ProtocolLimits;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * What a seed decides about documents and commands: whether they run at all (swarm testing: some
 * seeds run streams alone), the declared collections with their conflict policies (every strategy,
 * each under a short name), how many keys each collection has (few, so that edits collide), the
 * cloud's clock-drift rule, which groups each edge belongs to, whether an edge sends merge patches,
 * and how the applications and the operator behave. Immutable.
 *
 * @param enabled documents (and commands) in this seed; false: streams only
 * @param commands commands are queued in this seed
 * @param active the collections the workload writes (a few, so that edits collide; which ones
 *     varies by seed)
 * @param keys keys per collection: {@code k0 .. k(keys-1)}
 * @param groups per edge (by index), the groups it belongs to
 * @param deltaSync per edge (by index), whether it sends merge patches
 * @param operatorLeavesConflictsOpen the healing phase leaves open conflicts alone (the convergence
 *     check then expects the document conflicted on every replica) instead of resolving them
 * @param commandRunMaxMs the most a command handler takes to run a command
 * @param commandPickupMaxMs the most a handler thread takes to notice a new command
 */
public record DocScenario(
    boolean enabled,
    boolean commands,
    Map<String, ConflictPolicy> collections,
    List<String> active,
    int keys,
    long maxClockDriftMs,
    boolean rejectDriftingClocks,
    List<List<String>> groups,
    List<Boolean> deltaSync,
    boolean operatorLeavesConflictsOpen,
    long commandRunMaxMs,
    long commandPickupMaxMs) {

  /** The collections by short name, one per strategy (merge twice: by HLC and flagged). */
  static final List<String> COLLECTIONS = List.of("lww", "cw", "ew", "mg", "mf", "mn", "cu");

  static final List<String> GROUPS = List.of("g1", "g2");

  /**
   * A declared collection no device may write in shared scopes (it is not in {@code
   * documents.device_writable}): only the adversary writes it, and every such change is refused.
   */
  static final String READ_ONLY = "ro";

  /** The name the custom resolver is configured under (it is named in the audit log). */
  static final String RESOLVER_NAME = "sim.Resolver";

  /**
   * The cloud's rules: the workload's collections are device-writable in the fleet and every group
   * (so edges edit shared documents and conflicts arise); {@link #READ_ONLY} is not.
   */
  public DocumentRules rules() {
    List<String> writable = new ArrayList<>();
    for (String c : COLLECTIONS) {
      writable.add("fleet/" + c);
      writable.add("group:*/" + c);
    }
    return new DocumentRules(
            collections,
            ProtocolLimits.DEFAULT_MAX_DOCUMENT_BYTES,
            maxClockDriftMs,
            rejectDriftingClocks)
        .withDeviceWritable(new DeviceWrites(writable));
  }

  static DocScenario draw(SplittableRandom r, int edges) {
    boolean enabled = r.nextInt(8) != 0;
    Map<String, ConflictPolicy> collections = new TreeMap<>();
    for (String name : COLLECTIONS) {
      ConflictStrategy strategy =
          switch (name) {
            case "lww" -> ConflictStrategy.LAST_WRITE_WINS;
            case "cw" -> ConflictStrategy.CLOUD_WINS;
            case "ew" -> ConflictStrategy.EDGE_WINS;
            case "mg", "mf" -> ConflictStrategy.MERGE;
            case "mn" -> ConflictStrategy.MANUAL;
            default -> ConflictStrategy.CUSTOM;
          };
      boolean custom = strategy == ConflictStrategy.CUSTOM;
      collections.put(
          name,
          new ConflictPolicy(
              strategy,
              name.equals("mf"),
              // auto_resolve off now and then: every conflict of the collection waits for review
              strategy == ConflictStrategy.MANUAL || r.nextInt(12) != 0,
              r.nextInt(4) == 0,
              custom ? new SimResolver() : null,
              custom ? RESOLVER_NAME : null));
    }
    collections.put(READ_ONLY, ConflictPolicy.of(ConflictStrategy.LAST_WRITE_WINS));
    List<String> active = new ArrayList<>(COLLECTIONS);
    int activeCount = 1 + r.nextInt(3);
    while (active.size() > activeCount) {
      active.remove(r.nextInt(active.size()));
    }
    List<List<String>> groups = new ArrayList<>();
    List<Boolean> delta = new ArrayList<>();
    for (int i = 0; i < edges; i++) {
      List<String> g = new ArrayList<>();
      if (r.nextInt(2) == 0) {
        g.add("g1");
      }
      if (r.nextInt(3) == 0) {
        g.add("g2");
      }
      groups.add(List.copyOf(g));
      delta.add(r.nextInt(3) != 0);
    }
    return new DocScenario(
        enabled,
        enabled && r.nextInt(4) != 0,
        collections,
        List.copyOf(active),
        1 + r.nextInt(2),
        List.of(60_000L, 300_000L, 3_600_000L).get(r.nextInt(3)),
        r.nextInt(4) == 0,
        List.copyOf(groups),
        List.copyOf(delta),
        r.nextInt(3) == 0,
        List.of(5L, 300L, 3_000L).get(r.nextInt(3)),
        List.of(0L, 50L, 1_000L).get(r.nextInt(3)));
  }
}
