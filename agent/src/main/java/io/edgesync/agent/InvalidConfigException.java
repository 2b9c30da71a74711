package io.edgesync.agent;

/**
 * The agent's configuration is invalid: code {@link Code#CONFIGURATION}. The message names the key,
 * the bad value and what is allowed: {@code config error at 'queue.overflow_policy': ...}.
 */
public final class InvalidConfigException extends EdgeSyncException {
  private final String path;

  /**
   * @param path the dotted path of the offending key
   * @param message the whole message, naming the key
   */
  public InvalidConfigException(String path, String message, Throwable cause) {
    super(Code.CONFIGURATION, message, cause);
    this.path = path;
  }

  /**
   * The dotted path of the offending key, e.g. {@code sync.offline.queue_max_size}; {@code
   * (document)} for YAML that does not parse, {@code (file)} for a file that cannot be read.
   */
  public String path() {
    return path;
  }
}
