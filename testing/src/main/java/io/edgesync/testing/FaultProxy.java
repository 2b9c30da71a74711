package io.edgesync.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * A TCP proxy that puts network faults between a real client and a real server: point the client at
 * {@link #port()} and the proxy forwards to the target, unless told to misbehave. Faults are
 * switched at run time and stay until {@link #heal()} (or their duration ends):
 *
 * <ul>
 *   <li>{@link #dropConnections()}: reset every open connection now;
 *   <li>{@link #partition(long)}: reset open connections and refuse new ones for a while;
 *   <li>{@link #stall(long)}: stop forwarding, sockets stay open;
 *   <li>{@link #throttle(Direction, long)}: a token bucket limits a direction to N bits/s (of TCP
 *       payload, shared by all connections, as one link would be);
 *   <li>{@link #cutMidTransfer(Direction, int)}, {@link #cutAfter(Direction, long)}: forward only
 *       part of a write, then close the connection;
 *   <li>{@link #corruptAt(Direction, long...)}, {@link #corruptRandomly(Direction, long)}: flip one
 *       bit at chosen or random offsets of a direction's byte stream.
 * </ul>
 *
 * <p>Every random choice (which bit flips, where random corruption and mid-transfer cuts land,
 * {@link #injectRandomFault()}) comes from the seed given to {@link #start}, and corruption offsets
 * count bytes of a direction's stream, so the same seed and the same bytes give the same
 * corruption. Where a cut lands inside a transfer depends on how the kernel splits reads, which no
 * seed controls.
 *
 * <p>Thread safe: faults may be switched from any thread while traffic flows. One accept thread and
 * two pump threads per connection (one per direction), all daemons; {@link #close()} stops them.
 */
public final class FaultProxy implements AutoCloseable {
  /** Which way bytes flow: from the client to the target, or back. */
  public enum Direction {
    /** Client to target (e.g. agent to server). */
    UPSTREAM,
    /** Target to client. */
    DOWNSTREAM
  }

  private static final int BUFFER_BYTES = 64 * 1024;
  private static final long CONNECT_TIMEOUT_MS = 2_000;
  private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(5);
  private static final long NOT_STALLED = Long.MIN_VALUE;

  private final InetSocketAddress target;
  private final ServerSocket listener;
  private final Thread acceptor;
  private final SplittableRandom random; // guarded by itself
  private final Set<Conn> open = ConcurrentHashMap.newKeySet();
  private final DirectionState[] directions = {new DirectionState(), new DirectionState()};
  private final AtomicLong connectionsAccepted = new AtomicLong();
  private final AtomicLong connectionsRefused = new AtomicLong();
  private final AtomicLong connectionsDropped = new AtomicLong();
  private final AtomicLong cuts = new AtomicLong();
  private final AtomicLong bitsFlipped = new AtomicLong();
  private volatile long refuseUntilNanos;
  private volatile boolean refusing;
  private volatile boolean closed;

  private FaultProxy(InetSocketAddress target, long seed) throws IOException {
    this.target = target;
    this.random = new SplittableRandom(seed);
    this.listener = new ServerSocket();
    listener.setReuseAddress(true);
    listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    this.acceptor = new Thread(this::acceptLoop, "fault-proxy-accept-" + port());
    acceptor.setDaemon(true);
    acceptor.start();
  }

  /** Starts a proxy on a free loopback port that forwards to {@code targetHost:targetPort}. */
  public static FaultProxy start(String targetHost, int targetPort, long seed) throws IOException {
    return new FaultProxy(new InetSocketAddress(targetHost, targetPort), seed);
  }

  /** The loopback port clients connect to. */
  public int port() {
    return listener.getLocalPort();
  }

  // ---------------------------------------------------------------- faults

  /** Resets (TCP RST) every open connection, both sides. New connections are accepted. */
  public void dropConnections() {
    for (Conn c : open) {
      c.reset();
      connectionsDropped.incrementAndGet();
    }
  }

  /**
   * A partition: resets every open connection and refuses new ones (accepted, then reset at once)
   * for {@code durationMs}, or until {@link #heal()}.
   */
  public void partition(long durationMs) {
    requireNonNegative("durationMs", durationMs);
    refuseUntilNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(durationMs);
    refusing = true;
    dropConnections();
  }

  /** Stops forwarding in both directions for {@code durationMs}; sockets stay open. */
  public void stall(long durationMs) {
    stall(Direction.UPSTREAM, durationMs);
    stall(Direction.DOWNSTREAM, durationMs);
  }

  /** Stops forwarding in one direction for {@code durationMs}; sockets stay open. */
  public void stall(Direction direction, long durationMs) {
    requireNonNegative("durationMs", durationMs);
    state(direction).stalledUntilNanos =
        System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(durationMs);
  }

  /**
   * Limits a direction to {@code bitsPerSecond} of forwarded bytes, shared by all connections (a
   * token bucket: an idle link may pass 10 ms of traffic at once, at least one 1,500-byte packet;
   * TCP/IP header bytes are not counted). 0 removes the limit.
   */
  public void throttle(Direction direction, long bitsPerSecond) {
    requireNonNegative("bitsPerSecond", bitsPerSecond);
    state(direction).bucket = bitsPerSecond == 0 ? null : new TokenBucket(bitsPerSecond);
  }

  /**
   * Arms a one-shot cut: the next single read of at least {@code minTransferBytes} bytes in this
   * direction (part of a large write) is forwarded only in part, a seeded-random prefix of 1 to
   * length - 1 bytes, and then the connection is closed (FIN on both sides).
   */
  public void cutMidTransfer(Direction direction, int minTransferBytes) {
    if (minTransferBytes < 2) {
      throw new IllegalArgumentException("minTransferBytes must be >= 2, was " + minTransferBytes);
    }
    DirectionState s = state(direction);
    synchronized (s) {
      s.cutMidTransferMinBytes = minTransferBytes;
    }
  }

  /**
   * Arms a one-shot cut: after exactly {@code bytes} more bytes were forwarded in this direction,
   * the connection carrying the next byte is closed instead (FIN on both sides).
   */
  public void cutAfter(Direction direction, long bytes) {
    requireNonNegative("bytes", bytes);
    DirectionState s = state(direction);
    synchronized (s) {
      s.cutAtPosition = s.position + bytes;
    }
  }

  /**
   * Flips one bit (seeded-random which) in the byte at each offset, counted from now over this
   * direction's stream of forwarded bytes (all connections, in the order their bytes pass).
   */
  public void corruptAt(Direction direction, long... offsetsFromNow) {
    DirectionState s = state(direction);
    synchronized (s) {
      for (long o : offsetsFromNow) {
        requireNonNegative("offset", o);
        s.flipAt.add(s.position + o);
      }
    }
  }

  /**
   * Flips one bit at random offsets of this direction's stream, on average every {@code
   * meanBytesBetweenFlips} bytes (uniform gaps in 1..2 × mean). 0 stops random corruption.
   */
  public void corruptRandomly(Direction direction, long meanBytesBetweenFlips) {
    requireNonNegative("meanBytesBetweenFlips", meanBytesBetweenFlips);
    DirectionState s = state(direction);
    synchronized (s) {
      s.meanBytesBetweenFlips = meanBytesBetweenFlips;
      s.nextRandomFlip = meanBytesBetweenFlips == 0 ? Long.MAX_VALUE : s.position + randomGap(s);
    }
  }

  /**
   * Ends every fault: partition, stalls, throttles, corruption and armed cuts. Connections already
   * reset stay reset.
   */
  public void heal() {
    refusing = false;
    for (DirectionState s : directions) {
      synchronized (s) {
        s.stalledUntilNanos = NOT_STALLED;
        s.bucket = null;
        s.cutMidTransferMinBytes = 0;
        s.cutAtPosition = Long.MAX_VALUE;
        s.flipAt.clear();
        s.meanBytesBetweenFlips = 0;
        s.nextRandomFlip = Long.MAX_VALUE;
      }
    }
  }

  /**
   * Applies one fault chosen and sized from the seed: a drop, a partition or a stall of 100..1500
   * ms, a mid-transfer cut, or one flipped bit within the next 64 KiB upstream. Returns what it
   * did, for the test log.
   */
  public String injectRandomFault() {
    int kind;
    long ms;
    long offset;
    synchronized (random) {
      kind = random.nextInt(5);
      ms = random.nextLong(100, 1_501);
      offset = random.nextLong(BUFFER_BYTES);
    }
    switch (kind) {
      case 0 -> {
        dropConnections();
        return "drop";
      }
      case 1 -> {
        partition(ms);
        return "partition " + ms + " ms";
      }
      case 2 -> {
        stall(ms);
        return "stall " + ms + " ms";
      }
      case 3 -> {
        cutMidTransfer(Direction.UPSTREAM, 1_024);
        return "cut mid-transfer upstream";
      }
      default -> {
        corruptAt(Direction.UPSTREAM, offset);
        return "flip a bit " + offset + " bytes ahead upstream";
      }
    }
  }

  // ---------------------------------------------------------------- counters

  /** Bytes forwarded in a direction since start (after cuts, including corrupted bytes). */
  public long bytes(Direction direction) {
    return state(direction).forwarded.get();
  }

  /** Connections accepted and forwarded to the target. */
  public long connectionsAccepted() {
    return connectionsAccepted.get();
  }

  /** Connections refused (reset at once) during a partition, or because the target was down. */
  public long connectionsRefused() {
    return connectionsRefused.get();
  }

  /** Connections reset by {@link #dropConnections()} or {@link #partition(long)}. */
  public long connectionsDropped() {
    return connectionsDropped.get();
  }

  /** Connections currently open through the proxy. */
  public int connectionsOpen() {
    return open.size();
  }

  /** Connections closed by a cut. */
  public long cuts() {
    return cuts.get();
  }

  /** Bits flipped so far. */
  public long bitsFlipped() {
    return bitsFlipped.get();
  }

  @Override
  public void close() {
    closed = true;
    try {
      listener.close();
    } catch (IOException ignored) {
      // closing anyway
    }
    for (Conn c : open) {
      c.reset();
    }
    try {
      acceptor.join(2_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  // ---------------------------------------------------------------- internals

  private DirectionState state(Direction d) {
    return directions[d.ordinal()];
  }

  private boolean refusingNow() {
    if (refusing && System.nanoTime() - refuseUntilNanos >= 0) {
      refusing = false;
    }
    return refusing;
  }

  private void acceptLoop() {
    while (!closed) {
      Socket client;
      try {
        client = listener.accept();
      } catch (IOException e) {
        if (closed) {
          return;
        }
        continue;
      }
      if (refusingNow()) {
        connectionsRefused.incrementAndGet();
        reset(client);
        continue;
      }
      Socket upstream = new Socket();
      try {
        client.setTcpNoDelay(true);
        upstream.setTcpNoDelay(true);
        upstream.connect(target, (int) CONNECT_TIMEOUT_MS);
      } catch (IOException e) {
        connectionsRefused.incrementAndGet();
        reset(client);
        closeQuietly(upstream);
        continue;
      }
      connectionsAccepted.incrementAndGet();
      long id = connectionsAccepted.get();
      Conn c = new Conn(client, upstream);
      open.add(c);
      if (closed) {
        c.reset();
        return;
      }
      c.startPump(Direction.UPSTREAM, client, upstream, "fault-proxy-" + id + "-up");
      c.startPump(Direction.DOWNSTREAM, upstream, client, "fault-proxy-" + id + "-down");
    }
  }

  private long randomGap(DirectionState s) {
    synchronized (random) {
      return random.nextLong(1, 2 * s.meanBytesBetweenFlips + 1);
    }
  }

  private int randomBit() {
    synchronized (random) {
      return random.nextInt(8);
    }
  }

  private int randomPrefix(int length) {
    synchronized (random) {
      return random.nextInt(1, length);
    }
  }

  /**
   * Decides, for {@code n} bytes just read in one direction, how many are forwarded, which of them
   * are corrupted, and whether the connection is cut afterwards; reserves their stream positions.
   */
  private Plan plan(DirectionState s, byte[] buf, int n) {
    synchronized (s) {
      int forward = n;
      boolean cut = false;
      if (s.cutAtPosition != Long.MAX_VALUE && s.position + n > s.cutAtPosition) {
        forward = (int) Math.max(0, s.cutAtPosition - s.position);
        s.cutAtPosition = Long.MAX_VALUE;
        cut = true;
      } else if (s.cutMidTransferMinBytes > 0 && n >= s.cutMidTransferMinBytes) {
        forward = randomPrefix(n);
        s.cutMidTransferMinBytes = 0;
        cut = true;
      }
      long start = s.position;
      long end = start + forward;
      while (!s.flipAt.isEmpty() && s.flipAt.first() < end) {
        long at = s.flipAt.pollFirst();
        if (at >= start) {
          flip(buf, (int) (at - start));
        }
      }
      while (s.nextRandomFlip < end) {
        flip(buf, (int) (s.nextRandomFlip - start));
        s.nextRandomFlip += randomGap(s);
      }
      s.position = end;
      return new Plan(forward, cut);
    }
  }

  private void flip(byte[] buf, int index) {
    buf[index] ^= (byte) (1 << randomBit());
    bitsFlipped.incrementAndGet();
  }

  /** Waits while the direction is stalled; returns false if the connection ended meanwhile. */
  private boolean awaitNotStalled(DirectionState s, Conn c) {
    long until;
    while (!c.isClosed()
        && (until = s.stalledUntilNanos) != NOT_STALLED
        && System.nanoTime() - until < 0) {
      LockSupport.parkNanos(POLL_NANOS);
    }
    return !c.isClosed();
  }

  private static void reset(Socket s) {
    try {
      s.setSoLinger(true, 0);
    } catch (SocketException ignored) {
      // already closed
    }
    closeQuietly(s);
  }

  private static void closeQuietly(java.io.Closeable c) {
    try {
      c.close();
    } catch (IOException ignored) {
      // nothing to do
    }
  }

  private static void requireNonNegative(String name, long value) {
    if (value < 0) {
      throw new IllegalArgumentException(name + " must be >= 0, was " + value);
    }
  }

  private record Plan(int forward, boolean cut) {}

  /** Fault settings and the byte position of one direction; guarded by itself. */
  private static final class DirectionState {
    /** Bytes planned so far: where corruption offsets and cuts are counted. */
    long position;

    final AtomicLong forwarded = new AtomicLong();
    volatile long stalledUntilNanos = NOT_STALLED;
    volatile TokenBucket bucket;
    int cutMidTransferMinBytes;
    long cutAtPosition = Long.MAX_VALUE;
    final TreeSet<Long> flipAt = new TreeSet<>();
    long meanBytesBetweenFlips;
    long nextRandomFlip = Long.MAX_VALUE;
  }

  /**
   * Bits per second. An idle link builds up credit for at most 10 ms of traffic (at least one
   * 1,500-byte packet): the most a transfer after an idle spell gets at once. A taker that still
   * holds bytes of the same write ({@code backlogged}) keeps all credit that accrued since the last
   * take, up to 1 s: a pump that woke late on a busy machine then catches up instead of losing
   * rate. Credit may go negative: a taker waits until its bits are paid for, so the long-run rate
   * is exact. Bytes pass in pieces of 10 ms (at least 1,500 bytes).
   */
  static final class TokenBucket {
    final long bitsPerSecond;
    final long burstBits;
    final int pieceBytes;
    private double creditBits;
    private long lastNanos = System.nanoTime();

    TokenBucket(long bitsPerSecond) {
      this.bitsPerSecond = bitsPerSecond;
      this.burstBits = Math.max(1_500 * 8, bitsPerSecond / 100);
      this.pieceBytes = (int) Math.max(1, Math.min(BUFFER_BYTES, burstBits / 8));
      this.creditBits = burstBits;
    }

    /** The largest piece to take at once, in bytes. */
    int maxPieceBytes() {
      return pieceBytes;
    }

    /** Takes {@code bytes} worth of credit, waiting as long as the rate requires. */
    void take(int bytes, boolean backlogged) {
      long waitNanos;
      synchronized (this) {
        long now = System.nanoTime();
        double cap = backlogged ? Math.max(burstBits, bitsPerSecond) : burstBits;
        creditBits = Math.min(cap, creditBits + (now - lastNanos) * (bitsPerSecond / 1e9));
        lastNanos = now;
        creditBits -= bytes * 8L;
        waitNanos = creditBits >= 0 ? 0 : (long) (-creditBits * 1e9 / bitsPerSecond);
      }
      long deadline = System.nanoTime() + waitNanos;
      long left;
      while ((left = deadline - System.nanoTime()) > 0) {
        LockSupport.parkNanos(left);
      }
    }
  }

  /** One proxied connection: the client's socket and ours to the target. */
  private final class Conn {
    final Socket client;
    final Socket upstream;
    private volatile boolean closed;
    private final java.util.concurrent.atomic.AtomicInteger pumpsDone =
        new java.util.concurrent.atomic.AtomicInteger();

    Conn(Socket client, Socket upstream) {
      this.client = client;
      this.upstream = upstream;
    }

    boolean isClosed() {
      return closed || FaultProxy.this.closed;
    }

    void startPump(Direction d, Socket from, Socket to, String name) {
      Thread t = new Thread(() -> pump(d, from, to), name);
      t.setDaemon(true);
      t.start();
    }

    private void pump(Direction d, Socket from, Socket to) {
      DirectionState s = state(d);
      byte[] buf = new byte[BUFFER_BYTES];
      try {
        InputStream in = from.getInputStream();
        OutputStream out = to.getOutputStream();
        while (true) {
          int n = in.read(buf);
          if (n < 0) {
            // Half-close: pass the end of stream on, let the other direction finish.
            to.shutdownOutput();
            return;
          }
          if (!awaitNotStalled(s, this)) {
            return;
          }
          Plan p = plan(s, buf, n);
          int off = 0;
          while (off < p.forward()) {
            TokenBucket bucket = s.bucket;
            int piece =
                bucket == null
                    ? p.forward() - off
                    : Math.min(p.forward() - off, bucket.maxPieceBytes());
            if (bucket != null) {
              bucket.take(piece, off > 0);
            }
            if (!awaitNotStalled(s, this)) {
              return;
            }
            out.write(buf, off, piece);
            s.forwarded.addAndGet(piece);
            off += piece;
          }
          out.flush();
          if (p.cut()) {
            cuts.incrementAndGet();
            close();
            return;
          }
        }
      } catch (IOException e) {
        // a side closed or was reset: end both
        close();
      } finally {
        if (pumpsDone.incrementAndGet() == 2) {
          close();
        }
      }
    }

    /** Closes both sockets with FIN. */
    void close() {
      closed = true;
      open.remove(this);
      closeQuietly(client);
      closeQuietly(upstream);
    }

    /** Closes both sockets with RST. */
    void reset() {
      closed = true;
      open.remove(this);
      FaultProxy.reset(client);
      FaultProxy.reset(upstream);
    }
  }
}
