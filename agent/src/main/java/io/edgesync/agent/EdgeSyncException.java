package io.edgesync.agent;

/**
 * A failure of the agent, with a {@link Code} that says what kind, so that a program can act on it
 * without reading the message (which is for people: it names the operation, the file, the key).
 *
 * <p>Invalid arguments are not reported this way: a bad stream name, an unknown collection, a
 * record or document above its size limit, malformed JSON, a second handler for a command name
 * throw {@link IllegalArgumentException} naming the problem, as Java's own APIs do, and store
 * nothing.
 */
public class EdgeSyncException extends RuntimeException {
  /** What kind of failure; the local HTTP API answers by it (docs/api.md). */
  public enum Code {
    /**
     * The device's disk or SQLite file failed (full, not writable, corrupt, locked): what the call
     * was to store is not stored. The message names the operation and the file.
     */
    STORAGE,
    /** The configuration is invalid: {@link InvalidConfigException} names the key. */
    CONFIGURATION,
    /**
     * The configuration switches the operation off: {@link EdgeAgent#syncNow} with {@code
     * sync.strategies.on_demand.enabled: false}. The message names the key.
     */
    DISABLED,
    /** The agent was closed. */
    CLOSED,
    /**
     * The cloud refused the request. No call of this API waits for the cloud today, so none throws
     * it yet: the cloud's refusals of the session or of a stream show in {@link EdgeAgent#status()}
     * ({@code lastError}, {@code blocked}).
     */
    REFUSED_BY_CLOUD,
    /**
     * An append was refused for lack of room: the outbox is full under the {@code reject} or {@code
     * block} overflow policy, or the agent is offline with offline buffering off ({@link
     * QueueFullException}). Nothing of the append was stored.
     */
    QUEUE_FULL,
    /** The calling thread was interrupted while it waited; its interrupt flag is set again. */
    INTERRUPTED,
    /** The agent's sync loop did not answer within 10 seconds. */
    TIMEOUT,
    /** The local HTTP API could not listen on its port ({@code local_api.port}). */
    LOCAL_API,
    /**
     * At-rest encryption: the key is missing or wrong, or a stored value failed authentication
     * ({@link StorageKeyException} names which). Nothing stored was dropped.
     */
    ENCRYPTION_KEY,
    /** A fault inside the agent (a bug): the message and the cause say what failed. */
    INTERNAL
  }

  private final Code code;

  public EdgeSyncException(Code code, String message) {
    this(code, message, null);
  }

  public EdgeSyncException(Code code, String message, Throwable cause) {
    super(message, cause);
    this.code = code;
  }

  public Code code() {
    return code;
  }
}
