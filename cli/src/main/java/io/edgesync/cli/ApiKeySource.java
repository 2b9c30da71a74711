package io.edgesync.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Where a command that calls a server's REST API finds its API key: {@code --api-key-file}; else
 * the admin key the server's first start wrote to {@code <--data-dir>/admin.key}; else the
 * environment variable {@value #ENV}; else none (the server then answers 401, naming what is
 * missing).
 */
final class ApiKeySource {
  static final String ENV = "EDGESYNC_API_KEY";
  static final String FILE_DESCRIPTION =
      "File holding the server's API key (default: <--data-dir>/admin.key with --data-dir, else"
          + " the environment variable "
          + ENV
          + ")";
  static final String DATA_DIR_DESCRIPTION =
      "The server's data directory: its admin.key is the API key unless --api-key-file is given";

  private ApiKeySource() {}

  /** The key, or null if none was given anywhere. */
  static String key(Path apiKeyFile, Path dataDir) {
    if (apiKeyFile != null) {
      return read(apiKeyFile, "--api-key-file");
    }
    if (dataDir != null) {
      return read(dataDir.resolve("admin.key"), "--data-dir");
    }
    String env = System.getenv(ENV);
    return env == null || env.isBlank() ? null : env.trim();
  }

  private static String read(Path file, String option) {
    try {
      String key = Files.readString(file).trim();
      if (key.isEmpty()) {
        throw new IllegalArgumentException("the API key file " + file + " is empty");
      }
      return key;
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException(
          "no API key file at " + file + " (from " + option + ")", e);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the API key file " + file + ": " + e, e);
    }
  }
}
