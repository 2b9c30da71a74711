package io.edgesync.engine.files;

import io.edgesync.protocol.wire.Frame;

/** The session, as the file transfer logic needs it. Called on the engine's thread. */
public interface FileLink {
  void send(Frame frame);

  /** The largest frame the peer accepts (Welcome.max_frame_bytes). */
  int maxFrameBytes();
}
