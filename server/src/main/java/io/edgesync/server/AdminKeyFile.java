package io.edgesync.server;

import io.edgesync.security.Pem;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The first start's admin key: when the store holds no API key at all, a key named {@value #NAME}
 * with the admin role is made and written to {@code <data-dir>/}{@value #FILE_NAME}, so that a new
 * server can be used at once and is never open to anyone.
 *
 * <p>File format: the key ({@code esk_...}) and a newline, nothing else; POSIX permissions 0600
 * where the file system has them. The file is written (to a temporary file, then moved) before the
 * key is stored, so that a failed write leaves no key nobody knows and the next start tries again.
 */
final class AdminKeyFile {
  private static final Logger log = LoggerFactory.getLogger(AdminKeyFile.class);

  static final String FILE_NAME = "admin.key";
  static final String NAME = "admin";

  private AdminKeyFile() {}

  /** Makes the admin key if no key exists; returns whether it did. */
  static boolean ensure(ApiKeys keys, Path dataDir, long nowMs) {
    if (!keys.isEmpty()) {
      return false;
    }
    String secret = keys.newSecret();
    Path file = dataDir.resolve(FILE_NAME);
    write(file, secret);
    keys.add(NAME, ApiKeys.Role.ADMIN, java.util.List.of(), secret, nowMs, AuditChain.SERVER_ACTOR);
    log.info(
        "no API key existed: made the admin key '{}' and wrote it to {} (mode 0600); REST"
            + " clients send it as 'Authorization: Bearer <key>'",
        NAME,
        file.toAbsolutePath());
    return true;
  }

  private static void write(Path file, String secret) {
    try {
      Pem.writeAtomically(file, secret + "\n", true);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the admin key file " + file + ": " + e, e);
    }
  }
}
