package io.edgesync.sim.internal;

import io.edgesync.engine.cloud.CloudSession;
import io.edgesync.protocol.wire.Frame;
import java.util.ArrayDeque;

/**
 * One simulated WebSocket between an edge and the cloud: two ordered channels of real frame bytes.
 * Like TCP, a channel never reorders or duplicates; it can be delayed as a whole (a partition or a
 * stalled connection holds everything behind its head), and when the connection ends it may lose
 * its tail (what was still in flight). A close reaches the peer as an end-of-stream marker behind
 * the data, or not at all when the connection died silently. Duplicates and reordering between
 * connections come from resends after reconnects and from an old connection's late frames. Not
 * thread safe; owned by the simulation thread.
 */
final class SimConnection {
  final int id;
  final SimEdge edge;
  final int edgeIncarnation;
  private final World world;

  /** The edge has been told the connection is open and has not closed it. */
  boolean edgeOpen;

  /** The edge side is gone (closed, given up while connecting, or crashed). */
  boolean edgeGone;

  /** The cloud accepted the connection and has not closed it. */
  boolean cloudOpen;

  CloudSession session;
  int cloudIncarnation = -1;

  /** The cloud node that accepted the connection (always 0 with one node). */
  int cloudNode;

  /**
   * Frames the cloud has read from the connection and not yet handled, in order. The head is in the
   * server's handler (one frame of a session at a time, as Jetty delivers them) while {@code
   * handling}; a close by the server lets that one finish and drops the rest.
   */
  final ArrayDeque<Inbound> inbox = new ArrayDeque<>();

  boolean handling;

  /** SyncServer.onClose ran: the session got onClosed and left the registry. */
  boolean sessionClosed;

  /** A frame (or, with bytes null, the end of the stream) the cloud has read. */
  record Inbound(byte[] bytes, String label, Frame frame) {}

  /** A connection whose frames come after a newer session of the same device started. */
  boolean superseded;

  /** A stalled connection delivers nothing, in either direction, before this time. */
  long holdUntilMs;

  final Channel toCloud = new Channel(true);
  final Channel toEdge = new Channel(false);

  SimConnection(int id, SimEdge edge, World world) {
    this.id = id;
    this.edge = edge;
    this.edgeIncarnation = edge.incarnation();
    this.world = world;
  }

  String name() {
    return edge.deviceId() + "#" + id;
  }

  /** What is queued on one direction of the connection. */
  final class Channel {
    final boolean towardCloud;
    private final ArrayDeque<Message> queue = new ArrayDeque<>();
    private long lastAtMs;
    private long pumpGeneration;
    private boolean dead;

    Channel(boolean towardCloud) {
      this.towardCloud = towardCloud;
    }

    /** Queues a frame (or, with bytes null, the end of the stream) for delivery in order. */
    void send(byte[] bytes, String label, Frame frame) {
      if (dead) {
        world.trace(name() + (towardCloud ? " >x " : " <x ") + label + " (link dead)");
        return;
      }
      long at = Math.max(lastAtMs, world.now() + world.network().latencyMs());
      lastAtMs = at;
      queue.addLast(new Message(bytes, label, frame, at));
      if (queue.size() == 1) {
        schedulePump(at);
      }
    }

    void close(String reason) {
      send(null, "close: " + reason, null);
    }

    /** Nothing sent from now on arrives. */
    void kill() {
      dead = true;
    }

    boolean isDead() {
      return dead;
    }

    void clear() {
      queue.clear();
    }

    int size() {
      return queue.size();
    }

    /** Keeps a random prefix of what is in flight (maybe all, maybe nothing); returns the loss. */
    int loseTail(int keep) {
      int lost = 0;
      while (queue.size() > keep) {
        queue.pollLast();
        lost++;
      }
      return lost;
    }

    void kick() {
      if (!queue.isEmpty()) {
        schedulePump(world.now());
      }
    }

    private void schedulePump(long atMs) {
      long generation = ++pumpGeneration;
      world.events().at(atMs, () -> pump(generation));
    }

    private void pump(long generation) {
      if (generation != pumpGeneration || queue.isEmpty()) {
        return;
      }
      long blockedUntil = Math.max(holdUntilMs, world.network().linkDownUntil(edge));
      if (blockedUntil > world.now()) {
        schedulePump(blockedUntil);
        return;
      }
      Message m = queue.peekFirst();
      if (m.atMs > world.now()) {
        schedulePump(m.atMs);
        return;
      }
      queue.pollFirst();
      if (!queue.isEmpty()) {
        schedulePump(Math.max(world.now(), queue.peekFirst().atMs));
      }
      if (towardCloud) {
        world.cloud().deliver(SimConnection.this, m.bytes, m.label, m.frame);
      } else {
        edge.deliver(SimConnection.this, m.bytes, m.label);
      }
    }
  }

  /** A frame's bytes, as the receiver gets them, and the frame itself, for the trace only. */
  private record Message(byte[] bytes, String label, Frame frame, long atMs) {}
}
