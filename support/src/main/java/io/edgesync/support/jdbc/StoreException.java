package io.edgesync.support.jdbc;

/**
 * A store could not do what it was asked: the database refused or failed (a full disk, a corrupt or
 * locked file, a broken schema). The message names the operation and the file, then the driver's
 * message: {@code committing 8192 records of gw-1/sensor_data failed in
 * /var/lib/x/edgesync-cloud.db: [SQLITE_FULL] ...}. "… failed" stays next to the operation so that
 * a log search for the operation finds it.
 *
 * <p>An {@link IllegalStateException}, as the stores threw before this type existed, so callers
 * that handle those keep handling it.
 */
public class StoreException extends IllegalStateException {
  public StoreException(String operation, String file, Throwable cause) {
    super(operation + " failed in " + file + ": " + messageOf(cause), cause);
  }

  private static String messageOf(Throwable cause) {
    return cause.getMessage() != null ? cause.getMessage() : cause.toString();
  }
}
