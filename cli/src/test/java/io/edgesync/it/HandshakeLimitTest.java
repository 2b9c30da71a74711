package io.edgesync.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.edgesync.server.AdmissionLimits;
import io.edgesync.server.SyncServer;
import java.io.IOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The TLS port bounds the handshakes in progress (a reconnect storm must not start more handshakes
 * than finish in time): beyond {@code max_pending_handshakes} a new connection is closed at once,
 * and a connection that does not finish its handshake within {@code handshake_timeout_ms} is closed
 * and frees its slot.
 */
class HandshakeLimitTest {
  @TempDir Path dir;
  private SyncServer server;

  @AfterEach
  void stop() throws Exception {
    Testbed.closeAll(server);
  }

  @Test
  void beyondTheBound_aConnectionIsClosedAtOnce_andAStalledHandshakeFreesItsSlotAfterTheTimeout()
      throws Exception {
    TestPki pki = TestPki.create(dir);
    server =
        SyncServer.start(
            Testbed.serverConfig(dir, 0)
                .withTls(pki.serverTls())
                .withAdmission(new AdmissionLimits(512, 500, 60_000, 2, 1_000, 5_000)));
    HttpClient https =
        HttpClient.newBuilder()
            .sslContext(pki.trustOnly())
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    HttpRequest health =
        HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + server.port() + "/api/v1/health"))
            .timeout(Duration.ofSeconds(5))
            .build();
    assertThat(https.send(health, HttpResponse.BodyHandlers.ofString()).statusCode())
        .isEqualTo(200); // warm: the bound lets a handshake through when there is room

    // Two clients that connect and never start their handshake hold both slots.
    try (Socket stalled1 = new Socket("127.0.0.1", server.port());
        Socket stalled2 = new Socket("127.0.0.1", server.port())) {
      await().atMost(Duration.ofSeconds(5)).until(() -> server.handshakesInProgress() == 2);

      HttpClient fresh = HttpClient.newBuilder().sslContext(pki.trustOnly()).build();
      assertThatThrownBy(() -> fresh.send(health, HttpResponse.BodyHandlers.ofString()))
          .isInstanceOf(IOException.class);
      assertThat(server.handshakesShed()).isPositive();

      // After the timeout the server closes the stalled connections: their reads see the end.
      stalled1.setSoTimeout(5_000);
      stalled2.setSoTimeout(5_000);
      assertThat(stalled1.getInputStream().read()).isEqualTo(-1);
      assertThat(stalled2.getInputStream().read()).isEqualTo(-1);
      assertThat(server.handshakesTimedOut()).isEqualTo(2);
    }
    HttpClient again = HttpClient.newBuilder().sslContext(pki.trustOnly()).build();
    assertThat(again.send(health, HttpResponse.BodyHandlers.ofString()).statusCode())
        .isEqualTo(200);
  }
}
