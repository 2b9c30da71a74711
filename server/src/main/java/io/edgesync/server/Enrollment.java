package io.edgesync.server;

import com.google.protobuf.ByteString;
import io.edgesync.engine.cloud.CloudSession;
import io.edgesync.protocol.wire.CertificateIssued;
import io.edgesync.protocol.wire.CertificateRequest;
import io.edgesync.security.CertificateAuthority;
import io.edgesync.security.Pem;
import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.LongSupplier;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x500.style.IETFUtils;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;

/**
 * Signs device certificates with the server's built-in CA ({@code server.tls.ca_dir}): at
 * enrollment, for a one-time token and a CSR whose key was made on the device; at renewal, over a
 * device's authenticated session, for that session's own device id only.
 *
 * <p>Atomic from the device's view: the token check, the signature, the token's consumption and the
 * audit record run in one store transaction (on the store's writer thread, which also serializes
 * use of the CA, which is not thread safe). A refusal or a failed signature rolls all of it back,
 * so the token stays usable; the refusal then gets an audit record of its own.
 *
 * <p>Audit actions: {@code enroll}, {@code enroll.refuse}, {@code cert.renew}, {@code
 * cert.renew.refuse}; the actor is {@code device:<id>}. Thread safe.
 */
final class Enrollment {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(Enrollment.class);

  /** Why a request was refused; the label is the API's {@code reason} and the audit's. */
  enum Reason {
    UNKNOWN_TOKEN,
    TOKEN_EXPIRED,
    TOKEN_USED,
    WRONG_DEVICE,
    BAD_CSR,
    NO_CA,
    NO_CLIENT_CERTIFICATE;

    String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** A refusal: nothing was stored and, for enrollment, the token was not consumed. */
  static final class Refused extends RuntimeException {
    final Reason reason;

    Refused(Reason reason, String message) {
      super(message);
      this.reason = reason;
    }
  }

  /** A certificate just signed, and its chain (the certificate, then the CA's). */
  record Issued(String deviceId, X509Certificate certificate, List<X509Certificate> chain) {
    String serialHex() {
      return certificate.getSerialNumber().toString(16);
    }
  }

  private final CertificateAuthority ca; // null: this server holds no CA
  private final Duration validity;
  private final EnrollmentTokens tokens;
  private final AuditLog audit;
  private final LongSupplier nowMs;

  Enrollment(
      CertificateAuthority ca,
      Duration validity,
      EnrollmentTokens tokens,
      AuditLog audit,
      LongSupplier nowMs) {
    this.ca = ca;
    this.validity = validity;
    this.tokens = tokens;
    this.audit = audit;
    this.nowMs = nowMs;
  }

  /**
   * The enrollment of a server on {@code store}: signing with the CA in {@code tls.caDir()} if
   * there is one (else every request is refused as {@link Reason#NO_CA}).
   */
  static Enrollment open(ServerConfig.TlsFiles tls, SqliteCloudStore store, LongSupplier nowMs) {
    CertificateAuthority ca = null;
    Duration validity = Duration.ofDays(ServerConfig.TlsFiles.DEFAULT_DEVICE_CERT_DAYS);
    if (tls != null && tls.caDir() != null) {
      validity = Duration.ofDays(tls.deviceCertDays());
      try {
        ca = CertificateAuthority.open(tls.caDir(), java.time.Clock.systemUTC());
      } catch (IOException e) {
        throw new IllegalStateException("server.tls.ca_dir: " + e.getMessage(), e);
      }
    }
    return new Enrollment(ca, validity, store.enrollmentTokens(), store.auditLog(), nowMs);
  }

  /**
   * Enrolls the device {@code token} was made for, signing {@code csrPem} (PEM PKCS#10 whose
   * Subject CN is that device id).
   *
   * @throws Refused naming why; nothing is stored and the token stays as it was
   */
  Issued enroll(String token, String csrPem) {
    String tokenId = token == null ? "-" : EnrollmentTokens.tokenIdOf(token);
    String cn = null;
    try {
      requireCa();
      PKCS10CertificationRequest csr = parsePem(csrPem);
      cn = commonName(csr);
      String named = cn;
      return audit.inTransaction(() -> enrollInTransaction(token, tokenId, csr, named));
    } catch (Refused r) {
      // Only a refusal of a real token is audited: anyone who reaches the port can send unknown
      // ones, and must not be able to grow the audit log by it (they are logged instead).
      if (token != null && tokens.bySecret(token).isPresent()) {
        auditRefusal("enroll.refuse", cn, r, Map.of("tokenId", tokenId));
      } else {
        log.info("enrollment refused ({}), token unknown: {}", r.reason.label(), r.getMessage());
      }
      throw r;
    }
  }

  /**
   * The answer to a session's CertificateRequest ({@link CloudSession.CertificateSigner}): the new
   * certificate chain in DER, or a refusal {@code "<reason>: <message>"}.
   */
  CertificateIssued signForSession(String authenticatedDeviceId, CertificateRequest request) {
    try {
      if (authenticatedDeviceId == null) {
        throw new Refused(
            Reason.NO_CLIENT_CERTIFICATE,
            "renewal needs a mutual-TLS session; this one has no client certificate");
      }
      Issued issued = renew(authenticatedDeviceId, request.getCsr().toByteArray());
      CertificateIssued.Builder b = CertificateIssued.newBuilder();
      for (X509Certificate c : issued.chain()) {
        b.addCertificates(ByteString.copyFrom(c.getEncoded()));
      }
      return b.build();
    } catch (Refused r) {
      return CertificateIssued.newBuilder()
          .setRefusal(r.reason.label() + ": " + r.getMessage())
          .build();
    } catch (java.security.cert.CertificateEncodingException | RuntimeException e) {
      log.error("renewing the certificate of {} failed", authenticatedDeviceId, e);
      return CertificateIssued.newBuilder()
          .setRefusal("internal: the server could not sign; its log has the reason")
          .build();
    }
  }

  Issued renew(String deviceId, byte[] csrDer) {
    try {
      requireCa();
      PKCS10CertificationRequest csr = parseDer(csrDer);
      String cn = commonName(csr);
      if (!deviceId.equals(cn)) {
        throw new Refused(
            Reason.WRONG_DEVICE,
            "the CSR names device '"
                + cn
                + "' but this session is device '"
                + deviceId
                + "'; a device renews only its own certificate");
      }
      return audit.inTransaction(
          () -> {
            Issued issued = sign(csr, deviceId);
            Map<String, Object> details = certDetails(issued);
            audit.appendInTransaction(device(deviceId), "cert.renew", deviceId, details);
            return issued;
          });
    } catch (Refused r) {
      if (r.reason != Reason.NO_CA) {
        auditRefusal("cert.renew.refuse", deviceId, r, Map.of("session", deviceId));
      }
      throw r;
    }
  }

  private Issued enrollInTransaction(
      String token, String tokenId, PKCS10CertificationRequest csr, String cn) {
    EnrollmentTokens.Token t =
        (token == null
                ? java.util.Optional.<EnrollmentTokens.Token>empty()
                : tokens.findInTransaction(token))
            .orElseThrow(() -> new Refused(Reason.UNKNOWN_TOKEN, "unknown enrollment token"));
    long now = nowMs.getAsLong();
    if (t.used()) {
      throw new Refused(
          Reason.TOKEN_USED,
          "enrollment token "
              + tokenId
              + " for device '"
              + t.device()
              + "' was used at "
              + Instant.ofEpochMilli(t.usedAtMs())
              + "; a token works once: ask the operator for a new one");
    }
    if (t.expiredAt(now)) {
      throw new Refused(
          Reason.TOKEN_EXPIRED,
          "enrollment token "
              + tokenId
              + " for device '"
              + t.device()
              + "' expired at "
              + Instant.ofEpochMilli(t.expiresAtMs())
              + "; ask the operator for a new one");
    }
    if (!t.device().equals(cn)) {
      throw new Refused(
          Reason.WRONG_DEVICE,
          "the CSR names device '"
              + cn
              + "' but the enrollment token is for device '"
              + t.device()
              + "'; the CSR's Subject CN must be the device id");
    }
    Issued issued = sign(csr, t.device());
    if (!tokens.consume(token, now, issued.serialHex())) {
      throw new Refused(Reason.TOKEN_USED, "enrollment token " + tokenId + " was used meanwhile");
    }
    Map<String, Object> details = certDetails(issued);
    details.put("tokenId", tokenId);
    details.put("tokenCreatedBy", t.createdBy());
    audit.appendInTransaction(device(t.device()), "enroll", t.device(), details);
    return issued;
  }

  private Issued sign(PKCS10CertificationRequest csr, String deviceId) {
    try {
      X509Certificate cert = ca.signCsr(csr, deviceId, validity);
      return new Issued(deviceId, cert, List.of(cert, ca.certificate()));
    } catch (IllegalArgumentException e) {
      throw new Refused(Reason.BAD_CSR, e.getMessage());
    } catch (IOException e) {
      // The CA's files: the transaction rolls back and the token stays usable.
      throw new UncheckedIOException("cannot sign with the CA in " + ca.directory(), e);
    }
  }

  private void requireCa() {
    if (ca == null) {
      throw new Refused(
          Reason.NO_CA,
          "this server holds no CA, so it cannot sign device certificates: set server.tls.ca_dir"
              + " to the built-in CA's directory (edgesync ca init)");
    }
  }

  private void auditRefusal(String action, String device, Refused r, Map<String, ?> more) {
    Map<String, Object> details = new LinkedHashMap<>(more);
    details.put("reason", r.reason.label());
    details.put("message", r.getMessage());
    String target = device == null ? "-" : device;
    audit.append(device == null ? "device:unknown" : device(device), action, target, details);
  }

  private static Map<String, Object> certDetails(Issued issued) {
    Map<String, Object> details = new LinkedHashMap<>();
    details.put("serial", issued.serialHex());
    details.put("notAfterMs", issued.certificate().getNotAfter().getTime());
    return details;
  }

  private static String device(String id) {
    return "device:" + id;
  }

  private static PKCS10CertificationRequest parsePem(String pem) {
    if (pem == null || pem.isBlank()) {
      throw new Refused(Reason.BAD_CSR, "no CSR: send \"csr\" as a PEM CERTIFICATE REQUEST");
    }
    try (PEMParser parser = new PEMParser(new StringReader(pem))) {
      if (parser.readObject() instanceof PKCS10CertificationRequest csr) {
        return csr;
      }
    } catch (IOException | RuntimeException e) {
      throw new Refused(Reason.BAD_CSR, "unreadable CSR: " + e.getMessage());
    }
    throw new Refused(Reason.BAD_CSR, "\"csr\" holds no PEM CERTIFICATE REQUEST");
  }

  private static PKCS10CertificationRequest parseDer(byte[] der) {
    try {
      return new PKCS10CertificationRequest(der);
    } catch (IOException | RuntimeException e) {
      throw new Refused(Reason.BAD_CSR, "unreadable CSR (DER PKCS#10 expected): " + e.getMessage());
    }
  }

  private static String commonName(PKCS10CertificationRequest csr) {
    RDN[] cns = csr.getSubject().getRDNs(BCStyle.CN);
    if (cns.length != 1) {
      throw new Refused(
          Reason.BAD_CSR,
          "the CSR's subject '"
              + csr.getSubject()
              + "' must hold exactly one CN (the device id); it holds "
              + cns.length);
    }
    return IETFUtils.valueToString(cns[0].getFirst().getValue());
  }

  /** The PEM text of a chain. */
  static String pem(List<X509Certificate> certs) {
    try {
      return Pem.toPem(certs.toArray());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
