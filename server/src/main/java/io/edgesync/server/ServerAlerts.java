package io.edgesync.server;

import io.edgesync.engine.cloud.CloudSession;
import io.edgesync.engine.cloud.CloudStore;
import io.edgesync.engine.docs.CloudDocuments;
import io.edgesync.engine.docs.DocumentStore;
import io.edgesync.protocol.Clock;
import io.edgesync.server.alerts.Alert;
import io.edgesync.server.alerts.AlertInputs;
import io.edgesync.server.alerts.AlertRule;
import io.edgesync.server.alerts.AlertSettings;
import io.edgesync.server.alerts.Alerts;
import io.edgesync.server.alerts.DeviceCertificates;
import io.edgesync.server.alerts.DeviceReports;
import io.edgesync.server.alerts.WebhookSender;
import io.edgesync.server.export.KafkaExporter;
import io.edgesync.server.files.CloudFiles;
import io.edgesync.server.files.FileStore;
import io.edgesync.server.files.RolloutState;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.javalin.websocket.WsContext;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * The server's alerts wired to its parts: the rules read its store, sessions, conflicts, rollouts,
 * export and the certificates its devices presented ({@link AlertInputs}); {@code GET
 * /api/v1/alerts}; the {@code edgesync_alerts_*} metrics; the webhook. Built once per server.
 *
 * <p>Thread safe: the timer evaluates, REST and metrics read, sessions record certificates.
 */
final class ServerAlerts implements AutoCloseable {
  /** The server's parts the rules read; each of docs, files and exporter may be (or hold) null. */
  record Parts(
      CloudStore store,
      Predicate<String> isConnected,
      Map<String, WsContext> sessionsByDevice,
      Map<String, CloudSession> sessionsById,
      CloudDocuments docs,
      CloudFiles files,
      Supplier<KafkaExporter> exporter,
      DeviceReports reports) {}

  private final AlertSettings settings;
  private final Clock clock;
  private final DeviceCertificates certificates = new DeviceCertificates();
  private final WebhookSender webhook; // null: no webhook
  private final Alerts alerts;
  private final ScheduledExecutorService timer =
      Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("edgesync-alerts"));

  ServerAlerts(AlertSettings settings, Parts parts, String node, Clock clock) {
    this.settings = settings;
    this.clock = clock;
    this.webhook =
        settings.enabled() && settings.webhook() != null
            ? new WebhookSender(settings.webhook(), node, clock)
            : null;
    this.alerts =
        new Alerts(
            settings,
            new Inputs(parts),
            clock,
            (change, alert) -> {
              if (webhook != null) {
                webhook.submit(change, alert);
              }
            });
  }

  /** The alerts (for tests and the dashboard: evaluate, active, resolved). */
  Alerts alerts() {
    return alerts;
  }

  /** A device's session passed its Hello presenting {@code cert} (null without mutual TLS). */
  void sessionStarted(String device, X509Certificate cert) {
    certificates.record(device, cert);
  }

  void register(RoutesConfig routes) {
    routes.get("/api/v1/alerts", this::list);
  }

  /**
   * Evaluates every {@code interval_ms}, from the first interval on, on a thread of its own: the
   * store reads of an evaluation must not delay the liveness checks.
   */
  void start() {
    if (settings.enabled()) {
      long ms = settings.intervalMs();
      timer.scheduleWithFixedDelay(alerts::evaluateOnTimer, ms, ms, TimeUnit.MILLISECONDS);
    }
  }

  void registerMetrics(ServerMetrics m) {
    for (AlertRule rule : AlertRule.values()) {
      m.gauge(
          "edgesync.alerts.active",
          "alerts active now, by rule",
          () -> alerts.activeCount(rule),
          "rule",
          rule.label());
    }
    m.counter(
        "edgesync.alerts.evaluation.failures",
        "alert evaluations that failed (logged)",
        alerts::failures);
    m.counter(
        "edgesync.alerts.webhook.delivered",
        "alert changes the webhook receiver took",
        () -> webhook == null ? 0 : webhook.delivered());
    m.counter(
        "edgesync.alerts.webhook.failed.attempts",
        "webhook attempts that failed (each may be retried)",
        () -> webhook == null ? 0 : webhook.failedAttempts());
    for (WebhookSender.Drop d : WebhookSender.Drop.values()) {
      m.counter(
          "edgesync.alerts.webhook.dropped",
          "alert changes not delivered to the webhook, by reason",
          () -> webhook == null ? 0 : webhook.dropped(d),
          "reason",
          d.label());
    }
    m.gauge(
        "edgesync.alerts.webhook.queued",
        "alert changes waiting for delivery",
        () -> webhook == null ? 0 : webhook.queued());
    m.gauge(
        "edgesync.device.certificates.earliest.expiry.timestamp.seconds",
        "the soonest notAfter among the device certificates this node saw at a Hello (Unix"
            + " time); NaN before any (plain connections, or no session yet)",
        () ->
            certificates.notAfterMs().values().stream().mapToLong(Long::longValue).min().stream()
                .mapToDouble(ms -> ms / 1000.0)
                .findFirst()
                .orElse(Double.NaN));
  }

  private void list(Context ctx) {
    String state = ctx.queryParam("state");
    List<Alert> shown;
    if (state == null || state.equals("active")) {
      shown = alerts.active();
    } else if (state.equals("resolved")) {
      shown = alerts.resolved();
    } else {
      throw new SyncServer.ApiError(
          400, "query parameter 'state' must be active or resolved, was '" + state + "'");
    }
    List<Map<String, Object>> out = new ArrayList<>();
    for (Alert a : shown) {
      out.add(a.toJson());
    }
    ctx.json(Map.of("alerts", out));
  }

  @Override
  public void close() {
    timer.shutdownNow();
    try { // an evaluation under way reads the store, which closes next
      timer.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (webhook != null) {
      webhook.close();
    }
  }

  /** What the rules read, from the server's parts (on the timer's thread). */
  private final class Inputs implements AlertInputs {
    private final Parts p;
    private KafkaExporter exporterSeen; // timer thread only
    private long exporterSeenAtMs;

    Inputs(Parts parts) {
      this.p = parts;
    }

    @Override
    public List<Device> devices() {
      List<Device> out = new ArrayList<>();
      for (CloudStore.Device d : p.store().devices()) {
        long seen = Math.max(d.lastSeenMs(), d.registeredAtMs());
        out.add(new Device(d.id(), seen, p.isConnected().test(d.id())));
      }
      return out;
    }

    @Override
    public Map<String, SessionProgress> sessions() {
      Map<String, SessionProgress> out = new HashMap<>();
      for (Map.Entry<String, WsContext> e : p.sessionsByDevice().entrySet()) {
        String id = e.getValue().sessionId();
        CloudSession s = p.sessionsById().get(id);
        if (s != null) {
          long progress = s.recordsCommitted() + s.docUpdatesSent();
          out.put(e.getKey(), new SessionProgress(id, progress, s.wireRawBytes()));
        }
      }
      return out;
    }

    @Override
    public Map<String, DeviceReports.Report> reports() {
      return p.reports().latest();
    }

    @Override
    public List<Long> openConflictsCreatedMs(int limit) {
      if (p.docs() == null) {
        return List.of();
      }
      List<Long> out = new ArrayList<>();
      for (DocumentStore.ConflictRecord c :
          p.docs()
              .store()
              .conflicts(new DocumentStore.ConflictFilter("open", null, null, 0, limit))) {
        out.add(c.createdMs());
      }
      return out;
    }

    @Override
    public Map<String, Long> certificateNotAfterMs() {
      return certificates.notAfterMs();
    }

    @Override
    public List<PausedRollout> pausedRollouts() {
      if (p.files() == null) {
        return List.of();
      }
      List<PausedRollout> out = new ArrayList<>();
      for (FileStore.Rollout r : p.files().store().rollouts(CloudFiles.MAX_LISTED_ROLLOUTS)) {
        if (r.state() == RolloutState.PAUSED) {
          out.add(new PausedRollout(r.id(), r.path(), r.version(), r.reason(), r.updatedAtMs()));
        }
      }
      return out;
    }

    @Override
    public Export export() {
      KafkaExporter e = p.exporter().get();
      if (e == null) {
        return null;
      }
      if (e != exporterSeen) { // the time it started, as far as the alerts can tell
        exporterSeen = e;
        exporterSeenAtMs = clock.nowMs();
      }
      KafkaExporter.Status s = e.status();
      return new Export(s.lagRecords(), s.lastExportAtMs(), exporterSeenAtMs, s.lastError());
    }
  }
}
