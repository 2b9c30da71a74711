package io.edgesync.bench;

import io.edgesync.security.KeyAndCertificate;
import io.edgesync.security.TlsContexts;
import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * A device's TLS context for the storm, as {@code TlsContexts.device} builds it, with a trust
 * manager that counts the server certificates it checked. A client checks the server's certificate
 * in a full handshake only; a resumed one (TLS 1.3 PSK from the context's session cache) has no
 * certificate: so the count tells full handshakes from resumed ones.
 */
final class StormTls {
  private final AtomicLong serverChecks = new AtomicLong();
  private SSLContext context;

  private StormTls() {}

  SSLContext context() {
    return context;
  }

  /** Server certificates checked so far: one per full handshake. */
  long serverChecks() {
    return serverChecks.get();
  }

  static StormTls device(KeyAndCertificate device, X509Certificate ca) {
    StormTls tls = new StormTls();
    tls.context =
        TlsContexts.device(
            List.of(device.certificate()),
            device.privateKey(),
            List.of(ca),
            pkix -> tls.new Counting(pkix));
    return tls;
  }

  /** The JDK's PKIX checks, counting the server certificates checked. */
  private final class Counting extends X509ExtendedTrustManager {
    private final X509ExtendedTrustManager pkix;

    Counting(X509ExtendedTrustManager pkix) {
      this.pkix = pkix;
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      serverChecks.incrementAndGet();
      pkix.checkServerTrusted(chain, authType, engine);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      serverChecks.incrementAndGet();
      pkix.checkServerTrusted(chain, authType, socket);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      serverChecks.incrementAndGet();
      pkix.checkServerTrusted(chain, authType);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      pkix.checkClientTrusted(chain, authType, engine);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      pkix.checkClientTrusted(chain, authType, socket);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      pkix.checkClientTrusted(chain, authType);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return pkix.getAcceptedIssuers();
    }
  }
}
