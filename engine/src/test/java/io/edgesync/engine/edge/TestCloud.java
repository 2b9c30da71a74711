package io.edgesync.engine.edge;

import io.edgesync.engine.cloud.IncomingBatches;
import io.edgesync.protocol.ProtocolLimits;
import io.edgesync.protocol.codec.CodecCapabilities;
import io.edgesync.protocol.codec.Dictionary;
import io.edgesync.protocol.wire.Frame;
import io.edgesync.protocol.wire.StreamCheckpoint;
import io.edgesync.protocol.wire.Welcome;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * The cloud as the edge engine's tests play it: the Welcome a cloud with the protocol's default
 * limits sends, and the decoder it reads the session's batches with.
 */
final class TestCloud {
  private TestCloud() {}

  /** {@code w} with the protocol's version and the default frame and batch limits. */
  static Welcome.Builder defaults(Welcome.Builder w) {
    return w.setProtocolVersion(ProtocolLimits.PROTOCOL_VERSION)
        .setMaxFrameBytes(ProtocolLimits.DEFAULT_MAX_FRAME_BYTES)
        .setMaxRecordsPerBatch(ProtocolLimits.DEFAULT_MAX_RECORDS_PER_BATCH);
  }

  /** A Welcome with the defaults and the cloud's checkpoint of each stream. */
  static Welcome.Builder welcome(Map<String, Long> checkpoints) {
    Welcome.Builder w = defaults(Welcome.newBuilder());
    checkpoints.forEach(
        (s, seq) -> w.addCheckpoints(StreamCheckpoint.newBuilder().setStream(s).setSequence(seq)));
    return w;
  }

  static Frame frame(Welcome.Builder w) {
    return Frame.newBuilder().setWelcome(w).build();
  }

  /**
   * The cloud's decoder of a session that accepted {@code accepted} (codecs and the compact
   * envelope), with 16 MiB of decoded records per batch; the caller closes it.
   */
  static IncomingBatches decoder(List<String> accepted, IntFunction<Dictionary> dictionaries) {
    return new IncomingBatches(
        CodecCapabilities.codecs(accepted),
        accepted.contains(CodecCapabilities.COMPACT_BATCH),
        ProtocolLimits.DEFAULT_MAX_RECORDS_PER_BATCH,
        16 << 20,
        dictionaries);
  }
}
