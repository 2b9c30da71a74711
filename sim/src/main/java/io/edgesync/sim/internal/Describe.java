package io.edgesync.sim.internal;

import io.edgesync.protocol.wire.Frame;
import io.edgesync.protocol.wire.StreamCheckpoint;

/** Short, deterministic descriptions of frames for the trace (no store ids, no payload bytes). */
final class Describe {
  private Describe() {}

  static String frame(Frame f) {
    return switch (f.getBodyCase()) {
      case HELLO -> "Hello " + f.getHello().getDeviceId() + cps(f.getHello().getCheckpointsList());
      case WELCOME ->
          "Welcome"
              + cps(f.getWelcome().getCheckpointsList())
              + " maxRecords="
              + f.getWelcome().getMaxRecordsPerBatch();
      case BATCH ->
          "Batch "
              + f.getBatch().getStream()
              + " "
              + f.getBatch().getFirstSequence()
              + ".."
              + (f.getBatch().getFirstSequence() + f.getBatch().getCount() - 1);
      case ACK -> "Ack " + f.getAck().getStream() + " " + f.getAck().getSequence();
      case GAP ->
          "Gap "
              + f.getGap().getStream()
              + " "
              + f.getGap().getFirstSequence()
              + ".."
              + f.getGap().getLastSequence()
              + " "
              + f.getGap().getReason();
      case HEARTBEAT -> f.getHeartbeat().getReply() ? "HeartbeatReply" : "Heartbeat";
      case ERROR ->
          "Error "
              + f.getError().getCode()
              + (f.getError().getFatal() ? " fatal: " : ": ")
              + f.getError().getMessage();
      default -> f.getBodyCase().toString();
    };
  }

  private static String cps(java.util.List<StreamCheckpoint> list) {
    StringBuilder sb = new StringBuilder(" [");
    for (int i = 0; i < list.size(); i++) {
      if (i > 0) {
        sb.append(',');
      }
      sb.append(list.get(i).getStream()).append(':').append(list.get(i).getSequence());
    }
    return sb.append(']').toString();
  }
}
