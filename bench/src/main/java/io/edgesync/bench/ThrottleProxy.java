package io.edgesync.bench;

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
import java.util.concurrent.locks.LockSupport;

/**
 * A TCP proxy on loopback that counts the bytes it forwards in each direction and, optionally,
 * limits each direction to a rate with a token bucket: a stand-in for a slow uplink. Minimal on
 * purpose: {@code io.edgesync.testing.FaultProxy} (branch issue4-faults) has the full fault set and
 * replaces this once it is on main.
 *
 * <p>The bucket holds at most {@link #BURST_BYTES} (about one TCP window of a slow link), so the
 * rate holds over any interval longer than a few milliseconds. Thread safe; two threads per
 * connection.
 */
final class ThrottleProxy implements AutoCloseable {
  /** Largest burst the bucket allows. */
  static final int BURST_BYTES = 16 * 1024;

  private static final int CHUNK_BYTES = 1460;

  private final ServerSocket listener;
  private final int targetPort;
  private final long bytesPerSecond;
  private final AtomicLong upBytes = new AtomicLong();
  private final AtomicLong downBytes = new AtomicLong();
  private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;

  /**
   * @param bytesPerSecond the rate of each direction; 0 = unlimited (counting only)
   */
  ThrottleProxy(int targetPort, long bytesPerSecond) throws IOException {
    this.targetPort = targetPort;
    this.bytesPerSecond = bytesPerSecond;
    this.listener = new ServerSocket();
    listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    Thread t = new Thread(this::accept, "bench-proxy-accept");
    t.setDaemon(true);
    t.start();
  }

  int port() {
    return listener.getLocalPort();
  }

  /** Bytes forwarded from the clients (edge) to the target (cloud). */
  long upBytes() {
    return upBytes.get();
  }

  /** Bytes forwarded from the target back to the clients. */
  long downBytes() {
    return downBytes.get();
  }

  private void accept() {
    while (!closed) {
      try {
        Socket client = listener.accept();
        Socket server = new Socket(InetAddress.getLoopbackAddress(), targetPort);
        client.setTcpNoDelay(true);
        server.setTcpNoDelay(true);
        sockets.add(client);
        sockets.add(server);
        pump(client, server, upBytes, "up");
        pump(server, client, downBytes, "down");
      } catch (IOException e) {
        if (!closed) {
          Bench.log("proxy: accept failed: " + e);
        }
      }
    }
  }

  private void pump(Socket from, Socket to, AtomicLong counter, String name) {
    Thread t =
        new Thread(
            () -> {
              byte[] buf = new byte[CHUNK_BYTES];
              Bucket bucket = new Bucket(bytesPerSecond);
              try (InputStream in = from.getInputStream();
                  OutputStream out = to.getOutputStream()) {
                int n;
                while ((n = in.read(buf)) > 0) {
                  bucket.take(n);
                  out.write(buf, 0, n);
                  counter.addAndGet(n);
                }
              } catch (IOException e) {
                // a side closed; close the other
              } finally {
                closeQuietly(from);
                closeQuietly(to);
              }
            },
            "bench-proxy-" + name);
    t.setDaemon(true);
    t.start();
  }

  /** A token bucket refilled from the monotonic clock. */
  private static final class Bucket {
    private final long rate;
    private double tokens = BURST_BYTES;
    private long lastNanos = System.nanoTime();

    Bucket(long bytesPerSecond) {
      this.rate = bytesPerSecond;
    }

    void take(int n) {
      if (rate <= 0) {
        return;
      }
      while (true) {
        long now = System.nanoTime();
        tokens = Math.min(BURST_BYTES, tokens + (now - lastNanos) * rate / 1e9);
        lastNanos = now;
        if (tokens >= n) {
          tokens -= n;
          return;
        }
        long waitNanos = (long) ((n - tokens) * 1e9 / rate);
        LockSupport.parkNanos(Math.max(100_000, waitNanos));
      }
    }
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException e) {
      // already closed
    }
  }

  @Override
  public void close() {
    closed = true;
    closeQuietly(listener);
    for (Socket s : sockets) {
      closeQuietly(s);
    }
  }

  private static void closeQuietly(ServerSocket s) {
    try {
      s.close();
    } catch (IOException e) {
      // already closed
    }
  }
}
