package io.edgesync.agent.internal.docs;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.ByteString;
import io.edgesync.agent.PendingCommand;
import io.edgesync.engine.commands.CommandInbox;
import io.edgesync.engine.docs.JsonDocs;
import io.edgesync.protocol.wire.Command;
import io.edgesync.protocol.wire.CommandState;
import io.edgesync.protocol.wire.CommandStatus;
import io.edgesync.support.jdbc.Jdbc;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The inbox of commands from the cloud, in the {@code commands} table of {@link DocsFile}: the sync
 * engine hands in what arrives and collects the statuses to report ({@link CommandInbox}); the
 * command runner takes commands to run and records their outcome. A command moves {@code received →
 * running → succeeded | failed}, or {@code received → expired} when its deadline passes first;
 * {@code confirmed} marks a final state the cloud has acknowledged.
 *
 * <p>Thread safe: every use of the connection holds the {@link DocsFile}'s monitor.
 */
public final class LocalCommandInbox implements CommandInbox {
  /** Why a command received before a restart of the agent was not run. */
  static final String EXPIRED_BY_RESTART =
      "the agent restarted before it ran; its TTL cannot be checked across a restart";

  private final DocsFile file;
  private final Connection db;
  private final Jdbc jdbc;
  private volatile Runnable commandListener = () -> {};

  /** Settles the commands a previous run left behind; {@link DocsFile} commits. */
  LocalCommandInbox(DocsFile file) throws SQLException {
    this.file = file;
    this.db = file.connection();
    this.jdbc = file.jdbc();
    // A command that was running when the agent stopped may or may not have done its work:
    // report it failed rather than run it twice.
    file.exec(
        "UPDATE commands SET state='failed', error='the agent stopped while the command ran',"
            + " confirmed=0 WHERE state='running'");
    // A command still waiting has a deadline in the previous run's time, and no clock measures
    // the time the agent was down (the wall clock may have been stepped meanwhile): its TTL can
    // no longer be honoured, so it is reported expired rather than perhaps run too late.
    file.exec(
        "UPDATE commands SET state='expired', error='"
            + EXPIRED_BY_RESTART
            + "', confirmed=0 WHERE state='received'");
  }

  /**
   * Called after a new command arrived, a command finished or commands expired before they could
   * run, for the adapter that runs handlers and tells the sync engine ({@code onCommandFinished}).
   */
  public void setCommandListener(Runnable listener) {
    this.commandListener = listener;
  }

  @Override
  public CommandStatus received(Command command, long nowMs) {
    boolean fresh;
    CommandStatus status;
    synchronized (file) {
      status = commandStatus(command.getId());
      fresh = status == null;
      if (fresh) {
        file.sql(
            () -> {
              jdbc.update(
                  "INSERT INTO commands(id, name, payload, received_ms, deadline_ms, state,"
                      + " confirmed) VALUES (?,?,?,?,?,'received',0)",
                  command.getId(),
                  command.getName(),
                  file.seal(
                      DocsFile.place("commands", "payload", command.getId()),
                      command.getPayload().toByteArray()),
                  nowMs,
                  nowMs + Math.max(0, command.getTtlRemainingMs()));
              db.commit();
              return null;
            });
        status =
            CommandStatus.newBuilder()
                .setId(command.getId())
                .setState(CommandState.COMMAND_RECEIVED)
                .build();
      }
    }
    if (fresh) {
      commandListener.run();
    }
    return status;
  }

  @Override
  public List<CommandStatus> unconfirmed() {
    synchronized (file) {
      return file.sql(
          () -> {
            List<CommandStatus> out = new ArrayList<>();
            try (PreparedStatement ps =
                    db.prepareStatement(
                        "SELECT id FROM commands WHERE confirmed=0 AND state IN"
                            + " ('succeeded','failed','expired') ORDER BY received_ms");
                ResultSet rs = ps.executeQuery()) {
              List<String> ids = new ArrayList<>();
              while (rs.next()) {
                ids.add(rs.getString(1));
              }
              for (String id : ids) {
                out.add(commandStatus(id));
              }
            }
            db.commit();
            return out;
          });
    }
  }

  @Override
  public void confirmed(String id) {
    synchronized (file) {
      file.sql(
          () -> {
            jdbc.update(
                "UPDATE commands SET confirmed=1 WHERE id=? AND state IN ('succeeded','failed','expired')",
                id);
            db.commit();
            return null;
          });
    }
  }

  /**
   * Takes the oldest received command for running (state running), expiring those past their
   * deadline on the way (then the command listener is called, so that their statuses are reported
   * at once); {@code names} limits it to these command names (null: any). Null if none.
   */
  public PendingCommand takeCommand(Set<String> names, Set<String> excludeNames, long nowMs) {
    int[] expired = {0};
    PendingCommand taken;
    synchronized (file) {
      taken = take(names, excludeNames, nowMs, expired);
    }
    if (expired[0] > 0) {
      // Their EXPIRED statuses must go to the cloud now, not at the next reconnect.
      commandListener.run();
    }
    return taken;
  }

  private PendingCommand take(
      Set<String> names, Set<String> excludeNames, long nowMs, int[] expired) {
    return file.sql(
        () -> {
          try {
            expired[0] =
                jdbc.update(
                    "UPDATE commands SET state='expired', error='TTL passed before it could run',"
                        + " confirmed=0 WHERE state='received' AND deadline_ms<=?",
                    nowMs);
            PendingCommand found = null;
            try (PreparedStatement ps =
                db.prepareStatement(
                    "SELECT id, name, payload, deadline_ms FROM commands WHERE state='received'"
                        + " ORDER BY received_ms, id")) {
              try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                  String name = rs.getString(2);
                  if ((names == null || names.contains(name)) && !excludeNames.contains(name)) {
                    found =
                        new PendingCommand(
                            rs.getString(1),
                            name,
                            JsonDocs.parse(
                                file.open(
                                    DocsFile.place("commands", "payload", rs.getString(1)),
                                    rs.getBytes(3))),
                            rs.getLong(4));
                    break;
                  }
                }
              }
            }
            if (found != null) {
              jdbc.update("UPDATE commands SET state='running' WHERE id=?", found.id());
            }
            db.commit();
            return found;
          } catch (SQLException | RuntimeException e) {
            db.rollback();
            throw e;
          }
        });
  }

  /** Records a command's result; false if it is not running (unknown, or already finished). */
  public boolean finishCommand(String id, boolean succeeded, JsonNode result, String error) {
    boolean done;
    synchronized (file) {
      done =
          file.sql(
              () -> {
                int n =
                    jdbc.update(
                        "UPDATE commands SET state=?, result=?, error=?, confirmed=0 WHERE id=? AND"
                            + " state='running'",
                        succeeded ? "succeeded" : "failed",
                        file.seal(
                            DocsFile.place("commands", "result", id),
                            result == null ? null : JsonDocs.bytes(result)),
                        error,
                        id);
                db.commit();
                return n > 0;
              });
    }
    if (done) {
      commandListener.run();
    }
    return done;
  }

  /** The local state of a command (received, running, succeeded, failed, expired), or null. */
  public String commandState(String id) {
    synchronized (file) {
      return file.sql(
          () -> {
            try (PreparedStatement ps =
                db.prepareStatement("SELECT state FROM commands WHERE id=?")) {
              ps.setString(1, id);
              try (ResultSet rs = ps.executeQuery()) {
                String s = rs.next() ? rs.getString(1) : null;
                db.commit();
                return s;
              }
            }
          });
    }
  }

  /** How many times commands were started (for tests and metrics: a duplicate never starts). */
  public long commandsStarted() {
    synchronized (file) {
      return file.sql(
          () ->
              file.count(
                  "SELECT count(*) FROM commands WHERE state<>'received' AND state<>'expired'"));
    }
  }

  private CommandStatus commandStatus(String id) {
    return file.sql(
        () -> {
          try (PreparedStatement ps =
              db.prepareStatement("SELECT state, result, error FROM commands WHERE id=?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
              if (!rs.next()) {
                return null;
              }
              CommandStatus.Builder b = CommandStatus.newBuilder().setId(id);
              b.setState(
                  switch (rs.getString(1)) {
                    case "succeeded" -> CommandState.COMMAND_SUCCEEDED;
                    case "failed" -> CommandState.COMMAND_FAILED;
                    case "expired" -> CommandState.COMMAND_EXPIRED;
                    default -> CommandState.COMMAND_RECEIVED;
                  });
              byte[] result = file.open(DocsFile.place("commands", "result", id), rs.getBytes(2));
              if (result != null) {
                b.setResult(ByteString.copyFrom(result));
              }
              if (rs.getString(3) != null) {
                b.setError(rs.getString(3));
              }
              return b.build();
            }
          }
        });
  }
}
