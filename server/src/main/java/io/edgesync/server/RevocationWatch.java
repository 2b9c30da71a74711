package io.edgesync.server;

import io.edgesync.security.CrlFile;
import io.edgesync.security.Pem;
import java.io.IOException;
import java.math.BigInteger;
import java.security.cert.Certificate;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLPeerUnverifiedException;
import org.eclipse.jetty.io.ssl.SslHandshakeListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Revocation that acts on open sessions. The TLS handshake refuses a revoked certificate, but a
 * session opened before the revocation would live on; this watch remembers each live session's
 * client certificate and ends the session once the CRL lists it: on the server's timer ({@link
 * #check}, at most {@link #CHECK_INTERVAL_MS} apart, so a session is closed within about a second
 * of the CRL file's rewrite) and before each frame the session sends ({@link #isRevoked}), so
 * nothing a device sends after its certificate was revoked is handled.
 *
 * <p>A reconnect with the revoked certificate is refused at the TLS handshake, resumed sessions
 * included ({@link #resumedHandshakeCheck}).
 *
 * <p>The CRL comes from a {@link Supplier} (the server's {@code CrlFile}, re-read when the file
 * changes, the same one the handshakes ask). Thread safe: sessions are added and removed on Jetty's
 * threads, checked on the timer thread and on the frame's thread; a session is told at most once.
 */
final class RevocationWatch {
  private static final Logger log = LoggerFactory.getLogger(RevocationWatch.class);

  /** The most time between two checks of the live sessions against the CRL. */
  static final long CHECK_INTERVAL_MS = 500;

  /** What the watch does with a session whose certificate was revoked. */
  interface Revocable {
    /** Ends the session; {@code message} names the device and the certificate's serial. */
    void revoked(String message);
  }

  private record Watched(X509Certificate certificate, String deviceId, Revocable session) {}

  private final Supplier<X509CRL> crl;
  private final Map<String, Watched> sessions = new ConcurrentHashMap<>();
  private final AtomicLong sessionsClosed = new AtomicLong();

  RevocationWatch(Supplier<X509CRL> crl) {
    this.crl = crl;
  }

  /** A session with its client certificate, from its handshake on until {@link #unwatch}. */
  void watch(String sessionId, X509Certificate certificate, String deviceId, Revocable session) {
    sessions.put(sessionId, new Watched(certificate, deviceId, session));
  }

  void unwatch(String sessionId) {
    sessions.remove(sessionId);
  }

  /**
   * True if the session's certificate is revoked now; the session is then ended (once). A session
   * that is not watched is not revoked.
   */
  boolean isRevoked(String sessionId) {
    Watched w = sessions.get(sessionId);
    X509CRL list = crl.get();
    if (w == null || list == null || !list.isRevoked(w.certificate())) {
      return false;
    }
    end(sessionId, w);
    return true;
  }

  /**
   * The CA's revocation list of {@code server.tls}, re-read when its file changes: one instance for
   * the handshakes and the open sessions. Null without TLS or without a CRL file.
   */
  static Supplier<X509CRL> crlOf(ServerConfig.TlsFiles tls) {
    if (tls == null || tls.crlFile() == null) {
      return null;
    }
    try {
      return new CrlFile(tls.crlFile(), Pem.readCertificates(tls.clientCaFile()));
    } catch (IOException | IllegalArgumentException e) {
      throw new IllegalStateException("server.tls: " + e.getMessage(), e);
    }
  }

  /** The server's timer: {@link #check}, and a failure is logged (the timer keeps running). */
  void checkOnTimer() {
    try {
      check();
    } catch (RuntimeException e) {
      log.error("checking open sessions against the CRL failed", e);
    }
  }

  /** Ends every live session whose certificate the CRL lists now; returns how many. */
  int check() {
    X509CRL list = crl.get();
    if (list == null) {
      return 0;
    }
    int ended = 0;
    for (Map.Entry<String, Watched> e : sessions.entrySet()) {
      if (list.isRevoked(e.getValue().certificate()) && end(e.getKey(), e.getValue())) {
        ended++;
      }
    }
    return ended;
  }

  /** Sessions ended since start because their certificate was revoked. */
  long sessionsClosed() {
    return sessionsClosed.get();
  }

  /** Ends the session unless another thread did already; true if this call did. */
  private boolean end(String sessionId, Watched w) {
    if (!sessions.remove(sessionId, w)) {
      return false;
    }
    sessionsClosed.incrementAndGet();
    String message = message(w.deviceId(), w.certificate().getSerialNumber());
    log.info("closing session {}: {}", sessionId, message);
    try {
      w.session().revoked(message);
    } catch (RuntimeException e) {
      log.warn("closing revoked session {} failed", sessionId, e); // the timer keeps running
    }
    return true;
  }

  /**
   * A check after every TLS handshake of the connector, full or resumed. The trust manager checks
   * the CRL only on a full handshake; a device that resumes a TLS session made before its
   * revocation (its TLS stack keeps the session, JDK clients do) skips it, and would get in. An
   * {@link SSLException} thrown here fails the handshake. A connection without a client certificate
   * (REST) is let through: API keys guard REST.
   */
  SslHandshakeListener resumedHandshakeCheck() {
    return new SslHandshakeListener() {
      @Override
      public void handshakeSucceeded(Event event) throws SSLException {
        X509Certificate peer = peerCertificate(event.getSSLEngine());
        X509CRL list = peer == null ? null : crl.get(); // REST without a certificate: no read
        if (list != null && list.isRevoked(peer)) {
          String message =
              "refused client certificate "
                  + peer.getSubjectX500Principal().getName()
                  + " serial "
                  + peer.getSerialNumber().toString(16)
                  + ": it is revoked (resumed TLS session)";
          log.info(message);
          throw new SSLHandshakeException(message);
        }
      }
    };
  }

  private static X509Certificate peerCertificate(SSLEngine engine) {
    try {
      Certificate[] chain = engine.getSession().getPeerCertificates();
      return chain.length > 0 && chain[0] instanceof X509Certificate x ? x : null;
    } catch (SSLPeerUnverifiedException none) {
      return null;
    }
  }

  static String message(String deviceId, BigInteger serial) {
    return "the client certificate of device '"
        + deviceId
        + "' (serial "
        + serial.toString(16)
        + ") was revoked; every later connection with it is refused at the handshake";
  }
}
