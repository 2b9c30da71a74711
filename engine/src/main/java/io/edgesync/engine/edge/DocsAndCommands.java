package io.edgesync.engine.edge;

import io.edgesync.engine.commands.CommandInbox;
import io.edgesync.engine.docs.DocReplica;
import io.edgesync.protocol.wire.Command;
import io.edgesync.protocol.wire.CommandState;
import io.edgesync.protocol.wire.CommandStatus;
import io.edgesync.protocol.wire.DocAck;
import io.edgesync.protocol.wire.DocChange;
import io.edgesync.protocol.wire.DocChanges;
import io.edgesync.protocol.wire.DocUpdate;
import io.edgesync.protocol.wire.Frame;
import io.edgesync.protocol.wire.Welcome;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The documents and commands of a session: local document changes sent in a small window and
 * acknowledged by the cloud, the cloud's document updates and commands handed to the replica and
 * the inbox, and command statuses reported once per session.
 *
 * <p>Not thread safe: owned by the engine's thread.
 */
final class DocsAndCommands {
  private static final int MAX_DOC_FRAMES_IN_FLIGHT = 4;
  private static final int MAX_DOC_CHANGES_PER_FRAME = 512;

  /** The engine's session, as this class needs it. */
  interface Session {
    /** Whether the handshake completed and the session is open. */
    boolean active();

    int maxFrameBytes();

    void send(Frame frame);

    /** The cloud broke the protocol: report it and end the session. */
    void violation(String message);
  }

  private final DocReplica docs;
  private final CommandInbox commands;
  private final Session session;

  /**
   * Document changes: processed by the cloud up to docAcked; sent in this session up to docSent.
   */
  private long docAcked;

  private long docSent;
  private int docFramesInFlight;

  /** Command statuses sent in this session ("id/state"), so a finish is not reported twice. */
  private final Set<String> commandStatusesSent = new HashSet<>();

  DocsAndCommands(DocReplica docs, CommandInbox commands, Session session) {
    this.docs = docs;
    this.commands = commands;
    this.session = session;
  }

  /** The replica's cursors per scope, for Hello. */
  Map<String, Long> docCursors() {
    return docs.cursors();
  }

  /** Whether document changes await their DocAck. */
  boolean docsInFlight() {
    return docFramesInFlight > 0;
  }

  /** The session ended. */
  void endSession() {
    docFramesInFlight = 0;
    commandStatusesSent.clear();
  }

  /** The session opened: resume documents after what the cloud processed, report commands. */
  void onWelcome(Welcome welcome) {
    docAcked = welcome.getDocChangeSeq();
    docs.acknowledged(docAcked, welcome.getDocResendFullList());
    docSent = docAcked;
    sendUnconfirmedStatuses();
    resendUnsettled();
    pumpDocs();
  }

  /**
   * Sends again, under their own sequences, changes the cloud processed (at or below the Welcome's
   * doc_change_seq) whose outcome this replica has not seen: a refusal (DocAck.refused) lost with
   * the session that carried it would otherwise leave its change pending for ever. The cloud skips
   * the changes it applied (their outcomes are pushed after the Welcome) and refuses the others
   * again, since its decision depends only on the change and the device's rights.
   */
  private void resendUnsettled() {
    if (!session.active()) {
      return;
    }
    List<DocChange> unsettled = new ArrayList<>();
    for (DocChange c :
        docs.pendingChanges(
            0, MAX_DOC_CHANGES_PER_FRAME, Math.max(1024, session.maxFrameBytes() - 4096))) {
      if (c.getChangeSeq() <= docAcked) {
        unsettled.add(c);
      }
    }
    if (!unsettled.isEmpty()) {
      session.send(
          Frame.newBuilder()
              .setDocChanges(DocChanges.newBuilder().addAllChanges(unsettled))
              .build());
      docFramesInFlight++;
    }
  }

  void onDocUpdates(List<DocUpdate> updates) {
    docs.apply(updates);
  }

  void onDocAck(DocAck ack) {
    if (ack.getChangeSeq() > docSent) {
      session.violation(
          "DocAck for change " + ack.getChangeSeq() + " beyond the last sent, " + docSent);
      return;
    }
    docAcked = Math.max(docAcked, ack.getChangeSeq());
    // Not an invariant: the count comes from the cloud's acks, and a repeated DocAck (not beyond
    // the last sent) is accepted, so it may find no frame in flight.
    docFramesInFlight = Math.max(0, docFramesInFlight - 1);
    if (ack.getRefusedCount() > 0) {
      docs.refused(ack.getRefusedList());
    }
    docs.acknowledged(docAcked, ack.getResendFullList());
    pumpDocs();
  }

  /** Sends pending document changes while the (small) window has room. */
  void pumpDocs() {
    if (!session.active()) {
      return;
    }
    while (docFramesInFlight < MAX_DOC_FRAMES_IN_FLIGHT) {
      List<DocChange> pending =
          docs.pendingChanges(
              docSent, MAX_DOC_CHANGES_PER_FRAME, Math.max(1024, session.maxFrameBytes() - 4096));
      if (pending.isEmpty()) {
        return;
      }
      session.send(
          Frame.newBuilder().setDocChanges(DocChanges.newBuilder().addAllChanges(pending)).build());
      docSent = pending.get(pending.size() - 1).getChangeSeq();
      docFramesInFlight++;
    }
  }

  void onCommand(Command command, long nowMs) {
    sendCommandStatus(commands.received(command, nowMs));
  }

  /**
   * The cloud echoes a final status once it stored it. An echo of RECEIVED (the cloud had already
   * marked the command final itself) confirms nothing: the device's own final status must still
   * reach the cloud.
   */
  void onCommandStatus(CommandStatus status) {
    if (isFinal(status.getState())) {
      commands.confirmed(status.getId());
    }
  }

  /** Reports every status the cloud has not confirmed yet (once per session each). */
  void sendUnconfirmedStatuses() {
    for (CommandStatus st : commands.unconfirmed()) {
      sendCommandStatus(st);
    }
  }

  private static boolean isFinal(CommandState state) {
    return switch (state) {
      case COMMAND_SUCCEEDED, COMMAND_FAILED, COMMAND_EXPIRED -> true;
      default -> false;
    };
  }

  private void sendCommandStatus(CommandStatus status) {
    if (commandStatusesSent.add(status.getId() + "/" + status.getState())) {
      session.send(Frame.newBuilder().setCommandStatus(status).build());
    }
  }
}
