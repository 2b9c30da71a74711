package io.edgesync.server;

import java.nio.file.Path;
import java.sql.SQLException;
import java.util.UUID;
import java.util.function.Supplier;

/**
 * Opens the cloud store a config names ({@code server.store}): the embedded SQLite file in the data
 * directory, or PostgreSQL. Both are the same {@link SqliteCloudStore} over JDBC (the class keeps
 * its historic name); only what truly differs is in {@link StoreDialect}.
 */
public final class CloudStores {
  private CloudStores() {}

  /** The store of {@code config}, with the default document history and random command ids. */
  public static SqliteCloudStore open(ServerConfig config) throws SQLException {
    return open(
        config.store(),
        config.dataDir(),
        SqliteDocuments.HISTORY_VERSIONS,
        () -> UUID.randomUUID().toString());
  }

  /**
   * The store {@code settings} names; SQLite's file is {@link SyncServer#STORE_FILE} in {@code
   * dataDir}. A PostgreSQL that cannot be reached, refuses the login or holds a newer schema fails
   * here with an {@link SQLException} naming the URL.
   */
  public static SqliteCloudStore open(
      StoreSettings settings, Path dataDir, long historyVersions, Supplier<String> commandIds)
      throws SQLException {
    if (settings.type() == StoreSettings.Type.SQLITE) {
      return new SqliteCloudStore(
          dataDir.resolve(SyncServer.STORE_FILE), historyVersions, commandIds);
    }
    return SqliteCloudStore.onPostgres(
        PostgresDatabase.open(settings), historyVersions, commandIds);
  }
}
