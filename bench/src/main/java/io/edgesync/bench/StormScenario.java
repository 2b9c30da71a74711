package io.edgesync.bench;

import io.edgesync.agent.internal.EdgeNode;
import io.edgesync.agent.internal.LoopScheduler;
import io.edgesync.agent.internal.TransportLink;
import io.edgesync.agent.internal.WebSocketTransport;
import io.edgesync.engine.commands.CommandInbox;
import io.edgesync.engine.docs.DocReplica;
import io.edgesync.engine.edge.EdgeSyncEngine;
import io.edgesync.engine.edge.SyncPolicy;
import io.edgesync.engine.testing.InMemoryOutbox;
import io.edgesync.protocol.Clock;
import io.edgesync.protocol.wire.ErrorCode;
import io.edgesync.protocol.wire.Frame;
import io.edgesync.security.CertificateAuthority;
import io.edgesync.security.KeyAndCertificate;
import io.edgesync.security.Pem;
import io.edgesync.server.AdmissionLimits;
import io.edgesync.server.ServerConfig;
import io.edgesync.server.SyncServer;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

/**
 * Reconnect storm over real mutual TLS: N devices, each with its own certificate from a throwaway
 * built-in CA, connect at once to one {@link SyncServer} (in this JVM, on loopback) that paces
 * admission ({@code server.admission}). Each device is the agent's own wiring ({@link EdgeNode}
 * with the real {@link EdgeSyncEngine}, {@link TransportLink}, {@link WebSocketTransport}) over an
 * in-memory outbox, so a RETRY_LATER is honoured by the agent's code; the nodes share one loop
 * thread per core (each node's tasks stay on its loop, as {@link EdgeNode} requires).
 *
 * <p>A warm-up phase first ({@code --warmup-devices}, other devices, not in the figures but
 * reported): in a cold JVM the JDK's elliptic-curve code runs interpreted until the JIT compiled
 * it, and a storm of full handshakes then runs many times slower (a restarted server meets that).
 *
 * <p>Phase 1 (full handshakes): every device's TLS context is new, so its first connection is a
 * full handshake. Phase 2 (resumed): the nodes are stopped and new ones started with the same TLS
 * contexts, whose client session caches hold a session of this server: TLS 1.3 resumption (PSK).
 * Each device's trust manager counts the server certificates it checked, which happens only in a
 * full handshake: resumed = connections opened - full handshakes.
 */
final class StormScenario {
  /**
   * One phase.
   *
   * @param firstOpenSeconds until every device's first connection was open (TLS + WebSocket
   *     upgrade): its handshakes/s is devices / this
   * @param admittedSeconds until every device's session was admitted (Welcome), -1 if not all were
   *     within the timeout
   */
  record Phase(
      String name,
      int devices,
      double firstOpenSeconds,
      double admittedSeconds,
      long admitted,
      long opens,
      long fullHandshakes,
      long retryLater,
      long failedConnects,
      String firstFailure) {
    long resumedHandshakes() {
      return opens - fullHandshakes;
    }

    double firstOpensPerSecond() {
      return devices / firstOpenSeconds;
    }
  }

  record Result(
      int devices,
      double issueSeconds,
      AdmissionLimits limits,
      Phase warmup,
      Phase full,
      Phase resumed,
      long serverRetryLater) {}

  static final Duration VALIDITY = Duration.ofDays(1);

  static Result run(Path dir, Opts o) throws Exception {
    int n = o.integer("devices", 2000);
    AdmissionLimits limits =
        new AdmissionLimits(
            o.integer("max-pending-sessions", AdmissionLimits.DEFAULT_MAX_PENDING_SESSIONS),
            o.integer("max-sessions-per-s", AdmissionLimits.DEFAULT_MAX_SESSIONS_PER_S),
            AdmissionLimits.DEFAULT_MAX_RETRY_AFTER_MS);
    double timeoutSeconds = o.seconds("storm-timeout", 120);
    double serveSeconds = o.seconds("serve-seconds", 0);
    Bench.logf("storm: %d devices, mutual TLS, admission %s", n, limits);

    CertificateAuthority ca =
        CertificateAuthority.init(
            dir.resolve("ca"), "storm CA", VALIDITY, java.time.Clock.systemUTC());
    Path pem = Files.createDirectories(dir.resolve("pem"));
    write(ca.issueServer(List.of("localhost", "127.0.0.1"), VALIDITY), pem, "server");
    long t0 = System.nanoTime();
    List<Device> devices = devices(ca, "storm", n);
    double issueSeconds = (System.nanoTime() - t0) / 1e9;
    List<Device> warmup = devices(ca, "warmup", o.integer("warmup-devices", 200));
    Bench.logf("storm: %d device certificates issued in %.1f s", n, issueSeconds);
    write(ca.issueDevice("storm-openssl", VALIDITY), pem, "dev"); // for openssl s_time
    Pem.writeCertificates(pem.resolve("ca.pem"), ca.certificate());

    ServerConfig config =
        ServerConfig.defaults(dir.resolve("cloud"))
            .withAddress("127.0.0.1", o.integer("port", 0))
            .withTls(
                new ServerConfig.TlsFiles(
                    pem.resolve("server.pem"),
                    pem.resolve("server.key"),
                    pem.resolve("ca.pem"),
                    ca.crlFile()))
            .withAdmission(limits);
    try (SyncServer server = SyncServer.start(config)) {
      Files.writeString(dir.resolve("port"), Integer.toString(server.port()));
      URI uri = URI.create(server.syncUrl());
      for (Device d : devices) {
        d.transport = new WebSocketTransport(uri, d.tls.context(), Duration.ofSeconds(10));
      }
      for (Device d : warmup) {
        d.transport = new WebSocketTransport(uri, d.tls.context(), Duration.ofSeconds(10));
      }
      List<LoopScheduler> loops = new ArrayList<>();
      for (int i = 0; i < Runtime.getRuntime().availableProcessors(); i++) {
        loops.add(new LoopScheduler("storm-" + i, System.currentTimeMillis(), () -> false));
      }
      try {
        Phase cold = warmup.isEmpty() ? null : phase("warm-up", warmup, loops, timeoutSeconds);
        Phase full = phase("full handshakes", devices, loops, timeoutSeconds);
        Thread.sleep(1_000); // let the server see every close
        Phase resumed = phase("resumed handshakes", devices, loops, timeoutSeconds);
        long serverRetryLater = server.sessionsRetryLater();
        serve(server, pem, serveSeconds);
        return new Result(n, issueSeconds, limits, cold, full, resumed, serverRetryLater);
      } finally {
        loops.forEach(LoopScheduler::shutdownNow);
      }
    }
  }

  /** Keeps the server up for an outside client (bench/openssl-s-time.sh). */
  private static void serve(SyncServer server, Path pem, double seconds) throws Exception {
    if (seconds <= 0) {
      return;
    }
    Bench.logf(
        "storm: serving on 127.0.0.1:%d for %.0f s (certificates in %s)",
        server.port(), seconds, pem);
    Thread.sleep((long) (seconds * 1000));
  }

  /** Starts every device at once and waits until all are admitted, then stops them. */
  private static Phase phase(
      String name, List<Device> devices, List<LoopScheduler> loops, double timeoutS)
      throws Exception {
    Counters c = new Counters(devices.size());
    List<EdgeNode<TransportLink.Attempt>> nodes = new ArrayList<>(devices.size());
    for (int i = 0; i < devices.size(); i++) {
      Device d = devices.get(i);
      d.startPhase(c);
      LoopScheduler loop = loops.get(i % loops.size());
      TransportLink link = new TransportLink(d.transport, loop);
      EdgeNode<TransportLink.Attempt> node =
          new EdgeNode<>(
              SyncPolicy.defaults(d.id),
              new InMemoryOutbox(Clock.SYSTEM),
              DocReplica.NONE,
              CommandInbox.NONE,
              new SplittableRandom(i),
              loop,
              link,
              d);
      link.bind(node);
      nodes.add(node);
    }
    Bench.logf("storm: %s: %d devices connect at once", name, devices.size());
    c.startNanos = System.nanoTime();
    for (int i = 0; i < nodes.size(); i++) {
      loops.get(i % loops.size()).post(nodes.get(i)::start);
    }
    boolean all = c.admitted.await((long) (timeoutS * 1000), TimeUnit.MILLISECONDS);
    c.firstOpens.await(1, TimeUnit.SECONDS);
    long full = 0;
    for (Device d : devices) {
      full += d.tls.serverChecks() - d.checksAtPhaseStart;
    }
    Phase p =
        new Phase(
            name,
            devices.size(),
            c.seconds(c.lastFirstOpenNanos),
            all ? c.seconds(c.lastAdmittedNanos) : -1,
            devices.size() - c.admitted.getCount(),
            c.opens.sum(),
            full,
            c.retryLater.sum(),
            c.failed.sum(),
            c.firstFailure.get());
    CountDownLatch stopped = new CountDownLatch(nodes.size());
    for (int i = 0; i < nodes.size(); i++) {
      EdgeNode<TransportLink.Attempt> node = nodes.get(i);
      loops
          .get(i % loops.size())
          .post(
              () -> {
                node.stop();
                stopped.countDown();
              });
    }
    if (!stopped.await(120, TimeUnit.SECONDS)) { // the loops may be far behind in a storm
      throw new IllegalStateException("the devices' loops did not stop them within 120 s");
    }
    Bench.logf(
        "storm: %s: %d of %d admitted in %.1f s; %,d connections (%d full handshakes),"
            + " %,d RETRY_LATER, %d failed connects%s",
        name,
        p.admitted(),
        p.devices(),
        c.seconds(c.lastAdmittedNanos),
        p.opens(),
        p.fullHandshakes(),
        p.retryLater(),
        p.failedConnects(),
        p.firstFailure() == null ? "" : " (first: " + p.firstFailure() + ")");
    return p;
  }

  /** {@code n} devices named {@code prefix-00000...}, each with a certificate of its own. */
  private static List<Device> devices(CertificateAuthority ca, String prefix, int n)
      throws Exception {
    List<Device> devices = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      String id = String.format("%s-%05d", prefix, i);
      devices.add(new Device(id, StormTls.device(ca.issueDevice(id, VALIDITY), ca.certificate())));
    }
    return devices;
  }

  private static void write(KeyAndCertificate k, Path dir, String name) throws Exception {
    Pem.writeCertificates(dir.resolve(name + ".pem"), k.certificate());
    Pem.writePrivateKey(dir.resolve(name + ".key"), k.privateKey());
  }

  /** One phase's counts; the loop thread writes the times, the bench thread reads them after. */
  private static final class Counters {
    final CountDownLatch admitted;
    final CountDownLatch firstOpens;
    final LongAdder opens = new LongAdder();
    final LongAdder retryLater = new LongAdder();
    final LongAdder failed = new LongAdder();
    final AtomicReference<String> firstFailure = new AtomicReference<>();
    volatile long startNanos;
    volatile long lastFirstOpenNanos;
    volatile long lastAdmittedNanos;

    Counters(int devices) {
      admitted = new CountDownLatch(devices);
      firstOpens = new CountDownLatch(devices);
    }

    double seconds(long atNanos) {
      return atNanos == 0 ? -1 : (atNanos - startNanos) / 1e9;
    }
  }

  /** A device: its TLS context (kept across phases) and what the current phase saw of it. */
  private static final class Device implements EdgeNode.Observer<TransportLink.Attempt> {
    final String id;
    final StormTls tls;
    WebSocketTransport transport;
    long checksAtPhaseStart;
    private Counters counters;
    private boolean opened; // on the loop
    private boolean admitted; // on the loop

    Device(String id, StormTls tls) {
      this.id = id;
      this.tls = tls;
    }

    void startPhase(Counters c) {
      counters = c;
      opened = false;
      admitted = false;
      checksAtPhaseStart = tls.serverChecks();
    }

    @Override
    public void opened(TransportLink.Attempt attempt) {
      counters.opens.increment();
      if (!opened) {
        opened = true;
        counters.lastFirstOpenNanos = System.nanoTime();
        counters.firstOpens.countDown();
      }
    }

    @Override
    public void received(TransportLink.Attempt attempt, Frame frame) {
      if (frame.hasError() && frame.getError().getCode() == ErrorCode.RETRY_LATER) {
        counters.retryLater.increment();
      }
    }

    @Override
    public void ended(TransportLink.Attempt attempt, boolean wasOpen, String reason) {
      if (!wasOpen) {
        counters.failed.increment();
        counters.firstFailure.compareAndSet(null, reason);
      }
    }

    @Override
    public void afterEngineCall(EdgeSyncEngine engine) {
      if (!admitted && engine.state() == EdgeSyncEngine.State.ACTIVE) {
        admitted = true;
        counters.lastAdmittedNanos = System.nanoTime();
        counters.admitted.countDown();
      }
    }
  }
}
