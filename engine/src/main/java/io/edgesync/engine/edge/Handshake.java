package io.edgesync.engine.edge;

import io.edgesync.protocol.ProtocolLimits;
import io.edgesync.protocol.wire.Frame;
import io.edgesync.protocol.wire.Hello;
import io.edgesync.protocol.wire.ScopeCursor;
import io.edgesync.protocol.wire.StreamCheckpoint;
import io.edgesync.protocol.wire.Welcome;
import java.util.Map;

/**
 * The edge's half of the handshake (docs/protocol.md): the Hello it opens each session with (who it
 * is, what it offers, where each stream and document scope stands) and the first check of the
 * cloud's Welcome. What the Welcome then sets is spread over the engine's parts: limits ({@link
 * Liveness}, {@link BatchSizing}), stream positions ({@link SendPositions}), codecs ({@link
 * OutgoingBatches}), documents ({@link DocsAndCommands}).
 */
final class Handshake {
  private Handshake() {}

  /** The Hello of a new session. */
  static Frame hello(SyncPolicy policy, Outbox outbox, OutgoingBatches out, DocsAndCommands docs) {
    Hello.Builder hello =
        Hello.newBuilder()
            .setProtocolVersion(ProtocolLimits.PROTOCOL_VERSION)
            .setDeviceId(policy.deviceId())
            .setAgentVersion(policy.agentVersion())
            .setStoreId(outbox.storeId())
            .addAllCapabilities(out.offer())
            .addAllDictionaryIds(out.dictionaries().heldIds());
    for (Outbox.StreamState s : outbox.streams()) {
      hello.addCheckpoints(
          StreamCheckpoint.newBuilder().setStream(s.name()).setSequence(s.ackedSequence()));
    }
    for (Map.Entry<String, Long> c : docs.docCursors().entrySet()) {
      hello.addDocCursors(ScopeCursor.newBuilder().setScope(c.getKey()).setVersion(c.getValue()));
    }
    return Frame.newBuilder().setHello(hello).build();
  }

  /** Why the session cannot use this Welcome's protocol version, or null if it can. */
  static String versionRefused(Welcome welcome) {
    if (welcome.getProtocolVersion() == ProtocolLimits.PROTOCOL_VERSION) {
      return null;
    }
    return "cloud speaks protocol version "
        + welcome.getProtocolVersion()
        + ", this agent "
        + ProtocolLimits.PROTOCOL_VERSION;
  }

  /** The session's frame limit: ours, or the cloud's if it names one (within the ceiling). */
  static int maxFrameBytes(Welcome welcome, int current) {
    return welcome.getMaxFrameBytes() > 0
        ? Math.min(welcome.getMaxFrameBytes(), ProtocolLimits.MAX_FRAME_BYTES_CEILING)
        : current;
  }
}
