package io.edgesync.it;

import io.edgesync.agent.AgentConfig;
import io.edgesync.security.CertificateAuthority;
import io.edgesync.security.KeyAndCertificate;
import io.edgesync.security.Pem;
import io.edgesync.security.TlsContexts;
import io.edgesync.server.ServerConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.SSLContext;

/**
 * The throwaway PKI of the mutual-TLS tests: a built-in CA in {@code dir/ca}, a server certificate
 * for localhost and 127.0.0.1 in {@code dir/server.pem|.key}, and device certificates on demand in
 * {@code dir/<name>.pem|.key}, all valid for a day.
 */
final class TestPki {
  static final Duration DAY = Duration.ofDays(1);

  private final Path dir;
  private final CertificateAuthority ca;

  private TestPki(Path dir, CertificateAuthority ca) {
    this.dir = dir;
    this.ca = ca;
  }

  static TestPki create(Path dir) throws IOException {
    TestPki pki =
        new TestPki(
            dir, CertificateAuthority.init(dir.resolve("ca"), "test CA", DAY, Clock.systemUTC()));
    pki.write(pki.ca.issueServer(List.of("localhost", "127.0.0.1"), DAY), "server");
    return pki;
  }

  CertificateAuthority ca() {
    return ca;
  }

  Path caFile() {
    return dir.resolve("ca").resolve(CertificateAuthority.CERT_FILE);
  }

  /** The server's {@code server.tls}: its certificate, the CA and the CA's revocation list. */
  ServerConfig.TlsFiles serverTls() {
    return new ServerConfig.TlsFiles(
        dir.resolve("server.pem"), dir.resolve("server.key"), caFile(), ca.crlFile());
  }

  /** Issues {@code device}'s certificate and writes it with its key as {@code dir/<device>}. */
  KeyAndCertificate writeDevice(String device) throws IOException {
    KeyAndCertificate k = ca.issueDevice(device, DAY);
    write(k, device);
    return k;
  }

  void write(KeyAndCertificate issued, String name) throws IOException {
    Pem.writeCertificates(dir.resolve(name + ".pem"), issued.certificate());
    Pem.writePrivateKey(dir.resolve(name + ".key"), issued.privateKey());
  }

  /**
   * An agent of {@code deviceId} syncing quickly ({@link Testbed#fastSync}) to {@code syncUrl} over
   * mutual TLS with the files {@code dir/<files>.pem|.key}, its store in {@code dir/edge-<id>}, no
   * local API, and the further YAML {@code moreYaml}.
   */
  AgentConfig agentConfig(String syncUrl, String deviceId, String files, String moreYaml) {
    return Testbed.fastSync(
        AgentConfig.fromYaml(
            "device: {id: \""
                + deviceId
                + "\"}\n"
                + "server: {url: \""
                + syncUrl
                + "\"}\n"
                + "local_api: {port: -1}\n"
                + "sync: {offline: {local_storage_path: \""
                + dir.resolve("edge-" + deviceId)
                + "\"}}\n"
                + "tls: {cert_file: \""
                + dir.resolve(files + ".pem")
                + "\", key_file: \""
                + dir.resolve(files + ".key")
                + "\", ca_file: \""
                + caFile()
                + "\"}\n"
                + moreYaml));
  }

  /** A client TLS context with {@code cert} as its client certificate. */
  SSLContext deviceContext(KeyAndCertificate cert) {
    return TlsContexts.device(
        List.of(cert.certificate()), cert.privateKey(), List.of(ca.certificate()));
  }

  /** A client TLS context with a new certificate of {@code device}. */
  SSLContext deviceContext(String device) throws IOException {
    return deviceContext(ca.issueDevice(device, DAY));
  }

  /** A client that trusts the CA but has no certificate of its own. */
  SSLContext trustOnly() {
    return TlsContexts.trusting(List.of(ca.certificate()));
  }
}
