package io.edgesync.server;

import io.edgesync.engine.ServerPolicy;
import io.edgesync.protocol.ProtocolLimits;
import io.edgesync.support.ConfigNode;
import java.nio.file.Path;

/**
 * The cloud server's settings, from YAML:
 *
 * <pre>
 * server:
 *   host: 0.0.0.0
 *   port: 8470              # 0 picks a free port
 *   data_dir: ./edgesync-cloud
 *   unknown_devices: register   # register | reject
 *   max_frame_bytes: 4194304
 *   max_records_per_batch: 8192
 * </pre>
 */
public record ServerConfig(String host, int port, Path dataDir, ServerPolicy policy) {

  public static ServerConfig defaults(Path dataDir) {
    return new ServerConfig("0.0.0.0", 8470, dataDir, ServerPolicy.defaults());
  }

  public ServerConfig withPort(int newPort) {
    return new ServerConfig(host, newPort, dataDir, policy);
  }

  public ServerConfig withPolicy(ServerPolicy newPolicy) {
    return new ServerConfig(host, port, dataDir, newPolicy);
  }

  public static ServerConfig load(Path file) {
    return from(ConfigNode.load(file));
  }

  public static ServerConfig fromYaml(String yaml) {
    return from(ConfigNode.parse(yaml));
  }

  private static ServerConfig from(ConfigNode root) {
    root.allowOnly("server");
    ConfigNode s =
        root.section("server")
            .allowOnly(
                "host",
                "port",
                "data_dir",
                "unknown_devices",
                "max_frame_bytes",
                "max_records_per_batch",
                "heartbeat_interval_ms");
    ServerPolicy d = ServerPolicy.defaults();
    ServerPolicy policy =
        new ServerPolicy(
            d.serverVersion(),
            s.choice("unknown_devices", "register", "register", "reject").equals("register"),
            (int)
                s.integer(
                    "max_frame_bytes",
                    d.maxFrameBytes(),
                    1024,
                    ProtocolLimits.MAX_FRAME_BYTES_CEILING,
                    "bytes"),
            (int)
                s.integer("max_records_per_batch", d.maxRecordsPerBatch(), 1, 1_000_000, "records"),
            s.integer("heartbeat_interval_ms", d.heartbeatIntervalMs(), 100, 3_600_000, "ms"));
    return new ServerConfig(
        s.string("host", "0.0.0.0"),
        (int) s.integer("port", 8470, 0, 65_535, "TCP port"),
        Path.of(s.string("data_dir", "./edgesync-cloud")),
        policy);
  }
}
