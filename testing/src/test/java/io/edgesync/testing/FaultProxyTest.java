package io.edgesync.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.edgesync.testing.FaultProxy.Direction;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The proxy over real loopback sockets: each fault does what it says, and only that. */
class FaultProxyTest {
  private static final int UP_BYTES = 200_000;
  private static final int MARK_BYTES = 32 * 1024;
  private final List<AutoCloseable> toClose = new ArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (AutoCloseable c : toClose) {
      c.close();
    }
  }

  @Test
  void healthyProxy_forwardsBothWaysAndCounts() throws Exception {
    Target echo = target(Target.Mode.ECHO);
    FaultProxy proxy = proxy(echo, 1);
    try (Socket s = connect(proxy)) {
      byte[] sent = randomBytes(1, 100_000);
      CompletableFuture<byte[]> back = readAsync(s, sent.length);
      s.getOutputStream().write(sent);
      assertThat(back.get(5, TimeUnit.SECONDS)).isEqualTo(sent);
      // The proxy counts a chunk after writing it on: the reader may see it a moment earlier.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while ((proxy.bytes(Direction.DOWNSTREAM) < 100_000
              || proxy.bytes(Direction.UPSTREAM) < 100_000)
          && System.nanoTime() < deadline) {
        Thread.sleep(5);
      }
      assertThat(proxy.bytes(Direction.UPSTREAM)).isEqualTo(100_000);
      assertThat(proxy.bytes(Direction.DOWNSTREAM)).isEqualTo(100_000);
      assertThat(proxy.connectionsAccepted()).isEqualTo(1);
      assertThat(proxy.connectionsOpen()).isEqualTo(1);
      assertThat(proxy.bitsFlipped()).isZero();
    }
  }

  @Test
  void throttle_oneMegabitUpstreamAndTwoDownstream_holdEachRateWithinTwoPercent() throws Exception {
    int upBytes = UP_BYTES; // 1.6 s at 1 Mbit/s
    int downBytes = 400_000; // 1.6 s at 2 Mbit/s
    Target sink = target(Target.Mode.SINK_THEN_SEND, downBytes);
    FaultProxy proxy = proxy(sink, 2);
    proxy.throttle(Direction.UPSTREAM, 1_000_000);
    proxy.throttle(Direction.DOWNSTREAM, 2_000_000);
    try (Socket s = connect(proxy)) {
      // The target starts sending downstream as soon as the connection opens.
      CompletableFuture<long[]> down = CompletableFuture.supplyAsync(() -> timedRead(s, downBytes));
      s.getOutputStream().write(new byte[upBytes]);
      long[] up = sink.timedReceive(upBytes);
      long[] d = down.get(10, TimeUnit.SECONDS);
      double upBitsPerSecond = rate(upBytes, up);
      double downBitsPerSecond = rate(downBytes, d);
      System.out.printf(
          "throttle measured: upstream %.0f bit/s, downstream %.0f bit/s%n",
          upBitsPerSecond, downBitsPerSecond);
      assertThat(upBitsPerSecond).isCloseTo(1_000_000, within(20_000.0));
      assertThat(downBitsPerSecond).isCloseTo(2_000_000, within(40_000.0));
    }
  }

  @Test
  void throttleRemoved_fullSpeedAgain() throws Exception {
    Target echo = target(Target.Mode.ECHO);
    FaultProxy proxy = proxy(echo, 3);
    proxy.throttle(Direction.UPSTREAM, 100_000);
    proxy.heal();
    try (Socket s = connect(proxy)) {
      byte[] sent = randomBytes(3, 1_000_000);
      CompletableFuture<byte[]> back = readAsync(s, sent.length);
      long t0 = System.nanoTime();
      s.getOutputStream().write(sent);
      assertThat(back.get(5, TimeUnit.SECONDS)).isEqualTo(sent);
      // 1 MB at 100 kbit/s would take 80 s.
      assertThat(System.nanoTime() - t0).isLessThan(TimeUnit.SECONDS.toNanos(2));
    }
  }

  @Test
  void dropConnections_resetsBothSidesButAcceptsNewOnes() throws Exception {
    Target echo = target(Target.Mode.ECHO);
    FaultProxy proxy = proxy(echo, 4);
    Socket s = connect(proxy);
    assertThat(echoOnce(s, 10)).isTrue();
    proxy.dropConnections();
    assertThat(readEnds(s)).as("client sees its connection end").isTrue();
    assertThat(echo.connectionEnded.poll(5, TimeUnit.SECONDS)).as("target too").isNotNull();
    assertThat(proxy.connectionsDropped()).isEqualTo(1);
    assertThat(proxy.connectionsOpen()).isZero();
    try (Socket again = connect(proxy)) {
      assertThat(echoOnce(again, 10)).isTrue();
    }
  }

  @Test
  void partition_refusesNewConnectionsUntilItEnds() throws Exception {
    Target echo = target(Target.Mode.ECHO);
    FaultProxy proxy = proxy(echo, 5);
    Socket before = connect(proxy);
    assertThat(echoOnce(before, 10)).isTrue(); // accepted by the proxy, not only by the kernel
    proxy.partition(400);
    assertThat(readEnds(before)).isTrue();
    try (Socket during = connect(proxy)) {
      assertThat(readEnds(during)).as("refused during the partition").isTrue();
    }
    assertThat(proxy.connectionsRefused()).isEqualTo(1);
    Thread.sleep(450);
    try (Socket after = connect(proxy)) {
      assertThat(echoOnce(after, 10)).as("served after the partition").isTrue();
    }
    assertThat(proxy.connectionsAccepted()).isEqualTo(2);
  }

  @Test
  void partitionHealedEarly_servesAtOnce() throws Exception {
    Target echo = target(Target.Mode.ECHO);
    FaultProxy proxy = proxy(echo, 6);
    proxy.partition(60_000);
    proxy.heal();
    try (Socket s = connect(proxy)) {
      assertThat(echoOnce(s, 10)).isTrue();
    }
  }

  @Test
  void stall_holdsBytesWithSocketsOpen_thenDeliversThemInOrder() throws Exception {
    Target echo = target(Target.Mode.ECHO);
    FaultProxy proxy = proxy(echo, 7);
    try (Socket s = connect(proxy)) {
      assertThat(echoOnce(s, 10)).isTrue();
      proxy.stall(500);
      long t0 = System.nanoTime();
      byte[] sent = randomBytes(7, 5_000);
      CompletableFuture<byte[]> back = readAsync(s, sent.length);
      s.getOutputStream().write(sent);
      assertThat(back.get(5, TimeUnit.SECONDS)).isEqualTo(sent);
      assertThat(System.nanoTime() - t0).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(450));
      assertThat(proxy.connectionsOpen()).isEqualTo(1);
      assertThat(proxy.connectionsDropped()).isZero();
    }
  }

  @Test
  void cutAfter_forwardsExactlyThatManyBytesThenCloses() throws Exception {
    Target sink = target(Target.Mode.SINK);
    FaultProxy proxy = proxy(sink, 8);
    try (Socket s = connect(proxy)) {
      proxy.cutAfter(Direction.UPSTREAM, 12_345);
      byte[] sent = randomBytes(8, 50_000);
      try {
        s.getOutputStream().write(sent);
      } catch (IOException expected) {
        // the proxy may close before the whole write is taken
      }
      byte[] got = sink.received.poll(5, TimeUnit.SECONDS);
      assertThat(got).isEqualTo(Arrays.copyOf(sent, 12_345));
      assertThat(readEnds(s)).isTrue();
      assertThat(proxy.cuts()).isEqualTo(1);
    }
  }

  @Test
  void cutMidTransfer_forwardsAPrefixOfALargeWriteThenCloses() throws Exception {
    Target sink = target(Target.Mode.SINK);
    FaultProxy proxy = proxy(sink, 9);
    try (Socket s = connect(proxy)) {
      // Small writes pass; the cut waits for a read of at least 1,000 bytes.
      s.getOutputStream().write(new byte[] {1, 2, 3});
      Thread.sleep(100);
      proxy.cutMidTransfer(Direction.UPSTREAM, 1_000);
      s.getOutputStream().write(new byte[] {4, 5});
      Thread.sleep(100);
      byte[] large = randomBytes(9, 40_000);
      try {
        s.getOutputStream().write(large);
      } catch (IOException expected) {
        // closed under our feet
      }
      byte[] got = sink.received.poll(5, TimeUnit.SECONDS);
      assertThat(got.length).isBetween(5 + 1, 5 + large.length - 1);
      assertThat(Arrays.copyOf(got, 5)).containsExactly(1, 2, 3, 4, 5);
      assertThat(Arrays.copyOfRange(got, 5, got.length))
          .isEqualTo(Arrays.copyOf(large, got.length - 5));
      assertThat(proxy.cuts()).isEqualTo(1);
    }
  }

  @Test
  void corruptAt_flipsOneBitAtEachOffset_sameSeedSameBits() throws Exception {
    byte[] first = corruptedTransfer(10);
    byte[] second = corruptedTransfer(10);
    byte[] otherSeed = corruptedTransfer(11);
    for (int i = 0; i < first.length; i++) {
      boolean chosen = i == 0 || i == 4_999 || i == 29_999;
      assertThat(Integer.bitCount(first[i] & 0xff)).as("byte " + i).isEqualTo(chosen ? 1 : 0);
    }
    assertThat(second).as("same seed, same bits").isEqualTo(first);
    assertThat(otherSeed).as("another seed flips other bits").isNotEqualTo(first);
  }

  @Test
  void corruptRandomly_flipsAboutOneBitPerMeanGap_downstreamOnly() throws Exception {
    Target echo = target(Target.Mode.ECHO);
    FaultProxy proxy = proxy(echo, 12);
    proxy.corruptRandomly(Direction.DOWNSTREAM, 1_000);
    try (Socket s = connect(proxy)) {
      byte[] sent = new byte[200_000];
      CompletableFuture<byte[]> back = readAsync(s, sent.length);
      s.getOutputStream().write(sent);
      byte[] got = back.get(5, TimeUnit.SECONDS);
      int flippedBytes = 0;
      for (byte b : got) {
        int bits = Integer.bitCount(b & 0xff);
        assertThat(bits).isLessThanOrEqualTo(1);
        flippedBytes += bits;
      }
      assertThat((long) flippedBytes).isEqualTo(proxy.bitsFlipped());
      assertThat(flippedBytes).isBetween(150, 250);
      proxy.heal();
      byte[] clean = randomBytes(12, 50_000);
      CompletableFuture<byte[]> cleanBack = readAsync(s, clean.length);
      s.getOutputStream().write(clean);
      assertThat(cleanBack.get(5, TimeUnit.SECONDS)).isEqualTo(clean);
    }
  }

  @Test
  void injectRandomFault_sameSeedSameSequence() throws Exception {
    Target echo = target(Target.Mode.ECHO);
    List<String> a = new ArrayList<>();
    List<String> b = new ArrayList<>();
    FaultProxy p1 = proxy(echo, 13);
    FaultProxy p2 = proxy(echo, 13);
    for (int i = 0; i < 10; i++) {
      a.add(p1.injectRandomFault());
      b.add(p2.injectRandomFault());
      p1.heal();
      p2.heal();
    }
    assertThat(a).isEqualTo(b);
    assertThat(a.stream().map(s -> s.split(" ")[0]).distinct().count()).isGreaterThan(2);
  }

  @Test
  void close_stopsAcceptingAndEndsOpenConnections() throws Exception {
    Target echo = target(Target.Mode.ECHO);
    FaultProxy proxy = FaultProxy.start("127.0.0.1", echo.port(), 14);
    Socket s = connect(proxy);
    assertThat(echoOnce(s, 10)).isTrue();
    proxy.close();
    assertThat(readEnds(s)).isTrue();
    try (Socket late = new Socket()) {
      late.connect(new java.net.InetSocketAddress("127.0.0.1", proxy.port()), 1_000);
      assertThat(readEnds(late)).isTrue();
    } catch (IOException refused) {
      // also fine: nothing listens any more
    }
  }

  // ---------------------------------------------------------------- helpers

  private byte[] corruptedTransfer(long seed) throws Exception {
    Target sink = target(Target.Mode.SINK);
    FaultProxy proxy = proxy(sink, seed);
    proxy.corruptAt(Direction.UPSTREAM, 0, 4_999, 29_999);
    try (Socket s = connect(proxy)) {
      s.getOutputStream().write(new byte[30_000]);
      s.shutdownOutput();
      byte[] got = sink.received.poll(5, TimeUnit.SECONDS);
      assertThat(got).hasSize(30_000);
      assertThat(proxy.bitsFlipped()).isEqualTo(3);
      return got;
    }
  }

  /**
   * From {nanos when {@link #MARK_BYTES} had arrived, nanos of the last arrival, bytes at the
   * mark}: bits/s after the mark, so that the bucket's initial burst does not count.
   */
  private static double rate(int bytes, long[] t) {
    return (bytes - t[2]) * 8.0 / ((t[1] - t[0]) / 1e9);
  }

  private static long[] timedRead(Socket s, int bytes) {
    try {
      InputStream in = s.getInputStream();
      byte[] buf = new byte[8192];
      long first = 0;
      long firstBytes = 0;
      int total = 0;
      while (total < bytes) {
        int n = in.read(buf);
        if (n < 0) {
          throw new IOException("ended after " + total + " bytes");
        }
        total += n;
        if (first == 0 && total >= MARK_BYTES) {
          first = System.nanoTime();
          firstBytes = total;
        }
      }
      return new long[] {first, System.nanoTime(), firstBytes};
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private FaultProxy proxy(Target target, long seed) throws IOException {
    FaultProxy p = FaultProxy.start("127.0.0.1", target.port(), seed);
    toClose.add(0, p);
    return p;
  }

  private Target target(Target.Mode mode) throws IOException {
    return target(mode, 0);
  }

  private Target target(Target.Mode mode, int sendBytes) throws IOException {
    Target t = new Target(mode, sendBytes);
    toClose.add(t);
    return t;
  }

  private Socket connect(FaultProxy proxy) throws IOException {
    Socket s = new Socket(InetAddress.getLoopbackAddress(), proxy.port());
    s.setSoTimeout(10_000);
    toClose.add(s);
    return s;
  }

  private static boolean echoOnce(Socket s, int bytes) throws Exception {
    byte[] sent = randomBytes(bytes, bytes);
    CompletableFuture<byte[]> back = readAsync(s, bytes);
    s.getOutputStream().write(sent);
    return Arrays.equals(back.get(5, TimeUnit.SECONDS), sent);
  }

  /** True if reading ends (EOF or reset) within the socket's timeout. */
  private static boolean readEnds(Socket s) {
    try {
      s.setSoTimeout(5_000);
      return s.getInputStream().read() < 0;
    } catch (java.net.SocketTimeoutException e) {
      return false;
    } catch (IOException e) {
      return true; // reset
    }
  }

  private static CompletableFuture<byte[]> readAsync(Socket s, int bytes) {
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            return s.getInputStream().readNBytes(bytes);
          } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
        });
  }

  private static byte[] randomBytes(long seed, int n) {
    byte[] b = new byte[n];
    new SplittableRandom(seed).nextBytes(b);
    return b;
  }

  /** A loopback server: echoes, or collects what it receives until EOF (optionally sending). */
  static final class Target implements AutoCloseable {
    enum Mode {
      ECHO,
      SINK,
      SINK_THEN_SEND
    }

    final ServerSocket server;
    final Mode mode;
    final int sendBytes;
    final LinkedBlockingQueue<byte[]> received = new LinkedBlockingQueue<>();
    final LinkedBlockingQueue<Boolean> connectionEnded = new LinkedBlockingQueue<>();
    final LinkedBlockingQueue<long[]> timings = new LinkedBlockingQueue<>();
    private final List<Socket> sockets = new java.util.concurrent.CopyOnWriteArrayList<>();

    Target(Mode mode, int sendBytes) throws IOException {
      this.mode = mode;
      this.sendBytes = sendBytes;
      server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
      Thread t = new Thread(this::acceptLoop, "target-accept");
      t.setDaemon(true);
      t.start();
    }

    int port() {
      return server.getLocalPort();
    }

    /** Waits until a connection delivered {@code bytes}; returns first and last arrival nanos. */
    long[] timedReceive(int bytes) throws InterruptedException {
      long[] t = timings.poll(10, TimeUnit.SECONDS);
      assertThat(t).as("target received " + bytes + " bytes").isNotNull();
      return t;
    }

    private void acceptLoop() {
      while (!server.isClosed()) {
        try {
          Socket s = server.accept();
          sockets.add(s);
          Thread t = new Thread(() -> serve(s), "target-conn");
          t.setDaemon(true);
          t.start();
        } catch (IOException e) {
          return;
        }
      }
    }

    private void serve(Socket s) {
      ByteArrayOutputStream all = new ByteArrayOutputStream();
      try (s) {
        InputStream in = s.getInputStream();
        OutputStream out = s.getOutputStream();
        if (mode == Mode.SINK_THEN_SEND) {
          Thread sender =
              new Thread(
                  () -> {
                    try {
                      out.write(new byte[sendBytes]);
                    } catch (IOException ignored) {
                      // the test failed elsewhere
                    }
                  });
          sender.setDaemon(true);
          sender.start();
        }
        byte[] buf = new byte[16 * 1024];
        long first = 0;
        long firstBytes = 0;
        int n;
        while ((n = in.read(buf)) >= 0) {
          if (first == 0 && all.size() + n >= MARK_BYTES) {
            first = System.nanoTime();
            firstBytes = all.size() + n;
          }
          if (mode == Mode.ECHO) {
            out.write(buf, 0, n);
          } else {
            all.write(buf, 0, n);
            if (mode == Mode.SINK_THEN_SEND && all.size() >= UP_BYTES) {
              timings.add(new long[] {first, System.nanoTime(), firstBytes});
              all.reset();
            }
          }
        }
      } catch (IOException e) {
        // reset: fall through
      } finally {
        received.add(all.toByteArray());
        connectionEnded.add(true);
      }
    }

    @Override
    public void close() throws IOException {
      server.close();
      for (Socket s : sockets) {
        s.close();
      }
    }
  }
}
