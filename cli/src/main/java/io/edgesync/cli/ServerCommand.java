package io.edgesync.cli;

import io.edgesync.server.ServerConfig;
import io.edgesync.server.SyncServer;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "server", description = "Run the cloud sync server (embedded SQLite store).")
final class ServerCommand implements Callable<Integer> {
  @Option(names = "--config", description = "YAML config file (see docs/configuration.md)")
  Path config;

  @Option(names = "--port", description = "Override server.port")
  Integer port;

  @Option(names = "--data-dir", description = "Override server.data_dir")
  Path dataDir;

  @Override
  public Integer call() throws InterruptedException {
    ServerConfig c =
        config != null
            ? ServerConfig.load(config)
            : ServerConfig.defaults(Path.of("edgesync-data/cloud"));
    if (port != null) {
      c = c.withPort(port);
    }
    if (dataDir != null) {
      c = new ServerConfig(c.host(), c.port(), dataDir, c.policy());
    }
    SyncServer server = SyncServer.start(c);
    System.out.printf(
        "edgesync server on port %d; devices connect to ws://<host>:%d/v1/sync; REST at"
            + " http://<host>:%d/api/v1/devices; data in %s%n",
        server.port(), server.port(), server.port(), c.dataDir().toAbsolutePath());
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  server.close();
                  stopped.countDown();
                }));
    stopped.await();
    return 0;
  }
}
