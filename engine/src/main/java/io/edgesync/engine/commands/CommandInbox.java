package io.edgesync.engine.commands;

import io.edgesync.protocol.wire.Command;
import io.edgesync.protocol.wire.CommandStatus;
import java.util.List;

/**
 * The edge's durable record of commands from the cloud: deduplicates by id (a command delivered
 * twice runs once), keeps each command's deadline in local time and its outcome until the cloud
 * confirms it. Thread safe; durable when a method returns.
 */
public interface CommandInbox {
  /**
   * Stores a delivered command unless its id is known, and returns the status to report: {@code
   * COMMAND_RECEIVED} for a new or unfinished one, the final status for a finished one.
   */
  CommandStatus received(Command command, long nowMs);

  /** Final statuses the cloud has not confirmed yet (to send after a reconnect or a finish). */
  List<CommandStatus> unconfirmed();

  /** The cloud stored the command's final status. */
  void confirmed(String id);

  CommandInbox NONE =
      new CommandInbox() {
        @Override
        public CommandStatus received(Command command, long nowMs) {
          return CommandStatus.newBuilder()
              .setId(command.getId())
              .setState(io.edgesync.protocol.wire.CommandState.COMMAND_FAILED)
              .setError("this agent does not run commands")
              .build();
        }

        @Override
        public List<CommandStatus> unconfirmed() {
          return List.of();
        }

        @Override
        public void confirmed(String id) {}
      };
}
