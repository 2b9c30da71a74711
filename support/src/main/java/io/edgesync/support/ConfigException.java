package io.edgesync.support;

/** Invalid configuration. The message names the key, the bad value and what is allowed. */
public final class ConfigException extends RuntimeException {
  private final String path;

  public ConfigException(String path, String message) {
    super("config error at '" + path + "': " + message);
    this.path = path;
  }

  /** The dotted path of the offending key, e.g. {@code sync.offline.queue_max_size}. */
  public String path() {
    return path;
  }
}
