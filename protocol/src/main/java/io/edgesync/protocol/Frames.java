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
