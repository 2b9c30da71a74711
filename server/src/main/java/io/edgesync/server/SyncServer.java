package io.edgesync.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgesync.engine.cloud.CloudSession;
import io.edgesync.engine.cloud.CloudStore;
import io.edgesync.engine.commands.CommandStore;
import io.edgesync.engine.docs.CloudDocuments;
import io.edgesync.protocol.Clock;
import io.edgesync.protocol.FrameCodec;
import io.edgesync.protocol.wire.ErrorCode;
import io.edgesync.protocol.wire.Frame;
import io.edgesync.security.DeviceIdentity;
import io.edgesync.security.TlsContexts;
import io.edgesync.server.cluster.ClusterBus;
import io.edgesync.server.cluster.ClusterEvent;
import io.edgesync.support.ErrorIds;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.UnauthorizedResponse;
import io.javalin.json.JavalinJackson;
import io.javalin.websocket.WsContext;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.sql.SQLException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import javax.net.ssl.SSLContext;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cloud sync server: device sessions over WebSocket ({@code /v1/sync}, binary protobuf frames)
 * and the REST API for cloud applications ({@code /api/v1/...}), on one Javalin/Jetty server. Each
 * WebSocket session is a {@link CloudSession}; Jetty delivers one session's frames one at a time,
 * and a frame is acknowledged only after the store committed it.
 *
 * <p>Thread safe. Sessions are registered by device id as soon as their Hello claimed the device
 * (before the Hello reads what to push, so nothing committed meanwhile is missed); a device that
 * connects again replaces (and closes) its older session. A session the server hears nothing from
 * for longer than the heartbeat timeout is closed ({@link SilenceWatch}, checked on a timer thread
 * with monotonic time), and its device shows as disconnected at once.
 */
public final class SyncServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SyncServer.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The cloud store's file in the data directory. */
  public static final String STORE_FILE = "edgesync-cloud.db";

  /** How long a silent session's close may wait for the device's close reply before the drop. */
  private static final Duration SILENT_CLOSE_GRACE = Duration.ofSeconds(5);

  /**
   * The listen backlog of the device port: room for a fleet's reconnect storm (configuration.md).
   */
  private static final int ACCEPT_QUEUE_CONNECTIONS = 4096;

  /** The most time between two checks for silent sessions. */
  private static final long MAX_SILENCE_CHECK_INTERVAL_MS = 1_000;

  /** A session's System.nanoTime() at its upgrade: how long its Hello waited for a thread. */
  private static final String CONNECTED_AT_NANOS = "edgesync.connectedAtNanos";

  private final ServerConfig config;
  private final CloudStore store;
  private final SharedScopeReads sharedReads; // null without documents
  private final ServerMetrics metrics;
  private final FleetStatus fleetStatus; // what devices report over their sessions (in memory)
  private final KpiApi kpiApi;
  private final Clock clock;
  private final Javalin app;
  private final SessionTimers timers;
  private final Map<String, WsContext> sessionsByDevice = new ConcurrentHashMap<>();
  private final Map<String, CloudSession> sessionsById = new ConcurrentHashMap<>();
  private final AtomicLong sessionsRefused = new AtomicLong();
  private final AtomicLong sessionsReplaced = new AtomicLong();
  private final AtomicLong helloOfClosedDropped = new AtomicLong();
  private final AtomicLong docUpdatesSentClosed = new AtomicLong();
  private final AtomicLong sessionsClosedSilent = new AtomicLong();
  private final SilenceWatch silence;
  private final AdmissionControl admission;
  private final HandshakeLimit handshakes;
  private final UpgradeSessions upgradeSessions = new UpgradeSessions();
  private final CloudDocuments docs;
  private final CommandStore commands;
  private final CloudDictionaries dictionaries;
  private final ApiKeys apiKeys; // null for a store that keeps none: then only health answers
  private final Enrollment enrollment; // null for a store that keeps no enrollment tokens
  private final Supplier<X509CRL> crl; // null without TLS or without a CRL file
  private final RevocationWatch revocations; // null without a CRL
  private final CaAudit caAudit; // null without server.tls.ca_dir or an audit log
  private final io.edgesync.server.files.CloudFiles files; // null for a store that keeps none
  private final ClusterBus bus; // NONE when this node is alone on its store
  private final LeaseRunner leases; // null when this node is alone on its store
  private volatile boolean rolloutsHere = true; // this node admits devices to rollouts
  private final StreamExpiry expiry; // null for a store without retention support
  private volatile DataDirLock dataDirLock; // held while running on the embedded store
  private volatile io.edgesync.server.export.KafkaExporter exporter; // null: no export.kafka
  private final ServerAlerts alerts;

  /** Pushes document versions and commands to connected sessions, off the writers' threads. */
  private final ExecutorService pusher =
      Executors.newSingleThreadExecutor(DaemonThreads.named("edgesync-push"));

  /** Runs the checks for silent sessions. */
  private final ScheduledExecutorService liveness =
      Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("edgesync-liveness"));

  private SyncServer(ServerConfig config, CloudStore store, Clock clock) {
    this.config = config;
    this.store = store;
    this.clock = clock;
    this.silence = new SilenceWatch(config.policy().heartbeatTimeoutMs(), System::nanoTime);
    this.admission = new AdmissionControl(config.admission(), System::nanoTime);
    this.handshakes = new HandshakeLimit(config.admission(), System::nanoTime);
    this.sharedReads = store.documents() == null ? null : new SharedScopeReads(store.documents());
    this.docs =
        sharedReads == null ? null : new CloudDocuments(sharedReads, config.documents(), clock);
    this.commands = store.commands();
    if (docs != null) {
      docs.onChange(
          scopes -> {
            // At once, after the commit and before anything is pushed: the committing session's
            // own push of the outcomes comes next, on this thread.
            sharedReads.changed(scopes);
            pusher.execute(() -> pushDocs(scopes)); // the store told the other nodes, at commit
          });
    }
    this.dictionaries =
        store.dictionaries() == null
            ? null
            : new CloudDictionaries(config.dictionaries(), store.dictionaries(), clock);
    if (dictionaries != null) {
      dictionaries.onNewDictionary(
          d ->
              pusher.execute(
                  () -> {
                    publish(ClusterEvent.Kind.DICTIONARY, List.of(d.stream()));
                    pushDictionary(d);
                  }));
    }
    this.apiKeys = store instanceof SqliteCloudStore sqlite ? sqlite.apiKeys() : null;
    this.enrollment =
        store instanceof SqliteCloudStore sqlite
            ? Enrollment.open(config.tls(), sqlite, clock::nowMs)
            : null;
    this.crl = RevocationWatch.crlOf(config.tls());
    this.revocations = crl == null ? null : new RevocationWatch(crl);
    this.caAudit = CaAudit.of(config.tls(), store);
    this.expiry =
        store instanceof SqliteCloudStore sqlite
            ? sqlite.streamExpiry(config.retention(), ExpiryHold.NONE, clock)
            : null;
    this.files =
        store instanceof SqliteCloudStore sqlite
            ? io.edgesync.server.files.CloudFiles.open(
                config.files(),
                config.dataDir(),
                sqlite.files(),
                sqlite.uploads(),
                sqlite.auditedTransactions(),
                sqlite.fileChunks(),
                clock::nowMs)
            : null;
    if (files != null) {
      files.onOffered(
          devices ->
              pusher.execute(
                  () -> {
                    publish(ClusterEvent.Kind.FILES, devices);
                    offerFiles(devices);
                  }));
    }
    String node = config.cluster().nodeId();
    this.bus = store instanceof SqliteCloudStore sqlite ? sqlite.clusterBus(node) : ClusterBus.NONE;
    this.leases =
        bus == ClusterBus.NONE
            ? null
            : new LeaseRunner(
                ((SqliteCloudStore) store).leases(), node, config.cluster().leaseMs(), clock);
    if (store instanceof SqliteCloudStore sqlite) {
      sqlite.nodeId(node);
    }
    int jettyLimit =
        (int) Math.min((long) config.policy().maxFrameBytes() * 2, Integer.MAX_VALUE - 1024);
    this.fleetStatus = new FleetStatus(clock);
    Kpis kpis = new Kpis(fleetStatus, docs);
    this.kpiApi = new KpiApi(store, docs, kpis, clock);
    this.alerts =
        new ServerAlerts(
            config.alerts(),
            new ServerAlerts.Parts(
                store,
                this::isConnected,
                sessionsByDevice,
                sessionsById,
                docs,
                files,
                () -> exporter,
                fleetStatus::alertReports),
            node,
            clock);
    this.metrics = metrics();
    this.timers = new SessionTimers(metrics.registry());
    new FleetMetrics(fleetStatus, kpiApi::fleetKpis, clock, config.maxDeviceSeries())
        .register(metrics);
    alerts.registerMetrics(metrics);
    this.app =
        Javalin.create(
            cfg -> {
              cfg.startup.showJavalinBanner = false;
              Dashboard.install(cfg);
              cfg.jsonMapper(new JavalinJackson(JSON, false));
              cfg.jetty.modifyServletContextHandler(upgradeSessions::install);
              cfg.jetty.modifyWebSocketServletFactory(
                  f -> {
                    // Above our own limit, so that oversized frames get a protocol Error that
                    // names the problem; Jetty's own limit only guards memory beyond that.
                    f.setMaxBinaryMessageSize(jettyLimit);
                    f.setIdleTimeout(jettyIdleTimeout(config.policy()));
                  });
              if (config.tls() != null) {
                SSLContext ssl = tlsContext(config.tls(), crl);
                cfg.jetty.addConnector((server, http) -> tlsConnector(server, http, ssl));
                cfg.routes.wsBeforeUpgrade("/v1/sync", SyncServer::requireClientCertificate);
              } else {
                cfg.jetty.addConnector(
                    (server, http) ->
                        listening(new ServerConnector(server, new HttpConnectionFactory(http))));
              }
              cfg.routes.ws(
                  "/v1/sync",
                  ws -> {
                    ws.onConnect(this::onConnect);
                    ws.onBinaryMessage(ctx -> onFrame(ctx, ctx.data()));
                    ws.onMessage(ctx -> onText(ctx));
                    ws.onClose(ctx -> onClose(ctx));
                    ws.onError(ctx -> onClose(ctx));
                  });
              new ApiAuth(apiKeys, clock, this::groupsOf).register(cfg.routes);
              cfg.routes.get("/api/v1/health", this::health);
              new OpenApiDocument().register(cfg.routes);
              metrics.register(cfg.routes);
              cfg.routes.get("/api/v1/cluster", this::cluster);
              new DeviceApi(store, clock, this::isConnected, this::capabilitiesOf, fleetStatus)
                  .register(cfg.routes);
              kpiApi.register(cfg.routes);
              new StreamApi(store).register(cfg.routes);
              new ExportApi(() -> exporter).register(cfg.routes);
              alerts.register(cfg.routes);
              cfg.routes.get("/api/v1/dictionaries", this::listDictionaries);
              if (store instanceof SqliteCloudStore sqlite) {
                new AuditApi(sqlite.auditLog()).register(cfg.routes);
                new ApiAudit(sqlite.auditLog()).register(cfg.routes);
              }
              new EnrollmentApi(
                      enrollment == null ? null : ((SqliteCloudStore) store).enrollmentTokens(),
                      enrollment,
                      clock)
                  .register(cfg.routes);
              if (files != null) {
                new FileApi(files, clock).register(cfg.routes);
              }
              if (docs != null) {
                new DocumentApi(docs, commands, store, clock, JSON, this::pushCommands)
                    .register(cfg.routes);
                new ReportApi(docs.store(), commands, store, clock).register(cfg.routes);
              }
              cfg.routes.exception(
                  ApiError.class,
                  (e, ctx) -> ctx.status(e.status).json(Map.of("error", e.getMessage())));
              cfg.routes.exception(Exception.class, SyncServer::internalError);
            });
  }

  /** Every HTTP route this server registered, as {@code "METHOD /path/{param}"} (for tests). */
  public List<String> httpRoutes() {
    return app.unsafe.internalRouter.allHttpHandlers().stream()
        .map(e -> e.endpoint.method.name() + " " + e.endpoint.path)
        .toList();
  }

  /** Starts a server with the store {@code config.store()} names (default: SQLite in data_dir). */
  public static SyncServer start(ServerConfig config) {
    return start(config, AuditSettings.DEFAULTS);
  }

  /**
   * Starts a server with the store {@code config.store()} names ({@link CloudStores}); its audit
   * log signs checkpoints with the key in the data directory ({@link AuditKeys}, created on first
   * start) as {@code audit} says.
   */
  public static SyncServer start(ServerConfig config, AuditSettings audit) {
    // The embedded store's file: no restore, backup's restore or second server under a running one.
    // (Nodes on PostgreSQL may share a data directory of keys.)
    DataDirLock lock =
        config.store().type() == StoreSettings.Type.SQLITE
            ? DataDirLock.forServer(config.dataDir())
            : null;
    try {
      SqliteCloudStore store = CloudStores.open(config);
      try {
        store.checkpointInBackground(WalCheckpointer.DEFAULT_INTERVAL_MS);
        store
            .auditLog()
            .enableCheckpoints(
                AuditKeys.loadOrCreate(config.dataDir()),
                audit.checkpointEveryRecords(),
                audit.checkpointIntervalMs());
      } catch (SQLException | IOException | RuntimeException e) {
        store.close();
        throw e;
      }
      SyncServer server = start(config, store, Clock.SYSTEM);
      server.dataDirLock = lock;
      return server;
    } catch (IOException e) {
      closeQuietly(lock);
      throw new IllegalStateException(
          "cannot read or create the audit signing key in "
              + config.dataDir()
              + ": "
              + e.getMessage(),
          e);
    } catch (SQLException e) {
      closeQuietly(lock);
      throw new IllegalStateException(
          "cannot open the cloud store ("
              + config.store().describe(config.dataDir())
              + "): "
              + e.getMessage(),
          e);
    } catch (RuntimeException e) {
      closeQuietly(lock);
      throw e;
    }
  }

  private static void closeQuietly(DataDirLock lock) {
    if (lock != null) {
      lock.close();
    }
  }

  /**
   * Starts a server on the given store; the server closes the store when it stops. The REST API's
   * keys live in a {@link SqliteCloudStore}; on any other store every route but health answers 401.
   * If the store has no key at all, an admin key is made first ({@link #adminKeyFile()}).
   */
  public static SyncServer start(ServerConfig config, CloudStore store, Clock clock) {
    SyncServer server = new SyncServer(config, store, clock);
    try {
      if (server.apiKeys != null) {
        AdminKeyFile.ensure(server.apiKeys, config.dataDir(), clock.nowMs());
      }
      if (server.caAudit != null) {
        server.caAudit.syncAtStart();
      }
      server.app.start(); // on our own connector, which carries the host and port
    } catch (RuntimeException e) {
      // The port is taken, say: stop what the constructor started, and the store with it.
      try {
        server.close();
      } catch (RuntimeException closing) {
        e.addSuppressed(closing);
      }
      throw e;
    }
    long checkMs =
        Math.max(
            10, Math.min(MAX_SILENCE_CHECK_INTERVAL_MS, config.policy().heartbeatTimeoutMs() / 10));
    server.liveness.scheduleWithFixedDelay(
        server::closeSilentSessions, checkMs, checkMs, TimeUnit.MILLISECONDS);
    if (config.tls() != null) {
      server.liveness.scheduleWithFixedDelay(
          server::closeStalledHandshakes, 1, 1, TimeUnit.SECONDS);
    }
    if (server.caAudit != null) {
      server.liveness.scheduleWithFixedDelay(server.caAudit::syncIfChanged, 1, 1, TimeUnit.SECONDS);
    }
    if (server.files != null) {
      server.liveness.scheduleWithFixedDelay(server::tickRollouts, 1, 1, TimeUnit.SECONDS);
    }
    server.startCluster();
    server.alerts.start();
    if (server.revocations != null) {
      long revocationMs = RevocationWatch.CHECK_INTERVAL_MS;
      server.liveness.scheduleWithFixedDelay(
          server.revocations::checkOnTimer, revocationMs, revocationMs, TimeUnit.MILLISECONDS);
    }
    log.info(
        "edgesync server listening on {}:{}{}",
        config.host(),
        server.port(),
        config.tls() == null ? "" : " (mutual TLS: wss:// and https://)");
    return server;
  }

  public int port() {
    return app.port();
  }

  /** Retention of stream records ({@code server.retention}); null on a store without it. */
  public StreamExpiry streamExpiry() {
    return expiry;
  }

  /** The WebSocket URL devices connect to, for a client on this machine. */
  public String syncUrl() {
    return (config.tls() == null ? "ws" : "wss") + "://127.0.0.1:" + port() + "/v1/sync";
  }

  // ---------------------------------------------------------------- mutual TLS

  /** The request attribute (set before the upgrade) that holds the certificate's device id. */
  private static final String CERT_DEVICE_ID = "edgesync.certificateDeviceId";

  /** The request attribute (set before the upgrade) that holds the client certificate. */
  private static final String CLIENT_CERT = "edgesync.clientCertificate";

  private static SSLContext tlsContext(ServerConfig.TlsFiles tls, Supplier<X509CRL> crl) {
    try {
      return TlsContexts.server(
          tls.certFile(), tls.keyFile(), tls.clientCaFile(), crl == null ? () -> null : crl);
    } catch (java.io.IOException | IllegalArgumentException e) {
      throw new IllegalStateException("server.tls: " + e.getMessage(), e);
    }
  }

  /**
   * One HTTPS connector for REST and the device WebSocket. A client certificate is asked for but
   * not required at the handshake (REST clients have none; API keys guard REST), and {@link
   * #requireClientCertificate} demands one on {@code /v1/sync}. A certificate that is presented is
   * checked in full at the handshake: a bad one fails it on any path.
   */
  private Connector tlsConnector(Server server, HttpConfiguration http, SSLContext ssl) {
    SslContextFactory.Server factory = new SslContextFactory.Server();
    factory.setSslContext(ssl);
    factory.setWantClientAuth(true);
    HttpConfiguration https = new HttpConfiguration(http);
    // No SNI host check: the context is built by us, so Jetty's SNI key manager is not in play.
    https.addCustomizer(new SecureRequestCustomizer(false));
    ServerConnector connector =
        new ServerConnector(
            server,
            new SslConnectionFactory(factory, HttpVersion.HTTP_1_1.asString()),
            new HttpConnectionFactory(https));
    if (revocations != null) {
      connector.addBean(revocations.resumedHandshakeCheck());
    }
    connector.addBean(handshakes); // bounds the handshakes in progress (reconnect storms)
    return listening(connector);
  }

  /** The connector on the configured host and port, with room for a reconnect storm. */
  private Connector listening(ServerConnector connector) {
    connector.setHost(config.host());
    connector.setPort(config.port());
    // The JDK's default backlog is 50: a reconnect storm of thousands of TCP connects overflows
    // it, and the kernel drops SYNs that the devices resend only after 1, 3, 7 s... (the kernel
    // caps this at net.core.somaxconn).
    connector.setAcceptQueueSize(ACCEPT_QUEUE_CONNECTIONS);
    return connector;
  }

  /** Before the WebSocket upgrade on a TLS server: the device id comes from its certificate. */
  private static void requireClientCertificate(Context ctx) {
    Object certs = ctx.req().getAttribute("jakarta.servlet.request.X509Certificate");
    if (!(certs instanceof X509Certificate[] chain) || chain.length == 0) {
      throw new UnauthorizedResponse(
          "a client certificate is required on /v1/sync (mutual TLS); none was presented");
    }
    try {
      ctx.attribute(CERT_DEVICE_ID, DeviceIdentity.deviceId(chain[0]));
      ctx.attribute(CLIENT_CERT, chain[0]);
    } catch (IllegalArgumentException e) {
      throw new UnauthorizedResponse("the client certificate names no device: " + e.getMessage());
    }
  }

  public CloudStore store() {
    return store;
  }

  /**
   * Where the first start wrote the admin key ({@code <data-dir>/admin.key}); the file exists only
   * if this server (or an earlier one on the same data) made it.
   */
  public Path adminKeyFile() {
    return config.dataDir().resolve(AdminKeyFile.FILE_NAME);
  }

  public boolean isConnected(String deviceId) {
    return sessionsByDevice.containsKey(deviceId);
  }

  /** Document versions pushed to devices since start. */
  public long docUpdatesSent() {
    long total = docUpdatesSentClosed.get();
    for (CloudSession s : sessionsById.values()) {
      total += s.docUpdatesSent();
    }
    return total;
  }

  /** Sessions closed for a protocol error (with an Error frame) since start. */
  public long sessionsRefused() {
    return sessionsRefused.get();
  }

  /**
   * Sessions closed since start because a newer session of their device, through another node of
   * the same store, took over (a commit was fenced, or the node heard of the newer claim).
   */
  public long sessionsReplaced() {
    return sessionsReplaced.get();
  }

  /**
   * Hellos not handled since start because their connection had closed while they waited for a
   * thread (the device gave up during a storm): no store work was done for them.
   */
  public long hellosOfClosedDropped() {
    return helloOfClosedDropped.get();
  }

  /** TLS handshakes in progress now ({@code server.admission.max_pending_handshakes}). */
  public int handshakesInProgress() {
    return handshakes.pending();
  }

  /** TLS connections closed at once since start because the handshake bound was reached. */
  public long handshakesShed() {
    return handshakes.shed();
  }

  /** TLS connections closed since start because their handshake outlasted its timeout. */
  public long handshakesTimedOut() {
    return handshakes.timedOut();
  }

  /** Sessions closed since start because their client certificate was revoked while open. */
  public long sessionsClosedRevoked() {
    return revocations == null ? 0 : revocations.sessionsClosed();
  }

  /** Hellos refused with RETRY_LATER since start ({@code server.admission}). */
  public long sessionsRetryLater() {
    return admission.refused();
  }

  /** HTTP sessions held (Javalin opens one per WebSocket upgrade; each ends with its request). */
  public long httpSessionsHeld() {
    return upgradeSessions.held();
  }

  /** Sessions closed since start because nothing arrived for longer than the heartbeat timeout. */
  public long sessionsClosedSilent() {
    return sessionsClosedSilent.get();
  }

  /** The document authority (null if the store keeps no documents). */
  public CloudDocuments documents() {
    return docs;
  }

  /** The alerts: active, resolved, and an evaluation on demand (docs/operations.md "Alerts"). */
  public io.edgesync.server.alerts.Alerts alerts() {
    return alerts.alerts();
  }

  /** The trained dictionaries (null if the store keeps none). */
  public CloudDictionaries dictionaries() {
    return dictionaries;
  }

  @Override
  public void close() {
    liveness.shutdownNow();
    alerts.close();
    metrics.close();
    if (leases != null) {
      leases.close(); // releases them: another node takes the work over at once
    }
    bus.close();
    app.stop();
    pusher.shutdownNow();
    if (expiry != null) {
      expiry.close(); // before the store: a run writes to it
    }
    if (files != null) {
      files.close();
    }
    if (dictionaries != null) {
      dictionaries.close(); // before the store: a training writes to it
    }
    if (exporter != null) {
      exporter.close(); // before the store: it reads from it
    }
    store.close();
    closeQuietly(dataDirLock);
  }

  private void pushDocs(java.util.Set<String> scopes) {
    java.util.Set<String> devices = new java.util.HashSet<>();
    for (String scope : scopes) {
      if (scope.equals(CloudDocuments.FLEET)) {
        devices.addAll(sessionsByDevice.keySet());
      } else {
        devices.addAll(docs.store().devicesReading(scope));
      }
    }
    for (String device : devices) {
      CloudSession s = sessionOf(device);
      if (s != null) {
        s.onDocsChanged(clock.nowMs());
      }
    }
  }

  private void pushDictionary(io.edgesync.engine.dict.DictionaryCatalog.StreamDictionary d) {
    for (CloudSession s : sessionsById.values()) {
      s.onDictionary(d);
    }
  }

  private void pushCommands(String device) {
    pusher.execute(
        () -> {
          publish(ClusterEvent.Kind.COMMANDS, List.of(device));
          deliverCommands(device);
        });
  }

  private void deliverCommands(String device) {
    CloudSession s = sessionOf(device);
    if (s != null) {
      s.onCommandsQueued(clock.nowMs());
    }
  }

  // ---------------------------------------------------------------- several nodes

  /** Tells the other nodes sharing the store (none when alone): on the pusher's thread. */
  private void publish(ClusterEvent.Kind kind, java.util.Collection<String> subjects) {
    if (bus != ClusterBus.NONE && !subjects.isEmpty()) {
      bus.publish(new ClusterEvent(config.cluster().nodeId(), kind, List.copyOf(subjects)));
    }
  }

  /** Another node changed something: push it to this node's sessions (on the pusher's thread). */
  private void onClusterEvent(ClusterEvent e) {
    pusher.execute(
        () -> {
          switch (e.kind()) {
            case DOCS -> {
              if (sharedReads != null) {
                sharedReads.changed(e.subjects());
              }
              pushDocs(new java.util.HashSet<>(e.subjects()));
            }
            case COMMANDS -> e.subjects().forEach(this::deliverCommands);
            case FILES -> offerFiles(e.subjects());
            case DICTIONARY -> {
              if (dictionaries != null) {
                dictionaries.reload(); // hands each new one to pushDictionary
              }
            }
            case CLAIMED -> e.subjects().forEach(c -> endReplaced(c, e.node()));
            case RESYNC -> resync();
          }
        });
  }

  /**
   * A device's session was claimed through node {@code node}: this node's session of the device
   * ends if its claim is older ({@code subject} is the device id, a space and the new epoch).
   */
  private void endReplaced(String subject, String node) {
    int space = subject.lastIndexOf(' ');
    if (space < 0) {
      return;
    }
    String device = subject.substring(0, space);
    long epoch = Long.parseLong(subject.substring(space + 1));
    CloudSession s = sessionOf(device);
    if (s != null && s.claimEpoch() < epoch) {
      s.replaced("replaced by a newer session of the device on node " + node);
    }
    if (s == null || s.claimEpoch() < epoch) {
      fleetStatus.forget(device); // its reports go to that node now: this view would go stale
    }
  }

  /** This node may have missed other nodes' events: push whatever may be new to every session. */
  private void resync() {
    if (dictionaries != null) {
      dictionaries.reload();
    }
    if (docs != null) {
      sharedReads.changedAll();
      pushDocs(java.util.Set.of(CloudDocuments.FLEET));
    }
    for (String device : List.copyOf(sessionsByDevice.keySet())) {
      deliverCommands(device);
    }
    offerFiles(List.copyOf(sessionsByDevice.keySet()));
  }

  /** Rollouts admitted these devices (or changed what they offer them): tell their sessions. */
  private void offerFiles(java.util.Collection<String> devices) {
    for (String device : devices) {
      CloudSession s = sessionOf(device);
      if (s != null) {
        s.onFilesOffered(clock.nowMs());
      }
    }
  }

  /**
   * With other nodes on the store: listens to their events, and runs the work that must happen once
   * (rollout admission, dictionary training) only while this node holds its lease.
   */
  private void startCluster() {
    if (leases == null) {
      exportAndExpiryWork().start(0);
      return;
    }
    // Expiry holds back what is not exported yet: with an exporter they run on the same node.
    if (config.export() != null) {
      leases.add("export", exportAndExpiryWork());
    } else if (!config.retention().keepsEverythingForever()) {
      leases.add("expiry", exportAndExpiryWork());
    }
    bus.listen(this::onClusterEvent);
    if (dictionaries != null) {
      dictionaries.training(false);
      leases.add("dictionaries", toggle(dictionaries::training));
    }
    if (files != null) {
      rolloutsHere = false;
      leases.add("rollouts", toggle(on -> rolloutsHere = on));
    }
    leases.start();
  }

  /**
   * The exporter (with {@code export.kafka}) and retention (with {@code server.retention}, holding
   * back what Kafka does not hold yet), started and stopped together.
   */
  private LeaseRunner.Work exportAndExpiryWork() {
    return new LeaseRunner.Work() {
      @Override
      public void start(long epoch) {
        if (config.export() != null) {
          io.edgesync.server.export.KafkaExporter e =
              io.edgesync.server.export.KafkaExporter.start(config.export(), store, clock);
          exporter = e;
          if (expiry != null) {
            expiry.hold(e::exportedThrough);
          }
        }
        if (expiry != null) {
          expiry.start(); // a no-op without retention rules
        }
      }

      @Override
      public void stop() {
        if (expiry != null) {
          expiry.close();
        }
        io.edgesync.server.export.KafkaExporter e = exporter;
        if (e != null) {
          e.close();
        }
      }
    };
  }

  private static LeaseRunner.Work toggle(java.util.function.Consumer<Boolean> on) {
    return new LeaseRunner.Work() {
      @Override
      public void start(long epoch) {
        on.accept(true);
      }

      @Override
      public void stop() {
        on.accept(false);
      }
    };
  }

  private void tickRollouts() {
    if (!rolloutsHere) {
      return; // another node holds the rollouts lease
    }
    try {
      files.tick(clock.nowMs());
    } catch (RuntimeException e) {
      log.error("admitting devices to rollouts failed", e); // the timer keeps running
    }
  }

  /** The cloud's files: versions, rollouts, uploads (null if the store keeps none). */
  public io.edgesync.server.files.CloudFiles files() {
    return files;
  }

  /** The groups a device is in (none without a document store). */
  private List<String> groupsOf(String device) {
    return docs == null ? List.of() : docs.store().groups(device);
  }

  private CloudSession sessionOf(String device) {
    WsContext ctx = sessionsByDevice.get(device);
    return ctx == null ? null : sessionsById.get(ctx.sessionId());
  }

  // ---------------------------------------------------------------- device sessions

  private void onConnect(WsContext ctx) {
    ctx.attribute(CONNECTED_AT_NANOS, System.nanoTime());
    ctx.session.setIdleTimeout(jettyIdleTimeout(config.policy()));
    CloudSession session =
        new CloudSession(
            config.policy(),
            store,
            docs,
            commands,
            new CloudSession.Io() {
              @Override
              public void send(Frame frame) {
                ctx.send(ByteBuffer.wrap(FrameCodec.encode(frame)));
              }

              @Override
              public void close(String reason) {
                sessionsRefused.incrementAndGet();
                log.info("closing session {}: {}", ctx.sessionId(), reason);
                ctx.closeSession(1008, truncate(reason, 120));
              }

              @Override
              public void replaced(String reason) {
                sessionsReplaced.incrementAndGet();
                log.info("closing session {}: {}", ctx.sessionId(), reason);
                ctx.closeSession(1000, truncate(reason, 120));
              }

              @Override
              public void pushed(long lagMs) {
                timers.pushed(lagMs);
              }

              @Override
              public void identified(String deviceId) {
                WsContext previous = sessionsByDevice.put(deviceId, ctx);
                if (previous != null && !previous.sessionId().equals(ctx.sessionId())) {
                  previous.closeSession(1000, "replaced by a newer session of the same device");
                }
              }
            });
    if (dictionaries != null) {
      session.withDictionaries(dictionaries);
    }
    if (enrollment != null) {
      session.withCertificateSigner(enrollment::signForSession);
    }
    session.withStatus(fleetStatus);
    if (files != null) { // the device's rollouts and uploads, once its Hello named it
      session.withFiles(files.outbox(session::deviceId), files.inbox(session::deviceId));
    }
    if (config.tls() != null) {
      String certified = ctx.attribute(CERT_DEVICE_ID);
      if (certified == null) { // the upgrade check ran, so this is a bug: refuse, never admit
        ctx.closeSession(1008, "no client certificate device id");
        return;
      }
      session.requireDeviceId(certified);
      if (revocations != null) {
        revocations.watch(
            ctx.sessionId(),
            ctx.attribute(CLIENT_CERT),
            certified,
            message -> session.closeWithError(ErrorCode.CERTIFICATE_REVOKED, message));
      }
    }
    sessionsById.put(ctx.sessionId(), session);
    silence.watch(
        ctx.sessionId(),
        new SilenceWatch.Connection() {
          @Override
          public long bytesIn() {
            return bytesRead(ctx);
          }

          @Override
          public void onSilent(long silentMs) {
            closeSilent(ctx, silentMs);
          }
        });
  }

  private void onFrame(WsContext ctx, ByteBuffer data) {
    CloudSession session = sessionsById.get(ctx.sessionId());
    if (session == null || revokedNow(ctx)) {
      return;
    }
    byte[] bytes = new byte[data.remaining()];
    data.get(bytes);
    boolean wasHandshaking = session.state() == CloudSession.State.AWAIT_HELLO;
    if (wasHandshaking && !ctx.session.isOpen()) {
      // The device gave up waiting (a storm queued its Hello): its store work would buy nothing.
      helloOfClosedDropped.incrementAndGet();
      return;
    }
    AdmissionControl.Ticket ticket =
        wasHandshaking && AdmissionControl.isHello(bytes)
            ? admission.tryAdmit(System.nanoTime() - (long) ctx.attribute(CONNECTED_AT_NANOS))
            : null;
    if (ticket != null && ticket.refusal() != null) {
      ctx.send(ByteBuffer.wrap(FrameCodec.encode(ticket.refusal())));
      ctx.closeSession(1013, "try again later"); // RFC 6455's code for it
      return;
    }
    silence.handling(ctx.sessionId());
    long startNanos = System.nanoTime();
    try {
      session.onFrame(clock.nowMs(), bytes);
    } finally {
      timers.handled(session.lastFrameKind(), System.nanoTime() - startNanos);
      silence.handled(ctx.sessionId());
      if (ticket != null) {
        ticket.close(); // the Hello was handled: its admission is free again
      }
    }
    if (wasHandshaking && session.state() == CloudSession.State.ACTIVE) {
      alerts.sessionStarted(session.deviceId(), ctx.attribute(CLIENT_CERT));
      if (!session.acceptedCapabilities().contains("status")) {
        // An agent that does not report (any more): an old view would be extrapolated for ever.
        fleetStatus.forget(session.deviceId());
      }
      String claimed = session.deviceId() + " " + session.claimEpoch();
      pusher.execute(() -> publish(ClusterEvent.Kind.CLAIMED, List.of(claimed)));
      if (!sessionsById.containsKey(ctx.sessionId())) {
        // Closed as silent while its Hello was being handled: it must not stay registered.
        sessionsByDevice.remove(session.deviceId(), ctx);
      }
    }
  }

  private void onText(WsContext ctx) {
    CloudSession session = sessionsById.get(ctx.sessionId());
    if (session != null && !revokedNow(ctx)) {
      silence.handling(ctx.sessionId());
      try {
        session.onTextMessage(clock.nowMs());
      } finally {
        silence.handled(ctx.sessionId());
      }
    }
  }

  private void onClose(WsContext ctx) {
    silence.unwatch(ctx.sessionId());
    if (revocations != null) {
      revocations.unwatch(ctx.sessionId());
    }
    CloudSession session = sessionsById.remove(ctx.sessionId());
    if (session != null) {
      ended(ctx, session, clock.nowMs());
    }
  }

  /** A session left the registry: its counters are kept and its device shows as disconnected. */
  private void ended(WsContext ctx, CloudSession session, long lastSeenMs) {
    docUpdatesSentClosed.addAndGet(session.docUpdatesSent());
    String device = session.deviceId();
    session.onClosed(lastSeenMs);
    if (device != null) {
      sessionsByDevice.remove(device, ctx);
    }
  }

  /**
   * Before a frame is handled: a revoked certificate ends the session, and the frame is dropped.
   */
  private boolean revokedNow(WsContext ctx) {
    return revocations != null && revocations.isRevoked(ctx.sessionId());
  }

  private void closeStalledHandshakes() {
    try {
      handshakes.closeStalled();
    } catch (RuntimeException e) {
      log.error("closing stalled TLS handshakes failed", e); // the timer keeps running
    }
  }

  private void closeSilentSessions() {
    try {
      silence.check();
    } catch (RuntimeException e) {
      log.error("checking for silent sessions failed", e); // the timer keeps running
    }
  }

  /**
   * Nothing arrived for longer than the heartbeat timeout. The device shows as disconnected at once
   * (last seen when it was last heard); the close then waits a few seconds for the device's reply,
   * which a device that went away never sends, and drops the connection.
   */
  private void closeSilent(WsContext ctx, long silentMs) {
    CloudSession session = sessionsById.remove(ctx.sessionId());
    if (session == null) {
      return; // closed meanwhile
    }
    sessionsClosedSilent.incrementAndGet();
    String reason =
        "nothing received for "
            + silentMs
            + " ms; the heartbeat timeout is "
            + config.policy().heartbeatTimeoutMs()
            + " ms";
    log.info(
        "closing silent session {} of device {}: {}", ctx.sessionId(), session.deviceId(), reason);
    ended(ctx, session, clock.nowMs() - silentMs);
    try {
      ctx.session.setIdleTimeout(SILENT_CLOSE_GRACE);
      ctx.closeSession(1001, reason);
    } catch (RuntimeException e) {
      log.debug("closing silent session {}", ctx.sessionId(), e);
    }
  }

  /**
   * Bytes read from the connection (every fragment of a frame still arriving counts), or -1 if the
   * transport does not tell: then only whole frames count as heard.
   */
  private static long bytesRead(WsContext ctx) {
    if (ctx.session instanceof org.eclipse.jetty.websocket.common.WebSocketSession ws
        && ws.getCoreSession() instanceof org.eclipse.jetty.websocket.core.WebSocketCoreSession core
        && core.getConnection() != null) {
      return core.getConnection().getBytesIn();
    }
    return -1;
  }

  /**
   * Jetty's own idle timeout (no bytes either way), a backstop: longer than the heartbeat timeout,
   * so that a silent session is closed by the heartbeat rule (counted, with its reason), and a
   * server set to a heartbeat timeout above five minutes keeps its quiet sessions.
   */
  private static Duration jettyIdleTimeout(io.edgesync.engine.cloud.ServerPolicy policy) {
    return Duration.ofMillis(Math.max(5 * 60_000L, 2 * policy.heartbeatTimeoutMs()));
  }

  private static String truncate(String s, int max) {
    return s.length() <= max ? s : s.substring(0, max);
  }

  // ---------------------------------------------------------------- REST

  /** The server's own counts as metrics, read at each scrape (docs/metrics.md). */
  private ServerMetrics metrics() {
    ServerMetrics m =
        new ServerMetrics()
            .gauge("edgesync.sessions", "device sessions open", sessionsByDevice::size)
            .counter(
                "edgesync.sessions.refused",
                "sessions closed for a protocol error or a refusal",
                sessionsRefused::get)
            .counter(
                "edgesync.sessions.closed.silent",
                "sessions closed because nothing arrived for longer than the heartbeat timeout",
                sessionsClosedSilent::get)
            .counter(
                "edgesync.sessions.replaced",
                "sessions ended by a newer session of the same device",
                sessionsReplaced::get)
            .counter(
                "edgesync.hellos.refused",
                "Hellos refused with RETRY_LATER",
                () -> admission.refused() - admission.waitedTooLong(),
                "reason",
                "paced")
            .counter(
                "edgesync.hellos.refused",
                "Hellos refused with RETRY_LATER",
                admission::waitedTooLong,
                "reason",
                "waited_too_long")
            .counter(
                "edgesync.hellos.dropped",
                "Hellos not handled because their connection had closed",
                helloOfClosedDropped::get)
            .counter(
                "edgesync.tls.handshakes.refused",
                "TLS handshakes closed by the bound of handshakes in progress",
                handshakes::shed,
                "reason",
                "shed")
            .counter(
                "edgesync.tls.handshakes.refused",
                "TLS handshakes closed by the bound of handshakes in progress",
                handshakes::timedOut,
                "reason",
                "timed_out")
            .counter(
                "edgesync.store.reconnects",
                "lost PostgreSQL connections replaced",
                () -> store instanceof SqliteCloudStore s ? s.reconnects() : 0);
    if (docs != null) {
      m.counter(
              "edgesync.docs.updates.sent",
              "document versions pushed to devices",
              this::docUpdatesSent)
          .counter(
              "edgesync.docs.clock.drifts",
              "device clocks seen ahead by more than max_clock_drift_ms",
              docs::clockDriftsSeen)
          .counter(
              "edgesync.docs.push.reads",
              "reads of the versions to push, by who answered",
              sharedReads::reads,
              "answered_by",
              "store")
          .counter(
              "edgesync.docs.push.reads",
              "reads of the versions to push, by who answered",
              sharedReads::sharedReads,
              "answered_by",
              "shared");
    }
    m.gauge(
            "edgesync.export.lag.records",
            "sequence numbers committed in exported streams and not exported to Kafka yet; NaN"
                + " without export.kafka or before the exporter read its positions",
            () -> exportStatus(s -> s.lagRecords() == null ? Double.NaN : s.lagRecords()))
        .gauge(
            "edgesync.export.last.export.timestamp.seconds",
            "when the exporter last committed a Kafka transaction (Unix time); NaN without one",
            () ->
                exportStatus(
                    s -> s.lastExportAtMs() <= 0 ? Double.NaN : s.lastExportAtMs() / 1000.0));
    if (store instanceof SqliteCloudStore sqlite) {
      StoreGauges counts =
          new StoreGauges(sqlite, files == null ? null : sqlite.files(), clock, m.registry());
      m.beforeScrape(counts::refresh);
    }
    return m;
  }

  /** A number from the Kafka exporter's status; NaN without an exporter. */
  private double exportStatus(
      java.util.function.ToDoubleFunction<io.edgesync.server.export.KafkaExporter.Status> value) {
    io.edgesync.server.export.KafkaExporter e = exporter;
    return e == null ? Double.NaN : value.applyAsDouble(e.status());
  }

  private void health(Context ctx) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("status", "ok");
    m.put("devicesConnected", sessionsByDevice.size());
    m.put("sessionsRefused", sessionsRefused.get());
    m.put("sessionsClosedSilent", sessionsClosedSilent.get());
    m.put("sessionsReplaced", sessionsReplaced.get());
    m.put("sessionsRetryLater", admission.refused());
    m.put("hellosOfClosedDropped", helloOfClosedDropped.get());
    m.put("hellosWaitedTooLong", admission.waitedTooLong());
    m.put("handshakesShed", handshakes.shed());
    m.put("handshakesTimedOut", handshakes.timedOut());
    m.put("docUpdatesSent", docUpdatesSent());
    m.put("clockDriftsSeen", docs == null ? 0 : docs.clockDriftsSeen());
    m.put("docPatchesApplied", docs == null ? 0 : docs.patchesApplied());
    m.put("pushReads", sharedReads == null ? 0 : sharedReads.reads());
    m.put("pushReadsShared", sharedReads == null ? 0 : sharedReads.sharedReads());
    m.put("storeReconnects", store instanceof SqliteCloudStore s ? s.reconnects() : 0);
    ctx.json(m);
  }

  /**
   * This node among the nodes of its store: its id, its sessions, and every lease with its holder
   * (none for a node alone on its SQLite file).
   */
  private void cluster(Context ctx) {
    List<Map<String, Object>> held = new java.util.ArrayList<>();
    if (leases != null) {
      long now = clock.nowMs();
      for (Leases.Lease l : ((SqliteCloudStore) store).leases().list()) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", l.name());
        m.put("holder", l.holder());
        m.put("epoch", l.epoch());
        m.put("expiresAtMs", l.expiresAtMs());
        m.put("expired", l.expiresAtMs() <= now);
        held.add(m);
      }
    }
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("node", config.cluster().nodeId());
    m.put("shared", leases != null);
    m.put("devicesConnected", sessionsByDevice.size());
    m.put("sessionsReplaced", sessionsReplaced.get());
    m.put("leases", held);
    ctx.json(m);
  }

  /** The capabilities a connected device's session accepted; null when it is not connected. */
  private List<String> capabilitiesOf(String device) {
    CloudSession session = sessionOf(device);
    return session == null ? null : session.acceptedCapabilities();
  }

  private void listDictionaries(Context ctx) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("dictionaries", dictionaries == null ? List.of() : dictionaries.describe());
    out.put("trainings", dictionaries == null ? 0 : dictionaries.trainings());
    out.put("failedTrainings", dictionaries == null ? 0 : dictionaries.failedTrainings());
    ctx.json(out);
  }

  static long longParam(Context ctx, String name, long fallback, long min, long max) {
    String raw = ctx.queryParam(name);
    if (raw == null || raw.isEmpty()) {
      return fallback;
    }
    try {
      long v = Long.parseLong(raw);
      if (v < min || v > max) {
        throw new ApiError(
            400, "query parameter '" + name + "' must be in " + min + ".." + max + ", was " + v);
      }
      return v;
    } catch (NumberFormatException e) {
      throw new ApiError(
          400, "query parameter '" + name + "' must be an integer, was '" + raw + "'");
    }
  }

  static String reasonName(io.edgesync.protocol.wire.GapReason reason) {
    return switch (reason) {
      case GAP_REASON_QUEUE_FULL -> "queue_full";
      case GAP_REASON_EXPIRED -> "expired";
      case GAP_REASON_NOT_RETAINED -> "not_retained";
      default -> "unspecified";
    };
  }

  /**
   * An unexpected failure: 500 with a new error id and nothing else, since an exception's class and
   * message describe internals (SQL, paths, classes). The log has the exception and its stack under
   * the same id, for the operator the client quotes it to.
   */
  private static void internalError(Exception e, Context ctx) {
    String errorId = ErrorIds.next();
    log.error("internal error errorId={} answering {} {}", errorId, ctx.method(), ctx.path(), e);
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("error", "internal error");
    body.put("errorId", errorId);
    ctx.status(500).json(body);
  }

  /** A REST error with its HTTP status; rendered as {@code {"error": message}}. */
  static final class ApiError extends RuntimeException {
    final int status;

    ApiError(int status, String message) {
      super(message);
      this.status = status;
    }
  }
}
