package io.edgesync.security;

import java.io.IOException;
import java.net.Socket;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.CertificateException;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.function.Supplier;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds the {@link SSLContext}s of mutual TLS from PEM files.
 *
 * <ul>
 *   <li>{@link #server}: presents the server's certificate; trusts only the given CA(s) for client
 *       certificates and refuses one whose serial is on the CA's CRL. The JDK's PKIX checks refuse
 *       expired, not-yet-valid, wrongly signed and unknown-CA certificates and ones without the
 *       clientAuth purpose. Whether a client certificate is required is the socket's or connector's
 *       setting ({@code needClientAuth}/{@code wantClientAuth}).
 *   <li>{@link #device}: presents the device's certificate; trusts only the given CA(s) for the
 *       server, whose certificate must name the host the device connects to.
 * </ul>
 *
 * From files, the CRL is a {@link CrlFile}: read again when it changes, so a revocation refuses the
 * next handshake without a restart (sessions already open are not closed by it: the server's {@code
 * RevocationWatch} does that). Thread safe.
 */
public final class TlsContexts {
  private static final Logger log = LoggerFactory.getLogger(TlsContexts.class);

  private TlsContexts() {}

  /** The innermost message: PKIX wraps "NotAfter: ..." in two layers of "validation failed". */
  static String reason(Throwable t) {
    StringBuilder b = new StringBuilder(String.valueOf(t.getMessage()));
    for (Throwable c = t.getCause(); c != null; c = c.getCause()) {
      if (c.getMessage() != null && !b.toString().contains(c.getMessage())) {
        b.append(": ").append(c.getMessage());
      }
    }
    return b.toString();
  }

  /** A server context from PEM files; {@code crlFile} may be null (no revocation list). */
  public static SSLContext server(Path certFile, Path keyFile, Path clientCaFile, Path crlFile)
      throws IOException {
    List<X509Certificate> cas = Pem.readCertificates(clientCaFile);
    Supplier<X509CRL> crl = crlFile == null ? () -> null : new CrlFile(crlFile, cas);
    return server(Pem.readCertificates(certFile), Pem.readPrivateKey(keyFile), cas, crl);
  }

  /**
   * A server context from PEM files that asks {@code crl} at each handshake (it may return null:
   * none), for a caller that also checks open sessions against the same list.
   */
  public static SSLContext server(
      Path certFile, Path keyFile, Path clientCaFile, Supplier<X509CRL> crl) throws IOException {
    return server(
        Pem.readCertificates(certFile),
        Pem.readPrivateKey(keyFile),
        Pem.readCertificates(clientCaFile),
        crl);
  }

  /** A server context with a fixed CRL; {@code crl} may be null. */
  public static SSLContext server(
      List<X509Certificate> chain, PrivateKey key, List<X509Certificate> clientCas, X509CRL crl) {
    return server(chain, key, clientCas, () -> crl);
  }

  /** A server context that asks {@code crl} at each handshake (it may return null: none). */
  public static SSLContext server(
      List<X509Certificate> chain,
      PrivateKey key,
      List<X509Certificate> clientCas,
      Supplier<X509CRL> crl) {
    X509ExtendedTrustManager pkix = pkixTrustManager(clientCas);
    return context(chain, key, new RevocationCheckingTrustManager(pkix, crl));
  }

  /** A device context from PEM files. */
  public static SSLContext device(Path certFile, Path keyFile, Path caFile) throws IOException {
    return device(
        Pem.readCertificates(certFile), Pem.readPrivateKey(keyFile), Pem.readCertificates(caFile));
  }

  /** A device context. */
  public static SSLContext device(
      List<X509Certificate> chain, PrivateKey key, List<X509Certificate> serverCas) {
    return context(chain, key, pkixTrustManager(serverCas));
  }

  /**
   * A device context whose checks of the server's certificate go through {@code wrap} around the
   * JDK's PKIX checks against {@code serverCas} (a bench counts full handshakes so).
   */
  public static SSLContext device(
      List<X509Certificate> chain,
      PrivateKey key,
      List<X509Certificate> serverCas,
      java.util.function.UnaryOperator<X509ExtendedTrustManager> wrap) {
    return context(chain, key, wrap.apply(pkixTrustManager(serverCas)));
  }

  /**
   * A client context without a certificate of its own that trusts {@code cas} only: REST over
   * HTTPS, enrollment (where the token, not a certificate, is the credential).
   */
  public static SSLContext trusting(List<X509Certificate> cas) {
    try {
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(null, new TrustManager[] {pkixTrustManager(cas)}, new SecureRandom());
      return ctx;
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("cannot build a TLS context: " + e.getMessage(), e);
    }
  }

  private static SSLContext context(
      List<X509Certificate> chain, PrivateKey key, X509ExtendedTrustManager trust) {
    try {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(null, null);
      char[] none = new char[0];
      ks.setKeyEntry("self", key, none, chain.toArray(new X509Certificate[0]));
      KeyManagerFactory kmf = KeyManagerFactory.getInstance("PKIX");
      kmf.init(ks, none);
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(kmf.getKeyManagers(), new TrustManager[] {trust}, new SecureRandom());
      return ctx;
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalArgumentException(
          "cannot build a TLS context (does the key match the certificate?): " + e.getMessage(), e);
    }
  }

  private static X509ExtendedTrustManager pkixTrustManager(List<X509Certificate> cas) {
    try {
      KeyStore ts = KeyStore.getInstance("PKCS12");
      ts.load(null, null);
      for (int i = 0; i < cas.size(); i++) {
        ts.setCertificateEntry("ca-" + i, cas.get(i));
      }
      TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
      tmf.init(ts);
      for (TrustManager tm : tmf.getTrustManagers()) {
        if (tm instanceof X509ExtendedTrustManager x) {
          return x;
        }
      }
      throw new IllegalStateException("the JDK offers no X509ExtendedTrustManager");
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalArgumentException("cannot build a trust store: " + e.getMessage(), e);
    }
  }

  /** The JDK's PKIX checks, then the CRL; for client certificates only. */
  static final class RevocationCheckingTrustManager extends X509ExtendedTrustManager {
    private final X509ExtendedTrustManager pkix;
    private final Supplier<X509CRL> crl;

    RevocationCheckingTrustManager(X509ExtendedTrustManager pkix, Supplier<X509CRL> crl) {
      this.pkix = pkix;
      this.crl = crl;
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      logRefusal(chain, () -> pkix.checkClientTrusted(chain, authType, socket));
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      logRefusal(chain, () -> pkix.checkClientTrusted(chain, authType, engine));
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      logRefusal(chain, () -> pkix.checkClientTrusted(chain, authType));
    }

    /** A check that may refuse the certificate. */
    private interface Check {
      void run() throws CertificateException;
    }

    /**
     * The PKIX check, then the CRL. A refusal is logged with its reason here, because the TLS alert
     * the device receives ({@code certificate_unknown}) carries none.
     */
    private void logRefusal(X509Certificate[] chain, Check pkixCheck) throws CertificateException {
      try {
        pkixCheck.run();
        checkRevoked(chain);
      } catch (CertificateException e) {
        String who =
            chain.length == 0
                ? "(empty chain)"
                : chain[0].getSubjectX500Principal().getName()
                    + " serial "
                    + chain[0].getSerialNumber().toString(16);
        log.info("refused client certificate {}: {}", who, reason(e));
        throw e;
      }
    }

    private void checkRevoked(X509Certificate[] chain) throws CertificateException {
      X509CRL list = crl.get();
      if (list != null && list.isRevoked(chain[0])) {
        throw new CertificateException(
            "certificate "
                + chain[0].getSubjectX500Principal().getName()
                + " (serial "
                + chain[0].getSerialNumber().toString(16)
                + ") is revoked");
      }
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      pkix.checkServerTrusted(chain, authType, socket);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      pkix.checkServerTrusted(chain, authType, engine);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      pkix.checkServerTrusted(chain, authType);
    }

    /**
     * None advertised: a device then sends its certificate whoever issued it, and the refusal is
     * logged here with its reason (unknown CA) instead of as an empty certificate chain.
     */
    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}
