package io.edgesync.bench;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import javax.net.ssl.SSLContext;

/**
 * The client side of the fleet bench: a few {@link FleetLoop}s and the {@link FleetDevice}s spread
 * over them, devices spread round-robin over the servers. Used by the runner thread; the devices
 * themselves live on their loops.
 */
final class FleetClients implements AutoCloseable {
  final FleetDevice.Shared shared;
  private final List<FleetLoop> loops = new ArrayList<>();
  private final List<FleetDevice> devices = new ArrayList<>();
  private final List<FleetLoop> loopOf = new ArrayList<>();

  /**
   * @param servers the servers' sync URLs (ws:// or wss://, one path for all)
   * @param loops selector threads
   */
  FleetClients(List<URI> servers, int loops, long batchPeriodMs, int recordBytes) {
    List<InetSocketAddress> addrs = new ArrayList<>();
    for (URI u : servers) {
      int port = u.getPort() > 0 ? u.getPort() : u.getScheme().equals("wss") ? 443 : 80;
      addrs.add(InetSocketAddress.createUnresolved(u.getHost(), port));
    }
    String path = servers.get(0).getRawPath();
    shared = new FleetDevice.Shared(resolved(addrs), path, batchPeriodMs, recordBytes);
    for (int i = 0; i < loops; i++) {
      this.loops.add(new FleetLoop("fleet-loop-" + i, 1000 + i));
    }
  }

  private static List<InetSocketAddress> resolved(List<InetSocketAddress> unresolved) {
    List<InetSocketAddress> out = new ArrayList<>();
    for (InetSocketAddress a : unresolved) {
      out.add(new InetSocketAddress(a.getHostString(), a.getPort()));
    }
    return out;
  }

  /**
   * Adds devices {@code from..to-1} (ids {@code fleet-00000...}), each with the TLS context {@code
   * ssl.apply(i)} (null: plain) and the client source address {@code source.apply(i)} (null: any).
   */
  void add(int from, int to, IntFunction<SSLContext> ssl, IntFunction<InetAddress> source) {
    for (int i = from; i < to; i++) {
      FleetLoop loop = loops.get(i % loops.size());
      InetSocketAddress server = shared.servers.get(i % shared.servers.size());
      devices.add(
          new FleetDevice(
              String.format("fleet-%05d", i), shared, loop, ssl.apply(i), server, source.apply(i)));
      loopOf.add(loop);
    }
  }

  int size() {
    return devices.size();
  }

  /** Starts devices {@code from..to-1} at once (the server paces them). */
  void start(int from, int to) {
    for (int i = from; i < to; i++) {
      FleetDevice d = devices.get(i);
      loopOf.get(i).post(d::start);
    }
  }

  /** Lets every device count itself into the current phase (after the runner set its target). */
  void recheck() {
    for (int i = 0; i < devices.size(); i++) {
      loopOf.get(i).post(devices.get(i)::check);
    }
  }

  /** Devices connected with a Welcome right now. */
  int welcomed() throws InterruptedException {
    int[] count = new int[1];
    CountDownLatch done = new CountDownLatch(loops.size());
    for (FleetLoop loop : loops) {
      loop.post(
          () -> {
            synchronized (count) {
              for (int i = 0; i < devices.size(); i++) {
                if (loopOf.get(i) == loop && devices.get(i).welcomed()) {
                  count[0]++;
                }
              }
            }
            done.countDown();
          });
    }
    done.await(30, TimeUnit.SECONDS);
    synchronized (count) {
      return count[0];
    }
  }

  /** Stops every device and waits until their loops did it. */
  void stopAll() throws InterruptedException {
    CountDownLatch done = new CountDownLatch(devices.size());
    for (int i = 0; i < devices.size(); i++) {
      FleetDevice d = devices.get(i);
      loopOf
          .get(i)
          .post(
              () -> {
                d.stop();
                done.countDown();
              });
    }
    done.await(60, TimeUnit.SECONDS);
  }

  @Override
  public void close() throws InterruptedException {
    stopAll();
    for (FleetLoop l : loops) {
      l.close();
    }
  }
}
