package io.edgesync.agent;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A command from the cloud taken for running, as {@link Commands#next} hands it out; report its
 * outcome with {@link Commands#complete}.
 *
 * @param deadlineMs when its time to live ends, in the agent's clock
 */
public record PendingCommand(String id, String name, JsonNode payload, long deadlineMs) {}
