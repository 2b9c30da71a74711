package io.edgesync.agent;

import io.edgesync.agent.AgentConfig.FileSettings;
import io.edgesync.engine.files.FileLimits;
import io.edgesync.engine.files.FileVersion;
import io.edgesync.security.ReleaseKey;
import io.edgesync.support.ConfigNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads the agent's {@code files:} section. The trusted keys file is read here once, so that a
 * missing or malformed key file stops the agent at start with the key named, not at the first
 * download.
 */
final class FilesConfigReader {
  private FilesConfigReader() {}

  static FileSettings files(ConfigNode node, Path dataDir) {
    ConfigNode files =
        node.allowOnly(
            "dir", "trusted_release_keys_file", "max_file_bytes", "keep_previous", "uploads");
    String dir = files.string("dir", "");
    Path installDir = dir.isBlank() ? dataDir.resolve("files") : Path.of(dir);
    Path keys = trustedKeys(files);
    long maxFileBytes =
        files.integer(
            "max_file_bytes",
            FileSettings.DEFAULT_MAX_FILE_BYTES,
            1,
            FileLimits.MAX_FILE_BYTES,
            "bytes");
    boolean keepPrevious = files.bool("keep_previous", true);
    return new FileSettings(installDir, keys, maxFileBytes, keepPrevious, uploads(files));
  }

  private static Path trustedKeys(ConfigNode files) {
    String value = files.string("trusted_release_keys_file", "");
    if (value.isBlank()) {
      return null;
    }
    Path file = Path.of(value);
    if (!java.nio.file.Files.isRegularFile(file)) {
      throw files.error("trusted_release_keys_file", "no such file: '" + value + "'");
    }
    try {
      ReleaseKey.readPublicKeys(file);
    } catch (IOException e) {
      throw files.error(
          "trusted_release_keys_file",
          "'" + value + "' does not hold Ed25519 public keys (PEM): " + e.getMessage());
    }
    return file;
  }

  /** {@code uploads: [{collection, priority}]}; none listed: the one collection "uploads". */
  private static Map<String, Integer> uploads(ConfigNode files) {
    Map<String, Integer> out = new LinkedHashMap<>();
    for (ConfigNode u : files.sections("uploads")) {
      u.allowOnly("collection", "priority");
      String collection = u.string("collection", null);
      if (collection == null) {
        throw u.error("collection", "required: the upload collection's name, e.g. logs");
      }
      if (collection.contains("/") || !isPathSegment(collection)) {
        throw u.error(
            "collection",
            "'" + collection + "' is not a valid collection name; allowed: [A-Za-z0-9._-]+");
      }
      if (out.containsKey(collection)) {
        throw u.error("collection", "'" + collection + "' is listed twice");
      }
      int priority =
          (int)
              u.integer(
                  "priority",
                  FileSettings.DEFAULT_UPLOAD_PRIORITY,
                  0,
                  1000,
                  "lower = more important");
      out.put(collection, priority);
    }
    if (out.isEmpty()) {
      out.put(FileSettings.DEFAULT_UPLOAD_COLLECTION, FileSettings.DEFAULT_UPLOAD_PRIORITY);
    }
    return Map.copyOf(out);
  }

  private static boolean isPathSegment(String s) {
    try {
      FileVersion.checkPath(s);
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }
}
