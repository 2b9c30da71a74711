package io.edgesync.security;

import io.edgesync.protocol.ProtocolLimits;
import java.io.IOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.X509EncodedKeySpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Locale;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.CRLReason;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509CRLHolder;
import org.bouncycastle.cert.X509v2CRLBuilder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CRLConverter;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.PKCSException;

/**
 * The built-in certificate authority: an EC P-256 key and a self-signed certificate that sign
 * device certificates (client) and server certificates, and a CRL of the revoked ones.
 *
 * <p>On-disk format of the CA directory (created 0700 where POSIX permissions exist):
 *
 * <pre>
 *   ca.pem        the CA certificate (PEM CERTIFICATE); what servers and devices trust
 *   ca.key        the CA private key (PEM PKCS#8 PRIVATE KEY), permissions 0600
 *   crl.pem       the revocation list (PEM X509 CRL), signed by the CA, rewritten on each revoke;
 *                 hand it to servers as server.tls.crl_file
 *   index.tsv     one line per issued certificate, tab separated:
 *                 serial(hex)  kind(DEVICE|SERVER)  notBefore(ISO-8601)  notAfter(ISO-8601)  subject
 *   issued/&lt;serial&gt;.pem  a copy of each issued certificate (never its private key)
 * </pre>
 *
 * Issued private keys are returned to the caller and never stored in the CA directory. The device
 * id is the certificate's Subject CN; device certificates also carry it as the SAN URI {@code
 * urn:edgesync:device:<id>} (see {@link DeviceIdentity}).
 *
 * <p>Not thread safe, and not safe for two processes at once: one operator command at a time.
 */
public final class CertificateAuthority {
  /** How long a CA certificate is valid unless told otherwise. */
  public static final Duration DEFAULT_CA_VALIDITY = Duration.ofDays(3650);

  /** The SAN URI prefix that names a device. */
  public static final String DEVICE_URI_PREFIX = "urn:edgesync:device:";

  /** The files of a CA directory: its certificate, its private key (0600) and its CRL. */
  public static final String CERT_FILE = "ca.pem";

  public static final String KEY_FILE = "ca.key";
  public static final String CRL_FILE = "crl.pem";

  static final String SIGNATURE_ALGORITHM = "SHA256withECDSA";

  /** Issued certificates start this much before "now", so small clock skew does not refuse them. */
  static final Duration BACKDATE = Duration.ofMinutes(5);

  private final Path dir;
  private final X509Certificate caCert;
  private final PrivateKey caKey;
  private final Clock clock;
  private final SecureRandom random = new SecureRandom();

  private CertificateAuthority(Path dir, X509Certificate caCert, PrivateKey caKey, Clock clock) {
    this.dir = dir;
    this.caCert = caCert;
    this.caKey = caKey;
    this.clock = clock;
  }

  /** Creates a new CA in {@code dir}, which must not hold one already. */
  public static CertificateAuthority init(Path dir, String name, Duration validity, Clock clock)
      throws IOException {
    if (Files.exists(dir.resolve(CERT_FILE)) || Files.exists(dir.resolve(KEY_FILE))) {
      throw new IOException(dir + " already holds a CA (ca.pem or ca.key); not overwriting it");
    }
    requirePositive(validity, "CA validity");
    createPrivateDir(dir);
    KeyPair pair = newKeyPair();
    Instant now = clock.instant();
    X500Name subject = new X500Name("CN=" + escape(name));
    JcaX509v3CertificateBuilder b =
        new JcaX509v3CertificateBuilder(
            subject,
            newSerial(new SecureRandom()),
            Date.from(now.minus(BACKDATE)),
            Date.from(now.plus(validity)),
            subject,
            pair.getPublic());
    JcaX509ExtensionUtils ext = extensionUtils();
    X509Certificate cert;
    try {
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
      b.addExtension(
          Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      b.addExtension(
          Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(pair.getPublic()));
      cert = sign(b, pair.getPrivate());
    } catch (IOException e) {
      throw new IOException("cannot build the CA certificate: " + e.getMessage(), e);
    }
    Pem.writePrivateKey(dir.resolve(KEY_FILE), pair.getPrivate());
    Pem.writeCertificates(dir.resolve(CERT_FILE), cert);
    Files.createDirectories(dir.resolve("issued"));
    Files.writeString(dir.resolve("index.tsv"), "", StandardCharsets.UTF_8);
    CertificateAuthority ca = new CertificateAuthority(dir, cert, pair.getPrivate(), clock);
    ca.writeCrl(null);
    return ca;
  }

  /** Opens the CA in {@code dir} made by {@link #init}. */
  public static CertificateAuthority open(Path dir, Clock clock) throws IOException {
    if (!Files.exists(dir.resolve(CERT_FILE))) {
      throw new IOException(dir + " holds no CA (no ca.pem); run 'edgesync ca init' first");
    }
    return new CertificateAuthority(
        dir,
        Pem.readCertificate(dir.resolve(CERT_FILE)),
        Pem.readPrivateKey(dir.resolve(KEY_FILE)),
        clock);
  }

  public X509Certificate certificate() {
    return caCert;
  }

  public Path directory() {
    return dir;
  }

  public Path crlFile() {
    return dir.resolve(CRL_FILE);
  }

  /**
   * A new key pair and a client certificate naming {@code deviceId}, valid for {@code validity}.
   */
  public KeyAndCertificate issueDevice(String deviceId, Duration validity) throws IOException {
    KeyPair pair = newKeyPair();
    return new KeyAndCertificate(
        pair.getPrivate(), signDevice(pair.getPublic(), deviceId, validity));
  }

  /**
   * A new key pair and a server certificate for the given names: each is a DNS name or an IP
   * literal (SAN dNSName or iPAddress); the first is also the Subject CN.
   */
  public KeyAndCertificate issueServer(List<String> names, Duration validity) throws IOException {
    if (names.isEmpty()) {
      throw new IllegalArgumentException("a server certificate needs at least one DNS name or IP");
    }
    requirePositive(validity, "server certificate validity");
    KeyPair pair = newKeyPair();
    GeneralName[] sans = new GeneralName[names.size()];
    for (int i = 0; i < sans.length; i++) {
      sans[i] = serverName(names.get(i));
    }
    X509Certificate cert =
        issue(
            "CN=" + escape(names.get(0)),
            pair.getPublic(),
            validity,
            KeyPurposeId.id_kp_serverAuth,
            new GeneralNames(sans),
            IssuedCertificate.Kind.SERVER);
    return new KeyAndCertificate(pair.getPrivate(), cert);
  }

  /**
   * Signs a device's certificate signing request (enrollment: the private key stays on the device).
   * The CSR's own signature must verify and its Subject CN must be {@code deviceId}.
   */
  public X509Certificate signCsr(PKCS10CertificationRequest csr, String deviceId, Duration validity)
      throws IOException {
    PublicKey key;
    try {
      key =
          KeyFactory.getInstance("EC")
              .generatePublic(new X509EncodedKeySpec(csr.getSubjectPublicKeyInfo().getEncoded()));
      if (!csr.isSignatureValid(new JcaContentVerifierProviderBuilder().build(key))) {
        throw new IllegalArgumentException(
            "the CSR's signature does not verify with its own public key");
      }
    } catch (OperatorCreationException | PKCSException | GeneralSecurityException | IOException e) {
      throw new IllegalArgumentException(
          "unreadable CSR (an EC P-256 key is expected): " + e.getMessage(), e);
    }
    String cn = DeviceIdentity.commonName(csr.getSubject());
    if (!deviceId.equals(cn)) {
      throw new IllegalArgumentException(
          "the CSR names device '" + cn + "' but was sent for device '" + deviceId + "'");
    }
    // Outside the try: a failure of the CA's own files is an IOException, not a bad CSR.
    return signDevice(key, deviceId, validity);
  }

  /** Adds {@code serial} to the CRL; refused if this CA never issued it. Idempotent. */
  public void revoke(BigInteger serial) throws IOException {
    boolean known = list().stream().anyMatch(c -> c.serial().equals(serial));
    if (!known) {
      throw new IllegalArgumentException(
          "no certificate with serial " + serial.toString(16) + " was issued by this CA");
    }
    X509CRL crl = Pem.readCrl(crlFile());
    if (crl.getRevokedCertificate(serial) == null) {
      writeCrl(serial);
    }
  }

  /** Every certificate this CA issued, oldest first, with its revocation state. */
  public List<IssuedCertificate> list() throws IOException {
    X509CRL crl = Pem.readCrl(crlFile());
    List<IssuedCertificate> out = new ArrayList<>();
    for (String line : Files.readAllLines(dir.resolve("index.tsv"), StandardCharsets.UTF_8)) {
      if (line.isBlank()) {
        continue;
      }
      String[] f = line.split("\t", 5);
      BigInteger serial = new BigInteger(f[0], 16);
      out.add(
          new IssuedCertificate(
              serial,
              IssuedCertificate.Kind.valueOf(f[1]),
              f[4],
              Instant.parse(f[2]),
              Instant.parse(f[3]),
              crl.getRevokedCertificate(serial) != null));
    }
    return out;
  }

  private X509Certificate signDevice(PublicKey key, String deviceId, Duration validity)
      throws IOException {
    if (!ProtocolLimits.isValidDeviceId(deviceId)) {
      throw new IllegalArgumentException(
          "device id '" + deviceId + "' must match " + ProtocolLimits.DEVICE_ID_PATTERN);
    }
    requirePositive(validity, "device certificate validity");
    GeneralNames san =
        new GeneralNames(
            new GeneralName(GeneralName.uniformResourceIdentifier, DEVICE_URI_PREFIX + deviceId));
    return issue(
        "CN=" + escape(deviceId),
        key,
        validity,
        KeyPurposeId.id_kp_clientAuth,
        san,
        IssuedCertificate.Kind.DEVICE);
  }

  private X509Certificate issue(
      String subject,
      PublicKey key,
      Duration validity,
      KeyPurposeId purpose,
      GeneralNames san,
      IssuedCertificate.Kind kind)
      throws IOException {
    Instant now = clock.instant();
    X509v3CertificateBuilder b =
        new JcaX509v3CertificateBuilder(
            caCert,
            newSerial(random),
            Date.from(now.minus(BACKDATE)),
            Date.from(now.plus(validity)),
            new X500Name(subject),
            key);
    JcaX509ExtensionUtils ext = extensionUtils();
    try {
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
      b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purpose));
      b.addExtension(Extension.subjectAlternativeName, false, san);
      b.addExtension(
          Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(caCert));
      b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(key));
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot build the certificate: " + e.getMessage(), e);
    }
    X509Certificate cert = sign(b, caKey);
    record(cert, kind);
    return cert;
  }

  private void record(X509Certificate cert, IssuedCertificate.Kind kind) throws IOException {
    String serial = cert.getSerialNumber().toString(16);
    Pem.writeCertificates(dir.resolve("issued").resolve(serial + ".pem"), cert);
    String line =
        String.join(
                "\t",
                serial,
                kind.name(),
                cert.getNotBefore().toInstant().toString(),
                cert.getNotAfter().toInstant().toString(),
                cert.getSubjectX500Principal().getName())
            + "\n";
    Files.writeString(
        dir.resolve("index.tsv"),
        line,
        StandardCharsets.UTF_8,
        StandardOpenOption.CREATE,
        StandardOpenOption.APPEND);
  }

  /** Rewrites crl.pem with the entries it holds plus {@code newSerial} (if not null). */
  private void writeCrl(BigInteger newSerial) throws IOException {
    Date now = Date.from(clock.instant());
    X509v2CRLBuilder b = new X509v2CRLBuilder(new X500Name(caSubject()), now);
    // The CRL stays "current" as long as the CA: a JDK PKIX check refuses a CRL past nextUpdate.
    b.setNextUpdate(caCert.getNotAfter());
    if (Files.exists(crlFile())) {
      try {
        b.addCRL(new X509CRLHolder(Pem.readCrl(crlFile()).getEncoded()));
      } catch (java.security.cert.CRLException e) {
        throw new IOException(crlFile() + ": unreadable CRL: " + e.getMessage(), e);
      }
    }
    if (newSerial != null) {
      b.addCRLEntry(newSerial, now, CRLReason.unspecified);
    }
    try {
      ContentSigner signer = new JcaContentSignerBuilder(SIGNATURE_ALGORITHM).build(caKey);
      Pem.writeCrl(crlFile(), new JcaX509CRLConverter().getCRL(b.build(signer)));
    } catch (OperatorCreationException | java.security.cert.CRLException e) {
      throw new IOException("cannot sign the CRL: " + e.getMessage(), e);
    }
  }

  private String caSubject() {
    return caCert.getSubjectX500Principal().getName();
  }

  private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey key)
      throws IOException {
    try {
      ContentSigner signer = new JcaContentSignerBuilder(SIGNATURE_ALGORITHM).build(key);
      return new JcaX509CertificateConverter().getCertificate(b.build(signer));
    } catch (OperatorCreationException | java.security.cert.CertificateException e) {
      throw new IOException("cannot sign the certificate: " + e.getMessage(), e);
    }
  }

  private static GeneralName serverName(String name) {
    if (name.isBlank()) {
      throw new IllegalArgumentException("a server name must not be blank");
    }
    if (isIpLiteral(name)) {
      return new GeneralName(GeneralName.iPAddress, name);
    }
    if (!name.matches("[A-Za-z0-9*]([A-Za-z0-9.-]*[A-Za-z0-9])?")) {
      throw new IllegalArgumentException(
          "server name '" + name + "' is neither a DNS name nor an IP address");
    }
    return new GeneralName(GeneralName.dNSName, name.toLowerCase(Locale.ROOT));
  }

  private static boolean isIpLiteral(String name) {
    if (!name.matches("[0-9.]+|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*")) {
      return false;
    }
    try {
      InetAddress.getByName(name); // a literal: no lookup happens
      return true;
    } catch (java.net.UnknownHostException e) {
      return false;
    }
  }

  /** A random positive 127-bit serial: unique without a counter file (RFC 5280 allows 20 bytes). */
  private static BigInteger newSerial(SecureRandom random) {
    return new BigInteger(127, random).setBit(120);
  }

  static KeyPair newKeyPair() {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec("secp256r1"));
      return g.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK cannot make EC P-256 keys", e);
    }
  }

  private static JcaX509ExtensionUtils extensionUtils() {
    try {
      return new JcaX509ExtensionUtils();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK has no SHA-1 for key identifiers", e);
    }
  }

  private static String escape(String rdnValue) {
    return rdnValue.replaceAll("([,+=\"\\\\<>;#])", "\\\\$1");
  }

  private static void requirePositive(Duration d, String what) {
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(what + " must be positive, was " + d);
    }
  }

  private static void createPrivateDir(Path dir) throws IOException {
    Files.createDirectories(dir);
    if (Pem.posix()) {
      Files.setPosixFilePermissions(
          dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
    }
  }
}
