package io.edgesync.bench;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;

/**
 * One WebSocket client connection (RFC 6455: HTTP/1.1 upgrade, binary messages, ping/pong, close)
 * over a non-blocking socket, optionally through TLS (an {@link SSLEngine} of the device's own
 * context, so each device shows its own certificate). No thread of its own: its {@link FleetLoop}
 * calls it, and it calls its {@link Listener} back on that thread.
 *
 * <p>Cheap on purpose, for 10,000 or more per JVM: reads and TLS work go through the loop's shared
 * scratch buffers; a connection keeps bytes of its own only while a TLS record, a WebSocket frame
 * or a write is incomplete. No permessage-deflate (not offered), no text messages (the protocol has
 * none). Not thread safe: owned by its loop's thread.
 */
final class FleetConnection implements FleetLoop.Handler {
  /** What the device logic hears; every call is on the loop's thread. */
  interface Listener {
    void opened();

    void message(byte[] payload);

    /** Once, whatever ended the connection (never after {@link #close} by the device). */
    void closed(String reason);
  }

  /** The largest message accepted: the protocol's frame limit (16 MiB). */
  static final int MAX_MESSAGE_BYTES = 16 << 20;

  private enum State {
    CONNECTING,
    TLS_HANDSHAKE,
    UPGRADING,
    OPEN,
    CLOSED
  }

  private final FleetLoop loop;
  private final Listener listener;
  private final String hostHeader;
  private final String path;
  private final SSLEngine tls; // null: plain
  private final SocketChannel channel;
  private final SelectionKey key;
  private final WsReader reader = new WsReader();
  private State state = State.CONNECTING;
  private byte[] tlsCarry; // the start of a TLS record whose rest has not arrived
  private ByteBuffer pendingOut; // bytes the socket did not take yet, in write mode flipped
  private StringBuilder upgradeReply;

  private FleetConnection(
      FleetLoop loop,
      Listener listener,
      InetSocketAddress server,
      String path,
      SSLContext ssl,
      SocketChannel channel)
      throws IOException {
    this.loop = loop;
    this.listener = listener;
    this.hostHeader = server.getHostString() + ":" + server.getPort();
    this.path = path;
    this.channel = channel;
    this.tls = ssl == null ? null : engine(ssl, server);
    this.key = channel.register(loop.selector(), SelectionKey.OP_CONNECT, this);
  }

  /**
   * Starts connecting to {@code server} (from {@code source} if not null: a loopback address of its
   * own gives another 28,000 client ports). On the loop's thread; failures come as {@link
   * Listener#closed}.
   */
  static FleetConnection open(
      FleetLoop loop,
      InetSocketAddress server,
      InetAddress source,
      String path,
      SSLContext ssl,
      Listener listener) {
    SocketChannel ch = null;
    try {
      ch = SocketChannel.open();
      ch.configureBlocking(false);
      ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
      if (source != null) {
        ch.bind(new InetSocketAddress(source, 0));
      }
      FleetConnection c = new FleetConnection(loop, listener, server, path, ssl, ch);
      if (ch.connect(server)) {
        c.connected();
      }
      return c;
    } catch (IOException | RuntimeException e) {
      closeQuietly(ch);
      loop.schedule(0, () -> listener.closed("connect: " + e));
      return null;
    }
  }

  private static SSLEngine engine(SSLContext ssl, InetSocketAddress server) {
    SSLEngine e = ssl.createSSLEngine(server.getHostString(), server.getPort());
    e.setUseClientMode(true);
    SSLParameters p = e.getSSLParameters();
    p.setEndpointIdentificationAlgorithm("HTTPS"); // the server's name is checked, as a device does
    e.setSSLParameters(p);
    return e;
  }

  /** Sends one binary message. */
  void send(byte[] payload) {
    if (state != State.OPEN) {
      return; // the device learns of the close through closed()
    }
    writeApp(WsFrames.clientFrame(WsFrames.OP_BINARY, payload, loop.random.nextInt()));
  }

  /** Closes without telling the listener (the device chose it). */
  void close() {
    if (state == State.OPEN) {
      writeApp(WsFrames.clientFrame(WsFrames.OP_CLOSE, new byte[] {0x03, (byte) 0xE8}, 0));
    }
    state = State.CLOSED;
    key.cancel();
    closeQuietly(channel);
  }

  @Override
  public void ready(SelectionKey k) {
    try {
      if (k.isConnectable() && channel.finishConnect()) {
        connected();
      }
      if (k.isValid() && k.isWritable()) {
        flush();
      }
      if (k.isValid() && k.isReadable()) {
        read();
      }
    } catch (IOException | RuntimeException e) {
      fail(state.name().toLowerCase() + ": " + e);
    }
  }

  private void connected() throws IOException {
    key.interestOps(SelectionKey.OP_READ);
    if (tls == null) {
      upgrade();
    } else {
      state = State.TLS_HANDSHAKE;
      tls.beginHandshake();
      wrap(ByteBuffer.allocate(0));
    }
  }

  /** Sends the HTTP upgrade request. */
  private void upgrade() throws IOException {
    state = State.UPGRADING;
    byte[] nonce = new byte[16];
    for (int i = 0; i < nonce.length; i++) {
      nonce[i] = (byte) loop.random.nextInt(256);
    }
    String request =
        "GET "
            + path
            + " HTTP/1.1\r\nHost: "
            + hostHeader
            + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "
            + Base64.getEncoder().encodeToString(nonce)
            + "\r\nSec-WebSocket-Version: 13\r\n\r\n";
    writeApp(request.getBytes(StandardCharsets.US_ASCII));
  }

  private void read() throws IOException {
    ByteBuffer buf = loop.readScratch;
    buf.clear();
    if (tlsCarry != null) {
      buf.put(tlsCarry);
      tlsCarry = null;
    }
    int n = channel.read(buf);
    if (n < 0) {
      fail("the server closed the connection (" + state.name().toLowerCase() + ")");
      return;
    }
    buf.flip();
    if (tls == null) {
      plain(buf);
    } else {
      unwrap(buf);
    }
  }

  /** Decrypts every whole TLS record in {@code net}, keeping a partial one for the next read. */
  private void unwrap(ByteBuffer net) throws IOException {
    while (state != State.CLOSED) {
      ByteBuffer app = loop.appScratch;
      app.clear();
      SSLEngineResult r = tls.unwrap(net, app);
      app.flip();
      if (app.hasRemaining()) {
        plain(app);
      }
      if (r.getStatus() == SSLEngineResult.Status.CLOSED) {
        fail("the server closed TLS");
        return;
      }
      if (r.getStatus() == SSLEngineResult.Status.BUFFER_OVERFLOW) {
        throw new SSLException("a TLS record larger than " + app.capacity() + " bytes");
      }
      HandshakeStatus hs = afterEngine(r);
      if (hs == HandshakeStatus.NEED_WRAP) {
        wrap(ByteBuffer.allocate(0));
      }
      if (r.getStatus() == SSLEngineResult.Status.BUFFER_UNDERFLOW || !net.hasRemaining()) {
        break;
      }
    }
    if (net.hasRemaining() && state != State.CLOSED) {
      tlsCarry = new byte[net.remaining()];
      net.get(tlsCarry);
    }
  }

  /** Runs delegated tasks inline and notices the handshake's end; returns what it needs next. */
  private HandshakeStatus afterEngine(SSLEngineResult r) throws IOException {
    HandshakeStatus hs = r.getHandshakeStatus();
    while (hs == HandshakeStatus.NEED_TASK) {
      for (Runnable t; (t = tls.getDelegatedTask()) != null; ) {
        t.run(); // on the loop: a storm of handshakes is CPU-bound anyway
      }
      hs = tls.getHandshakeStatus();
    }
    if (r.getHandshakeStatus() == HandshakeStatus.FINISHED && state == State.TLS_HANDSHAKE) {
      upgrade();
    }
    return hs;
  }

  /** Encrypts {@code src} (and whatever the handshake needs to send) and writes it. */
  private void wrap(ByteBuffer src) throws IOException {
    do {
      ByteBuffer net = loop.netScratch;
      net.clear();
      SSLEngineResult r = tls.wrap(src, net);
      net.flip();
      write(net);
      if (r.getStatus() == SSLEngineResult.Status.CLOSED) {
        fail("TLS closed while writing");
        return;
      }
      HandshakeStatus hs = afterEngine(r);
      if (!src.hasRemaining() && hs != HandshakeStatus.NEED_WRAP) {
        return;
      }
    } while (state != State.CLOSED);
  }

  private void writeApp(byte[] bytes) {
    try {
      if (tls == null) {
        write(ByteBuffer.wrap(bytes));
      } else {
        wrap(ByteBuffer.wrap(bytes));
      }
    } catch (IOException | RuntimeException e) {
      fail("write: " + e);
    }
  }

  /** Writes what the socket takes now; keeps the rest until it is writable. */
  private void write(ByteBuffer bytes) throws IOException {
    if (pendingOut == null) {
      channel.write(bytes);
      if (!bytes.hasRemaining()) {
        return;
      }
      pendingOut = ByteBuffer.allocate(Math.max(bytes.remaining(), 4096));
    } else if (pendingOut.remaining() < bytes.remaining()) {
      ByteBuffer bigger =
          ByteBuffer.allocate(pendingOut.position() + bytes.remaining() + pendingOut.capacity());
      pendingOut.flip();
      pendingOut = bigger.put(pendingOut);
    }
    pendingOut.put(bytes);
    key.interestOps(SelectionKey.OP_READ | SelectionKey.OP_WRITE);
  }

  private void flush() throws IOException {
    if (pendingOut == null) {
      return;
    }
    pendingOut.flip();
    channel.write(pendingOut);
    if (pendingOut.hasRemaining()) {
      pendingOut.compact();
      return;
    }
    pendingOut = null;
    key.interestOps(SelectionKey.OP_READ);
  }

  /** Bytes after TLS: the upgrade reply, then WebSocket frames. */
  private void plain(ByteBuffer bytes) throws IOException {
    if (state == State.UPGRADING) {
      upgradeReply(bytes);
    }
    if (state == State.OPEN && bytes.hasRemaining()) {
      reader.feed(bytes);
      WsFrames.Message m;
      while (state == State.OPEN && (m = reader.next()) != null) {
        onMessage(m);
      }
    }
  }

  /** Reads the reply to the upgrade up to its blank line; a reply other than 101 fails. */
  private void upgradeReply(ByteBuffer bytes) {
    if (upgradeReply == null) {
      upgradeReply = new StringBuilder();
    }
    while (bytes.hasRemaining()) {
      upgradeReply.append((char) (bytes.get() & 0xFF));
      int len = upgradeReply.length();
      if (len > 8192) {
        fail("an upgrade reply longer than 8 KiB");
        return;
      }
      if (len >= 4 && upgradeReply.lastIndexOf("\r\n\r\n") == len - 4) {
        String status = upgradeReply.substring(0, upgradeReply.indexOf("\r\n"));
        upgradeReply = null;
        if (!status.startsWith("HTTP/1.1 101")) {
          fail("the upgrade was refused: " + status);
          return;
        }
        state = State.OPEN;
        listener.opened();
        return;
      }
    }
  }

  private void onMessage(WsFrames.Message m) {
    switch (m.opcode()) {
      case WsFrames.OP_BINARY -> listener.message(m.payload());
      case WsFrames.OP_PING ->
          writeApp(WsFrames.clientFrame(WsFrames.OP_PONG, m.payload(), loop.random.nextInt()));
      case WsFrames.OP_CLOSE -> fail("the server closed the WebSocket " + WsFrames.closeStatus(m));
      case WsFrames.OP_PONG -> {}
      default -> fail("unexpected WebSocket opcode " + m.opcode());
    }
  }

  private void fail(String reason) {
    if (state == State.CLOSED) {
      return;
    }
    state = State.CLOSED;
    key.cancel();
    closeQuietly(channel);
    listener.closed(reason);
  }

  private static void closeQuietly(SocketChannel ch) {
    if (ch != null) {
      try {
        ch.close();
      } catch (IOException e) {
        // closing anyway
      }
    }
  }

  /** The frame reader of one connection: keeps bytes only while a frame is incomplete. */
  private static final class WsReader {
    private byte[] buf = new byte[0];
    private int len;
    private WsFrames.Fragments fragments;

    void feed(ByteBuffer bytes) {
      int n = bytes.remaining();
      if (buf.length - len < n) {
        buf = java.util.Arrays.copyOf(buf, Math.max(len + n, buf.length * 2));
      }
      bytes.get(buf, len, n);
      len += n;
    }

    /** The next whole message, or null until more bytes arrive. */
    WsFrames.Message next() throws IOException {
      while (true) {
        WsFrames.Frame f = WsFrames.parse(buf, len, MAX_MESSAGE_BYTES);
        if (f == null) {
          if (len == 0 && buf.length > 0) {
            buf = new byte[0]; // idle: hold nothing
          }
          return null;
        }
        System.arraycopy(buf, f.totalBytes(), buf, 0, len - f.totalBytes());
        len -= f.totalBytes();
        if (fragments == null) {
          fragments = new WsFrames.Fragments();
        }
        WsFrames.Message m = fragments.add(f, MAX_MESSAGE_BYTES);
        if (m != null) {
          return m;
        }
      }
    }
  }
}
