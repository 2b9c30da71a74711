package io.edgesync.agent.internal.tls;

import io.edgesync.agent.internal.WebSocketTransport;
import io.edgesync.protocol.Transport;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import javax.net.ssl.SSLContext;

/**
 * The agent's transport with mutual TLS from files: each connect uses the key and certificate as
 * they are then ({@link DeviceCertificate}), so a certificate renewed during a session is used from
 * the next connection. While the device has no certificate yet, a connect first enrolls ({@link
 * Enroller}, on a thread of its own, since enrollment blocks); a failed enrollment ends the attempt
 * with its reason, which the agent's status shows as its last error and the engine's backoff spaces
 * out.
 *
 * <p>Thread safe.
 */
public final class DeviceTlsTransport implements Transport {
  private final URI url;
  private final DeviceCertificate certificate;
  private final Enroller enroller;
  private final Duration connectTimeout;
  private SSLContext delegateContext; // guarded by this
  private WebSocketTransport delegate; // guarded by this

  public DeviceTlsTransport(
      URI url, DeviceCertificate certificate, Enroller enroller, Duration connectTimeout) {
    this.url = url;
    this.certificate = certificate;
    this.enroller = enroller;
    this.connectTimeout = connectTimeout;
  }

  /** The key and certificate files each connection uses. */
  public DeviceCertificate certificate() {
    return certificate;
  }

  @Override
  public void connect(Listener listener) {
    if (certificate.present()) {
      connectNow(listener);
      return;
    }
    Thread t =
        new Thread(
            () -> {
              try {
                enroller.enroll();
              } catch (EnrollmentException e) {
                listener.onClosed(NOT_OPEN, e.getMessage());
                return;
              } catch (RuntimeException e) {
                listener.onClosed(NOT_OPEN, "enrollment failed: " + e);
                return;
              }
              connectNow(listener);
            },
            "edgesync-enroll");
    t.setDaemon(true);
    t.start();
  }

  private void connectNow(Listener listener) {
    WebSocketTransport ws;
    try {
      ws = delegate();
    } catch (IOException | RuntimeException e) {
      listener.onClosed(NOT_OPEN, "cannot use this device's TLS files: " + e.getMessage());
      return;
    }
    ws.connect(listener);
  }

  private synchronized WebSocketTransport delegate() throws IOException {
    SSLContext ctx = certificate.context();
    if (ctx != delegateContext) {
      delegate = new WebSocketTransport(url, ctx, connectTimeout);
      delegateContext = ctx;
    }
    return delegate;
  }

  /** The connection of an attempt that never opened. */
  private static final Connection NOT_OPEN =
      new Connection() {
        @Override
        public void send(byte[] frame) {}

        @Override
        public void close(String reason) {}
      };
}
