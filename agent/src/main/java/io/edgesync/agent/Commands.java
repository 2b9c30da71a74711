package io.edgesync.agent;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Commands from the cloud to this device (reboot, rotate a key, run a job): delivered at least
 * once, run at most once here (a redelivery reports the first outcome), never after their time to
 * live. Run them either with a Java handler per command name ({@link #onCommand}), or by polling
 * ({@link #next}, then {@link #complete}), which is what the local API's {@code GET
 * /v1/commands/next} does for programs in other languages. A command with no handler waits for a
 * poller.
 *
 * <p>Thread safe.
 */
public interface Commands {
  /**
   * Runs commands named {@code name} with {@code handler} on the agent's command thread, one at a
   * time: its return value is the command's result, an exception fails it with its message. One
   * handler per name: a second one throws {@link IllegalArgumentException}. Close the token to
   * remove it.
   */
  AutoCloseable onCommand(String name, CommandHandler handler);

  /**
   * Takes the next command that has no handler, waiting up to {@code waitMs}; the caller runs it
   * and reports with {@link #complete}. Null if none arrived in time, or the agent closed.
   */
  PendingCommand next(long waitMs) throws InterruptedException;

  /**
   * Reports the outcome of a command taken with {@link #next}; false if it is not running (unknown,
   * or already finished).
   *
   * @param result the command's result (may be null); sent to the cloud if it succeeded
   * @param error why it failed (may be null)
   */
  boolean complete(String id, boolean succeeded, JsonNode result, String error);

  /**
   * Where a command stands on this device, as the local and cloud APIs name it: {@code received},
   * {@code running}, {@code succeeded}, {@code failed} or {@code expired}; null if this device
   * never received it (for instance, its TTL passed while the device was offline).
   */
  String state(String id);
}
