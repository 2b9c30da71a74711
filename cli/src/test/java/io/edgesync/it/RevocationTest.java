package io.edgesync.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.edgesync.agent.AgentConfig;
import io.edgesync.agent.EdgeAgent;
import io.edgesync.protocol.FrameCodec;
import io.edgesync.protocol.Record;
import io.edgesync.protocol.wire.ErrorCode;
import io.edgesync.protocol.wire.Frame;
import io.edgesync.security.CertificateAuthority;
import io.edgesync.security.KeyAndCertificate;
import io.edgesync.security.Pem;
import io.edgesync.server.SyncServer;
import io.edgesync.testing.FaultProxy;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Revocation acts on open sessions: a real server on {@code wss://} with the built-in CA's CRL, a
 * device connected over real mutual TLS, and {@code ca.revoke} (what {@code edgesync ca revoke}
 * runs) rewriting the CRL file while the session is open. No server restart in between.
 */
class RevocationTest {
  private static final Duration DAY = Duration.ofDays(1);

  /** The bound docs/security.md promises for closing a revoked device's open session. */
  private static final long CLOSE_BOUND_MS = 5_000;

  @TempDir Path dir;
  private TestPki pki;
  private CertificateAuthority ca;
  private SyncServer server;
  private EdgeAgent agent;
  private FaultProxy proxy;

  @BeforeEach
  void startServer() throws Exception {
    pki = TestPki.create(dir);
    ca = pki.ca();
    server = SyncServer.start(Testbed.serverConfig(dir, 0).withTls(pki.serverTls()));
  }

  @AfterEach
  void stop() throws Exception {
    Testbed.closeAll(agent, proxy, server);
  }

  @Test
  void revokingAnIdleSession_closesItWithin5s_withCertificateRevokedNamingTheSerial()
      throws Exception {
    KeyAndCertificate gw1 = ca.issueDevice("gw-1", DAY);
    RawClient c = welcomedOverTls(gw1, "gw-1");
    c.send(batch(1));
    assertThat(c.next().getAck().getSequence()).isEqualTo(1);

    long revokedAtNanos = System.nanoTime();
    ca.revoke(gw1.certificate().getSerialNumber());
    Frame refusal = nextFrame(c, CLOSE_BOUND_MS);
    assertThat(c.closed.get(CLOSE_BOUND_MS, TimeUnit.MILLISECONDS)).isTrue();
    long closedAfterMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - revokedAtNanos);

    assertThat(closedAfterMs).isLessThan(CLOSE_BOUND_MS);
    assertThat(refusal.getError().getCode()).isEqualTo(ErrorCode.CERTIFICATE_REVOKED);
    assertThat(refusal.getError().getFatal()).isTrue();
    assertThat(refusal.getError().getMessage())
        .contains("device 'gw-1'")
        .contains("serial " + gw1.certificate().getSerialNumber().toString(16))
        .contains("revoked");
    await().atMost(Duration.ofSeconds(5)).until(() -> !server.isConnected("gw-1"));
    assertThat(server.sessionsClosedRevoked()).isEqualTo(1);
    assertThat(server.store().read("gw-1", "telemetry", 0, 10)).hasSize(1);
  }

  @Test
  void aReconnectAfterRevocation_isRefusedAtTheHandshake_andStoresNothing() throws Exception {
    KeyAndCertificate gw1 = ca.issueDevice("gw-1", DAY);
    RawClient c = welcomedOverTls(gw1, "gw-1");
    c.send(batch(1));
    assertThat(c.next().getAck().getSequence()).isEqualTo(1);
    ca.revoke(gw1.certificate().getSerialNumber());
    assertThat(c.closed.get(CLOSE_BOUND_MS, TimeUnit.MILLISECONDS)).isTrue();

    assertThatThrownBy(() -> RawClient.connect(server.syncUrl(), deviceContext(gw1)))
        .hasStackTraceContaining("SSLHandshakeException");
    assertThat(server.isConnected("gw-1")).isFalse();
    assertThat(server.store().read("gw-1", "telemetry", 0, 10)).hasSize(1);
  }

  /**
   * The regression this pins: a client that kept its TLS session from before the revocation (JDK
   * clients do, per SSLContext) resumed it, which skips the trust manager and its CRL check, and
   * got a WebSocket session with the revoked certificate.
   */
  @Test
  void aReconnectResumingTheTlsSessionFromBeforeRevocation_isRefusedAtTheHandshake()
      throws Exception {
    KeyAndCertificate gw1 = ca.issueDevice("gw-1", DAY);
    SSLContext sameContext = deviceContext(gw1);
    RawClient c = RawClient.connect(server.syncUrl(), sameContext);
    c.send(Frame.newBuilder().setHello(RawClient.hello("gw-1")));
    assertThat(c.next().hasWelcome()).isTrue();
    ca.revoke(gw1.certificate().getSerialNumber());
    assertThat(c.closed.get(CLOSE_BOUND_MS, TimeUnit.MILLISECONDS)).isTrue();

    assertThatThrownBy(() -> RawClient.connect(server.syncUrl(), sameContext))
        .isInstanceOf(java.util.concurrent.ExecutionException.class);
    assertThat(server.isConnected("gw-1")).isFalse();
    assertThat(server.store().read("gw-1", "telemetry", 0, 10)).isEmpty();
  }

  /**
   * The regression this pins: between the CRL's rewrite and the next timer check, a frame from the
   * revoked device was handled and stored. Every frame is checked against the CRL first.
   */
  @Test
  void aBatchSentRightAfterRevocation_isNotStored_butAnsweredWithCertificateRevoked()
      throws Exception {
    KeyAndCertificate gw1 = ca.issueDevice("gw-1", DAY);
    RawClient c = welcomedOverTls(gw1, "gw-1");
    c.send(batch(1));
    assertThat(c.next().getAck().getSequence()).isEqualTo(1);

    ca.revoke(gw1.certificate().getSerialNumber());
    try {
      c.send(batch(2)); // at once: before the server's timer looks at the CRL
    } catch (Exception closedAlready) {
      // the timer was quicker; the batch did not leave this side
    }
    Frame answer = nextFrame(c, CLOSE_BOUND_MS);
    assertThat(answer.hasAck()).as("an Ack for the batch sent after revocation").isFalse();
    assertThat(answer.getError().getCode()).isEqualTo(ErrorCode.CERTIFICATE_REVOKED);
    assertThat(c.closed.get(CLOSE_BOUND_MS, TimeUnit.MILLISECONDS)).isTrue();
    assertThat(server.store().read("gw-1", "telemetry", 0, 10)).hasSize(1);
  }

  @Test
  void anotherDevicesSession_staysOpen_whenOneCertificateIsRevoked() throws Exception {
    KeyAndCertificate gw1 = ca.issueDevice("gw-1", DAY);
    KeyAndCertificate gw2 = ca.issueDevice("gw-2", DAY);
    RawClient one = welcomedOverTls(gw1, "gw-1");
    RawClient two = welcomedOverTls(gw2, "gw-2");
    ca.revoke(gw1.certificate().getSerialNumber());
    assertThat(one.closed.get(CLOSE_BOUND_MS, TimeUnit.MILLISECONDS)).isTrue();

    two.send(batch(1));
    assertThat(two.next().getAck().getSequence()).isEqualTo(1);
    assertThat(two.closed).isNotDone();
    assertThat(server.isConnected("gw-2")).isTrue();
  }

  /**
   * The agent: its status names the revocation, it does not reconnect in a hot loop (its backoff
   * spaces the refused handshakes), and what it appends after the revocation never reaches the
   * store.
   */
  @Test
  void anAgentWhoseCertificateIsRevoked_showsItInLastError_andBacksOff() throws Exception {
    write(ca.issueDevice("gw-1", DAY), "gw-1");
    proxy = FaultProxy.start("127.0.0.1", server.port(), 1);
    agent = EdgeAgent.open(agentConfig("gw-1"));
    agent.append("telemetry", Testbed.payload(1));
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> server.store().read("gw-1", "telemetry", 0, 10).size() == 1);

    ca.revoke(Pem.readCertificate(dir.resolve("gw-1.pem")).getSerialNumber());
    await()
        .atMost(Duration.ofMillis(CLOSE_BOUND_MS))
        .until(
            () ->
                agent.status().lastError() != null
                    && agent.status().lastError().message().contains("CERTIFICATE_REVOKED"));
    assertThat(agent.status().connection().state()).isNotEqualTo("connected");
    agent.append("telemetry", Testbed.payload(2));

    long before = proxy.connectionsAccepted();
    Thread.sleep(3_000);
    long attempts = proxy.connectionsAccepted() - before;
    // Backoff from 1 s (0.5..1 s with jitter) to 2 s: at most 6 in 3 s; a hot loop makes hundreds.
    assertThat(attempts).isBetween(1L, 8L);
    assertThat(agent.status().lastError().message())
        .contains("cannot connect")
        .contains("the cloud had closed the last session: cloud reported CERTIFICATE_REVOKED");
    assertThat(server.isConnected("gw-1")).isFalse();
    assertThat(server.store().read("gw-1", "telemetry", 0, 10)).hasSize(1);
  }

  private RawClient welcomedOverTls(KeyAndCertificate cert, String device) throws Exception {
    RawClient c = RawClient.connect(server.syncUrl(), deviceContext(cert));
    c.send(Frame.newBuilder().setHello(RawClient.hello(device)));
    assertThat(c.next().hasWelcome()).as("a Welcome").isTrue();
    return c;
  }

  private SSLContext deviceContext(KeyAndCertificate cert) {
    return pki.deviceContext(cert);
  }

  private static Frame.Builder batch(long sequence) {
    return Frame.newBuilder()
        .setBatch(
            FrameCodec.batch(
                "telemetry",
                List.of(new Record(sequence, 0, "{}".getBytes(StandardCharsets.UTF_8)))));
  }

  /** The next frame within {@code ms}, or a failure naming the wait. */
  private static Frame nextFrame(RawClient c, long ms) throws Exception {
    byte[] f = c.frames.poll(ms, TimeUnit.MILLISECONDS);
    assertThat(f).as("a frame from the server within " + ms + " ms").isNotNull();
    return Frame.parseFrom(f);
  }

  private AgentConfig agentConfig(String deviceId) {
    AgentConfig c =
        pki.agentConfig("wss://127.0.0.1:" + proxy.port() + "/v1/sync", deviceId, deviceId, "");
    return c.withSync(c.sync().withLiveness(1_000, 5_000, 2_000, 2_000, 1_000, 2_000));
  }

  private void write(KeyAndCertificate issued, String name) throws Exception {
    pki.write(issued, name);
  }
}
