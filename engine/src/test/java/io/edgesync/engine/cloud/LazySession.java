package io.edgesync.engine.cloud;

import io.edgesync.protocol.FrameCodec;
import io.edgesync.protocol.wire.Frame;
import java.util.function.Supplier;

/**
 * The cloud session under test, opened at first use (so that a test can change the policy or the
 * catalog first) and closed after the test if it was opened.
 */
final class LazySession {
  private final Supplier<CloudSession> open;
  private CloudSession session;

  LazySession(Supplier<CloudSession> open) {
    this.open = open;
  }

  CloudSession get() {
    if (session == null) {
      session = open.get();
    }
    return session;
  }

  /** A new connection: the next use opens a new session (the old one is dropped, not closed). */
  void newConnection() {
    session = null;
  }

  /** One frame arrives at {@code nowMs}, encoded as on the wire. */
  void receive(long nowMs, Frame frame) {
    get().onFrame(nowMs, FrameCodec.encode(frame));
  }

  /** The transport closed, if the session was opened. */
  void closeIfOpen(long nowMs) {
    if (session != null) {
      session.onClosed(nowMs);
    }
  }
}
