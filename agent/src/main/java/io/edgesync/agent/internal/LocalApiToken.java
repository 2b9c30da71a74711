package io.edgesync.agent.internal;

import io.edgesync.agent.InvalidConfigException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.EnumSet;
import java.util.Set;

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

  private static final Set<PosixFilePermission> GROUP_OR_OTHERS =
      EnumSet.of(
          PosixFilePermission.GROUP_READ,
          PosixFilePermission.GROUP_WRITE,
          PosixFilePermission.GROUP_EXECUTE,
          PosixFilePermission.OTHERS_READ,
          PosixFilePermission.OTHERS_WRITE,
          PosixFilePermission.OTHERS_EXECUTE);

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
    PosixFileAttributeView view = Files.getFileAttributeView(file, PosixFileAttributeView.class);
    if (view == null) {
      return; // not a POSIX file system: nothing to check
    }
    Set<PosixFilePermission> perms;
    try {
      perms = view.readAttributes().permissions();
    } catch (IOException e) {
      throw error("cannot read the permissions of " + where + ": " + e.getMessage());
    }
    Set<PosixFilePermission> open = EnumSet.copyOf(GROUP_OR_OTHERS);
    open.retainAll(perms);
    if (!open.isEmpty()) {
      throw error(
          where
              + " has permissions "
              + PosixFilePermissions.toString(perms)
              + ", which group or others can use; allowed: owner only (chmod 600)");
    }
  }

  private static InvalidConfigException error(String message) {
    return new InvalidConfigException(KEY, "config error at '" + KEY + "': " + message, null);
  }
}
