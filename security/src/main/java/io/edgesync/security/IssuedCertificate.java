package io.edgesync.security;

import java.math.BigInteger;
import java.time.Instant;

/**
 * One line of the CA's index: a certificate the CA issued.
 *
 * @param serial the certificate's serial number
 * @param kind whom it identifies
 * @param subject the subject DN as text, e.g. {@code CN=gw-0042}
 * @param notBefore first instant of validity
 * @param notAfter last instant of validity
 * @param revoked whether the CA's revocation list holds the serial
 */
public record IssuedCertificate(
    BigInteger serial,
    Kind kind,
    String subject,
    Instant notBefore,
    Instant notAfter,
    boolean revoked) {

  /** What a certificate is for. */
  public enum Kind {
    /** A device's client certificate (EKU clientAuth). */
    DEVICE,
    /** A server's certificate (EKU serverAuth). */
    SERVER
  }

  /** The serial as the CLI prints and accepts it: lower-case hex. */
  public String serialHex() {
    return serial.toString(16);
  }
}
