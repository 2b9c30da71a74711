package io.edgesync.agent.internal;

import io.edgesync.protocol.ProtocolLimits;
import io.edgesync.protocol.Transport;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.net.ssl.SSLContext;

/**
 * The edge's WebSocket client ({@code java.net.http}), one binary message per frame. Sends are
 * chained so that at most one is outstanding, as the JDK client requires; received fragments are
 * assembled up to {@link ProtocolLimits#MAX_FRAME_BYTES_CEILING}, beyond which the connection is
 * closed with status 1009. Large frames are sent in fragments, each reported as send progress. TLS:
 * pass an {@link SSLContext} (for mutual TLS, one holding the device's certificate and key).
 */
public final class WebSocketTransport implements Transport {
  /**
   * Frames above this size are sent as WebSocket fragments of it: about 0.7 s each at 200 kbit/s,
   * 14 s at 9.6 kbit/s, and 8 header bytes per fragment (0.05 %).
   */
  static final int FRAGMENT_BYTES = 16 * 1024;

  private final URI uri;
  private final HttpClient client;
  private final Duration connectTimeout;

  public WebSocketTransport(URI uri, SSLContext ssl, Duration connectTimeout) {
    this.uri = uri;
    this.connectTimeout = connectTimeout;
    HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(connectTimeout);
    if (ssl != null) {
      b.sslContext(ssl);
    }
    this.client = b.build();
  }

  @Override
  public void connect(Listener listener) {
    Conn conn = new Conn(listener);
    client
        .newWebSocketBuilder()
        .connectTimeout(connectTimeout)
        .buildAsync(uri, conn)
        .whenComplete(
            (ws, error) -> {
              if (error != null) {
                conn.closed(
                    "cannot connect to " + uri + ": " + rootMessage(error) + tlsHint(error));
              }
            });
  }

  /**
   * The server's TLS alert names no reason; say what it means and where the reason is logged. Other
   * failures: nothing to add.
   */
  static String tlsHint(Throwable t) {
    String m = rootMessage(t);
    if (m.contains("SSLHandshakeException")
        && (m.contains("certificate_unknown")
            || m.contains("bad_certificate")
            || m.contains("certificate_required")
            || m.contains("certificate_revoked")
            || m.contains("certificate_expired"))) {
      return " (the server refused this device's certificate: expired, not yet valid, revoked,"
          + " or from a CA it does not trust; the server's log names the reason)";
    }
    return "";
  }

  private static String rootMessage(Throwable t) {
    while (t.getCause() != null) {
      t = t.getCause();
    }
    return t.getClass().getSimpleName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
  }

  private static final class Conn implements Connection, WebSocket.Listener {
    private final Listener listener;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final ByteArrayOutputStream partial = new ByteArrayOutputStream();
    private volatile WebSocket ws;
    private CompletableFuture<?> sendChain = CompletableFuture.completedFuture(null);

    Conn(Listener listener) {
      this.listener = listener;
    }

    @Override
    public void onOpen(WebSocket webSocket) {
      ws = webSocket;
      listener.onOpen(this);
      webSocket.request(1);
    }

    @Override
    public CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
      if (partial.size() + data.remaining() > ProtocolLimits.MAX_FRAME_BYTES_CEILING) {
        close("frame from the cloud exceeds " + ProtocolLimits.MAX_FRAME_BYTES_CEILING + " bytes");
        return null;
      }
      byte[] chunk = new byte[data.remaining()];
      data.get(chunk);
      partial.write(chunk, 0, chunk.length);
      if (last) {
        byte[] frame = partial.toByteArray();
        partial.reset();
        listener.onFrame(this, frame);
      }
      webSocket.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
      close("text message from the cloud; the protocol uses binary frames only");
      return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
      closed("closed by the cloud (" + statusCode + (reason.isEmpty() ? "" : " " + reason) + ")");
      return null;
    }

    @Override
    public void onError(WebSocket webSocket, Throwable error) {
      closed("connection failed: " + rootMessage(error));
    }

    /**
     * Queues the frame as one binary message. A frame above {@link #FRAGMENT_BYTES} goes out as
     * WebSocket fragments (continuation frames) of that size, and each fragment the socket took is
     * reported to the listener as send progress, so a large batch on a slow link keeps its session
     * alive. Smaller frames report nothing: the socket buffers take them at once, link or no link,
     * so they would keep a dead connection looking alive.
     */
    @Override
    public synchronized void send(byte[] frame) {
      if (closed.get() || ws == null) {
        return;
      }
      WebSocket socket = ws;
      if (frame.length <= FRAGMENT_BYTES) {
        sendChain = sendChain.thenCompose(x -> socket.sendBinary(ByteBuffer.wrap(frame), true));
      } else {
        for (int offset = 0; offset < frame.length; offset += FRAGMENT_BYTES) {
          int n = Math.min(FRAGMENT_BYTES, frame.length - offset);
          ByteBuffer part = ByteBuffer.wrap(frame, offset, n);
          boolean last = offset + n == frame.length;
          sendChain =
              sendChain.thenCompose(x -> socket.sendBinary(part, last)).thenRun(() -> progress(n));
        }
      }
      sendChain =
          sendChain.exceptionally(
              e -> {
                close("send failed: " + rootMessage(e));
                return null;
              });
    }

    private void progress(int bytes) {
      if (!closed.get()) {
        listener.onSendProgress(this, bytes);
      }
    }

    @Override
    public void close(String reason) {
      WebSocket socket = ws;
      if (socket != null && !closed.get()) {
        socket.abort();
      }
      closed(reason);
    }

    void closed(String reason) {
      if (closed.compareAndSet(false, true)) {
        WebSocket socket = ws;
        if (socket != null) {
          socket.abort();
        }
        listener.onClosed(this, reason);
      }
    }
  }
}
