package io.edgesync.it;

import io.edgesync.security.CertificateAuthority;
import io.edgesync.security.KeyAndCertificate;
import io.edgesync.security.Pem;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;

/** Config files for tests of the command line. */
public final class TestConfigs {
  private TestConfigs() {}

  /**
   * {@code server-every-section.yaml} (every section and key set to a value other than its default)
   * written to {@code dir/server.yaml} with its port and data directory filled in, and mutual TLS
   * with a CA in {@code dir/pki/ca} and a server certificate for 127.0.0.1 ({@link #trustingPki}).
   */
  public static Path serverEverySection(Path dir, int port, Path dataDir) throws IOException {
    return serverEverySection(dir, port, dataDir, "jdbc:postgresql://127.0.0.1:1/unused");
  }

  /**
   * The same with the store in the PostgreSQL database {@code storeUrl} (user {@code postgres}, no
   * password: {@code TestPostgres}); the 3-argument form names one nothing connects to.
   */
  public static Path serverEverySection(Path dir, int port, Path dataDir, String storeUrl)
      throws IOException {
    String yaml;
    try (InputStream in = TestConfigs.class.getResourceAsStream("/server-every-section.yaml")) {
      yaml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    Path file = dir.resolve("server.yaml");
    Files.writeString(
        file,
        yaml.replace("port: PORT", "port: " + port)
            .replace("STORE_URL", storeUrl)
            .replace("data_dir: DATA_DIR", "data_dir: '" + dataDir + "'")
            .replace("TLS_DIR", pki(dir.resolve("pki")).toString().replace("\\", "/"))
            .replace(
                "RELEASE_DIR", releaseKeys(dir.resolve("release")).toString().replace("\\", "/")));
    return file;
  }

  /** A release key pair in {@code dir} (made if absent): release.key and release.pub. */
  private static Path releaseKeys(Path dir) throws IOException {
    if (!Files.exists(dir.resolve("release.pub"))) {
      Files.createDirectories(dir);
      java.security.KeyPair k = io.edgesync.security.ReleaseKey.generate();
      io.edgesync.security.ReleaseKey.writePrivateKey(dir.resolve("release.key"), k.getPrivate());
      io.edgesync.security.ReleaseKey.writePublicKey(dir.resolve("release.pub"), k.getPublic());
    }
    return dir;
  }

  /** A client context that trusts the CA of {@link #serverEverySection} (no certificate). */
  public static javax.net.ssl.SSLContext trustingPki(Path dir) throws Exception {
    javax.net.ssl.TrustManagerFactory tmf = javax.net.ssl.TrustManagerFactory.getInstance("PKIX");
    java.security.KeyStore ks = java.security.KeyStore.getInstance("PKCS12");
    ks.load(null, null);
    ks.setCertificateEntry("ca", Pem.readCertificate(dir.resolve("pki/ca/ca.pem")));
    tmf.init(ks);
    javax.net.ssl.SSLContext ctx = javax.net.ssl.SSLContext.getInstance("TLS");
    ctx.init(null, tmf.getTrustManagers(), null);
    return ctx;
  }

  /**
   * The test CA of {@link #serverEverySection} in {@code dir/pki} (made if absent), with a
   * certificate and key for {@code deviceId} in {@code dir/pki/<deviceId>.pem} and {@code .key};
   * returns {@code dir/pki}. The server's files: {@code server.pem}, {@code server.key}, {@code
   * ca/ca.pem}, {@code ca/crl.pem}.
   */
  public static Path devicePki(Path dir, String deviceId) throws IOException {
    Path pki = pki(dir.resolve("pki"));
    if (!Files.exists(pki.resolve(deviceId + ".pem"))) {
      KeyAndCertificate device =
          CertificateAuthority.open(pki.resolve("ca"), Clock.systemUTC())
              .issueDevice(deviceId, Duration.ofDays(1));
      Pem.writePrivateKey(pki.resolve(deviceId + ".key"), device.privateKey());
      Pem.writeCertificates(pki.resolve(deviceId + ".pem"), device.certificate());
    }
    return pki;
  }

  private static Path pki(Path pki) throws IOException {
    if (!Files.exists(pki.resolve("server.pem"))) {
      Duration day = Duration.ofDays(1);
      CertificateAuthority ca =
          CertificateAuthority.init(pki.resolve("ca"), "test CA", day, Clock.systemUTC());
      KeyAndCertificate server = ca.issueServer(List.of("127.0.0.1", "localhost"), day);
      Pem.writePrivateKey(pki.resolve("server.key"), server.privateKey());
      Pem.writeCertificates(pki.resolve("server.pem"), server.certificate());
    }
    return pki;
  }
}
