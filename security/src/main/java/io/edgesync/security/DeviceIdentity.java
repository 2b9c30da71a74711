package io.edgesync.security;

import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x500.style.IETFUtils;

/**
 * Reads a device's id from its client certificate: the id is the Subject CN. If the certificate
 * also carries SAN URIs of the form {@code urn:edgesync:device:<id>} (the built-in CA writes one),
 * each must name the same id, so a certificate cannot claim two devices. Stateless.
 */
public final class DeviceIdentity {
  private static final int SAN_URI = 6;

  private DeviceIdentity() {}

  /**
   * The device id the certificate names.
   *
   * @throws IllegalArgumentException naming what is wrong: no CN, several CNs, or a SAN URI naming
   *     another device
   */
  public static String deviceId(X509Certificate cert) {
    String cn = commonName(X500Name.getInstance(cert.getSubjectX500Principal().getEncoded()));
    for (String uri : deviceUris(cert)) {
      String named = uri.substring(CertificateAuthority.DEVICE_URI_PREFIX.length());
      if (!named.equals(cn)) {
        throw new IllegalArgumentException(
            "the certificate's CN names device '" + cn + "' but its SAN URI names '" + named + "'");
      }
    }
    return cn;
  }

  static String commonName(X500Name name) {
    RDN[] cns = name.getRDNs(BCStyle.CN);
    if (cns.length != 1) {
      throw new IllegalArgumentException(
          "the subject '"
              + name
              + "' must hold exactly one CN (the device id); it holds "
              + cns.length);
    }
    return IETFUtils.valueToString(cns[0].getFirst().getValue());
  }

  private static List<String> deviceUris(X509Certificate cert) {
    List<String> uris = new ArrayList<>();
    Collection<List<?>> sans;
    try {
      sans = cert.getSubjectAlternativeNames();
    } catch (CertificateParsingException e) {
      throw new IllegalArgumentException("unreadable subject alternative names: " + e.getMessage());
    }
    if (sans == null) {
      return uris;
    }
    for (List<?> san : sans) {
      if (((Integer) san.get(0)) == SAN_URI
          && san.get(1) instanceof String uri
          && uri.startsWith(CertificateAuthority.DEVICE_URI_PREFIX)) {
        uris.add(uri);
      }
    }
    return uris;
  }
}
