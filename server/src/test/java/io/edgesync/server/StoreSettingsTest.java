package io.edgesync.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgesync.support.ConfigException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code server.store}: SQLite by default, PostgreSQL when configured; each bad setting is refused
 * naming its key, and a database the server cannot use stops the start with an error naming it.
 */
class StoreSettingsTest {
  private static AbstractThrowableAssert<?, ? extends Throwable> refused(String yaml) {
    return assertThatThrownBy(() -> ServerConfig.fromYaml(yaml))
        .isInstanceOf(ConfigException.class);
  }

  @Test
  void withoutAStoreSection_theStoreIsSqliteInTheDataDir() {
    ServerConfig c = ServerConfig.fromYaml("server: {data_dir: /tmp/x}");
    assertThat(c.store().type()).isEqualTo(StoreSettings.Type.SQLITE);
    assertThat(c.store().describe(c.dataDir())).isEqualTo("SQLite /tmp/x/edgesync-cloud.db");
  }

  @Test
  void postgresSection_readsEveryKey(@TempDir Path dir) throws Exception {
    Path password = Files.writeString(dir.resolve("pg-password"), "s3cret\n");
    StoreSettings s =
        ServerConfig.fromYaml(
                ("server: {store: {type: postgres, url: 'jdbc:postgresql://db:5432/edgesync',"
                        + " user: edgesync, password_file: '%s', pool: {max_connections: 4,"
                        + " connect_timeout_ms: 2000}}}")
                    .formatted(password))
            .store();
    assertThat(s)
        .isEqualTo(
            new StoreSettings(
                StoreSettings.Type.POSTGRES,
                "jdbc:postgresql://db:5432/edgesync",
                "edgesync",
                password,
                4,
                2000));
    assertThat(s.describe(dir))
        .isEqualTo("PostgreSQL jdbc:postgresql://db:5432/edgesync as edgesync");
  }

  @Test
  void eachBadStoreSetting_isRefusedNamingItsKey(@TempDir Path dir) {
    String pgUrl = "type: postgres, url: 'jdbc:postgresql://db/e', user: u";
    refused("server: {store: {type: mysql}}")
        .hasMessageContaining("'server.store.type'")
        .hasMessageContaining("allowed: sqlite, postgres");
    refused("server: {store: {type: postgres, user: u}}")
        .hasMessageContaining("'server.store.url'")
        .hasMessageContaining("required");
    refused("server: {store: {type: postgres, url: 'jdbc:mysql://db/e', user: u}}")
        .hasMessageContaining("'server.store.url'")
        .hasMessageContaining("is not a PostgreSQL JDBC URL");
    refused("server: {store: {type: postgres, url: 'jdbc:postgresql://db/e'}}")
        .hasMessageContaining("'server.store.user'");
    refused("server: {store: {" + pgUrl + ", password_file: '" + dir + "/missing'}}")
        .hasMessageContaining("'server.store.password_file'")
        .hasMessageContaining("cannot read");
    refused("server: {store: {" + pgUrl + ", pool: {max_connections: 0}}}")
        .hasMessageContaining("'server.store.pool.max_connections'");
    refused("server: {store: {" + pgUrl + ", pool: {connect_timeout_ms: 10}}}")
        .hasMessageContaining("'server.store.pool.connect_timeout_ms'");
    refused("server: {store: {type: sqlite, url: 'jdbc:postgresql://db/e'}}")
        .hasMessageContaining("'server.store.url'")
        .hasMessageContaining("unknown key");
  }

  @Test
  void unreachableDatabase_stopsTheStart_namingTheServer(@TempDir Path dir) throws Exception {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }
    String url = "jdbc:postgresql://127.0.0.1:" + closedPort + "/edgesync";
    StoreSettings store =
        new StoreSettings(StoreSettings.Type.POSTGRES, url, "edgesync", null, 2, 1000);
    ServerConfig config = ServerConfig.defaults(dir).withPort(0).withStore(store);

    assertThatThrownBy(() -> SyncServer.start(config))
        .hasMessageContaining("cannot open the cloud store (PostgreSQL " + url + " as edgesync)")
        .hasMessageContaining("cannot connect to PostgreSQL at " + url);
    assertThat(dir.resolve(SyncServer.STORE_FILE)).doesNotExist();
  }
}
