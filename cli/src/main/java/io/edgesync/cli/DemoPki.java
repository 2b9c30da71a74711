package io.edgesync.cli;

import io.edgesync.agent.AgentConfig;
import io.edgesync.security.CertificateAuthority;
import io.edgesync.security.KeyAndCertificate;
import io.edgesync.security.Pem;
import io.edgesync.server.ServerConfig;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;

/**
 * The demo's throwaway PKI: a CA, a server certificate for 127.0.0.1 and one certificate per
 * device, all valid for a day, in {@code dir} (deleted with the demo's directory).
 */
final class DemoPki {
  private static final Duration VALIDITY = Duration.ofDays(1);

  private final Path dir;
  private final CertificateAuthority ca;

  private DemoPki(Path dir, CertificateAuthority ca) {
    this.dir = dir;
    this.ca = ca;
  }

  static DemoPki create(Path dir) throws IOException {
    DemoPki pki =
        new DemoPki(
            dir,
            CertificateAuthority.init(
                dir.resolve("ca"), "edgesync demo CA", VALIDITY, Clock.systemUTC()));
    pki.write("server", pki.ca.issueServer(List.of("127.0.0.1", "localhost"), VALIDITY));
    return pki;
  }

  Path dir() {
    return dir;
  }

  ServerConfig.TlsFiles serverTls() {
    return new ServerConfig.TlsFiles(
        dir.resolve("server.pem"), dir.resolve("server.key"), caFile(), ca.crlFile());
  }

  /** {@link AgentConfig#simple} with the device's own certificate for mutual TLS. */
  AgentConfig agentConfig(String deviceId, URI serverUrl, Path dataDir) throws IOException {
    write(deviceId, ca.issueDevice(deviceId, VALIDITY));
    return AgentConfig.fromYaml(
        "device: {id: \""
            + deviceId
            + "\"}\nserver: {url: \""
            + serverUrl
            + "\"}\n"
            + "sync: {offline: {local_storage_path: \""
            + yamlPath(dataDir)
            + "\"}}\nlocal_api: {port: -1}\n"
            + "tls: {cert_file: \""
            + yamlPath(dir.resolve(deviceId + ".pem"))
            + "\", key_file: \""
            + yamlPath(dir.resolve(deviceId + ".key"))
            + "\", ca_file: \""
            + yamlPath(caFile())
            + "\"}\n");
  }

  private Path caFile() {
    return dir.resolve("ca").resolve("ca.pem");
  }

  private void write(String name, KeyAndCertificate issued) throws IOException {
    Pem.writePrivateKey(dir.resolve(name + ".key"), issued.privateKey());
    Pem.writeCertificates(dir.resolve(name + ".pem"), issued.certificate());
  }

  private static String yamlPath(Path p) {
    return p.toString().replace("\\", "/");
  }
}
