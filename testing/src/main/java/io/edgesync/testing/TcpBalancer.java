package io.edgesync.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A layer-4 load balancer for tests of several server nodes: clients connect to {@link #port()},
 * and each connection goes to the next backend in turn that accepts it (a backend that refuses, a
 * killed node, is skipped). No stickiness: a client's next connection may reach another node, as
 * behind any TCP balancer in production. Bytes pass through untouched (TLS included).
 *
 * <p>Thread safe. One accept thread and two pump threads per connection, all daemons; {@link
 * #close()} stops them and closes every connection.
 */
public final class TcpBalancer implements AutoCloseable {
  private static final int BUFFER_BYTES = 64 * 1024;
  private static final int CONNECT_TIMEOUT_MS = 1_000;

  private final List<InetSocketAddress> backends;
  private final ServerSocket listener;
  private final AtomicInteger next = new AtomicInteger();
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private final AtomicLong[] perBackend;
  private volatile boolean closed;

  private TcpBalancer(List<InetSocketAddress> backends) throws IOException {
    this.backends = new CopyOnWriteArrayList<>(backends);
    this.perBackend = new AtomicLong[backends.size()];
    for (int i = 0; i < perBackend.length; i++) {
      perBackend[i] = new AtomicLong();
    }
    listener = new ServerSocket();
    listener.setReuseAddress(true);
    listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    Thread acceptor = new Thread(this::acceptLoop, "tcp-balancer-" + listener.getLocalPort());
    acceptor.setDaemon(true);
    acceptor.start();
  }

  /** Balances over {@code backends} (loopback ports, say) in turn. */
  public static TcpBalancer start(List<InetSocketAddress> backends) throws IOException {
    if (backends.isEmpty()) {
      throw new IllegalArgumentException("a balancer needs at least one backend");
    }
    return new TcpBalancer(backends);
  }

  public int port() {
    return listener.getLocalPort();
  }

  /** Connections sent to backend {@code i} (in the order given to {@link #start}) so far. */
  public long connections(int i) {
    return perBackend[i].get();
  }

  private void acceptLoop() {
    while (!closed) {
      Socket client;
      try {
        client = listener.accept();
      } catch (IOException e) {
        return; // closed
      }
      Socket backend = connectToNext();
      if (backend == null) {
        closeQuietly(client); // no backend accepts: the client sees a closed connection
        continue;
      }
      open.add(client);
      open.add(backend);
      pump(client, backend);
      pump(backend, client);
    }
  }

  /** The next backend in turn that accepts a connection, or null if none does. */
  private Socket connectToNext() {
    for (int tries = 0; tries < backends.size(); tries++) {
      int i = Math.floorMod(next.getAndIncrement(), backends.size());
      Socket s = new Socket();
      try {
        s.setTcpNoDelay(true);
        s.connect(backends.get(i), CONNECT_TIMEOUT_MS);
        perBackend[i].incrementAndGet();
        return s;
      } catch (IOException e) {
        closeQuietly(s);
      }
    }
    return null;
  }

  private void pump(Socket from, Socket to) {
    Thread t =
        new Thread(
            () -> {
              byte[] buf = new byte[BUFFER_BYTES];
              try (InputStream in = from.getInputStream();
                  OutputStream out = to.getOutputStream()) {
                int n;
                while ((n = in.read(buf)) >= 0) {
                  out.write(buf, 0, n);
                }
              } catch (IOException e) {
                // one side went away: close both below
              } finally {
                closeQuietly(from);
                closeQuietly(to);
                open.remove(from);
                open.remove(to);
              }
            },
            "tcp-balancer-pump");
    t.setDaemon(true);
    t.start();
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException ignored) {
      // closing: nothing to report
    }
  }

  @Override
  public void close() {
    closed = true;
    try {
      listener.close();
    } catch (IOException ignored) {
      // closing: nothing to report
    }
    open.forEach(TcpBalancer::closeQuietly);
  }
}
