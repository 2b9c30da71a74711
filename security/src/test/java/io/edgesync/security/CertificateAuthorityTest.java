package io.edgesync.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CertificateAuthorityTest {
  private static final Duration DAY = Duration.ofDays(1);

  @TempDir Path tmp;
  private Path dir;
  private CertificateAuthority ca;

  @BeforeEach
  void setUp() throws Exception {
    dir = tmp.resolve("ca");
    ca =
        CertificateAuthority.init(
            dir, "edgesync test CA", CertificateAuthority.DEFAULT_CA_VALIDITY, Clock.systemUTC());
  }

  @Test
  void init_writesCaCertKeyCrlAndIndex_withTheKeyReadableOnlyByItsOwner() throws Exception {
    assertThat(dir.resolve("ca.pem")).exists();
    assertThat(dir.resolve("crl.pem")).exists();
    assertThat(dir.resolve("index.tsv")).exists();
    if (Pem.posix()) {
      assertThat(
              PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("ca.key"))))
          .isEqualTo("rw-------");
    }
    X509Certificate cert = Pem.readCertificate(dir.resolve("ca.pem"));
    assertThat(cert.getBasicConstraints()).isGreaterThanOrEqualTo(0);
    assertThat(cert.getPublicKey().getAlgorithm()).isEqualTo("EC");
    assertThat(Duration.between(cert.getNotBefore().toInstant(), cert.getNotAfter().toInstant()))
        .isGreaterThan(Duration.ofDays(3649));
  }

  @Test
  void initTwice_isRefusedAndKeepsTheExistingCa() throws Exception {
    byte[] before = Files.readAllBytes(dir.resolve("ca.key"));
    assertThatThrownBy(() -> CertificateAuthority.init(dir, "again", DAY, Clock.systemUTC()))
        .hasMessageContaining("already holds a CA");
    assertThat(Files.readAllBytes(dir.resolve("ca.key"))).isEqualTo(before);
  }

  @Test
  void deviceCertificate_namesTheDeviceInCnAndSanUri_forClientAuth() throws Exception {
    X509Certificate cert = ca.issueDevice("gw-0042", DAY).certificate();
    assertThat(cert.getSubjectX500Principal().getName()).isEqualTo("CN=gw-0042");
    assertThat(cert.getSubjectAlternativeNames())
        .containsExactly(List.of(6, "urn:edgesync:device:gw-0042"));
    assertThat(cert.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.2");
    assertThat(DeviceIdentity.deviceId(cert)).isEqualTo("gw-0042");
    cert.verify(ca.certificate().getPublicKey());
  }

  @Test
  void serverCertificate_carriesDnsAndIpNames_forServerAuth() throws Exception {
    X509Certificate cert =
        ca.issueServer(List.of("cloud.example.com", "10.0.0.5"), DAY).certificate();
    assertThat(cert.getSubjectAlternativeNames())
        .containsExactly(List.of(2, "cloud.example.com"), List.of(7, "10.0.0.5"));
    assertThat(cert.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.1");
  }

  @Test
  void badDeviceIdOrServerName_isRefusedNamingIt() {
    assertThatThrownBy(() -> ca.issueDevice("gw 1", DAY)).hasMessageContaining("'gw 1'");
    assertThatThrownBy(() -> ca.issueServer(List.of("bad name"), DAY))
        .hasMessageContaining("'bad name'");
    assertThatThrownBy(() -> ca.issueDevice("gw-1", Duration.ZERO))
        .hasMessageContaining("validity must be positive");
  }

  @Test
  void list_showsEveryIssuedCertificate_andRevocation() throws Exception {
    X509Certificate dev = ca.issueDevice("gw-1", DAY).certificate();
    ca.issueServer(List.of("localhost"), DAY);
    ca.revoke(dev.getSerialNumber());
    List<IssuedCertificate> all = ca.list();
    assertThat(all)
        .extracting(IssuedCertificate::subject)
        .containsExactly("CN=gw-1", "CN=localhost");
    assertThat(all).extracting(IssuedCertificate::revoked).containsExactly(true, false);
    assertThat(all.get(0).serial()).isEqualTo(dev.getSerialNumber());
    assertThat(all.get(0).notAfter()).isEqualTo(dev.getNotAfter().toInstant());
    assertThat(Pem.readCrl(ca.crlFile()).isRevoked(dev)).isTrue();
    Pem.readCrl(ca.crlFile()).verify(ca.certificate().getPublicKey());
  }

  @Test
  void revokeUnknownSerial_isRefusedAndLeavesTheCrlAlone() throws Exception {
    byte[] before = Files.readAllBytes(ca.crlFile());
    assertThatThrownBy(() -> ca.revoke(BigInteger.valueOf(0xabc)))
        .hasMessageContaining("no certificate with serial abc");
    assertThat(Files.readAllBytes(ca.crlFile())).isEqualTo(before);
  }

  @Test
  void signCsr_issuesForTheNamedDevice_withoutSeeingItsPrivateKey() throws Exception {
    KeyPair pair = CertificateAuthority.newKeyPair();
    X509Certificate cert = ca.signCsr(csr("gw-7", pair), "gw-7", DAY);
    assertThat(cert.getPublicKey()).isEqualTo(pair.getPublic());
    assertThat(DeviceIdentity.deviceId(cert)).isEqualTo("gw-7");
  }

  @Test
  void signCsr_forAnotherDevice_isRefused() throws Exception {
    PKCS10CertificationRequest csr = csr("gw-7", CertificateAuthority.newKeyPair());
    assertThatThrownBy(() -> ca.signCsr(csr, "gw-8", DAY))
        .hasMessageContaining("the CSR names device 'gw-7' but was sent for device 'gw-8'");
    assertThat(ca.list()).isEmpty();
  }

  @Test
  void signCsr_withABadSignature_isRefused() throws Exception {
    KeyPair a = CertificateAuthority.newKeyPair();
    KeyPair b = CertificateAuthority.newKeyPair();
    // Subject key a, signed with key b: the CSR does not prove possession of a.
    PKCS10CertificationRequest forged =
        new JcaPKCS10CertificationRequestBuilder(new X500Name("CN=gw-7"), a.getPublic())
            .build(new JcaContentSignerBuilder("SHA256withECDSA").build(b.getPrivate()));
    assertThatThrownBy(() -> ca.signCsr(forged, "gw-7", DAY))
        .hasMessageContaining("signature does not verify");
    assertThat(ca.list()).isEmpty();
  }

  @Test
  void pemRoundTrip_keyCertAndCsr() throws Exception {
    KeyAndCertificate dev = ca.issueDevice("gw-1", DAY);
    Pem.writePrivateKey(tmp.resolve("k.pem"), dev.privateKey());
    Pem.writeCertificates(tmp.resolve("c.pem"), dev.certificate(), ca.certificate());
    assertThat(Pem.readPrivateKey(tmp.resolve("k.pem"))).isEqualTo(dev.privateKey());
    assertThat(Pem.readCertificates(tmp.resolve("c.pem")))
        .containsExactly(dev.certificate(), ca.certificate());
    assertThat(Files.readString(tmp.resolve("k.pem"))).startsWith("-----BEGIN PRIVATE KEY-----");
    PKCS10CertificationRequest csr = csr("gw-2", CertificateAuthority.newKeyPair());
    Pem.writeCsr(tmp.resolve("r.pem"), csr);
    assertThat(Pem.readCsr(tmp.resolve("r.pem"))).isEqualTo(csr);
    assertThatThrownBy(() -> Pem.readPrivateKey(tmp.resolve("c.pem")))
        .hasMessageContaining("no unencrypted PEM PRIVATE KEY");
  }

  @Test
  void certificateWhoseSanUriNamesAnotherDevice_hasNoDeviceId() throws Exception {
    // Built by hand: the CA never issues such a certificate, but another CA might.
    X509Certificate cert = ca.issueDevice("gw-1", DAY).certificate();
    assertThat(DeviceIdentity.deviceId(cert)).isEqualTo("gw-1");
    assertThatThrownBy(() -> DeviceIdentity.commonName(new X500Name("CN=a,CN=b")))
        .hasMessageContaining("exactly one CN");
  }

  private static PKCS10CertificationRequest csr(String deviceId, KeyPair pair) throws Exception {
    return new JcaPKCS10CertificationRequestBuilder(
            new X500Name("CN=" + deviceId), pair.getPublic())
        .build(new JcaContentSignerBuilder("SHA256withECDSA").build(pair.getPrivate()));
  }
}
