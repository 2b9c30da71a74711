package io.edgesync.security;

import java.io.IOException;
import java.io.Reader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CRLHolder;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CRLConverter;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;

/**
 * Reads and writes the PEM files of the identity layer: X.509 certificates ({@code CERTIFICATE}),
 * private keys as unencrypted PKCS#8 ({@code PRIVATE KEY}; {@code EC PRIVATE KEY} is also read),
 * certificate signing requests ({@code CERTIFICATE REQUEST}) and CRLs ({@code X509 CRL}).
 *
 * <p>Private keys are written with POSIX permissions 0600 from the moment the file exists (written
 * to a 0600 temporary file beside the target, then moved into place). Errors name the file and what
 * was expected in it. Stateless and thread safe.
 */
public final class Pem {
  private Pem() {}

  /** Writes one or more certificates (a chain: leaf first). */
  public static void writeCertificates(Path file, X509Certificate... certs) throws IOException {
    writeAtomically(file, toPem((Object[]) certs), false);
  }

  /** Writes a private key as PKCS#8 PEM with permissions 0600. */
  public static void writePrivateKey(Path file, PrivateKey key) throws IOException {
    writeAtomically(file, toPem(new JcaPKCS8Generator(key, null)), true);
  }

  /** Writes a certificate signing request. */
  public static void writeCsr(Path file, PKCS10CertificationRequest csr) throws IOException {
    writeAtomically(file, toPem(csr), false);
  }

  /** Writes a CRL. */
  public static void writeCrl(Path file, X509CRL crl) throws IOException {
    writeAtomically(file, toPem(crl), false);
  }

  /** The PEM text of certificates, keys (via a PKCS#8 generator), CSRs or CRLs. */
  public static String toPem(Object... objects) throws IOException {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter pem = new JcaPEMWriter(out)) {
      for (Object o : objects) {
        pem.writeObject(o);
      }
    }
    return out.toString();
  }

  /** Every certificate in the file, in order; at least one. */
  public static List<X509Certificate> readCertificates(Path file) throws IOException {
    List<X509Certificate> certs = new ArrayList<>();
    for (Object o : readAll(file)) {
      if (o instanceof X509CertificateHolder h) {
        certs.add(toCertificate(file, h));
      }
    }
    if (certs.isEmpty()) {
      throw new IOException(file + ": no PEM CERTIFICATE found");
    }
    return certs;
  }

  /** The first certificate in the file. */
  public static X509Certificate readCertificate(Path file) throws IOException {
    return readCertificates(file).get(0);
  }

  /** The private key in the file (PKCS#8 {@code PRIVATE KEY} or SEC1 {@code EC PRIVATE KEY}). */
  public static PrivateKey readPrivateKey(Path file) throws IOException {
    JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
    for (Object o : readAll(file)) {
      if (o instanceof PrivateKeyInfo info) {
        return converter.getPrivateKey(info);
      }
      if (o instanceof PEMKeyPair pair) {
        return converter.getPrivateKey(pair.getPrivateKeyInfo());
      }
    }
    throw new IOException(file + ": no unencrypted PEM PRIVATE KEY found");
  }

  /** The certificate signing request in the file. */
  public static PKCS10CertificationRequest readCsr(Path file) throws IOException {
    for (Object o : readAll(file)) {
      if (o instanceof PKCS10CertificationRequest csr) {
        return csr;
      }
    }
    throw new IOException(file + ": no PEM CERTIFICATE REQUEST found");
  }

  /** The CRL in the file. */
  public static X509CRL readCrl(Path file) throws IOException {
    for (Object o : readAll(file)) {
      if (o instanceof X509CRLHolder h) {
        try {
          return new JcaX509CRLConverter().getCRL(h);
        } catch (java.security.cert.CRLException e) {
          throw new IOException(file + ": unreadable X509 CRL: " + e.getMessage(), e);
        }
      }
    }
    throw new IOException(file + ": no PEM X509 CRL found");
  }

  static X509Certificate toCertificate(Path file, X509CertificateHolder h) throws IOException {
    try {
      return new JcaX509CertificateConverter().getCertificate(h);
    } catch (CertificateException e) {
      throw new IOException(file + ": unreadable certificate: " + e.getMessage(), e);
    }
  }

  private static List<Object> readAll(Path file) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new IOException(file + ": no such file");
    }
    List<Object> objects = new ArrayList<>();
    try (Reader r = Files.newBufferedReader(file, StandardCharsets.US_ASCII);
        PEMParser parser = new PEMParser(r)) {
      for (Object o = parser.readObject(); o != null; o = parser.readObject()) {
        objects.add(o);
      }
    } catch (IOException | RuntimeException e) {
      throw new IOException(file + ": not a readable PEM file: " + e.getMessage(), e);
    }
    return objects;
  }

  /**
   * Writes {@code text} to {@code file} through a temporary file moved into place; with {@code
   * secret}, the file has POSIX permissions 0600 from the moment it exists (where the file system
   * has them). Used for every key file edgesync writes.
   */
  public static void writeAtomically(Path file, String text, boolean secret) throws IOException {
    Path dir = file.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Path tmp = tempFile(dir, secret);
    try {
      Files.writeString(tmp, text, StandardCharsets.US_ASCII);
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /**
   * As {@link #writeAtomically}, but only if {@code file} does not exist: the complete temporary
   * file is linked to the name, which fails if the name is taken (by another process that got there
   * first), so the file is never seen half written nor overwritten. Returns whether it wrote.
   */
  public static boolean writeAtomicallyIfAbsent(Path file, String text, boolean secret)
      throws IOException {
    Path dir = file.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Path tmp = tempFile(dir, secret);
    try {
      Files.writeString(tmp, text, StandardCharsets.US_ASCII);
      Files.createLink(file, tmp);
      return true;
    } catch (FileAlreadyExistsException e) {
      return false;
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  private static Path tempFile(Path dir, boolean secret) throws IOException {
    if (secret && posix()) {
      return Files.createTempFile(
          dir,
          ".tmp-",
          ".pem",
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    }
    return Files.createTempFile(dir, ".tmp-", ".pem");
  }

  /**
   * Why {@code file}, a secret, is not safe to read: its permissions (e.g. {@code "rw-r--r-- ..."})
   * when group or others may use it, with what is allowed; null when only its owner may, or where
   * the file system has no POSIX permissions. Every secret file edgesync reads is checked so.
   */
  public static String openToOthers(Path file) throws IOException {
    PosixFileAttributeView view = Files.getFileAttributeView(file, PosixFileAttributeView.class);
    if (view == null) {
      return null;
    }
    Set<PosixFilePermission> perms = view.readAttributes().permissions();
    for (PosixFilePermission p : perms) {
      if (!p.name().startsWith("OWNER_")) {
        return "has permissions "
            + PosixFilePermissions.toString(perms)
            + ", which group or others can use; allowed: owner only (chmod 600)";
      }
    }
    return null;
  }

  static boolean posix() {
    return FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
  }
}
