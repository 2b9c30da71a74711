package io.edgesync.agent.internal;

import io.edgesync.protocol.Transport;
import io.edgesync.protocol.wire.Frame;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The agent's {@link EdgeNode.Link} over a {@link Transport}: each attempt is the transport's
 * listener for one connect, and hands every event to the node on the node's loop (the transport
 * calls back on its own threads).
 *
 * <p>Thread safe: the transport's callbacks only post to the loop; the rest runs on the loop.
 */
public final class TransportLink implements EdgeNode.Link<TransportLink.Attempt> {
  private final Transport transport;
  private final EdgeNode.Scheduler loop;
  private volatile EdgeNode<Attempt> node;

  public TransportLink(Transport transport, EdgeNode.Scheduler loop) {
    this.transport = transport;
    this.loop = loop;
  }

  /** The node the attempts report to; set once, before the node starts. */
  public void bind(EdgeNode<Attempt> node) {
    if (this.node != null) {
      throw new IllegalStateException("the link is bound to a node already");
    }
    this.node = node;
  }

  @Override
  public Attempt newAttempt() {
    return new Attempt();
  }

  @Override
  public void connect(Attempt attempt) {
    transport.connect(attempt);
  }

  @Override
  public void send(Attempt attempt, Frame frame, byte[] bytes) {
    attempt.connection.send(bytes);
  }

  @Override
  public void close(Attempt attempt, String reason) {
    attempt.connection.close(reason);
  }

  @Override
  public void abandon(Attempt attempt) {
    // Nothing to do: an attempt that opens later finds itself superseded and is closed then.
  }

  /** One connect: its connection, once it opened (set on the loop). */
  public final class Attempt implements Transport.Listener {
    private Transport.Connection connection;

    /** Progress reports are coalesced: at most one waits on the loop at a time. */
    private final AtomicBoolean progressPending = new AtomicBoolean();

    @Override
    public void onOpen(Transport.Connection c) {
      loop.post(
          () -> {
            connection = c;
            node.onOpen(this);
          });
    }

    @Override
    public void onFrame(Transport.Connection c, byte[] bytes) {
      loop.post(() -> node.onFrame(this, bytes));
    }

    @Override
    public void onSendProgress(Transport.Connection c, long bytes) {
      if (progressPending.compareAndSet(false, true)) {
        loop.post(
            () -> {
              progressPending.set(false);
              node.onSendProgress(this);
            });
      }
    }

    @Override
    public void onClosed(Transport.Connection c, String reason) {
      loop.post(() -> node.onClosed(this, reason));
    }
  }
}
