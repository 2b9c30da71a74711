package io.edgesync.agent.internal.atrest;

import io.edgesync.agent.StorageKeyException;
import io.edgesync.agent.StorageKeyException.Reason;
import io.edgesync.security.Pem;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.TreeMap;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;

/**
 * Loads the at-rest keyring. Format (key file, or the environment variable {@value #ENV}): one key
 * per line (the variable may separate them by commas), {@code <id>:<base64 of 32 bytes>}, id 1 to
 * 255; blank lines and lines starting with {@code #} are ignored. The highest id seals new values;
 * all open. The environment variable, when set and not blank, wins over {@code
 * storage.encryption.key_file}.
 */
public final class StorageKeys {
  /** The environment variable holding the keyring; it wins over the key file. */
  public static final String ENV = "EDGESYNC_STORAGE_KEYS";

  private StorageKeys() {}

  /**
   * The cipher for {@code envValue} (wins when not blank), else {@code keyFile}, else {@link
   * StorageCipher#OFF}.
   *
   * @throws StorageKeyException {@code BAD_KEY_FILE}, {@code KEY_FILE_PERMISSIONS}
   */
  public static StorageCipher load(Path keyFile, String envValue) {
    if (envValue != null && !envValue.isBlank()) {
      return parse(envValue.replace(',', '\n'), "the environment variable " + ENV);
    }
    if (keyFile == null) {
      return StorageCipher.OFF;
    }
    String where = "the key file " + keyFile.toAbsolutePath();
    checkPermissions(keyFile, where);
    try {
      return parse(Files.readString(keyFile, StandardCharsets.UTF_8), where);
    } catch (IOException e) {
      throw new StorageKeyException(Reason.BAD_KEY_FILE, "cannot read " + where + ": " + e);
    }
  }

  private static void checkPermissions(Path keyFile, String where) {
    if (!Files.exists(keyFile)) {
      throw new StorageKeyException(Reason.KEY_MISSING, where + " does not exist");
    }
    try {
      String problem = Pem.openToOthers(keyFile);
      if (problem != null) {
        throw new StorageKeyException(Reason.KEY_FILE_PERMISSIONS, where + " " + problem);
      }
    } catch (IOException e) {
      throw new StorageKeyException(
          Reason.BAD_KEY_FILE, "cannot read the permissions of " + where + ": " + e);
    }
  }

  /** The keyring in {@code text} (the key file's format); {@code where} names it in errors. */
  public static StorageCipher parse(String text, String where) {
    TreeMap<Integer, SecretKey> keys = new TreeMap<>();
    String[] lines = text.split("\n", -1);
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i].strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      String at = where + " line " + (i + 1);
      int colon = line.indexOf(':');
      if (colon < 1) {
        throw new StorageKeyException(
            Reason.BAD_KEY_FILE, at + " is not '<id>:<base64 key>' (the key is not shown)");
      }
      int id = keyId(line.substring(0, colon), at);
      byte[] raw;
      try {
        raw = Base64.getDecoder().decode(line.substring(colon + 1).strip());
      } catch (IllegalArgumentException e) {
        throw new StorageKeyException(Reason.BAD_KEY_FILE, at + ": the key is not base64");
      }
      if (raw.length != 32) {
        throw new StorageKeyException(
            Reason.BAD_KEY_FILE, at + ": the key has " + raw.length + " bytes; expected 32");
      }
      if (keys.put(id, new SecretKeySpec(raw, "AES")) != null) {
        throw new StorageKeyException(Reason.BAD_KEY_FILE, at + ": key id " + id + " twice");
      }
    }
    if (keys.isEmpty()) {
      throw new StorageKeyException(Reason.BAD_KEY_FILE, where + " holds no key");
    }
    return new StorageCipher(keys, where);
  }

  private static int keyId(String text, String at) {
    try {
      int id = Integer.parseInt(text.strip());
      if (id >= 1 && id <= 255) {
        return id;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new StorageKeyException(
        Reason.BAD_KEY_FILE, at + ": key id '" + text.strip() + "' is not a number 1..255");
  }
}
