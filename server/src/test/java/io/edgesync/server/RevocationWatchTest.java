package io.edgesync.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgesync.security.CertificateAuthority;
import io.edgesync.security.Pem;
import java.nio.file.Path;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The watch's decisions, with the timer taken out: the test calls {@link RevocationWatch#check}
 * itself and hands it the CRL (a real one, signed by a real CA) through the supplier.
 */
class RevocationWatchTest {
  @TempDir Path dir;
  private CertificateAuthority ca;
  private final AtomicReference<X509CRL> crl = new AtomicReference<>();
  private final List<String> ended = new ArrayList<>();
  private RevocationWatch watch;

  @BeforeEach
  void setUp() throws Exception {
    ca =
        CertificateAuthority.init(
            dir.resolve("ca"), "test CA", Duration.ofDays(1), Clock.systemUTC());
    crl.set(Pem.readCrl(ca.crlFile()));
    watch = new RevocationWatch(crl::get);
  }

  @Test
  void check_endsOnlyTheSessionsWhoseCertificateIsOnTheCrl_eachOnce() throws Exception {
    X509Certificate gw1 = device("gw-1");
    watch.watch("s1", gw1, "gw-1", ended::add);
    watch.watch("s2", device("gw-2"), "gw-2", ended::add);
    assertThat(watch.check()).isZero();

    ca.revoke(gw1.getSerialNumber());
    crl.set(Pem.readCrl(ca.crlFile()));
    assertThat(watch.check()).isEqualTo(1);
    assertThat(watch.check()).isZero();
    assertThat(watch.isRevoked("s1")).isFalse(); // ended: no longer watched, not told again
    assertThat(ended).containsExactly(RevocationWatch.message("gw-1", gw1.getSerialNumber()));
    assertThat(ended.get(0)).contains("serial " + gw1.getSerialNumber().toString(16));
    assertThat(watch.sessionsClosed()).isEqualTo(1);
  }

  @Test
  void isRevoked_beforeAFrame_endsTheSessionAtOnce_withoutWaitingForTheTimer() throws Exception {
    X509Certificate gw1 = device("gw-1");
    watch.watch("s1", gw1, "gw-1", ended::add);
    assertThat(watch.isRevoked("s1")).isFalse();
    ca.revoke(gw1.getSerialNumber());
    crl.set(Pem.readCrl(ca.crlFile()));
    assertThat(watch.isRevoked("s1")).isTrue();
    assertThat(ended).hasSize(1);
    assertThat(watch.check()).isZero();
  }

  @Test
  void anUnwatchedSession_orNoCrl_isNeverRevoked() throws Exception {
    X509Certificate gw1 = device("gw-1");
    ca.revoke(gw1.getSerialNumber());
    crl.set(Pem.readCrl(ca.crlFile()));
    watch.watch("s1", gw1, "gw-1", ended::add);
    watch.unwatch("s1");
    assertThat(watch.isRevoked("s1")).isFalse();
    crl.set(null);
    watch.watch("s2", gw1, "gw-1", ended::add);
    assertThat(watch.check()).isZero();
    assertThat(ended).isEmpty();
  }

  private X509Certificate device(String id) throws Exception {
    return ca.issueDevice(id, Duration.ofDays(1)).certificate();
  }
}
