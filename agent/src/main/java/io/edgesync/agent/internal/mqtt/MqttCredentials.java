package io.edgesync.agent.internal.mqtt;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The user names and passwords the MQTT listener accepts: from a users file ({@code user:password}
 * per line, {@code #} comments) or one user with a password file (its first line). Passwords are
 * kept as SHA-256 digests and compared with {@link MessageDigest#isEqual} (constant time in the
 * digest, so neither a password's content nor its length shows in the time a refusal takes); an
 * unknown user is compared against a dummy digest for the same reason. Immutable, thread safe.
 */
public final class MqttCredentials {
  private static final byte[] DUMMY = sha256(new byte[0]);

  private final Map<String, byte[]> digests;

  private MqttCredentials(Map<String, byte[]> digests) {
    this.digests = Map.copyOf(digests);
  }

  /**
   * Reads a users file: {@code name:password} lines; blank lines and {@code #} comments skipped.
   */
  public static MqttCredentials fromUsersFile(Path file) throws IOException {
    Map<String, byte[]> out = new HashMap<>();
    List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      int colon = line.indexOf(':');
      if (colon <= 0 || colon == line.length() - 1) {
        throw new IllegalArgumentException(file + " line " + (i + 1) + ": expected name:password");
      }
      String name = line.substring(0, colon);
      if (out.put(name, sha256(line.substring(colon + 1).getBytes(StandardCharsets.UTF_8)))
          != null) {
        throw new IllegalArgumentException(
            file + " line " + (i + 1) + ": user '" + name + "' is listed twice");
      }
    }
    if (out.isEmpty()) {
      throw new IllegalArgumentException(file + " lists no user (expected name:password lines)");
    }
    return new MqttCredentials(out);
  }

  /** One user; the password is the first line of {@code passwordFile}. */
  public static MqttCredentials single(String username, Path passwordFile) throws IOException {
    List<String> lines = Files.readAllLines(passwordFile, StandardCharsets.UTF_8);
    if (lines.isEmpty() || lines.get(0).isEmpty()) {
      throw new IllegalArgumentException(passwordFile + " is empty; expected the password");
    }
    return new MqttCredentials(
        Map.of(username, sha256(lines.get(0).getBytes(StandardCharsets.UTF_8))));
  }

  /** Whether {@code password} is {@code username}'s; false for an unknown user or no password. */
  public boolean check(String username, byte[] password) {
    byte[] expected = username == null ? null : digests.get(username);
    byte[] given = sha256(password == null ? new byte[0] : password);
    boolean equal = MessageDigest.isEqual(expected == null ? DUMMY : expected, given);
    return expected != null && password != null && equal;
  }

  private static byte[] sha256(byte[] bytes) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(bytes);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }
}
