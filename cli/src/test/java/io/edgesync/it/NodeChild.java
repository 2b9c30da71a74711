package io.edgesync.it;

import io.edgesync.server.ServerConfig;
import io.edgesync.server.SyncServer;

/**
 * One server node in its own JVM, for tests of several nodes on PostgreSQL. Args: {@code port
 * dataDir jdbcUrl user nodeId}: plain {@code ws://} and {@code http://} on 127.0.0.1:port, the
 * store in the PostgreSQL database at jdbcUrl, keys in dataDir (shared by the nodes), documents of
 * collection {@code lww} last-writer-wins. Prints {@code READY} once it listens.
 */
public final class NodeChild {
  private NodeChild() {}

  public static void main(String[] args) throws Exception {
    ChildJvm.Channel out = new ChildJvm.Channel();
    SyncServer.start(ServerConfig.fromYaml(yaml(args[0], args[1], args[2], args[3], args[4])));
    out.line("READY");
    Thread.sleep(Long.MAX_VALUE);
  }

  static String yaml(String port, String dataDir, String url, String user, String node) {
    return "server:\n"
        + "  host: 127.0.0.1\n"
        + "  port: "
        + port
        + "\n  data_dir: \""
        + dataDir
        + "\"\n  store: {type: postgres, url: \""
        + url
        + "\", user: "
        + user
        + "}\n  cluster: {node_id: "
        + node
        + ", lease_ms: 1500}\n"
        + "documents:\n"
        + "  collections:\n"
        + "    lww: {strategy: last_write_wins}\n";
  }
}
