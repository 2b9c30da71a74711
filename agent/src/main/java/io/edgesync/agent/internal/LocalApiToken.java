package io.edgesync.agent.internal;

import io.edgesync.agent.InvalidConfigException;
import io.edgesync.security.Pem;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;

/**
 * The local API's bearer token ({@code local_api.token_file}), for hosts where other local users
 * exist: loopback keeps the network out, the token keeps other accounts of the same machine out.
 *
 * <p>File format: the token on the first non-empty line, surrounding whitespace ignored; at least
 * {@link #MIN_TOKEN_CHARS} printable ASCII characters (e.g. {@code openssl rand -hex 32}). The file
 * must be readable by its owner only (0600 or stricter), or the agent refuses to start, as it does
 * for the at-rest key file. Immutable and thread safe.
 */
public final class LocalApiToken {
  /** The shortest token accepted: 16 characters of hex are 64 bits. */
  public static final int MIN_TOKEN_CHARS = 16;

  private static final String KEY = "local_api.token_file";

  private final byte[] expectedHeader;

  private LocalApiToken(String token) {
    this.expectedHeader = ("Bearer " + token).getBytes(StandardCharsets.US_ASCII);
  }

  /**
   * Reads and checks the token file.
   *
   * @throws InvalidConfigException naming {@code local_api.token_file} and the file: missing,
   *     unreadable, readable by group or others, or holding no usable token
   */
  public static LocalApiToken load(Path file) {
    String where = "the local API token file " + file.toAbsolutePath();
    if (!Files.isRegularFile(file)) {
      throw error(where + " does not exist (or is not a file)");
    }
    checkOwnerOnly(file, where);
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw error("cannot read " + where + ": " + e.getMessage());
    }
    String token = text.strip().lines().findFirst().orElse("").strip();
    if (token.length() < MIN_TOKEN_CHARS || !token.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
      throw error(
          where
              + " must hold a token of at least "
              + MIN_TOKEN_CHARS
              + " printable ASCII characters without spaces (e.g. the output of 'openssl rand -hex"
              + " 32'); it holds "
              + token.length()
              + " characters");
    }
    return new LocalApiToken(token);
  }

  /** True if {@code authorization} (the header's value, may be null) carries this token. */
  boolean accepts(String authorization) {
    return authorization != null
        && MessageDigest.isEqual( // constant time: the comparison does not leak a prefix
            authorization.getBytes(StandardCharsets.US_ASCII), expectedHeader);
  }

  private static void checkOwnerOnly(Path file, String where) {
    String problem;
    try {
      problem = Pem.openToOthers(file);
    } catch (IOException e) {
      throw error("cannot read the permissions of " + where + ": " + e.getMessage());
    }
    if (problem != null) {
      throw error(where + " " + problem);
    }
  }

  private static InvalidConfigException error(String message) {
    return new InvalidConfigException(KEY, "config error at '" + KEY + "': " + message, null);
  }
}
