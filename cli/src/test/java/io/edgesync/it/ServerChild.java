package io.edgesync.it;

import io.edgesync.server.ServerConfig;
import io.edgesync.server.SyncServer;
import java.nio.file.Path;

/**
 * A sync server in its own JVM for crash tests. Args: {@code port dataDir pkiDir}. Serves mutual
 * TLS ({@code wss://}, {@code https://}) on 127.0.0.1:port with the files of {@link
 * TestConfigs#devicePki} in {@code pkiDir} and the default policy (devices auto-register), and
 * prints {@code READY} once it listens.
 */
public final class ServerChild {
  private ServerChild() {}

  public static void main(String[] args) throws Exception {
    ChildJvm.Channel out = new ChildJvm.Channel();
    Path data = Path.of(args[1]);
    Path pki = Path.of(args[2]);
    SyncServer.start(
        ServerConfig.defaults(data)
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
