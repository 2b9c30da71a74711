package io.edgesync.bench;

import io.edgesync.protocol.FrameCodec;
import io.edgesync.protocol.ProtocolException;
import io.edgesync.protocol.ProtocolLimits;
import io.edgesync.protocol.Record;
import io.edgesync.protocol.wire.Ack;
import io.edgesync.protocol.wire.DocUpdate;
import io.edgesync.protocol.wire.ErrorCode;
import io.edgesync.protocol.wire.Frame;
import io.edgesync.protocol.wire.Heartbeat;
import io.edgesync.protocol.wire.Hello;
import io.edgesync.protocol.wire.ScopeCursor;
import io.edgesync.protocol.wire.StreamCheckpoint;
import io.edgesync.protocol.wire.Welcome;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import javax.net.ssl.SSLContext;

/**
 * A lightweight device for the fleet bench: the real protocol over a real {@link FleetConnection},
 * but not the agent. It says Hello (with its fleet document cursor and stream checkpoint), sends
 * one small record batch right after each Welcome and then one per period (jittered) while the
 * fleet is sending, at most one batch unacknowledged, sends heartbeats at the interval Welcome
 * names, and keeps the newest fleet document version it received (the protocol acknowledges
 * documents only through the next Hello's cursor). It reconnects as the agent does: the server's
 * RETRY_LATER time plus a random 0–50 % (capped at 5 minutes), else the agent's backoff (equal
 * jitter, 0.5 s doubling to 60 s).
 *
 * <p>Owned by its {@link FleetLoop}'s thread: every field below {@code shared} is touched there
 * only.
 */
final class FleetDevice implements FleetConnection.Listener {
  static final String STREAM = "telemetry";
  static final String FLEET_SCOPE = "fleet";

  /** The agent's RetryLater rule: the asked time plus up to this share of it. */
  static final int RETRY_JITTER_PERCENT = 50;

  static final long MAX_RETRY_AFTER_MS = 300_000;
  static final long BACKOFF_INITIAL_MS = 500;
  static final long BACKOFF_MAX_MS = 60_000;

  /** Connect, TLS, upgrade and Welcome must take no longer (the agent's 10 s + 10 s). */
  static final long CONNECT_TIMEOUT_MS = 20_000;

  /** What every device of one run shares; thread safe. */
  static final class Shared {
    final List<InetSocketAddress> servers;
    final String path;
    final long batchPeriodMs;
    final int recordBytes;
    final LongAdder connects = new LongAdder();
    final LongAdder failedConnects = new LongAdder();
    final LongAdder welcomes = new LongAdder();
    final LongAdder acks = new LongAdder();
    final LongAdder retryLater = new LongAdder();
    final LongAdder errors = new LongAdder();
    final AtomicReference<String> firstError = new AtomicReference<>();
    final AtomicReference<String> lastCloseReason = new AtomicReference<>();

    /** Whether devices send a batch every period (false: idle, heartbeats only). */
    volatile boolean sending;

    volatile FleetPhase phase;

    Shared(List<InetSocketAddress> servers, String path, long batchPeriodMs, int recordBytes) {
      this.servers = servers;
      this.path = path;
      this.batchPeriodMs = batchPeriodMs;
      this.recordBytes = recordBytes;
    }

    void error(String what) {
      errors.increment();
      firstError.compareAndSet(null, what);
    }
  }

  final String id;
  private final Shared shared;
  private final FleetLoop loop;
  private final SSLContext ssl;
  private final InetSocketAddress server;
  private final InetAddress source;

  private FleetConnection conn;
  private int generation; // a new one per connection: timers of an older one do nothing
  private boolean stopped = true;
  private boolean welcomed;
  private long nextSeq = 1;
  private long pendingSeq; // 0: no batch unacknowledged
  private long pendingSentNanos;
  private long docVersion;
  private long docReceivedNanos;
  private long retryAfterMs; // asked in this connection, 0: none
  private int failures;
  private FleetPhase markPhase; // the phase the marks below are about
  private boolean phaseWelcomed;
  private long catchUpSeq;
  private boolean catchUpAcked;
  private boolean docCounted;
  private boolean caughtUpCounted;

  FleetDevice(
      String id,
      Shared shared,
      FleetLoop loop,
      SSLContext ssl,
      InetSocketAddress server,
      InetAddress source) {
    this.id = id;
    this.shared = shared;
    this.loop = loop;
    this.ssl = ssl;
    this.server = server;
    this.source = source;
  }

  /** Starts connecting (and reconnecting until {@link #stop}); on the loop's thread. */
  void start() {
    stopped = false;
    connect(generation);
  }

  /** Closes the connection and stays offline; on the loop's thread. */
  void stop() {
    stopped = true;
    generation++;
    if (conn != null) {
      conn.close();
      conn = null;
    }
    welcomed = false;
  }

  boolean welcomed() {
    return welcomed;
  }

  private void connect(int gen) {
    if (stopped || gen != generation) {
      return;
    }
    shared.connects.increment();
    retryAfterMs = 0;
    conn = FleetConnection.open(loop, server, source, shared.path, ssl, this);
    loop.schedule(CONNECT_TIMEOUT_MS, () -> connectTimeout(gen));
  }

  private void connectTimeout(int gen) {
    if (gen == generation && !welcomed && conn != null) {
      conn.close();
      closed("no Welcome within " + CONNECT_TIMEOUT_MS + " ms of connecting");
    }
  }

  @Override
  public void opened() {
    Hello.Builder hello =
        Hello.newBuilder()
            .setProtocolVersion(ProtocolLimits.PROTOCOL_VERSION)
            .setDeviceId(id)
            .setAgentVersion("edgesync-bench-fleet")
            .setStoreId("bench-store-" + id) // the same across runs: an external server keeps it
            .addDocCursors(ScopeCursor.newBuilder().setScope(FLEET_SCOPE).setVersion(docVersion));
    if (nextSeq > 1) {
      hello.addCheckpoints(
          StreamCheckpoint.newBuilder().setStream(STREAM).setSequence(nextSeq - 1));
    }
    send(Frame.newBuilder().setHello(hello).build());
  }

  @Override
  public void message(byte[] payload) {
    Frame f;
    try {
      f = FrameCodec.decode(payload, ProtocolLimits.MAX_FRAME_BYTES_CEILING);
    } catch (ProtocolException e) {
      shared.error(id + ": " + e.getMessage());
      return;
    }
    switch (f.getBodyCase()) {
      case WELCOME -> onWelcome(f.getWelcome());
      case ACK -> onAck(f.getAck());
      case DOC_UPDATES -> onDocs(f.getDocUpdates().getUpdatesList());
      case ERROR -> onError(f.getError());
      default -> {} // heartbeat replies, dictionaries: nothing to do
    }
  }

  private void onWelcome(Welcome w) {
    int gen = generation;
    welcomed = true;
    failures = 0;
    shared.welcomes.increment();
    nextSeq = 1;
    for (StreamCheckpoint c : w.getCheckpointsList()) {
      if (c.getStream().equals(STREAM)) {
        nextSeq = c.getSequence() + 1; // the cloud's checkpoint is authoritative
      }
    }
    pendingSeq = 0;
    sendBatch();
    if (gen != generation) {
      return; // the write failed and closed the connection: no timers for it
    }
    FleetPhase p = phase();
    if (p != null && !phaseWelcomed) {
      phaseWelcomed = true;
      catchUpSeq = pendingSeq;
      p.welcomed.countDown();
    }
    long period = shared.batchPeriodMs;
    loop.schedule(loop.random.nextLong(period + 1), () -> tick(gen));
    long heartbeatMs = Math.max(1_000, w.getHeartbeatIntervalMs());
    loop.schedule(heartbeatMs, () -> heartbeat(gen, heartbeatMs));
    check();
  }

  private void tick(int gen) {
    if (gen != generation) {
      return;
    }
    FleetPhase p = phase();
    if (shared.sending) {
      if (pendingSeq == 0) {
        sendBatch();
      } else if (p != null) {
        p.batchesSkipped.increment();
      }
    }
    long period = shared.batchPeriodMs;
    loop.schedule(period * 9 / 10 + loop.random.nextLong(period / 5 + 1), () -> tick(gen));
  }

  private void heartbeat(int gen, long intervalMs) {
    if (gen != generation) {
      return;
    }
    send(
        Frame.newBuilder()
            .setHeartbeat(Heartbeat.newBuilder().setSentAtMs(System.currentTimeMillis()))
            .build());
    loop.schedule(intervalMs, () -> heartbeat(gen, intervalMs));
  }

  private void sendBatch() {
    long seq = nextSeq++;
    byte[] payload = recordPayload(seq);
    Record r = new Record(seq, System.currentTimeMillis(), payload);
    pendingSeq = seq;
    pendingSentNanos = System.nanoTime();
    send(Frame.newBuilder().setBatch(FrameCodec.batch(STREAM, List.of(r))).build());
    FleetPhase p = phase();
    if (p != null) {
      p.batchesSent.increment();
    }
  }

  /** A small JSON reading, padded to the configured record size. */
  private byte[] recordPayload(long seq) {
    StringBuilder b = new StringBuilder(shared.recordBytes);
    b.append("{\"device\":\"").append(id).append("\",\"n\":").append(seq).append(",\"pad\":\"");
    while (b.length() < shared.recordBytes - 2) {
      b.append('x');
    }
    return b.append("\"}").toString().getBytes(StandardCharsets.UTF_8);
  }

  private void onAck(Ack ack) {
    if (!ack.getStream().equals(STREAM)) {
      return;
    }
    shared.acks.increment();
    if (pendingSeq != 0 && ack.getSequence() >= pendingSeq) {
      FleetPhase p = phase();
      if (p != null) {
        p.ackLatency.add(System.nanoTime() - pendingSentNanos);
      }
      pendingSeq = 0;
    }
    if (phaseWelcomed && ack.getSequence() >= catchUpSeq) {
      catchUpAcked = true;
    }
    check();
  }

  private void onDocs(List<DocUpdate> updates) {
    for (DocUpdate u : updates) {
      if (u.getScope().equals(FLEET_SCOPE) && u.getVersion() > docVersion) {
        docVersion = u.getVersion();
        docReceivedNanos = System.nanoTime();
      }
    }
    check();
  }

  private void onError(io.edgesync.protocol.wire.Error e) {
    if (e.getCode() == ErrorCode.RETRY_LATER) {
      shared.retryLater.increment();
      FleetPhase p = phase();
      if (p != null) {
        p.retryLater.increment();
      }
      retryAfterMs = Math.min(Integer.toUnsignedLong(e.getRetryAfterMs()), MAX_RETRY_AFTER_MS);
    } else {
      shared.error(id + ": " + e.getCode() + " " + e.getMessage());
    }
  }

  @Override
  public void closed(String reason) {
    shared.lastCloseReason.set(id + ": " + reason);
    if (!welcomed && retryAfterMs == 0) {
      shared.failedConnects.increment();
    }
    conn = null;
    welcomed = false;
    pendingSeq = 0;
    int gen = ++generation;
    if (stopped) {
      return;
    }
    loop.schedule(reconnectDelayMs(), () -> connect(gen));
  }

  /** The agent's rules: RetryLater's asked time + 0..50 %, else Backoff's equal jitter. */
  private long reconnectDelayMs() {
    if (retryAfterMs > 0) {
      return retryAfterMs + loop.random.nextLong(retryAfterMs * RETRY_JITTER_PERCENT / 100 + 1);
    }
    double nominal = BACKOFF_INITIAL_MS * Math.pow(2, Math.min(failures, 62));
    long cap = (long) Math.min(BACKOFF_MAX_MS, nominal);
    failures++;
    return cap / 2 + loop.random.nextLong(cap - cap / 2 + 1);
  }

  /**
   * The current phase, resetting this device's marks when a new one began. A device counts into a
   * phase's latches at most once each.
   */
  private FleetPhase phase() {
    FleetPhase p = shared.phase;
    if (p != markPhase) {
      markPhase = p;
      phaseWelcomed = false;
      catchUpAcked = false;
      docCounted = false;
      caughtUpCounted = false;
    }
    return p;
  }

  /** Counts this device into the phase's latches it now qualifies for. */
  void check() {
    FleetPhase p = phase();
    if (p == null) {
      return;
    }
    if (!docCounted && docVersion >= p.targetDocVersion) {
      docCounted = true;
      p.docLatency.add(Math.max(0, docReceivedNanos - p.docWriteStartNanos));
      p.docDelivered.countDown();
    }
    if (!caughtUpCounted && phaseWelcomed && catchUpAcked && docCounted) {
      caughtUpCounted = true;
      p.caughtUp.countDown();
    }
  }

  private void send(Frame f) {
    if (conn != null) {
      conn.send(FrameCodec.encode(f));
    }
  }
}
