package io.edgesync.it;

import io.edgesync.server.ServerConfig;
import io.edgesync.server.SyncServer;
import java.nio.file.Path;

/**
 * A sync server in its own JVM on the embedded store, plain {@code ws://} on 127.0.0.1 (for tests
 * that kill or restore the server without TLS in the way). Args: {@code port dataDir}. Prints
 * {@code READY} once it listens.
 */
public final class PlainServerChild {
  private PlainServerChild() {}

  public static void main(String[] args) throws Exception {
    ChildJvm.Channel out = new ChildJvm.Channel();
    SyncServer.start(
        ServerConfig.defaults(Path.of(args[1]))
            .withAddress("127.0.0.1", Integer.parseInt(args[0])));
    out.line("READY");
    Thread.sleep(Long.MAX_VALUE);
  }
}
