package io.edgesync.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgesync.protocol.FrameCodec;
import io.edgesync.protocol.ProtocolLimits;
import io.edgesync.protocol.wire.Frame;
import io.edgesync.protocol.wire.Hello;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A bare WebSocket client that sends raw bytes and collects whole frames. */
final class RawClient implements WebSocket.Listener {
  final LinkedBlockingQueue<byte[]> frames = new LinkedBlockingQueue<>();
  final CompletableFuture<Boolean> closed = new CompletableFuture<>();

  /** The server's close: its status code, a space and its reason. */
  final CompletableFuture<String> closeStatus = new CompletableFuture<>();

  private final ByteArrayOutputStream partial = new ByteArrayOutputStream();
  WebSocket ws;

  /** One client for all connections: creating one per connection costs a thread pool. */
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  static RawClient connect(String url) throws Exception {
    RawClient c = new RawClient();
    c.ws = HTTP.newWebSocketBuilder().buildAsync(URI.create(url), c).get(5, TimeUnit.SECONDS);
    return c;
  }

  /** Connects over TLS with {@code ssl} (a device's mutual-TLS context, say). */
  static RawClient connect(String url, javax.net.ssl.SSLContext ssl) throws Exception {
    RawClient c = new RawClient();
    c.ws =
        HttpClient.newBuilder()
            .sslContext(ssl)
            .build()
            .newWebSocketBuilder()
            .buildAsync(URI.create(url), c)
            .get(5, TimeUnit.SECONDS);
    return c;
  }

  /** Connects, says {@code hello} and asserts that the server welcomed it. */
  static RawClient welcomed(String url, Hello.Builder hello) throws Exception {
    RawClient c = connect(url);
    c.send(Frame.newBuilder().setHello(hello));
    assertThat(c.next().hasWelcome()).as("a Welcome").isTrue();
    return c;
  }

  /** A Hello of this protocol version from {@code device}, for a test to add to. */
  static Hello.Builder hello(String device) {
    return Hello.newBuilder()
        .setProtocolVersion(ProtocolLimits.PROTOCOL_VERSION)
        .setDeviceId(device);
  }

  void send(byte[] bytes) throws Exception {
    ws.sendBinary(ByteBuffer.wrap(bytes), true).get(5, TimeUnit.SECONDS);
  }

  /** Sends the frame, encoded as a device would. */
  void send(Frame.Builder frame) throws Exception {
    send(FrameCodec.encode(frame.build()));
  }

  Frame next() throws Exception {
    byte[] f = frames.poll(5, TimeUnit.SECONDS);
    assertThat(f).as("a frame from the server").isNotNull();
    return Frame.parseFrom(f);
  }

  @Override
  public CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
    byte[] b = new byte[data.remaining()];
    data.get(b);
    partial.write(b, 0, b.length);
    if (last) {
      frames.add(partial.toByteArray());
      partial.reset();
    }
    webSocket.request(1);
    return null;
  }

  @Override
  public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
    closeStatus.complete(statusCode + " " + reason);
    closed.complete(true);
    return null;
  }

  @Override
  public void onError(WebSocket webSocket, Throwable error) {
    closed.complete(true);
  }
}
