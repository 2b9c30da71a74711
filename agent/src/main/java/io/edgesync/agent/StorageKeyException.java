package io.edgesync.agent;

/**
 * The device's at-rest encryption cannot go on (docs/security.md, "Encryption at rest (device)"):
 * the key is missing, wrong, or a stored value failed authentication. Thrown by {@link
 * EdgeAgent#open} before anything is opened for use (no half-open agent), or by a read of a value
 * that was changed on disk. Nothing stored is dropped or changed because of it.
 */
public final class StorageKeyException extends EdgeSyncException {
  /** What is wrong; each is named in the message. */
  public enum Reason {
    /** The key file or environment variable is malformed (the message names the line). */
    BAD_KEY_FILE,
    /** The key file is readable or writable by group or others (as ssh refuses such keys). */
    KEY_FILE_PERMISSIONS,
    /** The store is encrypted under a key id the keyring does not hold (or no key is given). */
    KEY_MISSING,
    /** The keyring holds the store's key id, but a different key: the sentinel does not open. */
    WRONG_KEY,
    /** A stored value failed authentication: changed on disk, or moved to another place. */
    TAMPERED,
    /** Encryption is configured for a store that holds unencrypted values. */
    UNENCRYPTED_STORE
  }

  private final Reason reason;

  public StorageKeyException(Reason reason, String message) {
    super(Code.ENCRYPTION_KEY, reason + ": " + message);
    this.reason = reason;
  }

  public Reason reason() {
    return reason;
  }
}
