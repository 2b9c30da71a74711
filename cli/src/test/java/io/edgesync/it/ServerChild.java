package io.edgesync.it;

import io.edgesync.server.ServerConfig;
import io.edgesync.server.StoreSettings;
import io.edgesync.server.SyncServer;
import io.edgesync.testing.TestPostgres;
import java.nio.file.Path;

/**
 * A sync server in its own JVM for crash tests. Args: {@code port dataDir pkiDir [postgresUrl]}
 * (with a PostgreSQL JDBC URL the store is there, logged in as {@link TestPostgres#USER}; else
 * SQLite in dataDir). Serves mutual TLS ({@code wss://}, {@code https://}) on 127.0.0.1:port with
 * the files of {@link TestConfigs#devicePki} in {@code pkiDir} and the default policy (devices
 * auto-register), and prints {@code READY} once it listens.
 */
public final class ServerChild {
  private ServerChild() {}

  public static void main(String[] args) throws Exception {
    ChildJvm.Channel out = new ChildJvm.Channel();
    Path data = Path.of(args[1]);
    Path pki = Path.of(args[2]);
    StoreSettings store =
        args.length > 3 && !args[3].isEmpty()
            ? StoreSettings.postgres(args[3], TestPostgres.USER, null)
            : StoreSettings.sqlite();
    SyncServer.start(
        ServerConfig.defaults(data)
            .withStore(store)
            .withAddress("127.0.0.1", Integer.parseInt(args[0]))
            .withTls(
                new ServerConfig.TlsFiles(
                    pki.resolve("server.pem"),
                    pki.resolve("server.key"),
                    pki.resolve("ca").resolve("ca.pem"),
                    pki.resolve("ca").resolve("crl.pem"))));
    out.line("READY");
    Thread.sleep(Long.MAX_VALUE);
  }
}
