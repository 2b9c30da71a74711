package io.edgesync.bench;

import io.edgesync.security.CertificateAuthority;
import io.edgesync.security.KeyAndCertificate;
import io.edgesync.security.Pem;
import io.edgesync.security.TlsContexts;
import io.edgesync.server.AdmissionLimits;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.function.IntFunction;
import javax.net.ssl.SSLContext;

/**
 * Scale on one node (issue 14, bench {@code fleet}): N lightweight devices ({@link FleetDevice},
 * the real protocol over real sockets, {@link FleetLoop}s instead of a thread per device) against a
 * server in a JVM of its own ({@link FleetServerProcess}, so its heap and RSS are its own), or
 * against external servers ({@code --server}). Phases, one after the other:
 *
 * <ol>
 *   <li>connect: all devices at once, the server pacing admission; then idle, and the server's
 *       memory with N idle sessions against its memory with none: per idle session;
 *   <li>steady: each device sends one small batch every period (jittered); ack latency;
 *   <li>fan-out: one fleet document written through the REST API; per device, the time from the
 *       write's start to the device holding it (the PUT's own time reported beside it);
 *   <li>restart: the server is killed (SIGKILL) and started again on the same data and port; a new
 *       document is written as soon as it listens; the time until every device is caught up
 *       (welcomed, the batch it sent after Welcome acknowledged, the new document held).
 * </ol>
 *
 * With external servers there is no memory figure and no restart (the bench cannot restart them).
 */
final class FleetScenario {
  record Settings(
      int devices,
      boolean tls,
      List<URI> external,
      double steadySeconds,
      long batchPeriodMs,
      int recordBytes,
      int loops,
      double idleSeconds,
      double timeoutSeconds,
      String serverHeap,
      List<String> serverJvmOptions,
      int maxSessionsPerS,
      int maxPendingSessions,
      long maxHelloWaitMs,
      List<String> phases,
      boolean histogram,
      int serverNofile,
      int ceilingStep,
      int ceilingMax,
      String store,
      int nodes) {
    String mode() {
      return tls ? "mutual TLS, a certificate per device" : "plain ws:// on loopback (insecure)";
    }

    String describe() {
      return String.format(
          Locale.ROOT,
          "%,d devices, %s; a %d-byte record every %.0f s; %d client loops; server %s",
          devices,
          mode(),
          recordBytes,
          batchPeriodMs / 1000.0,
          loops,
          external.isEmpty()
              ? (nodes > 1 ? nodes + " nodes, each a " : "")
                  + "child JVM -Xmx"
                  + serverHeap
                  + ", admission "
                  + maxSessionsPerS
                  + "/s"
                  + (store.equals("postgres")
                      ? ", store: embedded PostgreSQL 17.6 (fsync off, the tests' settings)"
                      : ", store: SQLite")
              : external.toString());
    }
  }

  static Settings settings(Opts o) {
    String servers = o.string("server", "");
    List<URI> external = new ArrayList<>();
    for (String s : servers.split(",")) {
      if (!s.isBlank()) {
        external.add(URI.create(s.trim()));
      }
    }
    boolean tls =
        external.isEmpty() ? o.bool("tls", true) : external.get(0).getScheme().equals("wss");
    int n = o.integer("devices", 10_000);
    if (n < 1) {
      throw new IllegalArgumentException("--devices must be at least 1, not " + n);
    }
    return new Settings(
        n,
        tls,
        external,
        o.seconds("steady-seconds", 60),
        (long) (o.seconds("batch-every", 10) * 1000),
        o.integer("record-bytes", 64),
        o.integer("loops", 2),
        o.seconds("idle-seconds", 5),
        o.seconds("fleet-timeout", 180),
        o.string("server-heap", "1g"),
        Arrays.stream(o.string("server-jvm-opts", "").split(" "))
            .filter(s -> !s.isBlank())
            .toList(),
        o.integer("max-sessions-per-s", 500),
        o.integer("max-pending-sessions", 512),
        o.integer("max-hello-wait-ms", (int) AdmissionLimits.DEFAULT_MAX_HELLO_WAIT_MS),
        List.of(o.string("phases", "steady,fanout,restart").split(",")),
        o.bool("histogram", false),
        o.integer("server-nofile", 0),
        o.integer("ceiling-step", 5_000),
        o.integer("ceiling-max", 100_000),
        store(o),
        nodes(o));
  }

  /** {@code --store=sqlite|postgres}; several nodes need PostgreSQL, so they choose it. */
  private static String store(Opts o) {
    String store = o.string("store", nodes(o) > 1 ? "postgres" : "sqlite");
    if (!store.equals("sqlite") && !store.equals("postgres")) {
      throw new IllegalArgumentException("--store must be sqlite or postgres, not " + store);
    }
    if (store.equals("sqlite") && nodes(o) > 1) {
      throw new IllegalArgumentException("--nodes above 1 share a PostgreSQL store, not SQLite");
    }
    return store;
  }

  private static int nodes(Opts o) {
    int nodes = o.integer("nodes", 1);
    if (nodes < 1 || nodes > 16) {
      throw new IllegalArgumentException("--nodes must be in 1..16, not " + nodes);
    }
    return nodes;
  }

  /** One latency figure set, with how many of how many devices made it. */
  record Delivery(
      int reached, int devices, double seconds, Stats.Latency latency, double restWriteMs) {}

  record Result(
      Settings settings,
      double connectSeconds,
      long connectRetryLater,
      FleetServerProcess.Memory baseMemory,
      FleetServerProcess.Memory idleMemory,
      FleetServerProcess.Memory loadedMemory,
      Stats.Latency ackLatency,
      long batchesSent,
      long batchesSkipped,
      Delivery fanout,
      Delivery restart,
      double restartFromReadySeconds,
      long restartRetryLater,
      long errors,
      String firstError,
      long clientHeapBytes,
      int clientThreads,
      FleetCeiling.Result ceiling) {
    /** Bytes per idle session: (with N idle - with none) / N, heap and RSS. */
    double heapPerSession() {
      return (idleMemory.heapUsed() - baseMemory.heapUsed()) / (double) settings.devices();
    }

    double rssPerSession() {
      return (idleMemory.rss() - baseMemory.rss()) / (double) settings.devices();
    }
  }

  static Result run(Path dir, Opts o) throws Exception {
    Settings s = settings(o);
    Bench.logf("fleet: %s", s.describe());
    FleetPki pki = s.tls() ? FleetPki.create(dir, s, o) : null;
    FleetNodes nodes = null;
    List<URI> urls = s.external();
    String apiUrl = o.string("api-url", null);
    String apiKey;
    if (s.external().isEmpty()) {
      nodes = FleetNodes.start(dir, s, pki);
      urls = nodes.urls();
      apiUrl = nodes.apiUrl();
      apiKey = nodes.apiKey();
    } else {
      if (apiUrl == null) {
        URI u = urls.get(0);
        apiUrl = (s.tls() ? "https" : "http") + "://" + u.getHost() + ":" + u.getPort();
      }
      String keyFile = o.string("api-key-file", null);
      if (keyFile == null) {
        throw new IllegalArgumentException(
            "--server needs --api-key-file (an operator's API key, to write the fleet document)");
      }
      apiKey = Files.readString(Path.of(keyFile)).trim();
    }
    FleetRest rest = new FleetRest(apiUrl, pki == null ? null : pki.restContext(), apiKey);
    try (FleetClients clients =
        new FleetClients(urls, s.loops(), s.batchPeriodMs(), s.recordBytes())) {
      clients.add(0, s.devices(), i -> pki == null ? null : pki.device(i), i -> null);
      return new Phases(dir, s, nodes, clients, rest).run(i -> pki == null ? null : pki.device(i));
    } finally {
      if (nodes != null) {
        nodes.close();
      }
    }
  }

  /** The steady phase's figures. */
  private record Steady(Stats.Latency acks, long sent, long skipped) {}

  /** The restart phase's figures. */
  private record Restart(Delivery delivery, double fromReadySeconds, long retryLater) {}

  /**
   * One run's phases, in order. The runner thread owns it; {@code server} is the current server
   * process (the restart phase replaces it; the caller closes the first, this closes a later one).
   */
  private static final class Phases {
    final Path dir;
    final Settings s;
    final FleetNodes nodes; // null: external servers
    final FleetClients clients;
    final FleetRest rest;
    final FleetDevice.Shared shared;

    Phases(Path dir, Settings s, FleetNodes nodes, FleetClients clients, FleetRest rest) {
      this.dir = dir;
      this.s = s;
      this.nodes = nodes;
      this.clients = clients;
      this.rest = rest;
      this.shared = clients.shared;
    }

    /** The one server this runner started; null with several nodes or external servers. */
    FleetServerProcess server() {
      return nodes == null ? null : nodes.single();
    }

    FleetServerProcess.Memory memory() throws Exception {
      return server() == null ? null : server().memory();
    }

    Result run(IntFunction<SSLContext> ssl) throws Exception {
      // A first version before any device connects: its PUT warms the REST client (TLS) and the
      // route, so that the fan-out measures the push, not a cold HTTPS handshake.
      rest.writeFleetDoc(0, s.timeoutSeconds());
      FleetServerProcess.Memory base = memory();
      FleetPhase connect = begin(shared, "connect", s.devices());
      clients.start(0, s.devices());
      boolean allIn = awaitAll(connect, connect.welcomed, "welcomed", s.timeoutSeconds(), shared);
      double connectSeconds = allIn ? connect.secondsSinceStart() : -1;
      Thread.sleep((long) (s.idleSeconds() * 1000)); // the Welcome batches acked, sessions idle
      FleetServerProcess.Memory idle = memory();
      logMemory("idle", idle, base, s.devices());
      histogram();
      Steady steady = s.phases().contains("steady") ? steady() : new Steady(null, 0, 0);
      FleetServerProcess.Memory loaded = memory();
      Delivery fanout = s.phases().contains("fanout") ? fanout() : null;
      Restart restart =
          s.phases().contains("restart") && nodes != null ? restart() : new Restart(null, -1, 0);
      FleetCeiling.Result ceiling =
          s.phases().contains("ceiling") ? FleetCeiling.run(dir, s, clients, server(), ssl) : null;
      long clientHeap = clientHeapBytes();
      int clientThreads = Thread.activeCount();
      clients.stopAll();
      return new Result(
          s,
          connectSeconds,
          connect.retryLater.sum(),
          base,
          idle,
          loaded,
          steady.acks(),
          steady.sent(),
          steady.skipped(),
          fanout,
          restart.delivery(),
          restart.fromReadySeconds(),
          restart.retryLater(),
          shared.errors.sum(),
          shared.firstError.get(),
          clientHeap,
          clientThreads,
          ceiling);
    }

    private void histogram() throws Exception {
      FleetServerProcess server = server();
      if (server != null && s.histogram()) {
        Path file = dir.resolve("histogram-idle.txt");
        Bench.logf(
            "fleet: the server's live objects with %,d idle sessions (%s):", s.devices(), file);
        Bench.log(server.histogram(file, 30));
      }
    }

    private Steady steady() throws InterruptedException {
      FleetPhase p = begin(shared, "steady", s.devices());
      shared.sending = true;
      Thread.sleep((long) (s.steadySeconds() * 1000));
      shared.sending = false;
      awaitAcks(p, s.timeoutSeconds());
      Stats.Latency acks = p.ackLatency.latency();
      Bench.logf(
          "fleet: steady: %,d batches acked in %.0f s: %s", acks.count(), s.steadySeconds(), acks);
      return new Steady(acks, p.batchesSent.sum(), p.batchesSkipped.sum());
    }

    private Delivery fanout() throws Exception {
      FleetPhase p = begin(shared, "fan-out", s.devices());
      target(p, rest, 1, clients, s.timeoutSeconds());
      boolean all = awaitAll(p, p.docDelivered, "got the document", s.timeoutSeconds(), shared);
      return delivery(p, p.docDelivered, all, s.devices());
    }

    /** SIGKILL, the same servers again on the same data and ports, a new document at once. */
    private Restart restart() throws Exception {
      FleetPhase p = begin(shared, "restart", s.devices());
      nodes.restartAll();
      long readyNanos = System.nanoTime();
      target(p, rest, 2, clients, s.timeoutSeconds());
      boolean all = awaitAll(p, p.caughtUp, "caught up", s.timeoutSeconds(), shared);
      double fromReady = all ? (System.nanoTime() - readyNanos) / 1e9 : -1;
      return new Restart(delivery(p, p.caughtUp, all, s.devices()), fromReady, p.retryLater.sum());
    }
  }

  /** Waits until every batch sent in the phase was acknowledged (or the timeout). */
  private static void awaitAcks(FleetPhase p, double timeoutSeconds) throws InterruptedException {
    long deadline = System.nanoTime() + (long) (timeoutSeconds * 1e9);
    while (p.ackLatency.count() < p.batchesSent.sum() && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
  }

  private static FleetPhase begin(FleetDevice.Shared shared, String name, int devices) {
    FleetPhase p = new FleetPhase(name, devices);
    shared.phase = p;
    Bench.logf("fleet: %s", name);
    return p;
  }

  /** Writes the document the phase waits for; the write's start is time zero. */
  private static void target(
      FleetPhase p, FleetRest rest, int revision, FleetClients clients, double patienceSeconds)
      throws Exception {
    long start = System.nanoTime();
    p.docWriteStartNanos = start;
    long version = rest.writeFleetDoc(revision, patienceSeconds);
    p.docWriteNanos = System.nanoTime() - start;
    p.targetDocVersion = version;
    clients.recheck(); // devices that got it before the reply count themselves now
  }

  private static Delivery delivery(FleetPhase p, CountDownLatch latch, boolean all, int n) {
    double seconds = all ? (System.nanoTime() - p.startNanos) / 1e9 : -1;
    return new Delivery(
        n - (int) latch.getCount(), n, seconds, p.docLatency.latency(), p.docWriteNanos / 1e6);
  }

  /** Waits for every device, logging progress every 5 s; false after the timeout. */
  private static boolean awaitAll(
      FleetPhase p,
      CountDownLatch latch,
      String what,
      double timeoutSeconds,
      FleetDevice.Shared shared)
      throws InterruptedException {
    long deadline = System.nanoTime() + (long) (timeoutSeconds * 1e9);
    while (System.nanoTime() < deadline) {
      if (FleetPhase.await(latch, 5)) {
        Bench.logf(
            "fleet: %s: all %s in %.1f s (%,d RETRY_LATER)",
            p.name, what, p.secondsSinceStart(), p.retryLater.sum());
        return true;
      }
      Bench.logf(
          "fleet: %s: %,d still not %s after %.0f s (%,d RETRY_LATER, %,d failed connects, %,d"
              + " errors%s; last close: %s)",
          p.name,
          latch.getCount(),
          what,
          p.secondsSinceStart(),
          p.retryLater.sum(),
          shared.failedConnects.sum(),
          shared.errors.sum(),
          shared.firstError.get() == null ? "" : ", first: " + shared.firstError.get(),
          shared.lastCloseReason.get());
    }
    return false;
  }

  private static void logMemory(
      String what, FleetServerProcess.Memory m, FleetServerProcess.Memory base, int n) {
    if (m == null) {
      return;
    }
    Bench.logf(
        "fleet: server with %,d %s sessions: heap %s MiB after GC (with none: %s), RSS %s MiB"
            + " (with none: %s), %d threads",
        n,
        what,
        mib(m.heapUsed()),
        mib(base.heapUsed()),
        mib(m.rss()),
        mib(base.rss()),
        m.threads());
  }

  static String mib(long bytes) {
    return bytes < 0 ? "-" : String.format(Locale.ROOT, "%.0f", bytes / (1024.0 * 1024));
  }

  private static long clientHeapBytes() {
    System.gc();
    Runtime r = Runtime.getRuntime();
    return r.totalMemory() - r.freeMemory();
  }

  /** The throwaway CA, the server's certificate and one certificate per device. */
  static final class FleetPki {
    private static final Duration VALIDITY = Duration.ofDays(1);
    private final Path pem;
    private final CertificateAuthority ca;
    private final List<SSLContext> devices = new ArrayList<>();

    private FleetPki(Path pem, CertificateAuthority ca) {
      this.pem = pem;
      this.ca = ca;
    }

    static FleetPki create(Path dir, Settings s, Opts o) throws Exception {
      String caDir = o.string("ca-dir", null);
      CertificateAuthority ca =
          caDir != null
              ? CertificateAuthority.open(Path.of(caDir), java.time.Clock.systemUTC())
              : CertificateAuthority.init(
                  dir.resolve("ca"), "fleet CA", VALIDITY, java.time.Clock.systemUTC());
      Path pem = Files.createDirectories(dir.resolve("pem"));
      KeyAndCertificate server = ca.issueServer(List.of("localhost", "127.0.0.1"), VALIDITY);
      Pem.writeCertificates(pem.resolve("server.pem"), server.certificate());
      Pem.writePrivateKey(pem.resolve("server.key"), server.privateKey());
      Pem.writeCertificates(pem.resolve("ca.pem"), ca.certificate());
      FleetPki pki = new FleetPki(pem, ca);
      long t0 = System.nanoTime();
      pki.device(s.devices() - 1);
      Bench.logf(
          "fleet: %,d device certificates issued in %.1f s",
          s.devices(), (System.nanoTime() - t0) / 1e9);
      return pki;
    }

    /** Device {@code i}'s context, issuing certificates up to it first. Runner thread only. */
    SSLContext device(int i) {
      try {
        while (devices.size() <= i) {
          KeyAndCertificate d =
              ca.issueDevice(String.format("fleet-%05d", devices.size()), VALIDITY);
          devices.add(
              TlsContexts.device(
                  List.of(d.certificate()), d.privateKey(), List.of(ca.certificate())));
        }
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
      return devices.get(i);
    }

    SSLContext restContext() {
      return TlsContexts.trusting(List.of(ca.certificate()));
    }

    Path serverCert() {
      return pem.resolve("server.pem").toAbsolutePath();
    }

    Path serverKey() {
      return pem.resolve("server.key").toAbsolutePath();
    }

    Path caFile() {
      return pem.resolve("ca.pem").toAbsolutePath();
    }
  }
}
