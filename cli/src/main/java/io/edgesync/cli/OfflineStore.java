package io.edgesync.cli;

import io.edgesync.server.CloudStores;
import io.edgesync.server.ServerConfig;
import io.edgesync.server.SqliteCloudStore;
import io.edgesync.server.SyncServer;
import java.nio.file.Path;
import java.sql.SQLException;

/**
 * The server's store as the offline commands ({@code keys}, {@code enroll token}) open it: the
 * store the server's config names ({@code --config}: {@code server.store}, e.g. PostgreSQL), or
 * without one the SQLite file in the data directory.
 */
final class OfflineStore {
  static final String CONFIG_HELP =
      "The server's YAML config: open the store its server.store names (PostgreSQL);"
          + " without it the SQLite store in --data-dir";

  private OfflineStore() {}

  static SqliteCloudStore open(Path config, Path dataDir) throws SQLException {
    if (config == null) {
      return new SqliteCloudStore(dataDir.resolve(SyncServer.STORE_FILE));
    }
    return CloudStores.open(ServerConfig.load(config));
  }
}
