package io.edgesync.it;

import io.edgesync.server.ServerConfig;
import io.edgesync.server.SyncServer;

/**
 * A sync server with files in its own JVM for the files crash tests. Args: {@code port dataDir
 * releaseKeyFile}: plain {@code ws://} and {@code http://} on 127.0.0.1:port, data in dataDir,
 * signing what is published with the Ed25519 key in releaseKeyFile. Prints {@code READY} once it
 * listens.
 */
public final class FilesServerChild {
  private FilesServerChild() {}

  public static void main(String[] args) throws Exception {
    ChildJvm.Channel out = new ChildJvm.Channel();
    SyncServer.start(
        ServerConfig.fromYaml(
            "server: {host: 127.0.0.1, port: "
                + Integer.parseInt(args[0])
                + ", data_dir: \""
                + args[1]
                + "\", files: {release_key_file: \""
                + args[2]
                + "\"}}\n"));
    out.line("READY");
    Thread.sleep(Long.MAX_VALUE);
  }
}
