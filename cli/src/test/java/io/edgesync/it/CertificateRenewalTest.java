package io.edgesync.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import io.edgesync.agent.AgentConfig;
import io.edgesync.agent.EdgeAgent;
import io.edgesync.agent.internal.tls.DeviceCertificate;
import io.edgesync.protocol.wire.CertificateIssued;
import io.edgesync.protocol.wire.CertificateRequest;
import io.edgesync.protocol.wire.Frame;
import io.edgesync.security.CertificateAuthority;
import io.edgesync.security.DeviceIdentity;
import io.edgesync.security.IssuedCertificate;
import io.edgesync.security.KeyAndCertificate;
import io.edgesync.security.Pem;
import io.edgesync.security.TlsContexts;
import io.edgesync.server.AuditChain;
import io.edgesync.server.ServerConfig;
import io.edgesync.server.SqliteCloudStore;
import io.edgesync.server.SyncServer;
import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * In-band certificate renewal over a real mutual-TLS session: the agent renews when its injected
 * clock passes about two thirds of its certificate's lifetime, writes the new key (0600) and
 * certificate, and its next connection uses them; the server signs only for the session's own
 * device id.
 */
class CertificateRenewalTest {
  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final Duration YEAR = Duration.ofDays(365);
  private static final Duration MONTH = Duration.ofDays(30);

  @TempDir Path dir;
  private CertificateAuthority ca;
  private SyncServer server;
  private EdgeAgent agent;
  private int port;

  @BeforeEach
  void startServer() throws Exception {
    ca = CertificateAuthority.init(dir.resolve("ca"), "test CA", YEAR, Clock.systemUTC());
    KeyAndCertificate s = ca.issueServer(List.of("localhost", "127.0.0.1"), YEAR);
    Pem.writeCertificates(dir.resolve("server.pem"), s.certificate());
    Pem.writePrivateKey(dir.resolve("server.key"), s.privateKey());
    port = Testbed.freePort();
    server = SyncServer.start(serverConfig());
  }

  private ServerConfig serverConfig() {
    Path caDir = dir.resolve("ca");
    return Testbed.serverConfig(dir, port)
        .withTls(
            new ServerConfig.TlsFiles(
                dir.resolve("server.pem"),
                dir.resolve("server.key"),
                caDir.resolve("ca.pem"),
                ca.crlFile(),
                caDir));
  }

  @AfterEach
  void stop() throws Exception {
    Testbed.closeAll(agent, server);
  }

  @Test
  void agentRenewsInBand_pastTwoThirdsOfTheLifetime_andItsNextConnectionUsesTheNewCertificate()
      throws Exception {
    KeyAndCertificate first = ca.issueDevice("gw-1", MONTH);
    Path cert = dir.resolve("gw-1.pem");
    Path key = dir.resolve("gw-1.key");
    Pem.writeCertificates(cert, first.certificate());
    Pem.writePrivateKey(key, first.privateKey());
    BigInteger oldSerial = first.certificate().getSerialNumber();
    AtomicLong offsetMs = new AtomicLong();
    agent =
        EdgeAgent.open(
            agentConfig(cert, key),
            () -> System.currentTimeMillis() + offsetMs.get(),
            new SplittableRandom(7));
    agent.append("telemetry", Testbed.payload(1));
    await().atMost(WAIT).until(() -> server.store().read("gw-1", "telemetry", 0, 10).size() == 1);
    Thread.sleep(1_500); // a few heartbeats: nothing is renewed before it is due
    assertThat(serialIn(cert)).isEqualTo(oldSerial);

    // 30-day certificate: due at 20 days ± 3; 24 days in, it is due whatever the jitter.
    offsetMs.set(Duration.ofDays(24).toMillis());
    await().atMost(WAIT).until(() -> !serialIn(cert).equals(oldSerial));
    offsetMs.set(0);

    X509Certificate renewed = Pem.readCertificate(cert);
    assertThat(DeviceIdentity.deviceId(renewed)).isEqualTo("gw-1");
    renewed.verify(ca.certificate().getPublicKey());
    assertThat(renewed.getNotAfter()).isAfter(first.certificate().getNotAfter());
    if (Files.getFileStore(key).supportsFileAttributeView("posix")) {
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(key)))
          .isEqualTo("rw-------");
    }
    assertThat(audit())
        .anySatisfy(
            e -> {
              assertThat(e.action()).isEqualTo("cert.renew");
              assertThat(e.actor()).isEqualTo("device:gw-1");
            });

    // The old certificate is revoked: only the new one can connect from now on.
    ca.revoke(oldSerial);
    server.close();
    server = SyncServer.start(serverConfig());
    agent.append("telemetry", Testbed.payload(2));
    await().atMost(WAIT).until(() -> server.store().read("gw-1", "telemetry", 0, 10).size() == 2);
  }

  @Test
  void renewalCsrNamingAnotherDevice_isRefused_andNoCertificateIsIssued() throws Exception {
    RawClient c = session("gw-1");
    CertificateIssued answer = renew(c, "gw-2");
    assertThat(answer.getCertificatesCount()).isZero();
    assertThat(answer.getRefusal())
        .startsWith("wrong_device:")
        .contains("the CSR names device 'gw-2' but this session is device 'gw-1'");
    assertThat(deviceCertificates()).hasSize(1); // gw-1's own, issued by the test
    assertThat(server.store().device("gw-2")).isEmpty();
    assertThat(audit())
        .anySatisfy(e -> assertThat(e.action()).isEqualTo("cert.renew.refuse"))
        .noneSatisfy(e -> assertThat(e.action()).isEqualTo("cert.renew"));
  }

  @Test
  void renewalForTheSessionsOwnDevice_answersTheNewChain() throws Exception {
    RawClient c = session("gw-1");
    CertificateIssued answer = renew(c, "gw-1");
    assertThat(answer.getRefusal()).isEmpty();
    CertificateFactory f = CertificateFactory.getInstance("X.509");
    X509Certificate leaf =
        (X509Certificate)
            f.generateCertificate(
                new ByteArrayInputStream(answer.getCertificates(0).toByteArray()));
    assertThat(DeviceIdentity.deviceId(leaf)).isEqualTo("gw-1");
    assertThat(answer.getCertificates(1).toByteArray()).isEqualTo(ca.certificate().getEncoded());
    // The server's default: 30 days (device_cert_days), give or take the backdating.
    Duration lifetime =
        Duration.between(leaf.getNotBefore().toInstant(), leaf.getNotAfter().toInstant());
    assertThat(lifetime).isBetween(MONTH, MONTH.plusMinutes(10));
    assertThat(deviceCertificates()).hasSize(2);
  }

  /** An established mutual-TLS session of {@code device} with a raw client. */
  private RawClient session(String device) throws Exception {
    KeyAndCertificate kc = ca.issueDevice(device, MONTH);
    RawClient c =
        RawClient.connect(
            server.syncUrl(),
            TlsContexts.device(
                List.of(kc.certificate()), kc.privateKey(), List.of(ca.certificate())));
    c.send(Frame.newBuilder().setHello(RawClient.hello(device)));
    assertThat(c.next().hasWelcome()).isTrue();
    return c;
  }

  /** Sends a CertificateRequest whose CSR names {@code cn}; returns the answer. */
  private static CertificateIssued renew(RawClient c, String cn) throws Exception {
    byte[] csr = DeviceCertificate.csr(cn, DeviceCertificate.newKeyPair()).getEncoded();
    c.send(
        Frame.newBuilder()
            .setCertificateRequest(
                CertificateRequest.newBuilder().setCsr(ByteString.copyFrom(csr))));
    for (int i = 0; i < 20; i++) {
      Frame f = c.next();
      if (f.hasCertificateIssued()) {
        return f.getCertificateIssued();
      }
    }
    throw new AssertionError("no CertificateIssued");
  }

  private static BigInteger serialIn(Path cert) throws Exception {
    return Pem.readCertificate(cert).getSerialNumber();
  }

  private List<IssuedCertificate> deviceCertificates() throws Exception {
    return ca.list().stream().filter(c -> c.kind() == IssuedCertificate.Kind.DEVICE).toList();
  }

  private List<AuditChain.Entry> audit() {
    return ((SqliteCloudStore) server.store()).auditLog().read(0, 1000);
  }

  private AgentConfig agentConfig(Path cert, Path key) {
    return Testbed.fastSync(
        AgentConfig.fromYaml(
            "device: {id: \"gw-1\"}\n"
                + "server: {url: \""
                + server.syncUrl()
                + "\"}\n"
                + "local_api: {port: -1}\n"
                + "sync: {offline: {local_storage_path: \""
                + dir.resolve("edge")
                + "\"}}\n"
                + "tls: {cert_file: \""
                + cert
                + "\", key_file: \""
                + key
                + "\", ca_file: \""
                + dir.resolve("ca").resolve("ca.pem")
                + "\"}\n"));
  }
}
