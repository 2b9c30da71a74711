package io.edgesync.testing;

import io.edgesync.protocol.Transport;
import java.util.ArrayList;
import java.util.List;

/**
 * An in-memory {@link Transport} for tests: records what the edge sends, lets the test deliver
 * frames from the "cloud", refuse or cut connections. Not thread safe; drive it from the test
 * thread.
 */
public final class FakeTransport implements Transport {
  private final List<byte[]> sent = new ArrayList<>();
  private Listener listener;
  private FakeConnection current;
  private int connectAttempts;
  private boolean refuse;

  @Override
  public void connect(Listener listener) {
    this.listener = listener;
    connectAttempts++;
    FakeConnection c = new FakeConnection();
    if (refuse) {
      listener.onClosed(c, "connection refused (fake)");
      return;
    }
    current = c;
    listener.onOpen(c);
  }

  /** Makes later connects fail at once. */
  public void refuseConnections(boolean refuse) {
    this.refuse = refuse;
  }

  /** Delivers a frame from the cloud on the current connection. */
  public void deliver(byte[] frame) {
    if (current == null) {
      throw new IllegalStateException("no open connection");
    }
    listener.onFrame(current, frame);
  }

  /** Cuts the current connection as a network failure would. */
  public void cut(String reason) {
    if (current != null) {
      FakeConnection c = current;
      current = null;
      c.open = false;
      listener.onClosed(c, reason);
    }
  }

  public boolean isOpen() {
    return current != null;
  }

  public int connectAttempts() {
    return connectAttempts;
  }

  /** Frames sent so far; the list is cleared by the call. */
  public List<byte[]> takeSent() {
    List<byte[]> copy = new ArrayList<>(sent);
    sent.clear();
    return copy;
  }

  private final class FakeConnection implements Connection {
    boolean open = true;

    @Override
    public void send(byte[] frame) {
      if (open) {
        sent.add(frame);
      }
    }

    @Override
    public void close(String reason) {
      if (open && current == this) {
        cut(reason);
      }
    }
  }
}
