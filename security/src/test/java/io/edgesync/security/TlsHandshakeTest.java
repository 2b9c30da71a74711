package io.edgesync.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mutual TLS over real loopback sockets with certificates from the built-in CA: the server requires
 * a client certificate and refuses every bad one at the handshake.
 */
class TlsHandshakeTest {
  private static final Duration DAY = Duration.ofDays(1);

  @TempDir Path tmp;
  private CertificateAuthority ca;
  private SSLContext server;

  @BeforeEach
  void setUp() throws IOException {
    ca =
        CertificateAuthority.init(
            tmp.resolve("ca"), "test CA", Duration.ofDays(365), Clock.systemUTC());
    server = serverContext(ca);
  }

  @Test
  void validDeviceCertificate_isAdmitted_andItsCnIsTheDeviceId() throws Exception {
    Outcome o = connect(server, deviceContext(ca.issueDevice("gw-0042", DAY)));
    assertThat(o.serverError).isNull();
    assertThat(o.clientRead).isEqualTo('k');
    assertThat(o.peerDeviceId).isEqualTo("gw-0042");
  }

  @Test
  void expiredCertificate_isRefusedAtTheHandshake() throws Exception {
    CertificateAuthority past =
        CertificateAuthority.open(ca.directory(), shifted(Duration.ofDays(-10)));
    Outcome o = connect(server, deviceContext(past.issueDevice("gw-1", DAY)));
    assertRefused(o, "NotAfter");
  }

  @Test
  void notYetValidCertificate_isRefusedAtTheHandshake() throws Exception {
    CertificateAuthority future =
        CertificateAuthority.open(ca.directory(), shifted(Duration.ofDays(10)));
    Outcome o = connect(server, deviceContext(future.issueDevice("gw-1", DAY)));
    assertRefused(o, "NotBefore");
  }

  @Test
  void certificateFromAnotherCa_isRefusedAtTheHandshake() throws Exception {
    CertificateAuthority other =
        CertificateAuthority.init(tmp.resolve("other"), "other CA", DAY, Clock.systemUTC());
    Outcome o = connect(server, deviceContext(other.issueDevice("gw-1", DAY), ca));
    assertRefused(o, "PKIX path building failed");
  }

  @Test
  void revokedCertificate_isRefusedAtTheHandshake() throws Exception {
    KeyAndCertificate device = ca.issueDevice("gw-1", DAY);
    ca.revoke(device.certificate().getSerialNumber());
    Outcome o = connect(serverContext(ca), deviceContext(device));
    assertRefused(o, "is revoked");
    assertThat(ca.list())
        .filteredOn(c -> c.kind() == IssuedCertificate.Kind.DEVICE)
        .singleElement()
        .extracting(IssuedCertificate::revoked)
        .isEqualTo(true);
  }

  @Test
  void revokedWhileTheServerRuns_isRefusedFromTheNextHandshake_withoutARestart() throws Exception {
    KeyAndCertificate s = ca.issueServer(List.of("localhost", "127.0.0.1"), DAY);
    Pem.writeCertificates(tmp.resolve("server.pem"), s.certificate());
    Pem.writePrivateKey(tmp.resolve("server.key"), s.privateKey());
    SSLContext fromFiles =
        TlsContexts.server(
            tmp.resolve("server.pem"),
            tmp.resolve("server.key"),
            ca.directory().resolve("ca.pem"),
            ca.crlFile());
    KeyAndCertificate device = ca.issueDevice("gw-1", DAY);
    assertThat(connect(fromFiles, deviceContext(device)).peerDeviceId).isEqualTo("gw-1");

    ca.revoke(device.certificate().getSerialNumber());
    assertRefused(connect(fromFiles, deviceContext(device)), "is revoked");
  }

  @Test
  void crlSignedByAnotherCa_isRefusedAtStart() throws Exception {
    CertificateAuthority other =
        CertificateAuthority.init(tmp.resolve("other"), "other CA", DAY, Clock.systemUTC());
    KeyAndCertificate s = ca.issueServer(List.of("localhost"), DAY);
    Pem.writeCertificates(tmp.resolve("server.pem"), s.certificate());
    Pem.writePrivateKey(tmp.resolve("server.key"), s.privateKey());
    assertThatThrownBy(
            () ->
                TlsContexts.server(
                    tmp.resolve("server.pem"),
                    tmp.resolve("server.key"),
                    ca.directory().resolve("ca.pem"),
                    other.crlFile()))
        .hasMessageContaining("the CRL is not signed by the client CA");
  }

  @Test
  void selfSignedCertificate_isRefusedAtTheHandshake() throws Exception {
    // A lone CA certificate is self-signed: present it (with its key) as the client certificate.
    CertificateAuthority self =
        CertificateAuthority.init(tmp.resolve("self"), "gw-1", DAY, Clock.systemUTC());
    KeyAndCertificate selfSigned =
        new KeyAndCertificate(
            Pem.readPrivateKey(self.directory().resolve("ca.key")), self.certificate());
    Outcome o = connect(server, deviceContext(selfSigned));
    assertRefused(o, "PKIX path building failed");
  }

  @Test
  void serverCertificatePresentedAsAClientCertificate_isRefused() throws Exception {
    // Signed by the trusted CA, but for serverAuth only: it must not identify a device.
    Outcome o = connect(server, deviceContext(ca.issueServer(List.of("gw-1"), DAY)));
    assertRefused(o, "Extended key usage does not permit use for TLS client authentication");
  }

  @Test
  void noClientCertificate_isRefusedAtTheHandshake() throws Exception {
    SSLContext anonymous = SSLContext.getInstance("TLS");
    anonymous.init(null, trustOnly(ca), null);
    Outcome o = connect(server, anonymous);
    assertRefused(o, "Empty client certificate chain");
  }

  @Test
  void serverCertificateFromAnotherCa_isRefusedByTheDevice() throws Exception {
    CertificateAuthority other =
        CertificateAuthority.init(tmp.resolve("other"), "other CA", DAY, Clock.systemUTC());
    Outcome o = connect(serverContext(other), deviceContext(ca.issueDevice("gw-1", DAY)));
    assertThat(o.clientError).isInstanceOf(SSLException.class);
    assertThat(o.clientError).hasMessageContaining("PKIX path building failed");
  }

  private static void assertRefused(Outcome o, String reason) {
    assertThat(o.serverError)
        .as("the server refuses the handshake")
        .isInstanceOf(SSLException.class);
    assertThat(causes(o.serverError)).contains(reason);
    // A bad_certificate alert, or a reset when the server closes before the client reads it.
    assertThat(o.clientError).as("the device sees the refusal").isInstanceOf(IOException.class);
    assertThat(o.clientRead).isNotEqualTo('k');
    assertThat(o.peerDeviceId).isNull();
  }

  private static String causes(Throwable t) {
    StringBuilder b = new StringBuilder();
    for (; t != null; t = t.getCause()) {
      b.append(t.getMessage()).append(" / ");
    }
    return b.toString();
  }

  private Clock shifted(Duration by) {
    return Clock.fixed(Instant.now().plus(by), ZoneOffset.UTC);
  }

  private SSLContext serverContext(CertificateAuthority authority) throws IOException {
    KeyAndCertificate s = authority.issueServer(List.of("localhost", "127.0.0.1"), DAY);
    return TlsContexts.server(
        List.of(s.certificate()),
        s.privateKey(),
        List.of(ca.certificate()),
        Pem.readCrl(ca.crlFile()));
  }

  private SSLContext deviceContext(KeyAndCertificate device) {
    return deviceContext(device, ca);
  }

  private static SSLContext deviceContext(KeyAndCertificate device, CertificateAuthority trusted) {
    return TlsContexts.device(
        List.of(device.certificate()), device.privateKey(), List.of(trusted.certificate()));
  }

  private static javax.net.ssl.TrustManager[] trustOnly(CertificateAuthority trusted)
      throws Exception {
    javax.net.ssl.TrustManagerFactory tmf = javax.net.ssl.TrustManagerFactory.getInstance("PKIX");
    java.security.KeyStore ks = java.security.KeyStore.getInstance("PKCS12");
    ks.load(null, null);
    ks.setCertificateEntry("ca", trusted.certificate());
    tmf.init(ks);
    return tmf.getTrustManagers();
  }

  /** What each side saw of one connection. */
  private static final class Outcome {
    volatile Throwable serverError;
    volatile Throwable clientError;
    volatile String peerDeviceId;
    volatile int clientRead = -2;
  }

  private static Outcome connect(SSLContext serverCtx, SSLContext clientCtx) throws Exception {
    Outcome o = new Outcome();
    InetAddress loopback = InetAddress.getLoopbackAddress();
    try (SSLServerSocket ss =
        (SSLServerSocket) serverCtx.getServerSocketFactory().createServerSocket(0, 1, loopback)) {
      ss.setNeedClientAuth(true);
      CompletableFuture<Void> served =
          CompletableFuture.runAsync(
              () -> {
                try (SSLSocket s = (SSLSocket) ss.accept()) {
                  s.startHandshake();
                  o.peerDeviceId =
                      DeviceIdentity.deviceId(
                          (X509Certificate) s.getSession().getPeerCertificates()[0]);
                  s.getOutputStream().write('k');
                  s.getOutputStream().flush();
                } catch (Exception e) {
                  o.serverError = e;
                }
              });
      try (SSLSocket c =
          (SSLSocket) clientCtx.getSocketFactory().createSocket(loopback, ss.getLocalPort())) {
        c.setSoTimeout(5_000);
        SSLParameters p = c.getSSLParameters();
        p.setEndpointIdentificationAlgorithm("HTTPS");
        c.setSSLParameters(p);
        c.startHandshake();
        InputStream in = c.getInputStream();
        o.clientRead = in.read(); // TLS 1.3: a refused client certificate surfaces here
      } catch (IOException e) {
        o.clientError = e;
      }
      served.get(10, TimeUnit.SECONDS);
    }
    return o;
  }
}
