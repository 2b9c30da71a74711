package io.edgesync.agent.internal.tls;

import io.edgesync.agent.AgentConfig;
import io.edgesync.security.Pem;
import io.edgesync.security.TlsContexts;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.attribute.FileTime;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.util.List;
import javax.net.ssl.SSLContext;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/**
 * This device's key and certificate files ({@code tls.key_file}, {@code tls.cert_file}) and the CA
 * file it trusts: the TLS context each connection uses (rebuilt when the files change, so a renewed
 * certificate is used from the next connection), and the key pairs and CSRs of enrollment and
 * renewal. Keys are EC P-256, made here; the private key never leaves the device.
 *
 * <p>Files: the key is PEM PKCS#8 with permissions 0600 from the moment it exists, the certificate
 * file holds the chain (the device's certificate first, then the CA's). Each is replaced atomically
 * ({@link Pem#writeAtomically}); the key is written before the certificate.
 *
 * <p>Thread safe (the cached context is guarded by this object).
 */
public final class DeviceCertificate {
  private final AgentConfig.TlsFiles files;
  private SSLContext context; // guarded by this
  private FileTime contextCertTime; // guarded by this
  private FileTime contextKeyTime; // guarded by this

  public DeviceCertificate(AgentConfig.TlsFiles files) {
    this.files = files;
  }

  public AgentConfig.TlsFiles files() {
    return files;
  }

  /** Whether the certificate and key exist (else the device must enroll first). */
  public boolean present() {
    return !files.needsEnrollment();
  }

  /** The TLS context of the files as they are now (cached while they do not change). */
  public synchronized SSLContext context() throws IOException {
    FileTime certTime = Files.getLastModifiedTime(files.certFile());
    FileTime keyTime = Files.getLastModifiedTime(files.keyFile());
    if (context == null || !certTime.equals(contextCertTime) || !keyTime.equals(contextKeyTime)) {
      context = TlsContexts.device(files.certFile(), files.keyFile(), files.caFile());
      contextCertTime = certTime;
      contextKeyTime = keyTime;
    }
    return context;
  }

  /** The device's certificate as the file holds it now. */
  public X509Certificate certificate() throws IOException {
    return Pem.readCertificate(files.certFile());
  }

  /** The CA certificate(s) the server's certificate must chain to. */
  public List<X509Certificate> caCertificates() throws IOException {
    return Pem.readCertificates(files.caFile());
  }

  /**
   * Replaces the key and certificate: the key first (0600), then the chain, each atomically; the
   * next connection uses them.
   */
  public synchronized void store(PrivateKey key, List<X509Certificate> chain) throws IOException {
    Pem.writePrivateKey(files.keyFile(), key);
    Pem.writeCertificates(files.certFile(), chain.toArray(new X509Certificate[0]));
    context = null;
  }

  /** A new EC P-256 key pair. */
  public static KeyPair newKeyPair() {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec("secp256r1"));
      return g.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK cannot make EC P-256 keys", e);
    }
  }

  /** A CSR naming {@code deviceId} as its Subject CN, signed with {@code pair}. */
  public static PKCS10CertificationRequest csr(String deviceId, KeyPair pair) {
    X500Name subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, deviceId).build();
    try {
      return new JcaPKCS10CertificationRequestBuilder(subject, pair.getPublic())
          .build(new JcaContentSignerBuilder("SHA256withECDSA").build(pair.getPrivate()));
    } catch (OperatorCreationException e) {
      throw new IllegalStateException("cannot sign a CSR with an EC P-256 key", e);
    }
  }
}
