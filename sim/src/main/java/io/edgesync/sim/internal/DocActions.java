package io.edgesync.sim.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.edgesync.engine.docs.DocKey;
import java.util.ArrayList;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * The document and command workload: edges put and delete documents of their own scope and of the
 * shared scopes they read, the cloud writes and deletes any scope through the REST calls (now and
 * then only if the version is still the one it read), an operator resolves open conflicts (take the
 * edge's value, the cloud's, or a new one), and the cloud queues commands with random TTLs. Keys
 * and values come from small sets, so that edits collide and merges meet on the same fields.
 */
final class DocActions {
  private static final JsonNodeFactory F = JsonNodeFactory.instance;

  private DocActions() {}

  static List<Action> all() {
    return List.of(
        new EdgeWrite(false),
        new EdgeWrite(true),
        new CloudWrite(false),
        new CloudWrite(true),
        new CloudChurn(),
        new Resolve(),
        new QueueCommand());
  }

  /** A document value: mostly small objects over a few fields, sometimes anything else. */
  static JsonNode value(RandomGenerator r) {
    int kind = r.nextInt(20);
    if (kind == 0) {
      return F.numberNode(r.nextInt(4));
    }
    if (kind == 1) {
      return F.textNode("s" + r.nextInt(3));
    }
    if (kind == 2) {
      ArrayNode a = F.arrayNode();
      a.add(r.nextInt(3));
      if (r.nextBoolean()) {
        a.add(F.objectNode().putNull("z"));
      }
      return a;
    }
    if (kind == 3) {
      return F.nullNode();
    }
    ObjectNode o = F.objectNode();
    for (String f : List.of("a", "b", "c")) {
      if (r.nextInt(3) != 0) {
        o.put(f, r.nextInt(4));
      }
    }
    if (r.nextInt(4) == 0) {
      ObjectNode n = o.putObject("n");
      n.put("x", r.nextInt(3));
      if (r.nextBoolean()) {
        n.put("y", r.nextInt(3));
      }
    }
    if (r.nextInt(10) == 0) {
      o.putNull("z"); // a merge patch cannot set a null member: the edge must send it whole
    }
    return o;
  }

  static String collection(World world, RandomGenerator r) {
    List<String> active = world.scenario().docs().active();
    return active.get(r.nextInt(active.size()));
  }

  static String key(World world, RandomGenerator r) {
    return "k" + r.nextInt(world.scenario().docs().keys());
  }

  /** A document of a scope the edge reads: its own a third of the time, else a shared one. */
  static DocKey edgeKey(World world, SimEdge e, RandomGenerator r) {
    List<String> scopes = e.scopes();
    String scope = r.nextInt(3) == 0 ? scopes.get(0) : scopes.get(1 + r.nextInt(scopes.size() - 1));
    return new DocKey(scope, collection(world, r), key(world, r));
  }

  /** Any scope: the fleet half the time, else a device's or a group's. */
  static DocKey cloudKey(World world, RandomGenerator r) {
    String scope =
        switch (r.nextInt(4)) {
          case 0, 1 -> "fleet";
          case 2 -> "device:" + world.randomEdge(r).deviceId();
          default -> "group:" + DocScenario.GROUPS.get(r.nextInt(DocScenario.GROUPS.size()));
        };
    return new DocKey(scope, collection(world, r), key(world, r));
  }

  /** An application on an edge puts (or deletes) a document. */
  static final class EdgeWrite implements Action {
    private final boolean delete;

    EdgeWrite(boolean delete) {
      this.delete = delete;
    }

    @Override
    public String name() {
      return delete ? "docEdgeDelete" : "docEdgePut";
    }

    @Override
    public int weight(World world) {
      return delete ? 8 : 36;
    }

    @Override
    public void perform(World world, RandomGenerator random) {
      SimEdge e = world.randomEdge(random);
      DocKey k = edgeKey(world, e, random);
      if (delete) {
        e.writeDoc(k, null);
        return;
      }
      JsonNode current = e.alive() && random.nextBoolean() ? e.localValue(k) : null;
      if (current != null && current.isObject()) {
        // Read, change one field, write back: what applications mostly do (a small merge patch).
        ObjectNode changed = ((ObjectNode) current).deepCopy();
        changed.put(List.of("a", "b", "c").get(random.nextInt(3)), random.nextInt(4));
        e.writeDoc(k, changed);
      } else {
        e.writeDoc(k, value(random));
      }
    }
  }

  /** A cloud application writes (or deletes) a document through the REST API. */
  static final class CloudWrite implements Action {
    private final boolean delete;

    CloudWrite(boolean delete) {
      this.delete = delete;
    }

    @Override
    public String name() {
      return delete ? "docCloudDelete" : "docCloudPut";
    }

    @Override
    public int weight(World world) {
      return delete ? 4 : 14;
    }

    @Override
    public void perform(World world, RandomGenerator random) {
      DocKey k = cloudKey(world, random);
      Long ifVersion = null;
      if (random.nextInt(5) == 0) {
        // A read-modify-write: only if nobody wrote since the version it read.
        List<DocLedger.Version> log = world.docLedger().log().get(k);
        DocLedger.Version last = log == null ? null : log.get(log.size() - 1);
        ifVersion = last == null || last.value() == null ? 0L : last.version();
      }
      world.cloud().writeDoc(k, delete ? null : value(random), ifVersion);
    }
  }

  /**
   * A cloud application rewrites one shared document many times in a row (a setting that churns):
   * more versions than the simulated cloud keeps as bases (32), so that a merge patch an edge made
   * on an old base comes back as "resend whole".
   */
  static final class CloudChurn implements Action {
    @Override
    public String name() {
      return "docCloudChurn";
    }

    @Override
    public int weight(World world) {
      return 1;
    }

    @Override
    public void perform(World world, RandomGenerator random) {
      // A shared document with an edge's change pending (on its way, or waiting while the edge
      // is offline), else any fleet document.
      SimEdge e = world.randomEdge(random);
      for (SimEdge other : world.edges()) {
        if (other.alive()
            && other.engine().state() != io.edgesync.engine.edge.EdgeSyncEngine.State.ACTIVE) {
          e = other; // offline: its edit waits and its base ages
        }
      }
      List<DocKey> shared = new ArrayList<>();
      if (e.alive() && e.docs() != null) {
        for (ReplicaFile.Row r : e.rows()) {
          // Edited on a version it had: the change may go as a merge patch against that base.
          if (r.pending() && r.version() > 0 && !r.scope().equals("device")) {
            shared.add(new DocKey(r.scope(), r.collection(), r.key()));
          }
        }
      }
      DocKey k =
          shared.isEmpty()
              ? new DocKey("fleet", collection(world, random), key(world, random))
              : shared.get(random.nextInt(shared.size()));
      int n = random.nextInt(33, 80);
      world.trace(
          "cloud churns "
              + k
              + " "
              + n
              + " times"
              + (shared.isEmpty() ? "" : " (pending on " + e.deviceId() + ")"));
      for (int i = 0; i < n; i++) {
        ObjectNode v = F.objectNode();
        v.put("a", random.nextInt(4));
        v.put("churn", i);
        world.cloud().writeDoc(k, v, null);
      }
    }
  }

  /**
   * An operator resolves an open conflict: the edge's value, the cloud's, or a value of its own.
   */
  static final class Resolve implements Action {
    @Override
    public String name() {
      return "docResolve";
    }

    @Override
    public int weight(World world) {
      return world.docLedger().openConflicts().isEmpty() ? 0 : 10;
    }

    @Override
    public void perform(World world, RandomGenerator random) {
      resolveOne(world, random);
    }
  }

  /** Resolves one open conflict, chosen at random, in a random way. */
  static void resolveOne(World world, RandomGenerator random) {
    List<Long> open = new ArrayList<>(world.docLedger().openConflicts());
    if (open.isEmpty()) {
      return;
    }
    long id = open.get(random.nextInt(open.size()));
    resolve(world, random, id);
  }

  static void resolve(World world, RandomGenerator random, long id) {
    switch (random.nextInt(3)) {
      case 0 -> world.cloud().resolve(id, "edge", null);
      case 1 -> world.cloud().resolve(id, "cloud", null);
      default -> world.cloud().resolve(id, null, value(random));
    }
  }

  /** The cloud queues a command for a device: a TTL of a moment, of seconds or of minutes. */
  static final class QueueCommand implements Action {
    @Override
    public String name() {
      return "commandQueue";
    }

    @Override
    public int weight(World world) {
      return world.scenario().docs().commands() ? 8 : 0;
    }

    @Override
    public void perform(World world, RandomGenerator random) {
      SimEdge e = world.randomEdge(random);
      long ttl =
          switch (random.nextInt(3)) {
            case 0 -> random.nextLong(1, 400);
            case 1 -> random.nextLong(400, 10_000);
            default -> random.nextLong(10_000, 3_600_000);
          };
      world.cloud().queueCommand(e.deviceId(), ttl);
    }
  }
}
