package io.edgesync.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgesync.agent.AgentConfig;
import io.edgesync.agent.EdgeAgent;
import io.edgesync.agent.internal.tls.DeviceCertificate;
import io.edgesync.cli.Main;
import io.edgesync.security.CertificateAuthority;
import io.edgesync.security.DeviceIdentity;
import io.edgesync.security.IssuedCertificate;
import io.edgesync.security.KeyAndCertificate;
import io.edgesync.security.Pem;
import io.edgesync.server.ApiKeys;
import io.edgesync.server.AuditChain;
import io.edgesync.server.EnrollmentTokens;
import io.edgesync.server.ServerConfig;
import io.edgesync.server.SqliteCloudStore;
import io.edgesync.server.SyncServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Enrollment end to end over real TLS sockets, a real SQLite store and real key files: a one-time
 * token, a key pair made on the device, a CSR, the certificate from the server's built-in CA, then
 * sync over mutual TLS. Every refusal asserts that nothing was stored: no certificate issued, the
 * token not consumed, no key or certificate file on the device.
 */
class EnrollmentTest {
  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final Duration DAY = Duration.ofDays(1);
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;
  private CertificateAuthority ca;
  private SyncServer server;
  private EdgeAgent agent;
  private EdgeAgent other;

  @BeforeEach
  void makeCa() throws Exception {
    ca = CertificateAuthority.init(dir.resolve("ca"), "test CA", DAY, Clock.systemUTC());
    KeyAndCertificate s = ca.issueServer(List.of("localhost", "127.0.0.1"), DAY);
    Pem.writeCertificates(dir.resolve("server.pem"), s.certificate());
    Pem.writePrivateKey(dir.resolve("server.key"), s.privateKey());
  }

  @AfterEach
  void stop() throws Exception {
    Testbed.closeAll(agent, other, server);
  }

  private void startServer(boolean withCa) {
    Path caDir = dir.resolve("ca");
    server =
        SyncServer.start(
            Testbed.serverConfig(dir, 0)
                .withTls(
                    new ServerConfig.TlsFiles(
                        dir.resolve("server.pem"),
                        dir.resolve("server.key"),
                        caDir.resolve("ca.pem"),
                        ca.crlFile(),
                        withCa ? caDir : null)));
  }

  @Test
  void deviceEnrollsWithATokenFromTheCli_thenSyncsOverMutualTls_withItsOwnKeyKept0600()
      throws Exception {
    Path tokenFile = dir.resolve("gw-1.token");
    int exit =
        Main.run(
            "enroll",
            "token",
            "--data-dir",
            dir.resolve("cloud").toString(),
            "--device",
            "gw-1",
            "--ttl",
            "1h",
            "--out",
            tokenFile.toString());
    assertThat(exit).isZero();
    assertThat(Files.readString(tokenFile)).startsWith(EnrollmentTokens.PREFIX);
    startServer(true);

    agent = EdgeAgent.open(agentConfig("gw-1", tokenFile));
    agent.append("telemetry", Testbed.payload(1));
    await().atMost(WAIT).until(() -> server.store().read("gw-1", "telemetry", 0, 10).size() == 1);

    Path key = dir.resolve("edge-gw-1").resolve("device.key");
    Path cert = dir.resolve("edge-gw-1").resolve("device.pem");
    if (Files.getFileStore(key).supportsFileAttributeView("posix")) {
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(key)))
          .isEqualTo("rw-------");
    }
    X509Certificate issued = Pem.readCertificate(cert);
    assertThat(DeviceIdentity.deviceId(issued)).isEqualTo("gw-1");
    issued.verify(ca.certificate().getPublicKey());
    assertThat(deviceCertificates()).hasSize(1);
    EnrollmentTokens.Token t = tokens().list().get(0);
    assertThat(t.used()).isTrue();
    assertThat(t.certSerial()).isEqualTo(issued.getSerialNumber().toString(16));
    assertThat(audit())
        .anySatisfy(
            e -> {
              assertThat(e.action()).isEqualTo("enrollment_token.create");
              assertThat(e.actor()).startsWith("cli:");
              assertThat(e.target()).isEqualTo("gw-1");
            })
        .anySatisfy(
            e -> {
              assertThat(e.action()).isEqualTo("enroll");
              assertThat(e.actor()).isEqualTo("device:gw-1");
              assertThat(e.details()).contains(issued.getSerialNumber().toString(16));
            });
  }

  @Test
  void usedToken_isRefusedToASecondDevice_whichStoresNothing_andShowsTheReason() throws Exception {
    startServer(true);
    Path tokenFile = writeToken(tokens().create("gw-1", 3600, "test", System.currentTimeMillis()));
    agent = EdgeAgent.open(agentConfig("gw-1", tokenFile));
    await().atMost(WAIT).until(() -> server.isConnected("gw-1"));
    agent.close();
    agent = null;

    other = EdgeAgent.open(agentConfig("gw-1", tokenFile, "edge-copy"));
    other.append("telemetry", Testbed.payload(1));
    await().atMost(WAIT).until(() -> other.status().lastError() != null);
    assertThat(other.status().lastError().message())
        .contains("token_used")
        .contains("a token works once");
    assertThat(dir.resolve("edge-copy").resolve("device.key")).doesNotExist();
    assertThat(dir.resolve("edge-copy").resolve("device.pem")).doesNotExist();
    assertThat(deviceCertificates()).hasSize(1);
    assertThat(server.store().read("gw-1", "telemetry", 0, 10)).isEmpty();
    // A refused token is not sent again at each reconnect (it would be refused again).
    Thread.sleep(1_500); // fastSync reconnects within 500 ms
    assertThat(audit()).filteredOn(e -> e.action().equals("enroll.refuse")).hasSize(1);
  }

  @Test
  void expiredToken_isRefused_andNothingIsStored() throws Exception {
    startServer(true);
    long longAgo = System.currentTimeMillis() - 3_600_000;
    EnrollmentTokens.Created c = tokens().create("gw-1", 60, "test", longAgo);
    HttpResponse<String> r = enroll(c.secret(), "gw-1");
    assertRefused(r, 403, "token_expired", "expired at");
    assertThat(tokens().list().get(0).used()).isFalse();
  }

  @Test
  void unknownToken_isRefused_andNothingIsStored_notEvenAnAuditRecord() throws Exception {
    startServer(true);
    int before = audit().size();
    for (int i = 0; i < 3; i++) {
      assertRefusedNoIssue(
          enroll(EnrollmentTokens.PREFIX + "nonsense" + i, "gw-1"),
          403,
          "unknown_token",
          "unknown enrollment token");
    }
    // Anyone can send unknown tokens: they must not grow the audit log.
    assertThat(audit()).hasSize(before);
    assertThat(server.store().device("gw-1")).isEmpty();
  }

  @Test
  void csrNamingAnotherDevice_isRefused_andTheTokenStaysUsable() throws Exception {
    startServer(true);
    EnrollmentTokens.Created c = tokens().create("gw-1", 3600, "test", System.currentTimeMillis());
    assertRefused(
        enroll(c.secret(), "gw-2"),
        403,
        "wrong_device",
        "the CSR names device 'gw-2' but the enrollment token is for device 'gw-1'");
    assertThat(tokens().list().get(0).used()).isFalse();
    assertThat(server.store().device("gw-2")).isEmpty();

    HttpResponse<String> ok = enroll(c.secret(), "gw-1");
    assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
    assertThat(JSON.readTree(ok.body()).path("device").asText()).isEqualTo("gw-1");
    assertThat(deviceCertificates()).hasSize(1);
  }

  @Test
  void failedSignature_doesNotBurnTheToken_andTheDeviceCanTryAgain() throws Exception {
    startServer(true);
    EnrollmentTokens.Created c = tokens().create("gw-1", 3600, "test", System.currentTimeMillis());
    // The CA cannot record the certificate it signs: its issued/ directory is a file now.
    Path issued = dir.resolve("ca").resolve("issued");
    Path aside = dir.resolve("issued-aside");
    Files.move(issued, aside);
    Files.writeString(issued, "not a directory");
    HttpResponse<String> failed;
    try {
      failed = enroll(c.secret(), "gw-1");
    } finally {
      Files.delete(issued);
      Files.move(aside, issued);
    }
    assertThat(failed.statusCode()).isEqualTo(500);
    assertThat(tokens().list().get(0).used()).isFalse();
    assertThat(audit()).noneSatisfy(e -> assertThat(e.action()).isEqualTo("enroll"));

    assertThat(enroll(c.secret(), "gw-1").statusCode()).isEqualTo(200);
    assertThat(tokens().list().get(0).used()).isTrue();
  }

  @Test
  void serverWithoutCa_answers503NamingIt_andTheTokenStaysUnused() throws Exception {
    startServer(false);
    EnrollmentTokens.Created c = tokens().create("gw-1", 3600, "test", System.currentTimeMillis());
    assertRefusedNoIssue(enroll(c.secret(), "gw-1"), 503, "no_ca", "server.tls.ca_dir");
    assertThat(tokens().list().get(0).used()).isFalse();
  }

  @Test
  void tokensAreMadeOverRestByAnAdminKeyOnly_andTheAuditNamesTheKey() throws Exception {
    startServer(true);
    String admin = Files.readString(server.adminKeyFile()).trim();
    String operator =
        sqlite()
            .apiKeys()
            .create("ops", ApiKeys.Role.OPERATOR, List.of(), System.currentTimeMillis(), "test")
            .secret();
    String body = "{\"device\": \"gw-7\", \"ttl_s\": 600}";

    HttpResponse<String> refused = post("/api/v1/enrollment-tokens", body, operator);
    assertThat(refused.statusCode()).isEqualTo(403);
    assertThat(refused.body()).contains("needs role admin");
    assertThat(tokens().list()).isEmpty();

    HttpResponse<String> made = post("/api/v1/enrollment-tokens", body, admin);
    assertThat(made.statusCode()).as(made.body()).isEqualTo(201);
    JsonNode m = JSON.readTree(made.body());
    assertThat(m.path("device").asText()).isEqualTo("gw-7");
    assertThat(enroll(m.path("token").asText(), "gw-7").statusCode()).isEqualTo(200);
    assertThat(audit())
        .anySatisfy(
            e -> {
              assertThat(e.action()).isEqualTo("enrollment_token.create");
              assertThat(e.actor()).isEqualTo("admin");
            });
    // Recorded once, by the token store, not a second time as a REST write.
    assertThat(audit()).noneMatch(e -> e.action().startsWith("api."));

    HttpResponse<String> bad =
        post("/api/v1/enrollment-tokens", "{\"device\": \"gw-7\", \"ttl_s\": 0}", admin);
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(bad.body()).contains("ttl_s must be 1..");
    assertThat(tokens().list()).hasSize(1);

    // The CLI over the same API, trusting the built-in CA.
    Path out = dir.resolve("gw-8.token");
    int exit =
        Main.run(
            "enroll",
            "token",
            "--server",
            "https://127.0.0.1:" + server.port(),
            "--ca-file",
            dir.resolve("ca").resolve("ca.pem").toString(),
            "--api-key-file",
            server.adminKeyFile().toString(),
            "--device",
            "gw-8",
            "--ttl",
            "10m",
            "--out",
            out.toString());
    assertThat(exit).isZero();
    assertThat(enroll(Files.readString(out).trim(), "gw-8").statusCode()).isEqualTo(200);
  }

  // ---------------------------------------------------------------- helpers

  private void assertRefused(HttpResponse<String> r, int status, String reason, String message)
      throws Exception {
    assertRefusedNoIssue(r, status, reason, message);
    assertThat(audit())
        .anySatisfy(
            e -> {
              assertThat(e.action()).isEqualTo("enroll.refuse");
              assertThat(e.details()).contains(reason);
            });
  }

  private void assertRefusedNoIssue(
      HttpResponse<String> r, int status, String reason, String message) throws Exception {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
    JsonNode n = JSON.readTree(r.body());
    assertThat(n.path("reason").asText()).isEqualTo(reason);
    assertThat(n.path("error").asText()).contains(message);
    assertThat(deviceCertificates()).isEmpty();
    assertThat(audit()).noneSatisfy(e -> assertThat(e.action()).isEqualTo("enroll"));
  }

  /** POST /v1/enroll with a fresh key pair's CSR naming {@code cn}. */
  private HttpResponse<String> enroll(String token, String cn) throws Exception {
    KeyPair pair = DeviceCertificate.newKeyPair();
    String csr = Pem.toPem(DeviceCertificate.csr(cn, pair));
    return post("/v1/enroll", JSON.writeValueAsString(Map.of("token", token, "csr", csr)), null);
  }

  private HttpResponse<String> post(String path, String json, String apiKey) throws Exception {
    HttpClient https = HttpClient.newBuilder().sslContext(trustOnly()).build();
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + server.port() + path))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(json));
    if (apiKey != null) {
      b.header("Authorization", "Bearer " + apiKey);
    }
    return https.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private List<IssuedCertificate> deviceCertificates() throws Exception {
    return ca.list().stream().filter(c -> c.kind() == IssuedCertificate.Kind.DEVICE).toList();
  }

  private SqliteCloudStore sqlite() {
    return (SqliteCloudStore) server.store();
  }

  private EnrollmentTokens tokens() {
    return sqlite().enrollmentTokens();
  }

  private List<AuditChain.Entry> audit() {
    return sqlite().auditLog().read(0, 1000);
  }

  private Path writeToken(EnrollmentTokens.Created c) throws Exception {
    Path f = dir.resolve(c.token().device() + ".token");
    Files.writeString(f, c.secret() + "\n");
    return f;
  }

  private AgentConfig agentConfig(String deviceId, Path tokenFile) {
    return agentConfig(deviceId, tokenFile, "edge-" + deviceId);
  }

  private AgentConfig agentConfig(String deviceId, Path tokenFile, String edgeDir) {
    Path edge = dir.resolve(edgeDir);
    return Testbed.fastSync(
        AgentConfig.fromYaml(
            "device: {id: \""
                + deviceId
                + "\"}\n"
                + "server: {url: \""
                + server.syncUrl()
                + "\"}\n"
                + "local_api: {port: -1}\n"
                + "sync: {offline: {local_storage_path: \""
                + edge
                + "\"}}\n"
                + "tls: {cert_file: \""
                + edge.resolve("device.pem")
                + "\", key_file: \""
                + edge.resolve("device.key")
                + "\", ca_file: \""
                + dir.resolve("ca").resolve("ca.pem")
                + "\", enrollment_token_file: \""
                + tokenFile
                + "\"}\n"));
  }

  /** A client that trusts the CA but has no certificate of its own. */
  private SSLContext trustOnly() throws Exception {
    return io.edgesync.security.TlsContexts.trusting(java.util.List.of(ca.certificate()));
  }
}
