package io.edgesync.cli;

import io.edgesync.server.AuditSettings;
import io.edgesync.server.ServerConfig;
import io.edgesync.server.StoreSettings;
import io.edgesync.server.SyncServer;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "server",
    description = "Run the cloud sync server (embedded SQLite store); back it up, restore it.",
    subcommands = {ServerBackupCommands.Backup.class, ServerBackupCommands.Restore.class})
final class ServerCommand implements Callable<Integer> {
  private static final Logger log = LoggerFactory.getLogger(ServerCommand.class);

  @Option(names = "--config", description = "YAML config file (see docs/configuration.md)")
  Path config;

  @Option(
      names = "--port",
      description = "Override server.port (0 picks a free port); the rest of --config is kept")
  Integer port;

  @Option(
      names = "--host",
      description =
          "Override server.host: the address to listen on (127.0.0.1: this machine only; 0.0.0.0:"
              + " every interface); the rest of --config is kept")
  String host;

  @Option(
      names = "--insecure",
      description =
          "Start without server.tls on an address beyond loopback: plain ws:// and http://, device"
              + " ids unauthenticated, traffic readable on the network. Refused without this flag")
  boolean insecure;

  @Option(
      names = "--data-dir",
      description = "Override server.data_dir; the rest of --config is kept")
  Path dataDir;

  @Option(
      names = "--audit-checkpoint-records",
      description = "Sign an audit checkpoint after this many records (default 1000)")
  long auditCheckpointRecords = AuditSettings.DEFAULTS.checkpointEveryRecords();

  @Option(
      names = "--audit-checkpoint-interval-ms",
      description =
          "Sign an audit checkpoint this often while records are unanchored (default 60000)")
  long auditCheckpointIntervalMs = AuditSettings.DEFAULTS.checkpointIntervalMs();

  @Override
  public Integer call() throws InterruptedException {
    ServerConfig c = effectiveConfig();
    if (PlainExposure.exposed(c) && !insecure) {
      throw new IllegalStateException(PlainExposure.refusal(c));
    }
    SyncServer server =
        SyncServer.start(c, new AuditSettings(auditCheckpointRecords, auditCheckpointIntervalMs));
    String tls = c.tls() == null ? "" : "s";
    System.out.printf(
        "edgesync server on port %d; devices connect to ws%s://<host>:%d/v1/sync%s; REST at"
            + " http%s://<host>:%d/api/v1/devices; data in %s%n",
        server.port(),
        tls,
        server.port(),
        c.tls() == null ? "" : " (client certificate required)",
        tls,
        server.port(),
        c.dataDir().toAbsolutePath()
            + (c.store().type() == StoreSettings.Type.SQLITE
                ? ""
                : "; store " + c.store().describe(c.dataDir())));
    if (PlainExposure.exposed(c)) {
      log.warn(PlainExposure.warning(c, server.port()));
    }
    return Main.untilShutdown(server::close);
  }

  /**
   * The file's settings (or the defaults without {@code --config}) with exactly the keys named on
   * the command line changed: each flag is applied to the parsed config as a copy, never by
   * building a new config from a few of its fields (which once dropped the file's documents and
   * dictionaries sections).
   */
  ServerConfig effectiveConfig() {
    ServerConfig c =
        config != null
            ? ServerConfig.load(config)
            : ServerConfig.defaults(Path.of("edgesync-data/cloud"));
    if (port != null) {
      if (port < 0 || port > 65_535) {
        throw new IllegalArgumentException(
            "--port must be a TCP port in 0..65535 (0 picks a free one), was " + port);
      }
      c = c.withPort(port);
    }
    if (dataDir != null) {
      c = c.withDataDir(dataDir);
    }
    if (host != null) {
      c = c.withAddress(host, c.port());
    }
    return c;
  }
}
