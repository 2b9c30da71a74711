package io.edgesync.it;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.edgesync.agent.EdgeAgent;
import io.edgesync.protocol.Clock;
import io.edgesync.protocol.FrameCodec;
import io.edgesync.protocol.Hlc;
import io.edgesync.protocol.Record;
import io.edgesync.protocol.wire.DocChange;
import io.edgesync.protocol.wire.Frame;
import io.edgesync.security.DeviceIdentity;
import io.edgesync.security.KeyAndCertificate;
import io.edgesync.security.ReleaseKey;
import io.edgesync.server.ServerConfig;
import io.edgesync.server.SqliteCloudStore;
import io.edgesync.server.SyncServer;
import io.edgesync.server.alerts.Alert;
import io.edgesync.server.alerts.AlertSettings;
import io.edgesync.server.files.CloudFiles;
import io.edgesync.server.files.FileStore;
import io.edgesync.testing.FakeClock;
import java.io.ByteArrayInputStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server's alerts end to end: a real server on a fake clock (its evaluations are driven by the
 * test; the timer is set to an hour), real agents and devices over sockets, real SQLite, REST and
 * metrics over HTTP, and the webhook against a real HTTP receiver on this machine.
 */
class AlertsTest {
  private static final long HOUR_MS = 3_600_000;
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;
  private final FakeClock clock = new FakeClock(System.currentTimeMillis());
  private SyncServer server;
  private EdgeAgent agent;
  private HttpServer receiver;

  @AfterEach
  void stop() throws Exception {
    Testbed.closeAll(agent, server);
    if (receiver != null) {
      receiver.stop(0);
    }
  }

  private SyncServer start(String serverYaml, String moreYaml) throws Exception {
    ServerConfig c =
        ServerConfig.fromYaml(
            "server:\n  port: 0\n  host: 127.0.0.1\n  data_dir: \""
                + dir.resolve("cloud")
                + "\"\n"
                + serverYaml
                + moreYaml);
    return SyncServer.start(
        c, new SqliteCloudStore(dir.resolve("cloud").resolve(SyncServer.STORE_FILE)), clock);
  }

  @Test
  void deviceOffline_firesToRestMetricsAndTheWebhook_andResolvesWhenTheDeviceIsBack()
      throws Exception {
    List<JsonNode> hooks = new CopyOnWriteArrayList<>();
    List<String> signatures = new CopyOnWriteArrayList<>();
    AtomicInteger attempts = new AtomicInteger();
    receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    receiver.createContext(
        "/hook",
        ex -> {
          byte[] body = ex.getRequestBody().readAllBytes();
          if (attempts.incrementAndGet() == 1) {
            ex.sendResponseHeaders(503, -1); // the first attempt fails: the server retries
          } else {
            hooks.add(JSON.readTree(body));
            String sig = ex.getRequestHeaders().getFirst("X-Edgesync-Signature");
            signatures.add(sig.equals("sha256=" + hmac("s3cret", body)) ? "ok" : sig);
            ex.sendResponseHeaders(200, -1);
          }
          ex.close();
        });
    receiver.start();
    Files.writeString(dir.resolve("hook.secret"), "s3cret\n");
    server =
        start(
            "  alerts:\n    interval_ms: 3600000\n    device_offline_ms: 600000\n"
                + "    webhook: {url: \"http://127.0.0.1:"
                + receiver.getAddress().getPort()
                + "/hook\", backoff_ms: 20, secret_file: \""
                + dir.resolve("hook.secret")
                + "\"}\n",
            "");
    Rest rest = new Rest(server);

    agent = Testbed.documentAgent("gw-1", server.port(), Clock.SYSTEM, dir);
    await().atMost(WAIT).until(() -> server.isConnected("gw-1"));
    clock.advance(2 * HOUR_MS);
    server.alerts().evaluate();
    assertThat(alerts(rest, "")).as("connected: not offline").isEmpty();

    agent.close();
    agent = null;
    await().atMost(WAIT).until(() -> !server.isConnected("gw-1"));
    long lastSeen = clock.nowMs();
    clock.advance(11 * 60_000);
    server.alerts().evaluate();

    JsonNode a = alerts(rest, "").get(0);
    assertThat(a.get("id").asText()).isEqualTo("device_offline:gw-1");
    assertThat(a.get("rule").asText()).isEqualTo("device_offline");
    assertThat(a.get("device").asText()).isEqualTo("gw-1");
    assertThat(a.get("severity").asText()).isEqualTo("warning");
    assertThat(a.get("sinceMs").asLong()).isEqualTo(lastSeen + 600_000);
    assertThat(a.get("message").asText()).contains("gw-1 offline for 11m");
    assertThat(metric("edgesync_alerts_active{rule=\"device_offline\"}")).isEqualTo(1);
    assertThat(metric("edgesync_alerts_active{rule=\"conflicts_open\"}")).isZero();
    await().atMost(WAIT).until(() -> hooks.size() == 1);
    assertThat(hooks.get(0).get("event").asText()).isEqualTo("fired");
    assertThat(hooks.get(0).get("alert").get("id").asText()).isEqualTo("device_offline:gw-1");
    assertThat(signatures).containsExactly("ok");

    agent = Testbed.documentAgent("gw-1", server.port(), Clock.SYSTEM, dir);
    await().atMost(WAIT).until(() -> server.isConnected("gw-1"));
    server.alerts().evaluate();
    assertThat(alerts(rest, "?state=active")).isEmpty();
    JsonNode resolved = alerts(rest, "?state=resolved").get(0);
    assertThat(resolved.get("id").asText()).isEqualTo("device_offline:gw-1");
    assertThat(resolved.get("resolvedAtMs").asLong()).isEqualTo(clock.nowMs());
    assertThat(metric("edgesync_alerts_active{rule=\"device_offline\"}")).isZero();
    await().atMost(WAIT).until(() -> hooks.size() == 2);
    assertThat(hooks.get(1).get("event").asText()).isEqualTo("resolved");
    assertThat(signatures).containsExactly("ok", "ok");
    assertThat(metric("edgesync_alerts_webhook_delivered_total")).isEqualTo(2);
    assertThat(metric("edgesync_alerts_webhook_failed_attempts_total")).isEqualTo(1);

    Rest.assertError(rest.get("/api/v1/alerts?state=open"), 400, "'state' must be active or");
    assertThat(rest.withKey(null).get("/api/v1/alerts").status()).isEqualTo(401);
  }

  @Test
  void openConflictsAndPausedRollouts_areReadFromTheServersStore() throws Exception {
    Path releaseKey = dir.resolve("release.key");
    ReleaseKey.writePrivateKey(releaseKey, ReleaseKey.generate().getPrivate());
    server =
        start(
            "  alerts: {interval_ms: 3600000, max_open_conflicts: 1}\n"
                + "  files: {release_key_file: \""
                + releaseKey
                + "\"}\n",
            "documents: {collections: {mn: {strategy: manual}}, device_writable: [\"fleet/*\"]}\n");
    server.store().registerDevice("gw-1", clock.nowMs());
    server.store().registerDevice("gw-2", clock.nowMs());
    server.documents().put("fleet", "mn", "k1", "{\"v\":0}".getBytes(UTF_8), null);
    server.documents().put("fleet", "mn", "k2", "{\"v\":0}".getBytes(UTF_8), null);
    server.documents().put("fleet", "mn", "k1", "{\"v\":1}".getBytes(UTF_8), null);
    server.documents().put("fleet", "mn", "k2", "{\"v\":1}".getBytes(UTF_8), null);
    server.alerts().evaluate();
    assertThat(server.alerts().active()).isEmpty();

    server.documents().applyEdgeChanges("gw-1", List.of(edit(1, "k1", 1, "gw-1")));
    server.alerts().evaluate();
    assertThat(server.alerts().active()).as("one open conflict is not above 1").isEmpty();
    server.documents().applyEdgeChanges("gw-2", List.of(edit(1, "k2", 2, "gw-2")));
    server.alerts().evaluate();
    assertThat(server.alerts().active()).extracting(Alert::id).containsExactly("conflicts_open");

    CloudFiles files = server.files();
    long version =
        files
            .publish(
                new CloudFiles.PublishRequest("fw/app.bin", Map.of(), null, null, null, "test"),
                new ByteArrayInputStream(new byte[] {1, 2, 3}),
                clock.nowMs())
            .header()
            .getVersion();
    FileStore.Rollout r =
        files.createRollout(
            new CloudFiles.RolloutRequest(
                "fw/app.bin", version, FileStore.TargetKind.FLEET, null, 10, 0.5, 1),
            "test",
            clock.nowMs());
    files.pause(r.id(), "held for review", "test", clock.nowMs());
    server.alerts().evaluate();
    Alert paused = server.alerts().active().get(1);
    assertThat(paused.id()).isEqualTo("rollout_paused:" + r.id());
    assertThat(paused.message()).contains("fw/app.bin").contains("held for review");

    files.resume(r.id(), "test", clock.nowMs());
    server.alerts().evaluate();
    assertThat(server.alerts().active()).extracting(Alert::id).containsExactly("conflicts_open");
  }

  @Test
  void certificateExpiry_isRecordedFromTheCertificateASessionPresents() throws Exception {
    TestPki pki = TestPki.create(dir);
    server =
        SyncServer.start(
            Testbed.serverConfig(dir, 0)
                .withTls(pki.serverTls())
                .withAlerts(AlertSettings.defaults().withIntervalMs(HOUR_MS)),
            new SqliteCloudStore(dir.resolve("cloud").resolve(SyncServer.STORE_FILE)),
            clock);
    KeyAndCertificate month = pki.ca().issueDevice("gw-month", Duration.ofDays(30));
    KeyAndCertificate days = pki.ca().issueDevice("gw-days", Duration.ofDays(3));
    for (KeyAndCertificate kc : List.of(month, days)) {
      String device = DeviceIdentity.deviceId(kc.certificate());
      RawClient c = RawClient.connect(server.syncUrl(), pki.deviceContext(kc));
      c.send(Frame.newBuilder().setHello(RawClient.hello(device)));
      assertThat(c.next().hasWelcome()).isTrue();
    }
    // The certificate is recorded right after the Hello is handled, as the Welcome goes out.
    await()
        .atMost(WAIT)
        .until(
            () -> {
              server.alerts().evaluate();
              return !server.alerts().active().isEmpty();
            });
    Alert soon = server.alerts().active().get(0);
    assertThat(server.alerts().active()).hasSize(1);
    assertThat(soon.id()).isEqualTo("cert_expiring:gw-days");
    assertThat(soon.severity()).isEqualTo(Alert.Severity.WARNING);
    long notAfter = days.certificate().getNotAfter().getTime();
    assertThat(soon.sinceMs()).isEqualTo(notAfter - Duration.ofDays(7).toMillis());

    clock.set(notAfter - HOUR_MS); // its last day: critical, the same alert
    server.alerts().evaluate();
    Alert now = server.alerts().active().get(0);
    assertThat(now.id()).isEqualTo("cert_expiring:gw-days");
    assertThat(now.severity()).isEqualTo(Alert.Severity.CRITICAL);
    assertThat(now.sinceMs()).isEqualTo(soon.sinceMs());
  }

  @Test
  void deviceStalled_whenBatchesArriveAndNothingIsStored_andClearedByTheNextRecord()
      throws Exception {
    server = start("  alerts: {interval_ms: 3600000, stalled_ms: 900000}\n", "");
    RawClient c = RawClient.welcomed(server.syncUrl(), RawClient.hello("gw-s"));
    sendBatch(c, 1, 2);
    server.alerts().evaluate();

    clock.advance(16 * 60_000);
    sendBatch(c, 1, 2); // a resend: the store skips it, nothing moves
    server.alerts().evaluate();
    Alert stalled = server.alerts().active().get(0);
    assertThat(stalled.id()).isEqualTo("device_stalled:gw-s");
    assertThat(stalled.message()).contains("without progress for 16m", "batches arriving");

    sendBatch(c, 3, 3);
    server.alerts().evaluate();
    assertThat(server.alerts().active()).isEmpty();
  }

  /** Sends records {@code first..last} of stream {@code temp} and waits for their ack. */
  private static void sendBatch(RawClient c, long first, long last) throws Exception {
    List<Record> records = new java.util.ArrayList<>();
    for (long s = first; s <= last; s++) {
      records.add(new Record(s, 0, ("{\"n\":" + s + "}").getBytes(UTF_8)));
    }
    c.send(Frame.newBuilder().setBatch(FrameCodec.batch("temp", records)));
    Frame ack = c.next();
    assertThat(ack.hasAck()).as(ack.toString()).isTrue();
  }

  /** A device's edit of fleet {@code mn/key} made on {@code base}. */
  private DocChange edit(long seq, String key, long base, String device) {
    return DocChange.newBuilder()
        .setChangeSeq(seq)
        .setScope("fleet")
        .setCollection("mn")
        .setKey(key)
        .setBaseVersion(base)
        .setHlc(new Hlc(clock.nowMs(), 0, device).toWire())
        .setValue(com.google.protobuf.ByteString.copyFromUtf8("{\"v\":\"" + device + "\"}"))
        .build();
  }

  private static JsonNode alerts(Rest rest, String query) {
    JsonNode body = rest.ok(rest.get("/api/v1/alerts" + query));
    return body.get("alerts");
  }

  private double metric(String sample) {
    String text = new Rest(server).getText("/api/v1/metrics").body();
    Matcher m = Pattern.compile("(?m)^" + Pattern.quote(sample) + " ([0-9.eE+-]+)$").matcher(text);
    return m.find() ? Double.parseDouble(m.group(1)) : -1;
  }

  private static String hmac(String secret, byte[] body) {
    try {
      javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
      mac.init(new javax.crypto.spec.SecretKeySpec(secret.getBytes(UTF_8), "HmacSHA256"));
      return java.util.HexFormat.of().formatHex(mac.doFinal(body));
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }
}
