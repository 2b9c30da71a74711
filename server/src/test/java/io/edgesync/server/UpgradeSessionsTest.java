package io.edgesync.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgesync.protocol.FrameCodec;
import io.edgesync.protocol.ProtocolLimits;
import io.edgesync.protocol.wire.Frame;
import io.edgesync.protocol.wire.Hello;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Regression: Javalin opened an HTTP session for every WebSocket upgrade and Jetty kept each one
 * for the life of the server, so every device connection (reconnects, RETRY_LATER refusals) left
 * heap behind (found by bench {@code fleet}'s histogram). Devices connect and disconnect over real
 * sockets here, and no session may stay.
 */
class UpgradeSessionsTest {
  @TempDir Path dir;

  @Test
  void deviceConnections_leaveNoHttpSessionBehind() throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    try (SyncServer server =
        SyncServer.start(ServerConfig.defaults(dir).withAddress("127.0.0.1", 0))) {
      for (int i = 0; i < 20; i++) {
        connectWelcomeAndClose(http, server.syncUrl(), "dev-" + i);
      }

      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (server.httpSessionsHeld() > 0 && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertThat(server.httpSessionsHeld()).as("HTTP sessions held after 20 connections").isZero();
    }
  }

  /** One device session: upgrade, Hello, Welcome, close. */
  private static void connectWelcomeAndClose(HttpClient http, String url, String device)
      throws Exception {
    CompletableFuture<Frame> first = new CompletableFuture<>();
    WebSocket ws =
        http.newWebSocketBuilder()
            .buildAsync(
                URI.create(url),
                new WebSocket.Listener() {
                  @Override
                  public CompletionStage<?> onBinary(WebSocket w, ByteBuffer data, boolean last) {
                    byte[] b = new byte[data.remaining()];
                    data.get(b);
                    try {
                      first.complete(Frame.parseFrom(b));
                    } catch (Exception e) {
                      first.completeExceptionally(e);
                    }
                    w.request(1);
                    return null;
                  }
                })
            .get(5, TimeUnit.SECONDS);
    Hello hello =
        Hello.newBuilder()
            .setProtocolVersion(ProtocolLimits.PROTOCOL_VERSION)
            .setDeviceId(device)
            .build();
    ws.sendBinary(
            ByteBuffer.wrap(FrameCodec.encode(Frame.newBuilder().setHello(hello).build())), true)
        .get(5, TimeUnit.SECONDS);
    assertThat(first.get(5, TimeUnit.SECONDS).hasWelcome()).as(device + " welcomed").isTrue();
    ws.sendClose(WebSocket.NORMAL_CLOSURE, "").get(5, TimeUnit.SECONDS);
  }
}
