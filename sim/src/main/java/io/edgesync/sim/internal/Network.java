package io.edgesync.sim.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The simulated network between the edges and the cloud: latencies, partitions (one device's link,
 * or the cloud's link to everyone), connection setup (refused or unanswered when the far side is
 * unreachable), and the ways a connection ends: a close the peer hears about behind the data, a
 * reset that may lose what was in flight, a silent death only timeouts notice. During healing it
 * stops losing anything. Not thread safe; owned by the simulation thread.
 */
final class Network {
  private final World world;
  private final SplittableRandom random;
  private final Scenario scenario;
  private final long[] linkDownUntilMs;
  private long cloudLinkDownUntilMs;
  private final List<SimConnection> connections = new ArrayList<>();
  private int nextConnectionId = 1;
  private boolean lossy = true;

  Network(World world, SplittableRandom random, Scenario scenario, int edges) {
    this.world = world;
    this.random = random;
    this.scenario = scenario;
    this.linkDownUntilMs = new long[edges];
  }

  /** How long the cloud takes to get to a frame it read (a thread, the store's commit). */
  long handlerDelayMs() {
    return scenario.cloudHandlerMaxMs() == 0
        ? 0
        : random.nextLong(0, scenario.cloudHandlerMaxMs() + 1);
  }

  long latencyMs() {
    return random.nextLong(scenario.latencyMinMs(), scenario.latencyMaxMs() + 1);
  }

  /** Until when the edge's path to the cloud is cut (in the past when it is up). */
  long linkDownUntil(SimEdge edge) {
    return Math.max(linkDownUntilMs[edge.index()], cloudLinkDownUntilMs);
  }

  private boolean reachable(SimEdge edge) {
    return linkDownUntil(edge) <= world.now() && world.cloud().alive();
  }

  SimConnection open(SimEdge edge) {
    SimConnection c = new SimConnection(nextConnectionId++, edge, world);
    connections.add(c);
    if (connections.size() > 64) {
      connections.removeIf(x -> x.edgeGone && !x.cloudOpen);
    }
    world.stats().add("connections", 1);
    return c;
  }

  /** TCP and WebSocket handshake: the cloud accepts after one latency, the edge hears after two. */
  void connect(SimConnection c) {
    if (!reachable(c.edge)) {
      unreachable(c);
      return;
    }
    world
        .events()
        .at(
            world.now() + latencyMs(),
            () -> {
              if (c.edgeGone) {
                return; // the edge gave up first; its reset reaches nobody
              }
              if (!reachable(c.edge) || !world.cloud().accept(c)) {
                unreachable(c);
                return;
              }
              world.trace(c.name() + " accepted by the cloud");
              world.events().at(world.now() + latencyMs(), () -> c.edge.onOpen(c));
            });
  }

  private void unreachable(SimConnection c) {
    if (random.nextInt(100) < scenario.faults().refusedPercent()) {
      world.events().at(world.now() + latencyMs(), () -> c.edge.onConnectFailed(c, "refused"));
    } else {
      world.trace(c.name() + " connect unanswered");
    }
  }

  /** The edge closes: the cloud hears behind the data, unless the link already died. */
  void closeFromEdge(SimConnection c, String reason) {
    c.edgeOpen = false;
    c.edgeGone = true;
    c.toEdge.clear();
    c.toEdge.kill();
    if (c.cloudOpen) {
      endToward(c, c.toCloud, reason);
    }
  }

  /** The cloud closes: the edge hears behind the data (an Error frame comes first). */
  void closeFromCloud(SimConnection c, String reason) {
    c.toCloud.clear();
    c.toCloud.kill();
    if (!c.edgeGone) {
      c.toEdge.close(reason);
    }
    c.toEdge.kill();
  }

  void edgeCrashed(SimConnection c) {
    c.edgeOpen = false;
    c.edgeGone = true;
    c.toEdge.clear();
    c.toEdge.kill();
    if (c.cloudOpen) {
      endToward(c, c.toCloud, "edge process died");
    }
  }

  void cloudCrashed(SimConnection c) {
    c.cloudOpen = false;
    c.toCloud.clear();
    c.toCloud.kill();
    if (!c.edgeGone) {
      endToward(c, c.toEdge, "cloud process died");
    }
  }

  /**
   * The far side of {@code channel} is told the connection ended: after what is in flight (maybe
   * losing its tail), or never (a silent death; the cloud's idle timeout or the edge's heartbeat
   * timeout notices).
   */
  private void endToward(SimConnection c, SimConnection.Channel channel, String reason) {
    if (channel.isDead()) {
      return;
    }
    if (lossy && random.nextInt(100) < scenario.faults().tailLossPercent()) {
      int lost = channel.loseTail(random.nextInt(channel.size() + 1));
      if (lost > 0) {
        world.trace(c.name() + " lost " + lost + " frames in flight");
        world.stats().add("frames.lostInFlight", lost);
      }
    }
    if (lossy && random.nextInt(100) < scenario.faults().silentPercent()) {
      channel.kill();
      world.trace(c.name() + " ends silently");
      if (channel.towardCloud) {
        world
            .events()
            .at(world.now() + SimCloud.IDLE_TIMEOUT_MS, () -> world.cloud().idleTimeout(c));
      }
    } else {
      channel.close(reason);
      channel.kill();
    }
  }

  // ---------------------------------------------------------------- faults

  /** The path breaks under a live connection: both sides may lose their tails, maybe silently. */
  boolean cutRandomConnection() {
    List<SimConnection> live = new ArrayList<>();
    for (SimConnection c : connections) {
      if (c.edgeOpen && c.cloudOpen) {
        live.add(c);
      }
    }
    if (live.isEmpty()) {
      return false;
    }
    SimConnection c = live.get(random.nextInt(live.size()));
    world.trace(c.name() + " CUT");
    world.stats().add("faults.cuts", 1);
    if (random.nextBoolean()) {
      // A reset both sides hear (each behind what still arrives).
      endToward(c, c.toCloud, "connection reset");
      endToward(c, c.toEdge, "connection reset");
    } else {
      int keep = random.nextInt(c.toCloud.size() + 1);
      c.toCloud.loseTail(keep);
      c.toEdge.loseTail(random.nextInt(c.toEdge.size() + 1));
      c.toCloud.kill();
      c.toEdge.kill();
      world.trace(c.name() + " dies silently");
      world.events().at(world.now() + SimCloud.IDLE_TIMEOUT_MS, () -> world.cloud().idleTimeout(c));
    }
    return true;
  }

  /** A live connection stops moving for a while, in both directions, then delivers everything. */
  boolean stallRandomConnection(long durationMs) {
    List<SimConnection> live = new ArrayList<>();
    for (SimConnection c : connections) {
      if (c.cloudOpen) {
        live.add(c);
      }
    }
    if (live.isEmpty()) {
      return false;
    }
    SimConnection c = live.get(random.nextInt(live.size()));
    c.holdUntilMs = Math.max(c.holdUntilMs, world.now() + durationMs);
    world.trace(c.name() + " STALL " + durationMs + " ms");
    world.stats().add("faults.stalls", 1);
    return true;
  }

  void partition(int edgeIndex, long durationMs) {
    long until = world.now() + durationMs;
    if (edgeIndex < 0) {
      cloudLinkDownUntilMs = Math.max(cloudLinkDownUntilMs, until);
      world.trace("PARTITION cloud from everyone for " + durationMs + " ms");
    } else {
      linkDownUntilMs[edgeIndex] = Math.max(linkDownUntilMs[edgeIndex], until);
      world.trace("PARTITION edge-" + (edgeIndex + 1) + " for " + durationMs + " ms");
    }
    world.stats().add("faults.partitions", 1);
  }

  /** Healing: partitions and stalls end now, and nothing in flight is lost any more. */
  void heal() {
    lossy = false;
    cloudLinkDownUntilMs = 0;
    java.util.Arrays.fill(linkDownUntilMs, 0);
    for (SimConnection c : connections) {
      c.holdUntilMs = 0;
      c.toCloud.kick();
      c.toEdge.kick();
    }
  }
}
