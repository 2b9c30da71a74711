package io.edgesync.protocol;

import io.edgesync.protocol.wire.Ack;
import io.edgesync.protocol.wire.Error;
import io.edgesync.protocol.wire.ErrorCode;
import io.edgesync.protocol.wire.Frame;
import io.edgesync.protocol.wire.Heartbeat;

/** Builders for the small frames both sides send. Stateless. */
public final class Frames {
  private Frames() {}

  public static Frame error(ErrorCode code, String message, boolean fatal) {
    return Frame.newBuilder()
        .setError(Error.newBuilder().setCode(code).setMessage(message).setFatal(fatal))
        .build();
  }

  /**
   * The fatal RETRY_LATER refusal of a Hello: the device should connect again after {@code
   * retryAfterMs} (docs/protocol.md, "Admission").
   */
  public static Frame retryLater(String message, long retryAfterMs) {
    if (retryAfterMs < 1 || retryAfterMs > 0xFFFF_FFFFL) {
      throw new IllegalArgumentException(
          "retryAfterMs must be in 1..2^32-1 ms, not " + retryAfterMs);
    }
    return Frame.newBuilder()
        .setError(
            Error.newBuilder()
                .setCode(ErrorCode.RETRY_LATER)
                .setMessage(message)
                .setFatal(true)
                .setRetryAfterMs((int) retryAfterMs))
        .build();
  }

  public static Frame heartbeat(long nowMs, boolean reply) {
    return Frame.newBuilder()
        .setHeartbeat(Heartbeat.newBuilder().setSentAtMs(nowMs).setReply(reply))
        .build();
  }

  public static Frame ack(String stream, long sequence) {
    return Frame.newBuilder()
        .setAck(Ack.newBuilder().setStream(stream).setSequence(sequence))
        .build();
  }
}
