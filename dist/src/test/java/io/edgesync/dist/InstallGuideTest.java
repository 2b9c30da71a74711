package io.edgesync.dist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's "Install a server" and "Install on a device" with mutual TLS, done on the installed
 * packages: the installed command makes the CA, the server's certificate and an enrollment token
 * where the service may write; the tls blocks the shipped configs carry as comments, uncommented,
 * start a server on every interface over TLS; the agent enrolls with the token and its append
 * reaches the server.
 */
class InstallGuideTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void theShippedTlsBlocks_uncommented_serveOverMutualTls_andADeviceEnrollsAndSyncs(
      @TempDir Path tmp) throws Exception {
    Debs debs = Debs.built("InstallGuideTest");
    InstalledRoot r = InstalledRoot.empty(tmp.resolve("root"));
    r.dpkg(debs.installAll()).ok();
    String serverState = r.path("/var/lib/edgesync/server").toString();
    Services.cli(r, "ca", "init", "--ca-dir", serverState + "/ca");
    Services.cli(
        r,
        "ca",
        "issue",
        "--ca-dir",
        serverState + "/ca",
        "--server",
        "localhost",
        "--out",
        serverState + "/tls");
    int serverPort = Services.freePort();
    int agentPort = Services.freePort();
    r.rewrite("/etc/edgesync/server.yaml", serverTls(serverState, serverPort));

    Process s = Services.start(r, "edgesync-server.service", tmp.resolve("server.log"));
    Process a = null;
    try {
      HttpClient https =
          HttpClient.newBuilder().sslContext(trusting(serverState + "/ca/ca.pem")).build();
      String cloud = "https://localhost:" + serverPort;
      Services.awaitUp(https, cloud + "/api/v1/health", s, tmp.resolve("server.log"));
      Services.cli(
          r,
          "enroll",
          "token",
          "--device",
          "gw-0042",
          "--ttl",
          "24h",
          "--out",
          r.path("/etc/edgesync/device.token").toString(),
          "--config",
          r.path("/etc/edgesync/server.yaml").toString());
      Files.copy(Path.of(serverState, "ca", "ca.pem"), r.path("/etc/edgesync/ca.pem"));
      r.rewrite("/etc/edgesync/agent.yaml", agentTls(r, serverPort, agentPort));

      a = Services.start(r, "edgesync-agent.service", tmp.resolve("agent.log"));
      HttpClient http = HttpClient.newHttpClient();
      String local = "http://127.0.0.1:" + agentPort;
      Services.awaitUp(http, local + "/v1/status", a, tmp.resolve("agent.log"));
      assertThat(
              Services.post(http, local + "/v1/streams/sensor_data", "{\"temp\":22.5}")
                  .statusCode())
          .isEqualTo(200);

      String adminKey = Files.readString(Path.of(serverState, "admin.key")).trim();
      String records = cloud + "/api/v1/devices/gw-0042/streams/sensor_data?after=0";
      await()
          .atMost(Duration.ofSeconds(30))
          .untilAsserted(
              () -> {
                JsonNode body = JSON.readTree(Services.get(https, records, adminKey));
                assertThat(body.path("records").path(0).path("payload").path("temp").asDouble())
                    .isEqualTo(22.5);
              });
      // enrollment wrote the device's key and certificate where the shipped config says
      assertThat(r.path("/var/lib/edgesync/agent/device.pem")).isNotEmptyFile();
      assertThat(r.path("/var/lib/edgesync/agent/device.key")).isNotEmptyFile();
      Services.assertStopsCleanly(a, "agent");
      Services.assertStopsCleanly(s, "server");
    } finally {
      Services.kill(a);
      Services.kill(s);
    }
  }

  /** server.yaml: the commented tls block made live, as README "Install a server" says. */
  private static Map<String, String> serverTls(String state, int port) {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("host: 127.0.0.1", "host: 0.0.0.0");
    m.put("port: 8470", "port: " + port);
    m.put("  # tls:", "  tls:");
    m.put("  #   cert_file: ", "    cert_file: ");
    m.put("  #   key_file: ", "    key_file: ");
    m.put("  #   ca_dir: ", "    ca_dir: ");
    m.put("cloud.example.com.pem", "localhost.pem");
    m.put("cloud.example.com.key", "localhost.key");
    m.put("/var/lib/edgesync/server", state);
    return m;
  }

  /** agent.yaml: the device's id, the server over wss://, the commented tls block made live. */
  private static Map<String, String> agentTls(InstalledRoot r, int serverPort, int agentPort) {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("id: change-me", "id: gw-0042");
    m.put("ws://127.0.0.1:8470/", "wss://localhost:" + serverPort + "/");
    m.put("port: 8471", "port: " + agentPort);
    m.put("# tls:", "tls:");
    m.put("#   ca_file: /etc/edgesync/", "  ca_file: " + r.path("/etc/edgesync") + "/");
    m.put("#   cert_file: ", "  cert_file: ");
    m.put("#   key_file: ", "  key_file: ");
    m.put(
        "#   enrollment_token_file: /etc/edgesync/",
        "  enrollment_token_file: " + r.path("/etc/edgesync") + "/");
    m.put("/var/lib/edgesync/agent", r.path("/var/lib/edgesync/agent").toString());
    return m;
  }

  private static SSLContext trusting(String caPem) throws Exception {
    KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
    trust.load(null, null);
    try (InputStream in = Files.newInputStream(Path.of(caPem))) {
      trust.setCertificateEntry(
          "ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
    }
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext ssl = SSLContext.getInstance("TLS");
    ssl.init(null, tmf.getTrustManagers(), null);
    return ssl;
  }
}
