package io.edgesync.cli.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP relay between devices and the server whose link can be cut and healed: the demo's stand-in
 * for a flaky uplink. While cut, open connections are reset and new ones are closed at once. Thread
 * safe; one thread per direction per connection (demo scale).
 */
public final class TcpRelay implements AutoCloseable {
  private final ServerSocket listener;
  private final int targetPort;
  private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
  private final AtomicLong bytesDown = new AtomicLong();
  private final AtomicLong cutAtBytesDown = new AtomicLong(Long.MAX_VALUE);
  private volatile boolean cut;
  private volatile boolean closed;

  public TcpRelay(int targetPort) throws IOException {
    this.targetPort = targetPort;
    this.listener = new ServerSocket();
    listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    Thread acceptor = new Thread(this::acceptLoop, "demo-relay-accept");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  public int port() {
    return listener.getLocalPort();
  }

  /** Bytes relayed from the server to the devices so far. */
  public long bytesDown() {
    return bytesDown.get();
  }

  public boolean isCut() {
    return cut;
  }

  /** Cuts the link: resets every open connection and refuses new ones until {@link #heal}. */
  public void cut() {
    cut = true;
    for (Socket s : sockets) {
      closeQuietly(s);
    }
  }

  /**
   * Cuts the link (as {@link #cut}) the moment {@link #bytesDown} reaches {@code total}: in the
   * middle of a transfer however fast it runs, which a timer watching progress cannot promise.
   */
  public void cutWhenBytesDownReach(long total) {
    cutAtBytesDown.set(total);
  }

  public void heal() {
    cut = false;
  }

  @Override
  public void close() {
    closed = true;
    closeQuietly(listener);
    cut();
  }

  private void acceptLoop() {
    while (!closed) {
      try {
        Socket client = listener.accept();
        if (cut) {
          closeQuietly(client);
          continue;
        }
        Socket upstream = new Socket(InetAddress.getLoopbackAddress(), targetPort);
        client.setTcpNoDelay(true);
        upstream.setTcpNoDelay(true);
        sockets.add(client);
        sockets.add(upstream);
        pipe(client, upstream, false);
        pipe(upstream, client, true);
      } catch (IOException e) {
        if (closed) {
          return;
        }
      }
    }
  }

  private void pipe(Socket from, Socket to, boolean down) {
    Thread t =
        new Thread(
            () -> {
              byte[] buf = new byte[64 * 1024];
              try (InputStream in = from.getInputStream();
                  OutputStream out = to.getOutputStream()) {
                int n;
                while ((n = in.read(buf)) >= 0) {
                  out.write(buf, 0, n);
                  if (down) {
                    countDown(n);
                  }
                }
              } catch (IOException ignored) {
                // the link was cut or a side closed
              } finally {
                closeQuietly(from);
                closeQuietly(to);
                sockets.remove(from);
                sockets.remove(to);
              }
            },
            "demo-relay-pipe");
    t.setDaemon(true);
    t.start();
  }

  private void countDown(int n) {
    long total = bytesDown.addAndGet(n);
    if (total >= cutAtBytesDown.get()
        && cutAtBytesDown.getAndSet(Long.MAX_VALUE) != Long.MAX_VALUE) {
      cut(); // once, by whichever connection crossed the mark first
    }
  }

  private static void closeQuietly(java.io.Closeable c) {
    try {
      c.close();
    } catch (IOException ignored) {
      // nothing to do
    }
  }
}
