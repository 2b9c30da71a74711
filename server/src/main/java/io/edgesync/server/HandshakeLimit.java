package io.edgesync.server;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import javax.net.ssl.SSLEngine;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.io.ssl.SslConnection;
import org.eclipse.jetty.io.ssl.SslHandshakeListener;

/**
 * Bounds the TLS handshakes in progress on the device port ({@code
 * server.admission.max_pending_handshakes} and {@code handshake_timeout_ms}), a bean of the TLS
 * connector.
 *
 * <p>Why: session admission ({@link AdmissionControl}) acts on the Hello, after the handshake, and
 * a full mutual-TLS handshake costs milliseconds of CPU. When a whole fleet reconnects at once
 * (after a restart every handshake is a full one), every device starts a handshake, each waits
 * behind all the others for longer than the device waits, every device gives up and starts again,
 * and nothing gets through: measured with 10,000 devices on 2 cores. So a connection accepted while
 * {@code maxPendingHandshakes} are in progress is closed at once, before any cryptography (it costs
 * an accept and a close), and its device tries again after its backoff; the handshakes that do
 * start finish in time. A connection whose handshake is not done {@code handshakeTimeoutMs} after
 * it was accepted is closed too ({@link #closeStalled}, on the server's timer), so a client that
 * stalls cannot hold a slot.
 *
 * <p>Thread safe: Jetty calls the listeners on its threads, the timer calls {@link #closeStalled}.
 */
final class HandshakeLimit implements Connection.Listener, SslHandshakeListener {
  private final int maxPending;
  private final long timeoutNanos;
  private final LongSupplier nanoTime;
  private final Map<SSLEngine, Pending> pending = new ConcurrentHashMap<>();
  private final AtomicLong shed = new AtomicLong();
  private final AtomicLong timedOut = new AtomicLong();

  private record Pending(EndPoint endPoint, long acceptedNanos) {}

  HandshakeLimit(AdmissionLimits limits, LongSupplier nanoTime) {
    this.maxPending = limits.maxPendingHandshakes();
    this.timeoutNanos = TimeUnit.MILLISECONDS.toNanos(limits.handshakeTimeoutMs());
    this.nanoTime = nanoTime;
  }

  @Override
  public void onOpened(Connection connection) {
    if (!(connection instanceof SslConnection ssl)) {
      return; // the decrypted HTTP connection on top of it
    }
    // The count may pass the bound by the few connections opened at the same instant: harmless.
    if (pending.size() >= maxPending) {
      shed.incrementAndGet(); // before the close, which the client may see at once
      ssl.getEndPoint().close();
      return;
    }
    pending.put(ssl.getSSLEngine(), new Pending(ssl.getEndPoint(), nanoTime.getAsLong()));
  }

  @Override
  public void onClosed(Connection connection) {
    if (connection instanceof SslConnection ssl) {
      pending.remove(ssl.getSSLEngine());
    }
  }

  @Override
  public void handshakeSucceeded(Event event) {
    pending.remove(event.getSSLEngine());
  }

  @Override
  public void handshakeFailed(Event event, Throwable failure) {
    pending.remove(event.getSSLEngine());
  }

  /** Closes the connections whose handshake took longer than the timeout; returns how many. */
  int closeStalled() {
    long now = nanoTime.getAsLong();
    int closed = 0;
    for (Map.Entry<SSLEngine, Pending> e : pending.entrySet()) {
      if (now - e.getValue().acceptedNanos() > timeoutNanos
          && pending.remove(e.getKey(), e.getValue())) {
        timedOut.incrementAndGet(); // before the close, which the client may see at once
        e.getValue().endPoint().close();
        closed++;
      }
    }
    return closed;
  }

  /** Handshakes in progress now. */
  int pending() {
    return pending.size();
  }

  /** Connections closed at once since start because the bound was reached. */
  long shed() {
    return shed.get();
  }

  /** Connections closed since start because their handshake took longer than the timeout. */
  long timedOut() {
    return timedOut.get();
  }
}
