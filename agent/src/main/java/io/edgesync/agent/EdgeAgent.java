package io.edgesync.agent;

import io.edgesync.agent.EdgeSyncException.Code;
import io.edgesync.agent.internal.CapacityWatch;
import io.edgesync.agent.internal.CommandRunner;
import io.edgesync.agent.internal.ConnectionTracker;
import io.edgesync.agent.internal.DrainWatch;
import io.edgesync.agent.internal.EdgeNode;
import io.edgesync.agent.internal.LocalApi;
import io.edgesync.agent.internal.LocalApiToken;
import io.edgesync.agent.internal.LoopScheduler;
import io.edgesync.agent.internal.QueueCapacity;
import io.edgesync.agent.internal.TransportLink;
import io.edgesync.agent.internal.WebSocketTransport;
import io.edgesync.agent.internal.atrest.StorageCipher;
import io.edgesync.agent.internal.atrest.StorageKeys;
import io.edgesync.agent.internal.docs.DocsFile;
import io.edgesync.agent.internal.files.AgentFiles;
import io.edgesync.agent.internal.mqtt.MqttAgentBridge;
import io.edgesync.agent.internal.mqtt.MqttListener;
import io.edgesync.agent.internal.outbox.LoggedOutbox;
import io.edgesync.agent.internal.outbox.SqliteOutbox;
import io.edgesync.agent.internal.outbox.SyncLog;
import io.edgesync.agent.internal.tls.CertificateRenewal;
import io.edgesync.agent.internal.tls.DeviceCertificate;
import io.edgesync.agent.internal.tls.DeviceTlsTransport;
import io.edgesync.agent.internal.tls.Enroller;
import io.edgesync.engine.edge.EdgeSyncEngine;
import io.edgesync.engine.edge.Outbox;
import io.edgesync.protocol.Clock;
import io.edgesync.protocol.Transport;
import io.edgesync.protocol.wire.GapReason;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The edge agent: a durable outbox, the sync engine driven by one event-loop thread, a transport to
 * the cloud and (optionally) the localhost HTTP API. The Java library API for programs on the
 * device:
 *
 * <pre>{@code
 * try (EdgeAgent agent = EdgeAgent.open(AgentConfig.load(Path.of("agent.yaml")))) {
 *   AppendResult r = agent.append("sensor_data", "{\"t\":21.5}".getBytes(UTF_8)); // durable
 *   agent.operationStatus(r.operationId());  // PENDING → IN_FLIGHT → SYNCED
 * }
 * }</pre>
 *
 * <p>Documents: {@link #documents()}; commands from the cloud: {@link #commands()}. Failures other
 * than invalid arguments ({@link IllegalArgumentException}) are {@link EdgeSyncException}s with a
 * code.
 *
 * <p>Thread safe. The engine and the current connection are owned by the loop thread
 * ("edgesync-sync"); other threads reach them only by submitting tasks to it. The wiring of engine,
 * outbox, documents, timer and transport is {@link EdgeNode}'s, shared with the simulator.
 */
public final class EdgeAgent implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EdgeAgent.class);

  private final AgentConfig config;
  private final Clock clock;
  private final SqliteOutbox outbox;
  private final SyncLog syncLog = new SyncLog(); // what was sent and acknowledged, in memory
  private final EdgeNode<TransportLink.Attempt> node;
  private final EdgeSyncEngine engine;
  private final LoopScheduler loop;
  private final LocalApi localApi;
  private final DocsFile documents;
  private final AgentFiles files;
  private final CommandRunner commands;
  private final CapacityWatch capacity;
  private final MqttListener mqtt; // null unless mqtt.enabled
  private final DrainWatch drains = new DrainWatch();
  private volatile EdgeSyncEngine.State publishedState = EdgeSyncEngine.State.DISCONNECTED;
  private volatile boolean closed;

  // Owned by the loop thread.
  private final ConnectionTracker connectionStatus;

  private EdgeAgent(AgentConfig config, Transport transport, Clock clock, RandomGenerator random)
      throws SQLException {
    this.config = config;
    this.clock = clock;
    // First: a key problem stops the agent before it opens or starts anything.
    StorageCipher cipher =
        StorageKeys.load(config.storageKeyFile(), System.getenv(StorageKeys.ENV));
    LocalApiToken apiToken = // the same for the local API's token file
        config.localApiPort() >= 0 && config.localApiTokenFile() != null
            ? LocalApiToken.load(config.localApiTokenFile())
            : null;
    this.loop = new LoopScheduler(config.deviceId(), clock.nowMs(), () -> closed);
    this.capacity = new CapacityWatch(config.deviceId(), config.outbox());
    this.connectionStatus =
        new ConnectionTracker(config.serverUrl().toString(), config.syncEnabled(), clock.nowMs());
    if (cipher.enabled()) {
      log.info(
          "{}: values at rest are encrypted (AES-256-GCM) with key id {} of {}",
          config.deviceId(),
          cipher.currentKeyId(),
          cipher.source());
    }
    this.outbox =
        new SqliteOutbox(
            config.dataDir().resolve("edgesync-agent.db"),
            config.outbox(),
            config.streamPriorities(),
            config.dedupWindows(),
            config.undeclaredStreamPriority(),
            clock,
            cipher);
    this.documents = openDocuments(config, clock, cipher, outbox);
    this.files = openFiles(config, clock, this::signalFilesChanged);
    TransportLink link = new TransportLink(transport, loop);
    this.node =
        new EdgeNode<>(
            config.sync(),
            new LoggedOutbox(outbox, syncLog, clock),
            documents.replica(),
            documents.inbox(),
            random,
            loop,
            link,
            new NodeObserver());
    link.bind(node);
    if (transport instanceof DeviceTlsTransport tls) {
      node.setSideChannel(
          new CertificateRenewal(config.deviceId(), tls.certificate(), clock, random));
    }
    // An assembly that ends on the install thread wakes the loop, which records and reports it.
    this.engine =
        node.engine()
            .withFiles(files.inbox(), files.outbox(), node::signalFilesChanged)
            .withStatus(
                new io.edgesync.agent.internal.OutboxStatus(
                    outbox, () -> documents.replica().pendingCount()));
    this.commands = new CommandRunner(config.deviceId(), documents.inbox(), this::engineNowMs);
    documents.replica().setChangeListener(node::signalDocChanged);
    documents
        .inbox()
        .setCommandListener(
            () -> {
              node.signalCommandFinished();
              commands.wake();
            });
    commands.start();
    outbox.setAppendListener(node::signalAppended);
    LocalApi api = null;
    if (config.localApiPort() >= 0) {
      try {
        api = new LocalApi(this, config.localApiPort(), apiToken, files, syncLog);
      } catch (java.io.IOException e) {
        outbox.close();
        documents.close();
        files.close();
        commands.close();
        loop.shutdownNow();
        throw new EdgeSyncException(
            Code.LOCAL_API,
            "cannot start the local API on port " + config.localApiPort() + ": " + e,
            e);
      }
    }
    this.localApi = api;
    this.mqtt = startMqtt(config);
    log.info(
        "{}: {}; the capacity in time is logged after a minute of appends",
        config.deviceId(),
        QueueCapacity.bounds(config.outbox()));
    if (config.syncEnabled()) {
      loop.post(node::start);
    }
  }

  /** The MQTT listener with {@code mqtt.enabled}; one that cannot listen closes what is open. */
  private MqttListener startMqtt(AgentConfig config) {
    if (!config.mqtt().enabled()) {
      return null;
    }
    try {
      return MqttAgentBridge.start(config.mqtt(), this::appendAsync, documents(), commands);
    } catch (java.io.IOException | RuntimeException e) {
      if (localApi != null) {
        localApi.close();
      }
      outbox.close();
      documents.close();
      files.close();
      commands.close();
      loop.shutdownNow();
      throw new EdgeSyncException(
          Code.LOCAL_API, "cannot start the MQTT listener: " + e.getMessage(), e);
    }
  }

  /**
   * The document file; the outbox is closed again when it cannot be opened (no half-open agent).
   */
  private static DocsFile openDocuments(
      AgentConfig config, Clock clock, StorageCipher cipher, SqliteOutbox outbox)
      throws SQLException {
    try {
      return new DocsFile(
          config.dataDir().resolve("edgesync-docs.db"),
          config.deviceId(),
          config.documents().collections(),
          config.documents().maxDocumentBytes(),
          config.documents().maxClockDriftMs(),
          config.brief().deltaSync(),
          config.brief().deduplication(),
          clock,
          cipher);
    } catch (RuntimeException | SQLException e) {
      outbox.close();
      throw e;
    }
  }

  /** The file store; the outbox and documents are closed again when it cannot be opened. */
  private AgentFiles openFiles(AgentConfig config, Clock clock, Runnable filesChanged) {
    try {
      return AgentFiles.open(config.files(), config.dataDir(), clock, filesChanged);
    } catch (RuntimeException e) {
      outbox.close();
      documents.close();
      throw e;
    }
  }

  /**
   * Opens an agent with the WebSocket transport and the system clock.
   *
   * @throws EdgeSyncException {@code STORAGE} if its files cannot be opened, {@code LOCAL_API} if
   *     the local HTTP API cannot listen on its port, {@code ENCRYPTION_KEY} ({@link
   *     StorageKeyException}) if the at-rest key is missing, wrong or badly kept
   */
  public static EdgeAgent open(AgentConfig config) {
    return open(config, Clock.SYSTEM, new SplittableRandom());
  }

  /**
   * Opens an agent with its own transport (WebSocket; with {@code tls:}, mutual TLS from its files,
   * enrolling first if it has no certificate yet) and the given clock and randomness.
   */
  public static EdgeAgent open(AgentConfig config, Clock clock, RandomGenerator random) {
    return open(config, transport(config), clock, random);
  }

  /**
   * The WebSocket transport; with {@code tls:}, one that takes the device's key and certificate
   * from their files at each connect. Files that exist are checked now, so that a bad one stops the
   * agent at start.
   */
  private static Transport transport(AgentConfig config) {
    Duration timeout = Duration.ofMillis(config.sync().connectTimeoutMs());
    AgentConfig.TlsFiles tls = config.tls();
    if (tls == null) {
      return new WebSocketTransport(config.serverUrl(), null, timeout);
    }
    DeviceCertificate certificate = new DeviceCertificate(tls);
    if (certificate.present()) {
      try {
        certificate.context();
      } catch (java.io.IOException | IllegalArgumentException e) {
        throw new InvalidConfigException("tls", "tls: " + e.getMessage(), e);
      }
    }
    return new DeviceTlsTransport(
        config.serverUrl(),
        certificate,
        new Enroller(config.deviceId(), config.serverUrl(), certificate, timeout),
        timeout);
  }

  /** Opens an agent with an injected transport, clock and randomness (tests, simulation). */
  public static EdgeAgent open(
      AgentConfig config, Transport transport, Clock clock, RandomGenerator random) {
    try {
      return new EdgeAgent(config, transport, clock, random);
    } catch (SQLException e) {
      throw new EdgeSyncException(
          Code.STORAGE, "cannot open the outbox in " + config.dataDir() + ": " + e.getMessage(), e);
    }
  }

  // ---------------------------------------------------------------- the library API

  /** Appends one record; returns once it is durable on this device. */
  public AppendResult append(String stream, byte[] payload) {
    return appendAll(stream, List.of(payload));
  }

  /** Appends records atomically (all or none); returns once they are durable. */
  public AppendResult appendAll(String stream, List<byte[]> payloads) {
    try {
      return appendAsync(stream, payloads).get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new EdgeSyncException(Code.INTERRUPTED, "interrupted while appending", e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException re) {
        throw re;
      }
      if (e.getCause() instanceof InterruptedException ie) {
        // Interrupted while queueing for the writer, which set the flag again.
        throw new EdgeSyncException(Code.INTERRUPTED, "interrupted while appending", ie);
      }
      throw new EdgeSyncException(Code.INTERNAL, String.valueOf(e.getCause()), e.getCause());
    }
  }

  /** Appends without waiting; the future completes when the records are durable. */
  public CompletableFuture<AppendResult> appendAsync(String stream, List<byte[]> payloads) {
    if (!config.offlineBuffering() && publishedState != EdgeSyncEngine.State.ACTIVE) {
      return CompletableFuture.failedFuture(
          new QueueFullException(
              "not connected and offline buffering is disabled (sync.offline.enabled: false)"));
    }
    return outbox
        .appendDetailed(stream, payloads)
        .whenComplete((a, failure) -> countAppendSafely(stream, payloads, a, failure))
        .thenApply(
            a -> {
              List<AppendResult.Duplicate> dups = new ArrayList<>(a.duplicates().size());
              for (SqliteOutbox.Duplicate d : a.duplicates()) {
                dups.add(new AppendResult.Duplicate(d.index(), d.sameAsSequence()));
              }
              return new AppendResult(stream, a.firstSequence(), a.count(), List.copyOf(dups));
            });
  }

  /** Accounting never decides an append's result: the records are on disk whatever it does. */
  private void countAppendSafely(
      String stream, List<byte[]> payloads, SqliteOutbox.Appended stored, Throwable failure) {
    try {
      countAppend(stream, payloads, stored, failure);
    } catch (RuntimeException e) {
      log.warn(
          "{}: counting an append of stream '{}' failed: {}",
          config.deviceId(),
          stream,
          e.toString());
    }
  }

  /**
   * Feeds the append rate: the records stored, or refused because the queue was full (the rate is
   * what the application appends, so that a full queue under {@code reject} does not look idle).
   * Records a dedup window left out take no room and are not counted.
   */
  private void countAppend(
      String stream, List<byte[]> payloads, SqliteOutbox.Appended stored, Throwable failure) {
    Throwable cause =
        failure instanceof java.util.concurrent.CompletionException ? failure.getCause() : failure;
    if (stored == null && !(cause instanceof QueueFullException)) {
      return; // invalid input or closing: nothing was offered to the queue
    }
    long records = payloads.size();
    long bytes = 0;
    for (byte[] p : payloads) {
      bytes += p.length;
    }
    if (stored != null) {
      for (SqliteOutbox.Duplicate d : stored.duplicates()) {
        records--;
        bytes -= payloads.get(d.index()).length;
      }
    }
    capacity.onAppended(clock.nowMs(), stream, records, bytes);
  }

  /** Gap records of a stream by reason, with the reasons' names as the status shows them. */
  private static Map<String, Long> droppedByReason(Map<GapReason, Long> byReason) {
    Map<String, Long> out = new java.util.TreeMap<>();
    out.put("queue_full", byReason.getOrDefault(GapReason.GAP_REASON_QUEUE_FULL, 0L));
    out.put("expired", byReason.getOrDefault(GapReason.GAP_REASON_EXPIRED, 0L));
    out.put("not_retained", byReason.getOrDefault(GapReason.GAP_REASON_NOT_RETAINED, 0L));
    return out;
  }

  /** Where the record with this operation id ({@code stream/sequence}) stands. */
  public OperationStatus operationStatus(String operationId) {
    int slash = operationId.lastIndexOf('/');
    long seq;
    try {
      seq = slash > 0 ? Long.parseLong(operationId.substring(slash + 1)) : -1;
    } catch (NumberFormatException e) {
      seq = -1;
    }
    if (seq < 1) {
      return new OperationStatus(
          operationId, OperationStatus.State.UNKNOWN, "not an operation id (stream/sequence)");
    }
    String stream = operationId.substring(0, slash);
    long sequence = seq;
    long nextSend = onLoopGet(() -> engine.nextSendSequence(stream));
    SqliteOutbox.OperationState state = outbox.operationState(stream, sequence, nextSend);
    String reason = null;
    if (state == SqliteOutbox.OperationState.DROPPED) {
      Outbox.Item.Gap gap = outbox.droppedRange(stream, sequence);
      reason = gap == null ? "dropped" : describe(gap);
    } else if (state == SqliteOutbox.OperationState.UNKNOWN) {
      reason = "no such record on this device";
    }
    return new OperationStatus(operationId, OperationStatus.State.valueOf(state.name()), reason);
  }

  public AgentStatus status() {
    record EngineView(
        String activity,
        AgentStatus.ConnectionView connection,
        AgentStatus.ErrorView lastError,
        long sessions,
        Map<String, String> blocked,
        Map<String, String> deferred,
        Map<String, EdgeSyncEngine.WireStats> wire,
        EdgeSyncEngine.WireStats total,
        EdgeSyncEngine.LinkStatus link,
        EdgeSyncEngine.BudgetStatus budget,
        long lastSyncAgeMs) {}
    EngineView ev =
        onLoopGet(
            () ->
                new EngineView(
                    config.syncEnabled() ? engine.status().name() : "DISABLED",
                    connectionStatus.connection(),
                    connectionStatus.lastError(),
                    engine.sessionsEstablished(),
                    engine.blockedStreams(),
                    engine.deferredStreams(),
                    engine.wireStats(),
                    engine.wireTotals(),
                    engine.linkStatus(),
                    engine.budgetStatus(),
                    engine.lastAckAtMs() < 0 ? -1 : engineNowMs() - engine.lastAckAtMs()));
    long now = clock.nowMs();
    List<AgentStatus.StreamView> streams = new ArrayList<>();
    long queuedRecords = 0;
    long queuedBytes = 0;
    Map<String, Map<GapReason, Long>> gaps = outbox.gapRecordsByReason();
    for (SqliteOutbox.StreamStatus s : outbox.streamStatus()) {
      CapacityWatch.Rate rate = capacity.rate(now, s.name());
      double ackRate = drains.sample(s.name(), now, s.syncedRecords());
      streams.add(
          new AgentStatus.StreamView(
              s.name(),
              s.priority(),
              s.lastSequence(),
              s.ackedSequence(),
              s.queuedRecords(),
              s.queuedBytes(),
              s.oldestQueuedMs() < 0 ? -1 : Math.max(0, now - s.oldestQueuedMs()),
              s.syncedRecords(),
              s.droppedRecords(),
              rate.recordsPerSec(),
              rate.bytesPerSec(),
              ev.deferred().get(s.name()),
              wireView(ev.wire().getOrDefault(s.name(), EdgeSyncEngine.WireStats.ZERO)),
              droppedByReason(gaps.getOrDefault(s.name(), Map.of())),
              ackRate,
              DrainWatch.etaSeconds(
                  s.queuedRecords(),
                  ackRate,
                  rate.recordsPerSec(),
                  "connected".equals(ev.connection().state()))));
      queuedRecords += s.queuedRecords();
      queuedBytes += s.queuedBytes();
    }
    QueueCapacity.Estimate cap = capacity.estimate(now, queuedRecords, queuedBytes);
    return new AgentStatus(
        config.deviceId(),
        ev.activity(),
        ev.connection(),
        config.serverUrl().toString(),
        ev.lastError(),
        ev.sessions(),
        streams,
        ev.blocked(),
        cap.view(),
        cap.warning(),
        new AgentStatus.DocumentsView(
            documents.replica().pendingCount(),
            documents.replica().conflictedCount(),
            documents.replica().lastHlc().toString(),
            documents.replica().deduplicatedCount(),
            documents.replica().refusedCount()),
        bandwidthView(ev.link(), ev.deferred(), ev.budget(), ev.total()),
        ev.lastSyncAgeMs() < 0
            ? null
            : java.time.Instant.ofEpochMilli(now - ev.lastSyncAgeMs()).toString());
  }

  private AgentStatus.BandwidthView bandwidthView(
      EdgeSyncEngine.LinkStatus link,
      Map<String, String> deferred,
      EdgeSyncEngine.BudgetStatus budget,
      EdgeSyncEngine.WireStats total) {
    var bw = config.sync().bandwidth();
    return new AgentStatus.BandwidthView(
        config.brief().compression(),
        link.codec(),
        link.accepted(),
        link.level(),
        link.encoding(),
        bw.adaptive(),
        link.bandwidthKbps(),
        link.srttMs(),
        link.lowBandwidth(),
        bw.minBandwidthKbps(),
        deferred,
        budget == null
            ? null
            : new AgentStatus.BudgetView(
                budget.budgetBytes(),
                budget.spentBytes(),
                java.time.Instant.ofEpochMilli(budget.resetsAtMs()).toString()),
        wireView(total),
        outbox.duplicateRecords(),
        dictionaries());
  }

  private static AgentStatus.WireView wireView(EdgeSyncEngine.WireStats w) {
    return new AgentStatus.WireView(
        w.batches(), w.records(), w.rawBytes(), w.encodedBytes(), w.frameBytes(), w.ratio());
  }

  public AgentMetrics metrics() {
    record EngineCounters(
        long bytes,
        long batches,
        long records,
        Map<String, Long> next,
        EdgeSyncEngine.WireStats wire,
        EdgeSyncEngine.BudgetStatus budget,
        Map<String, String> deferred) {}
    EngineCounters ec =
        onLoopGet(
            () -> {
              Map<String, Long> next = new java.util.HashMap<>();
              for (Outbox.StreamState s : outbox.streams()) {
                next.put(s.name(), engine.nextSendSequence(s.name()));
              }
              return new EngineCounters(
                  engine.bytesSent(),
                  engine.batchesSent(),
                  engine.recordsSent(),
                  next,
                  engine.wireTotals(),
                  engine.budgetStatus(),
                  engine.deferredStreams());
            });
    long pending = 0;
    long inFlight = 0;
    long synced = 0;
    long dropped = 0;
    long depth = 0;
    long depthBytes = 0;
    long deferredRecords = 0;
    for (SqliteOutbox.StreamStatus s : outbox.streamStatus()) {
      long next = ec.next().getOrDefault(s.name(), -1L);
      long sentUpTo = next > 0 ? Math.min(next - 1, s.lastSequence()) : s.ackedSequence();
      long flying = Math.max(0, sentUpTo - s.ackedSequence());
      inFlight += Math.min(flying, s.queuedRecords());
      pending += Math.max(0, s.queuedRecords() - flying);
      synced += s.syncedRecords();
      dropped += s.droppedRecords();
      depth += s.queuedRecords();
      depthBytes += s.queuedBytes();
      if (ec.deferred().containsKey(s.name())) {
        deferredRecords += Math.max(0, s.queuedRecords() - flying);
      }
    }
    return new AgentMetrics(
        pending,
        inFlight,
        synced,
        dropped,
        outbox.rejectedRecords(),
        ec.bytes(),
        ec.batches(),
        ec.records(),
        depth,
        depthBytes,
        ec.wire().rawBytes(),
        ec.wire().encodedBytes(),
        ec.wire().frameBytes(),
        ec.wire().ratio(),
        ec.budget() == null ? -1 : ec.budget().spentBytes(),
        deferredRecords,
        outbox.duplicateRecords());
  }

  /** This device's documents, and the fleet's and its groups' that it reads. */
  public Documents documents() {
    return documents.replica();
  }

  /** Files: downloads the cloud publishes to this device, and uploads to the cloud. */
  public Files files() {
    return files;
  }

  /**
   * Commands from the cloud: run them with a handler ({@code commands().onCommand(name, handler)})
   * or poll for them.
   */
  public Commands commands() {
    return commands;
  }

  /** On-demand sync: flush everything now, reconnecting at once if offline. */
  public void syncNow() {
    if (!config.onDemandEnabled()) {
      throw new EdgeSyncException(
          Code.DISABLED, "on-demand sync is disabled (sync.strategies.on_demand.enabled: false)");
    }
    loop.post(node::requestSync);
  }

  /** The trained dictionary id this device holds per stream (shipped by the cloud). */
  public Map<String, Integer> dictionaries() {
    return onLoopGet(engine::dictionaries);
  }

  public String deviceId() {
    return config.deviceId();
  }

  /** The MQTT listener's port, or -1 if it is off ({@code mqtt.enabled: false}). */
  public int mqttPort() {
    return mqtt == null ? -1 : mqtt.port();
  }

  /** The MQTT listener's metrics in Prometheus' text format; empty when it is off. */
  public String mqttMetricsText() {
    return mqtt == null ? "" : mqtt.metrics().render();
  }

  /** The local HTTP API's port, or -1 if it is disabled. */
  public int localApiPort() {
    return localApi == null ? -1 : localApi.port();
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (mqtt != null) {
      mqtt.close(); // first: no PUBLISH is taken once the outbox closes
    }
    commands.close();
    if (localApi != null) {
      localApi.close();
    }
    loop.shutdown(node::stop);
    outbox.close();
    documents.close();
    files.close();
  }

  // ---------------------------------------------------------------- loop plumbing

  /** Set before the loop starts; the node exists by the time anyone can queue a file. */
  private void signalFilesChanged() {
    node.signalFilesChanged();
  }

  /** What the engine gets as {@code nowMs}: monotonic, near the wall clock (see LoopScheduler). */
  private long engineNowMs() {
    return loop.nowMs();
  }

  private <T> T onLoopGet(java.util.concurrent.Callable<T> task) {
    return loop.call(task);
  }

  private static String describe(Outbox.Item.Gap gap) {
    return switch (gap.reason()) {
      case GAP_REASON_QUEUE_FULL -> "dropped: the queue was full (overflow policy drop_oldest)";
      case GAP_REASON_EXPIRED -> "dropped: older than max_offline_hours";
      case GAP_REASON_NOT_RETAINED -> "lost: the cloud no longer has it and this device pruned it";
      default -> "dropped";
    };
  }

  /** Publishes the engine's state to other threads and logs the connection's ends; on the loop. */
  private final class NodeObserver implements EdgeNode.Observer<TransportLink.Attempt> {
    @Override
    public void afterEngineCall(EdgeSyncEngine engine) {
      publishedState = engine.state();
      connectionStatus.observe(publishedState, engine.lastError(), clock.nowMs());
    }

    @Override
    public void ended(TransportLink.Attempt attempt, boolean wasOpen, String reason) {
      log.info("{}: disconnected: {}", config.deviceId(), reason);
    }

    @Override
    public void disconnecting(TransportLink.Attempt attempt, String reason) {
      log.info("{}: disconnecting: {}", config.deviceId(), reason);
    }
  }
}
