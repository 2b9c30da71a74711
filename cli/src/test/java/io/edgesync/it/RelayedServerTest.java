package io.edgesync.it;

import static org.awaitility.Awaitility.await;

import io.edgesync.cli.internal.TcpRelay;
import io.edgesync.server.ServerConfig;
import io.edgesync.server.SyncServer;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * Base of end-to-end tests against one server on a free port, with a REST client for it and a relay
 * in front of its sync port: devices connect through {@link #relay}, which a test cuts and heals to
 * take them offline. A test changes the server's settings by overriding {@link #startServer()}.
 */
abstract class RelayedServerTest {
  @TempDir Path dir;
  SyncServer server;
  Rest rest;
  TcpRelay relay;

  /** The server under test; by default one with the default settings, data in {@code dir/cloud}. */
  SyncServer startServer() {
    return SyncServer.start(ServerConfig.defaults(dir.resolve("cloud")).withPort(0));
  }

  @BeforeEach
  final void startServerAndRelay() throws Exception {
    server = startServer();
    rest = new Rest(server);
    relay = new TcpRelay(server.port());
  }

  @AfterEach
  final void stopServerAndRelay() {
    relay.close();
    server.close();
  }

  /** Waits (at most 10 s) until {@code device} has a session with the server. */
  void awaitConnected(String device) {
    await().atMost(Duration.ofSeconds(10)).until(() -> server.isConnected(device));
  }
}
