package io.edgesync.agent;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Runs one kind of command from the cloud. Called at most once per command id (a redelivered
 * command is recognized and not run again), on the agent's command thread. Return the result (JSON,
 * may be null) for "succeeded"; throw to report "failed" with the exception's message.
 */
@FunctionalInterface
public interface CommandHandler {
  JsonNode handle(String commandId, JsonNode payload) throws Exception;
}
