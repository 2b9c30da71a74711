package io.edgesync.sim.internal;

import io.edgesync.protocol.wire.Frame;
import io.edgesync.protocol.wire.StreamCheckpoint;

/** Short, deterministic descriptions of frames for the trace (no store ids, no payload bytes). */
final class Describe {
  private Describe() {}

  static String frame(Frame f) {
    return switch (f.getBodyCase()) {
      case HELLO ->
          "Hello "
              + f.getHello().getDeviceId()
              + cps(f.getHello().getCheckpointsList())
              + (f.getHello().getDocCursorsCount() == 0
                  ? ""
                  : " cursors"
                      + f.getHello().getDocCursorsList().stream()
                          .map(c -> c.getScope() + ":" + c.getVersion())
                          .toList());
      case WELCOME ->
          "Welcome"
              + cps(f.getWelcome().getCheckpointsList())
              + " maxRecords="
              + f.getWelcome().getMaxRecordsPerBatch()
              + (f.getWelcome().getDocScopesCount() == 0
                  ? ""
                  : " docChangeSeq=" + f.getWelcome().getDocChangeSeq());
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
      case DOC_CHANGES -> docChanges(f);
      case DOC_UPDATES -> docUpdates(f);
      case DOC_ACK ->
          "DocAck "
              + f.getDocAck().getChangeSeq()
              + (f.getDocAck().getResendFullCount() > 0
                  ? " resend " + f.getDocAck().getResendFullList()
                  : "");
      case COMMAND ->
          "Command " + f.getCommand().getId() + " ttl " + f.getCommand().getTtlRemainingMs();
      case COMMAND_STATUS ->
          "CommandStatus " + f.getCommandStatus().getId() + " " + f.getCommandStatus().getState();
      case ERROR ->
          "Error "
              + f.getError().getCode()
              + (f.getError().getFatal() ? " fatal: " : ": ")
              + f.getError().getMessage();
      case FILE_OFFER ->
          "FileOffer "
              + f.getFileOffer().getTransferId()
              + " "
              + f.getFileOffer().getHeader().getSize()
              + " bytes in "
              + f.getFileOffer().getChunkCount()
              + " chunks";
      case FILE_REQUEST -> fileRequest(f.getFileRequest());
      case FILE_DATA -> fileData(f.getFileData());
      case FILE_REPORT ->
          "FileReport "
              + f.getFileReport().getTransferId()
              + " "
              + f.getFileReport().getState()
              + " "
              + f.getFileReport().getBytesDone()
              + (f.getFileReport().getReason().isEmpty()
                  ? ""
                  : " '" + f.getFileReport().getReason() + "'");
      default -> f.getBodyCase().toString();
    };
  }

  private static String fileRequest(io.edgesync.protocol.wire.FileRequest r) {
    String what =
        switch (r.getWhatCase()) {
          case MANIFEST ->
              "manifest [" + r.getManifest().getFirst() + ", +" + r.getManifest().getCount() + ")";
          case DELTA_BASE_VERSION -> "delta from v" + r.getDeltaBaseVersion();
          case CHUNKS ->
              "chunks"
                  + r.getChunks().getRangesList().stream()
                      .map(c -> "[" + c.getFirst() + ", +" + c.getCount() + ")")
                      .toList()
                  + (r.getChunks().getDeltaBaseVersion() == 0
                      ? ""
                      : " base v" + r.getChunks().getDeltaBaseVersion());
          case CANCEL -> "cancel";
          default -> r.getWhatCase().toString();
        };
    return "FileRequest " + r.getTransferId() + " " + what;
  }

  private static String fileData(io.edgesync.protocol.wire.FileData d) {
    String what =
        switch (d.getBodyCase()) {
          case MANIFEST ->
              "manifest ["
                  + d.getManifest().getFirst()
                  + ", +"
                  + d.getManifest().getLengthsCount()
                  + ")";
          case PLAN ->
              "plan from v"
                  + d.getPlan().getBaseVersion()
                  + ", "
                  + d.getPlan().getRunsCount()
                  + " runs";
          case PACKS -> d.getPacks().getPacksCount() + " packs";
          case REFUSAL -> "refusal '" + d.getRefusal() + "'";
          default -> d.getBodyCase().toString();
        };
    return "FileData " + d.getTransferId() + " " + what;
  }

  private static String docChanges(Frame f) {
    StringBuilder sb = new StringBuilder("DocChanges");
    for (var c : f.getDocChanges().getChangesList()) {
      sb.append(' ')
          .append(c.getChangeSeq())
          .append(':')
          .append(c.getScope().isEmpty() ? "device" : c.getScope())
          .append('/')
          .append(c.getCollection())
          .append('/')
          .append(c.getKey())
          .append("@v")
          .append(c.getBaseVersion())
          .append(
              switch (c.getBodyCase()) {
                case MERGE_PATCH -> " patch";
                case DELETED -> " delete";
                default -> "";
              });
    }
    return sb.toString();
  }

  private static String docUpdates(Frame f) {
    StringBuilder sb = new StringBuilder("DocUpdates");
    for (var u : f.getDocUpdates().getUpdatesList()) {
      sb.append(' ')
          .append(u.getScope())
          .append('/')
          .append(u.getCollection())
          .append('/')
          .append(u.getKey())
          .append(" v")
          .append(u.getVersion())
          .append(u.getDeleted() ? " deleted" : "")
          .append(u.getConflicted() ? " conflicted" : "")
          .append(u.getOriginChangeSeq() != 0 ? " of " + u.getOriginChangeSeq() : "");
    }
    return sb.toString();
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
