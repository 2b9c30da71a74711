package io.edgesync.agent.internal.tls;

import com.google.protobuf.ByteString;
import io.edgesync.agent.internal.EdgeNode;
import io.edgesync.protocol.Clock;
import io.edgesync.protocol.wire.CertificateIssued;
import io.edgesync.protocol.wire.CertificateRequest;
import io.edgesync.protocol.wire.Frame;
import io.edgesync.security.DeviceIdentity;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.security.KeyPair;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Renews this device's certificate over its authenticated session, before it expires: at about two
 * thirds of the certificate's lifetime, shifted by a jitter drawn once per certificate, uniform in
 * ±{@value #JITTER_PERCENT} % of the lifetime (so a fleet enrolled at once does not renew at once),
 * the agent makes a new key pair, sends a CertificateRequest, and on CertificateIssued writes the
 * new key (0600) and certificate; the next connection uses them ({@link DeviceTlsTransport}).
 *
 * <p>Time is the injected wall {@link Clock}: certificate validity is wall-clock time. The check
 * runs after each engine call on an active session (heartbeats make one at least every heartbeat
 * interval). A refusal, or a session that ends before the answer, is retried after {@value
 * #RETRY_PERCENT} % of the lifetime. A device offline past its certificate's end cannot renew: it
 * must enroll again with a new token.
 *
 * <p>Threads: owned by the agent's loop (all methods run there).
 */
public final class CertificateRenewal implements EdgeNode.SideChannel {
  private static final Logger log = LoggerFactory.getLogger(CertificateRenewal.class);

  /** The jitter's bound, in percent of the certificate's lifetime, either way. */
  static final int JITTER_PERCENT = 10;

  /** How long after a refusal or a lost answer to ask again, in percent of the lifetime. */
  static final int RETRY_PERCENT = 2;

  private final String deviceId;
  private final DeviceCertificate files;
  private final Clock clock;
  private final RandomGenerator random;

  // Owned by the loop.
  private X509Certificate current; // the certificate the due time was computed for
  private long dueAtMs = Long.MAX_VALUE;
  private KeyPair pending; // the key of the request awaiting its answer; null: none
  private String lastRefusal;

  public CertificateRenewal(
      String deviceId, DeviceCertificate files, Clock clock, RandomGenerator random) {
    this.deviceId = deviceId;
    this.files = files;
    this.clock = clock;
    this.random = random;
  }

  /** When the current certificate is due for renewal (wall-clock ms), or MAX_VALUE if unknown. */
  public long dueAtMs() {
    refreshCurrent();
    return dueAtMs;
  }

  /** The last refusal from the server, or null. */
  public String lastRefusal() {
    return lastRefusal;
  }

  @Override
  public Frame poll() {
    if (pending != null || clock.nowMs() < dueAtMs()) {
      return null;
    }
    pending = DeviceCertificate.newKeyPair();
    byte[] csr;
    try {
      csr = DeviceCertificate.csr(deviceId, pending).getEncoded();
    } catch (IOException e) {
      throw new IllegalStateException("cannot encode a CSR", e);
    }
    log.info(
        "{}: renewing certificate serial {} (valid until {})",
        deviceId,
        current.getSerialNumber().toString(16),
        current.getNotAfter().toInstant());
    return Frame.newBuilder()
        .setCertificateRequest(CertificateRequest.newBuilder().setCsr(ByteString.copyFrom(csr)))
        .build();
  }

  @Override
  public boolean onFrame(Frame frame) {
    if (!frame.hasCertificateIssued()) {
      return false;
    }
    KeyPair key = pending;
    pending = null;
    CertificateIssued issued = frame.getCertificateIssued();
    if (key == null) {
      log.warn("{}: CertificateIssued without a request; ignored", deviceId);
    } else if (!issued.getRefusal().isEmpty()) {
      refused(issued.getRefusal());
    } else {
      try {
        store(key, issued);
      } catch (IOException | CertificateException | IllegalArgumentException e) {
        refused("the certificate could not be used: " + e.getMessage());
      }
    }
    return true;
  }

  @Override
  public void onDisconnected() {
    if (pending != null) {
      pending = null;
      retryLater();
    }
  }

  private void store(KeyPair key, CertificateIssued issued)
      throws IOException, CertificateException {
    List<X509Certificate> chain = new ArrayList<>();
    CertificateFactory f = CertificateFactory.getInstance("X.509");
    for (ByteString der : issued.getCertificatesList()) {
      chain.add(
          (X509Certificate) f.generateCertificate(new ByteArrayInputStream(der.toByteArray())));
    }
    if (chain.isEmpty()) {
      throw new CertificateException("the answer holds no certificate");
    }
    X509Certificate cert = chain.get(0);
    if (!cert.getPublicKey().equals(key.getPublic())) {
      throw new CertificateException("it is for another key");
    }
    String named = DeviceIdentity.deviceId(cert);
    if (!deviceId.equals(named)) {
      throw new CertificateException("it names device '" + named + "'");
    }
    files.store(key.getPrivate(), chain);
    lastRefusal = null;
    current = null; // due time of the new certificate, with a new jitter
    log.info(
        "{}: certificate renewed: serial {} valid until {}; used from the next connection",
        deviceId,
        cert.getSerialNumber().toString(16),
        cert.getNotAfter().toInstant());
  }

  private void refused(String reason) {
    lastRefusal = reason;
    log.warn("{}: certificate renewal refused: {}", deviceId, reason);
    retryLater();
  }

  private void retryLater() {
    if (current != null) {
      dueAtMs = clock.nowMs() + Math.max(1, lifetimeMs(current) * RETRY_PERCENT / 100);
    }
  }

  /** Reads the certificate file when it is new to us, and draws its due time. */
  private void refreshCurrent() {
    if (current != null) {
      return;
    }
    try {
      current = files.certificate();
    } catch (IOException e) {
      dueAtMs = Long.MAX_VALUE; // no certificate yet (enrollment) or unreadable: nothing to renew
      return;
    }
    dueAtMs = dueAt(current, random.nextDouble() * 2 - 1);
    log.debug("{}: certificate renewal due at {}", deviceId, Instant.ofEpochMilli(dueAtMs));
  }

  /**
   * Two thirds into the certificate's validity, moved by {@code jitter} (in -1..1) times {@value
   * #JITTER_PERCENT} % of its lifetime.
   */
  static long dueAt(X509Certificate cert, double jitter) {
    long from = cert.getNotBefore().getTime();
    long lifetime = lifetimeMs(cert);
    return from + lifetime * 2 / 3 + (long) (jitter * lifetime * JITTER_PERCENT / 100);
  }

  private static long lifetimeMs(X509Certificate cert) {
    return cert.getNotAfter().getTime() - cert.getNotBefore().getTime();
  }
}
