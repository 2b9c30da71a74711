package io.edgesync.engine.testing;

import io.edgesync.engine.cloud.CloudSession;
import io.edgesync.protocol.wire.Frame;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * A {@link CloudSession.Io} that records what the session does: frames sent and closes (with their
 * reasons), in order. {@link #onEach} also tells a listener of each, to interleave them with what
 * the store did. Not thread safe.
 */
public final class RecordingCloudIo implements CloudSession.Io {
  private final List<Frame> frames = new ArrayList<>();
  private final List<String> closes = new ArrayList<>();
  private Consumer<Frame> sent = f -> {};
  private Consumer<String> closed = r -> {};

  @Override
  public void send(Frame frame) {
    frames.add(frame);
    sent.accept(frame);
  }

  @Override
  public void close(String reason) {
    closes.add(reason);
    closed.accept(reason);
  }

  /** Tells {@code sent} of each frame and {@code closed} of each close, after recording it. */
  public RecordingCloudIo onEach(Consumer<Frame> sent, Consumer<String> closed) {
    this.sent = sent;
    this.closed = closed;
    return this;
  }

  /** Forgets the frames and closes recorded so far. */
  public void clear() {
    frames.clear();
    closes.clear();
  }

  /** The frames sent, oldest first; the live list (a test may clear it). */
  public List<Frame> frames() {
    return frames;
  }

  /** The last frame sent. */
  public Frame last() {
    if (frames.isEmpty()) {
      throw new IllegalStateException("the session sent no frame");
    }
    return frames.get(frames.size() - 1);
  }

  /** The reasons of the closes the session asked for, oldest first; the live list. */
  public List<String> closes() {
    return closes;
  }
}
