package io.edgesync.engine.edge;

import io.edgesync.protocol.ProtocolLimits;
import io.edgesync.protocol.wire.Frame;
import io.edgesync.protocol.wire.StreamCheckpoint;
import io.edgesync.protocol.wire.Welcome;
import java.util.Map;

/** Welcomes as a cloud with the protocol's default limits sends them, for the engine's tests. */
final class TestWelcome {
  private TestWelcome() {}

  /** {@code w} with the protocol's version and the default frame and batch limits. */
  static Welcome.Builder defaults(Welcome.Builder w) {
    return w.setProtocolVersion(ProtocolLimits.PROTOCOL_VERSION)
        .setMaxFrameBytes(ProtocolLimits.DEFAULT_MAX_FRAME_BYTES)
        .setMaxRecordsPerBatch(ProtocolLimits.DEFAULT_MAX_RECORDS_PER_BATCH);
  }

  /** A Welcome with the defaults and the cloud's checkpoint of each stream. */
  static Welcome.Builder of(Map<String, Long> checkpoints) {
    Welcome.Builder w = defaults(Welcome.newBuilder());
    checkpoints.forEach(
        (s, seq) -> w.addCheckpoints(StreamCheckpoint.newBuilder().setStream(s).setSequence(seq)));
    return w;
  }

  static Frame frame(Welcome.Builder w) {
    return Frame.newBuilder().setWelcome(w).build();
  }
}
