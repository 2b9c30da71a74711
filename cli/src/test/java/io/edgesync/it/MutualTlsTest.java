package io.edgesync.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.edgesync.agent.AgentConfig;
import io.edgesync.agent.EdgeAgent;
import io.edgesync.protocol.wire.ErrorCode;
import io.edgesync.protocol.wire.Frame;
import io.edgesync.security.CertificateAuthority;
import io.edgesync.security.KeyAndCertificate;
import io.edgesync.server.SyncServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mutual TLS end to end: a real server on {@code wss://} with certificates from the built-in CA, a
 * real agent (its own TLS context from its {@code tls:} files), real sockets and SQLite files.
 */
class MutualTlsTest {
  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final Duration DAY = Duration.ofDays(1);

  @TempDir Path dir;
  private TestPki pki;
  private CertificateAuthority ca;
  private SyncServer server;
  private EdgeAgent agent;

  @BeforeEach
  void startServer() throws Exception {
    pki = TestPki.create(dir);
    ca = pki.ca();
    server = SyncServer.start(Testbed.serverConfig(dir, 0).withTls(pki.serverTls()));
  }

  @AfterEach
  void stop() throws Exception {
    Testbed.closeAll(agent, server);
  }

  @Test
  void recordsSyncOverMutualTls_asTheDeviceTheCertificateNames() throws Exception {
    write(ca.issueDevice("gw-1", DAY), "gw-1");
    agent = EdgeAgent.open(agentConfig("gw-1", "gw-1"));
    for (long seq = 1; seq <= 50; seq++) {
      agent.append("telemetry", Testbed.payload(seq));
    }
    await().atMost(WAIT).until(() -> server.store().read("gw-1", "telemetry", 0, 100).size() == 50);
    Testbed.assertExactlyOnceInOrder(server.store(), "gw-1", "telemetry", 50);
    assertThat(server.syncUrl()).startsWith("wss://");
  }

  @Test
  void restIsServedOverHttpsOnTheSamePort_withoutAClientCertificate() throws Exception {
    HttpClient https = HttpClient.newBuilder().sslContext(trustOnly()).build();
    HttpResponse<String> health =
        https.send(
            HttpRequest.newBuilder(
                    URI.create("https://127.0.0.1:" + server.port() + "/api/v1/health"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(health.statusCode()).isEqualTo(200);
  }

  @Test
  void helloNamingAnotherDevice_isRefusedWithIdentityMismatch_andNothingIsStored()
      throws Exception {
    KeyAndCertificate gw1 = ca.issueDevice("gw-1", DAY);
    SSLContext asGw1 = pki.deviceContext(gw1);
    RawClient c = RawClient.connect(server.syncUrl(), asGw1);
    c.send(Frame.newBuilder().setHello(RawClient.hello("gw-2")));
    Frame refusal = c.next();
    assertThat(refusal.getError().getCode()).isEqualTo(ErrorCode.IDENTITY_MISMATCH);
    assertThat(refusal.getError().getMessage())
        .isEqualTo("Hello names device 'gw-2' but the client certificate is device 'gw-1'");
    assertThat(refusal.getError().getFatal()).isTrue();
    assertThat(c.closed.get(5, TimeUnit.SECONDS)).isTrue();
    assertThat(server.store().device("gw-2")).isEmpty();
    assertThat(server.store().device("gw-1")).isEmpty();
    assertThat(server.isConnected("gw-2")).isFalse();
  }

  @Test
  void cliOverHttps_trustsTheCaOfCaFile_andWithoutItNamesTheRefusedCertificate() throws Exception {
    String url = "https://127.0.0.1:" + server.port();
    String data = dir.resolve("cloud").toString();
    String caFile = dir.resolve("ca").resolve("ca.pem").toString();
    assertThat(
            CliRun.stdout(
                "status", "--server", url, "--ca-file", caFile, "--data-dir", data, "--json"))
        .contains("\"devices\"");
    assertThat(
            CliRun.stdout(
                "conflicts", "list", "--server", url, "--ca-file", caFile, "--data-dir", data))
        .contains("ID");
    assertThat(CliRun.exit(2, "status", "--server", url, "--data-dir", data))
        .contains("TLS with " + url)
        .contains("needs --ca-file");
  }

  @Test
  void noClientCertificate_isRefusedOnTheSyncPath() throws Exception {
    assertThatThrownBy(() -> RawClient.connect(server.syncUrl(), trustOnly()))
        .hasStackTraceContaining("401");
    assertThat(server.store().devices()).isEmpty();
  }

  @Test
  void certificateFromAnotherCa_isRefusedAtTheHandshake_andShowsInTheAgentStatus()
      throws Exception {
    CertificateAuthority other =
        CertificateAuthority.init(dir.resolve("other"), "other CA", DAY, Clock.systemUTC());
    write(other.issueDevice("gw-1", DAY), "gw-1");
    agent = EdgeAgent.open(agentConfig("gw-1", "gw-1"));
    agent.append("telemetry", Testbed.payload(1));
    assertRefusedAtTheHandshake();
  }

  @Test
  void revokedCertificate_isRefusedFromTheNextConnection_withoutAServerRestart() throws Exception {
    KeyAndCertificate gw1 = ca.issueDevice("gw-1", DAY);
    write(gw1, "gw-1");
    agent = EdgeAgent.open(agentConfig("gw-1", "gw-1"));
    agent.append("telemetry", Testbed.payload(1));
    await().atMost(WAIT).until(() -> server.store().read("gw-1", "telemetry", 0, 10).size() == 1);
    agent.close();

    ca.revoke(gw1.certificate().getSerialNumber());
    agent = EdgeAgent.open(agentConfig("gw-1", "gw-1"));
    agent.append("telemetry", Testbed.payload(2));
    assertRefusedAtTheHandshake();
    assertThat(server.store().read("gw-1", "telemetry", 0, 10)).hasSize(1);
  }

  @Test
  void agentTlsConfig_withAMissingFile_isAnErrorNamingTheKey() {
    assertThatThrownBy(() -> agentConfig("gw-1", "nobody"))
        .hasMessageContaining("tls.cert_file")
        .hasMessageContaining("no such file");
  }

  /** The agent cannot connect; its status names a TLS refusal; the server stored nothing. */
  private void assertRefusedAtTheHandshake() throws Exception {
    await()
        .atMost(WAIT)
        .until(() -> agent.status().lastError() != null && !agent.status().lastError().past());
    String message = agent.status().lastError().message();
    assertThat(message)
        .contains("SSLHandshakeException")
        .contains("the server refused this device's certificate");
    Thread.sleep(500); // a few reconnect attempts
    assertThat(agent.status().connection().state()).isNotEqualTo("connected");
    assertThat(server.isConnected("gw-1")).isFalse();
  }

  private AgentConfig agentConfig(String deviceId, String files) {
    return pki.agentConfig(server.syncUrl(), deviceId, files, "");
  }

  private void write(KeyAndCertificate issued, String name) throws Exception {
    pki.write(issued, name);
  }

  private SSLContext trustOnly() throws Exception {
    return pki.trustOnly();
  }
}
