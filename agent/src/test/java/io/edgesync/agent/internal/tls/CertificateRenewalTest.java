package io.edgesync.agent.internal.tls;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgesync.agent.AgentConfig;
import io.edgesync.protocol.wire.CertificateIssued;
import io.edgesync.protocol.wire.Frame;
import io.edgesync.security.CertificateAuthority;
import io.edgesync.security.KeyAndCertificate;
import io.edgesync.security.Pem;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** When the agent asks for a new certificate: two thirds of the lifetime, ±10 % jitter. */
class CertificateRenewalTest {
  private static final long DAY_MS = Duration.ofDays(1).toMillis();

  @TempDir Path dir;
  private X509Certificate cert;
  private DeviceCertificate files;
  private final AtomicLong nowMs = new AtomicLong();

  @BeforeEach
  void issue() throws Exception {
    CertificateAuthority ca =
        CertificateAuthority.init(dir.resolve("ca"), "t", Duration.ofDays(400), Clock.systemUTC());
    KeyAndCertificate kc = ca.issueDevice("gw-1", Duration.ofDays(30));
    cert = kc.certificate();
    Pem.writeCertificates(dir.resolve("d.pem"), cert);
    Pem.writePrivateKey(dir.resolve("d.key"), kc.privateKey());
    files =
        new DeviceCertificate(
            new AgentConfig.TlsFiles(
                dir.resolve("d.pem"), dir.resolve("d.key"), dir.resolve("ca").resolve("ca.pem")));
  }

  @Test
  void dueAt_isTwoThirdsOfTheLifetime_movedByAtMostTenPercentOfIt() {
    long from = cert.getNotBefore().getTime();
    long lifetime = cert.getNotAfter().getTime() - from;
    assertThat(CertificateRenewal.dueAt(cert, 0)).isEqualTo(from + lifetime * 2 / 3);
    assertThat(CertificateRenewal.dueAt(cert, -1))
        .isEqualTo(from + lifetime * 2 / 3 - lifetime / 10);
    assertThat(CertificateRenewal.dueAt(cert, 1))
        .isEqualTo(from + lifetime * 2 / 3 + lifetime / 10);
  }

  @Test
  void jitter_differsBetweenDevices_andStaysWithinItsBounds() {
    long from = cert.getNotBefore().getTime();
    long lifetime = cert.getNotAfter().getTime() - from;
    java.util.Set<Long> seen = new java.util.HashSet<>();
    for (int seed = 0; seed < 50; seed++) {
      long due = renewal(seed).dueAtMs();
      assertThat(due).isBetween(from + lifetime * 17 / 30, from + lifetime * 23 / 30);
      seen.add(due);
    }
    assertThat(seen).hasSizeGreaterThan(40);
  }

  @Test
  void asksOnlyOnceDue_oneRequestAtATime_andAgainSoonAfterARefusal() {
    CertificateRenewal r = renewal(1);
    nowMs.set(r.dueAtMs() - 1);
    assertThat(r.poll()).isNull();

    nowMs.set(r.dueAtMs());
    Frame request = r.poll();
    assertThat(request.hasCertificateRequest()).isTrue();
    assertThat(r.poll()).as("one request at a time").isNull();

    Frame refusal =
        Frame.newBuilder()
            .setCertificateIssued(CertificateIssued.newBuilder().setRefusal("no_ca: none"))
            .build();
    assertThat(r.onFrame(refusal)).isTrue();
    assertThat(r.lastRefusal()).isEqualTo("no_ca: none");
    assertThat(r.poll()).as("not at once after a refusal").isNull();
    nowMs.addAndGet(DAY_MS); // 2 % of 30 days is 14.4 hours
    assertThat(r.poll()).isNotNull();
  }

  private CertificateRenewal renewal(long seed) {
    return new CertificateRenewal("gw-1", files, nowMs::get, new SplittableRandom(seed));
  }
}
