package io.edgesync.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.edgesync.cli.Main;
import io.edgesync.security.Pem;
import io.edgesync.server.AuditChain;
import io.edgesync.server.AuditVerifier;
import io.edgesync.server.ServerConfig;
import io.edgesync.server.SqliteCloudStore;
import io.edgesync.server.SyncServer;
import java.math.BigInteger;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The built-in CA's actions in the audit chain: the real {@code edgesync ca} commands write the CA
 * directory, a real server with {@code server.tls.ca_dir} appends one {@code cert.issue} record per
 * issued certificate and one {@code cert.revoke} per revoked one, at start and while it runs, and
 * never twice (across a restart too).
 */
class CaAuditTest {
  @TempDir Path dir;
  private SyncServer server;

  @AfterEach
  void stop() throws Exception {
    Testbed.closeAll(server);
  }

  @Test
  void issuesAndRevocations_beforeStartAndWhileRunning_areAuditedOnce_acrossARestart()
      throws Exception {
    assertThat(ca("init")).isZero();
    assertThat(ca("issue", "--server", "127.0.0.1", "--out", dir.resolve("keys").toString()))
        .isZero();
    String gw1 = issueDevice("gw-1");
    String gw2 = issueDevice("gw-2");
    assertThat(ca("revoke", gw2)).isZero();

    server = SyncServer.start(config());
    assertThat(certRecords())
        .containsExactlyInAnyOrder(
            "cert.issue " + serverSerial(),
            "cert.issue cert/" + gw1,
            "cert.issue cert/" + gw2,
            "cert.revoke cert/" + gw2);

    String gw3 = issueDevice("gw-3"); // while the server runs: another process writes the CA dir
    assertThat(ca("revoke", gw1)).isZero();
    await().atMost(Duration.ofSeconds(10)).until(() -> certRecords().size() == 6);
    assertThat(certRecords()).contains("cert.issue cert/" + gw3, "cert.revoke cert/" + gw1);

    server.close();
    server = SyncServer.start(config()); // a restart finds nothing new
    Thread.sleep(1_500); // a timer tick or more
    assertThat(certRecords()).hasSize(6);

    AuditChain.Entry revoke =
        entries().stream()
            .filter(e -> e.action().equals("cert.revoke") && e.target().endsWith(gw1))
            .findFirst()
            .orElseThrow();
    assertThat(revoke.actor()).isEqualTo("$server");
    assertThat(revoke.details())
        .contains("\"serial\":\"" + gw1 + "\"")
        .contains("\"subject\":\"CN=gw-1\"")
        .contains("\"kind\":\"device\"")
        .contains("\"revoked_at\":\"");
    AuditVerifier.Report report = auditLog().verify(auditLog().publicKey());
    assertThat(report.problem()).isNull();
  }

  private int ca(String... args) {
    String[] all = new String[args.length + 3];
    all[0] = "ca";
    System.arraycopy(args, 0, all, 1, args.length);
    all[args.length + 1] = "--ca-dir";
    all[args.length + 2] = dir.resolve("ca").toString();
    return Main.run(all);
  }

  /** Issues a device certificate with the real command; returns its serial (hex). */
  private String issueDevice(String id) throws Exception {
    assertThat(ca("issue", "--device", id, "--out", dir.resolve("keys").toString())).isZero();
    return serialOf(dir.resolve("keys").resolve(id + ".pem"));
  }

  private String serverSerial() throws Exception {
    return "cert/" + serialOf(dir.resolve("keys").resolve("127.0.0.1.pem"));
  }

  private static String serialOf(Path pem) throws Exception {
    BigInteger serial = Pem.readCertificate(pem).getSerialNumber();
    return serial.toString(16);
  }

  private ServerConfig config() {
    Path ca = dir.resolve("ca");
    return Testbed.serverConfig(dir, 0)
        .withTls(
            new ServerConfig.TlsFiles(
                dir.resolve("keys").resolve("127.0.0.1.pem"),
                dir.resolve("keys").resolve("127.0.0.1.key"),
                ca.resolve("ca.pem"),
                ca.resolve("crl.pem"),
                ca));
  }

  private io.edgesync.server.AuditLog auditLog() {
    return ((SqliteCloudStore) server.store()).auditLog();
  }

  private List<AuditChain.Entry> entries() {
    return auditLog().read(0, 10_000);
  }

  private List<String> certRecords() {
    return entries().stream()
        .filter(e -> e.action().startsWith("cert."))
        .map(e -> e.action() + " " + e.target())
        .collect(Collectors.toList());
  }
}
