package io.edgesync.sim.internal;

import io.edgesync.engine.CloudSession;
import io.edgesync.engine.CloudStore;
import io.edgesync.protocol.FrameCodec;
import io.edgesync.protocol.wire.Frame;
import io.edgesync.server.SqliteCloudStore;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.UnaryOperator;

/**
 * The simulated cloud: the real {@link SqliteCloudStore} on a SQLite file and one real {@link
 * CloudSession} per connection, wired the way {@code SyncServer} wires them (a newer session of a
 * device closes the older one; a closed connection calls {@code onClosed}). A crash copies the
 * store's files as they are on disk, abandons the instance and reopens from the copy on restart.
 * Not thread safe; owned by the simulation thread.
 */
final class SimCloud {
  /** Jetty's idle timeout in SyncServer: a connection nobody hears from is closed after this. */
  static final long IDLE_TIMEOUT_MS = 5 * 60_000;

  private final World world;
  private final Path root;
  private final NodeClock clock;
  private final UnaryOperator<CloudStore> storeWrapper;

  private int incarnation;
  private boolean alive;
  private SqliteCloudStore sqlite;
  private CloudStore store;
  private final Map<String, SimConnection> byDevice = new TreeMap<>();
  private final Set<SimConnection> open = new LinkedHashSet<>();

  SimCloud(World world, Path root, NodeClock clock, UnaryOperator<CloudStore> storeWrapper) {
    this.world = world;
    this.root = root;
    this.clock = clock;
    this.storeWrapper = storeWrapper;
  }

  boolean alive() {
    return alive;
  }

  int incarnation() {
    return incarnation;
  }

  CloudStore store() {
    return store;
  }

  NodeClock clock() {
    return clock;
  }

  long nowMs() {
    return clock.wallMs(world.now());
  }

  private Path storeFile() {
    return root.resolve("run" + incarnation).resolve("cloud.db");
  }

  void start() {
    try {
      sqlite = new SqliteCloudStore(storeFile());
    } catch (SQLException e) {
      throw new SimFailure("the cloud store did not open: " + e.getMessage());
    }
    store = storeWrapper.apply(sqlite);
    alive = true;
    world.trace("cloud started (run " + incarnation + ")");
  }

  /** The process dies: sessions vanish without onClosed; the store keeps what was committed. */
  void crash() {
    world.trace("cloud CRASH");
    for (SimConnection c : new ArrayList<>(open)) {
      world.network().cloudCrashed(c);
      c.inbox.clear();
      c.handling = false;
      c.sessionClosed = true;
    }
    open.clear();
    byDevice.clear();
    SimEdge.copyStoreImage(
        storeFile(), root.resolve("run" + (incarnation + 1)).resolve("cloud.db"));
    sqlite.close();
    sqlite = null;
    store = null;
    alive = false;
    incarnation++;
    world.stats().add("cloud.crashes", 1);
  }

  /** A connection arrives; false if nobody is listening. */
  boolean accept(SimConnection c) {
    if (!alive) {
      return false;
    }
    c.cloudOpen = true;
    c.cloudIncarnation = incarnation;
    c.session = new CloudSession(world.scenario().serverPolicy(), store, new SessionIo(c));
    open.add(c);
    return true;
  }

  /**
   * A frame (or, with bytes null, the end of the stream) arrived on {@code c}: the server reads it
   * and hands it to the session's handler, which runs after a random delay (thread scheduling, the
   * store's commit), so that frames of different connections interleave as on a real server.
   */
  void deliver(SimConnection c, byte[] bytes, String label, Frame frame) {
    if (!alive || !c.cloudOpen || c.cloudIncarnation != incarnation) {
      return;
    }
    c.inbox.addLast(new SimConnection.Inbound(bytes, label, frame));
    if (!c.handling) {
      dispatch(c);
    }
  }

  private void dispatch(SimConnection c) {
    if (c.inbox.isEmpty()) {
      c.handling = false;
      if (!c.cloudOpen) {
        closed(c);
      }
      return;
    }
    c.handling = true;
    int inc = incarnation;
    world
        .events()
        .at(
            world.now() + world.network().handlerDelayMs(),
            () -> {
              if (inc == incarnation && alive) {
                handle(c);
              }
            });
  }

  private void handle(SimConnection c) {
    SimConnection.Inbound in = c.inbox.pollFirst();
    if (in.bytes() == null) {
      world.trace(c.name() + " cloud sees " + in.label());
      c.cloudOpen = false;
      c.inbox.clear();
      c.handling = false;
      closed(c);
      return;
    }
    Frame frame = in.frame();
    boolean late = c.edgeGone || c.superseded;
    world.trace(c.name() + " cloud < " + in.label() + (late ? " (late)" : ""));
    if (late) {
      world.stats().add("frames.lateAtCloud", 1);
    }
    if (frame.hasBatch()
        && frame.getBatch().getFirstSequence()
            <= store
                .checkpoints(c.edge.deviceId())
                .getOrDefault(frame.getBatch().getStream(), 0L)) {
      world.stats().add("frames.resentAtCloud", 1);
    }
    CloudSession session = c.session;
    boolean wasHandshaking = session.state() == CloudSession.State.AWAIT_HELLO;
    session.onFrame(nowMs(), in.bytes());
    if (wasHandshaking && session.state() == CloudSession.State.ACTIVE) {
      SimConnection previous = byDevice.put(session.deviceId(), c);
      if (previous != null && previous != c) {
        world.stats().add("sessions.replaced", 1);
        if (previous.handling) {
          world.stats().add("sessions.overlapping", 1);
        }
        previous.superseded = true;
        closeFromCloud(previous, "replaced by a newer session of the same device");
      }
    }
    dispatch(c);
  }

  /** Jetty's idle timeout fired for {@code c}. */
  void idleTimeout(SimConnection c) {
    if (alive && c.cloudOpen && c.cloudIncarnation == incarnation) {
      world.trace(c.name() + " cloud idle timeout");
      closeFromCloud(c, "idle timeout");
    }
  }

  /**
   * The server closes {@code c}: the edge sees the end of the stream behind what was sent. A frame
   * already in the handler finishes; frames read but not yet handled are dropped.
   */
  void closeFromCloud(SimConnection c, String reason) {
    if (!c.cloudOpen) {
      return;
    }
    world.network().closeFromCloud(c, reason);
    c.cloudOpen = false;
    if (c.handling) {
      while (c.inbox.size() > 1) {
        c.inbox.pollLast();
      }
    } else {
      closed(c);
    }
  }

  /** SyncServer.onClose. */
  private void closed(SimConnection c) {
    if (c.sessionClosed) {
      return;
    }
    c.sessionClosed = true;
    c.cloudOpen = false;
    open.remove(c);
    String device = c.session.deviceId();
    c.session.onClosed(nowMs());
    if (device != null) {
      byDevice.remove(device, c);
    }
  }

  /** The device's committed checkpoints, or null while the cloud is down. */
  Map<String, Long> checkpoints(String deviceId) {
    return alive ? store.checkpoints(deviceId) : null;
  }

  void shutdown() {
    if (sqlite != null) {
      sqlite.close();
      sqlite = null;
    }
  }

  private final class SessionIo implements CloudSession.Io {
    private final SimConnection c;

    SessionIo(SimConnection c) {
      this.c = c;
    }

    @Override
    public void send(Frame frame) {
      String label = Describe.frame(frame);
      if (frame.hasError()) {
        world.protocolError(c.name() + " cloud sent " + label);
      }
      if (c.cloudOpen) {
        world.trace(c.name() + " cloud > " + label);
        c.toEdge.send(FrameCodec.encode(frame), label, frame);
      }
    }

    @Override
    public void close(String reason) {
      // Called from inside onFrame; SyncServer's close reaches onClose later on.
      world.events().at(world.now(), () -> closeFromCloud(c, reason));
    }
  }
}
