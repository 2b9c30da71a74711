package io.edgesync.server.alerts;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgesync.protocol.Clock;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicLong;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers alerts to {@code server.alerts.webhook}: one POST of JSON per alert that fires or
 * resolves, in the order they happened, on a thread of its own.
 *
 * <pre>
 * POST url
 * Content-Type: application/json
 * X-Edgesync-Event: fired | resolved
 * X-Edgesync-Delivery: node/n                       (the same on every attempt: deduplicate on it)
 * X-Edgesync-Signature: sha256=hex(HMAC-SHA256(secret, body))   (with secret_file only)
 *
 * {"event": "fired", "deliveryId": "node/n", "node": "node", "atMs": n, "alert": {...}}
 * </pre>
 *
 * <p>An attempt that fails (connection refused, {@code timeout_ms} passed, a 5xx, 408 or 429) is
 * retried after {@code backoff_ms}, doubling with each failure, up to {@code max_attempts}; then
 * the alert is dropped. Any other 4xx drops it at once (the receiver refused it, a retry would get
 * the same). While one alert is retried the next ones wait, at most {@code max_queued} of them; an
 * alert beyond that is dropped. Every drop is counted by reason and logged: never silent.
 *
 * <p>Thread safe: {@link #submit} from any thread; delivery on its own thread.
 */
public final class WebhookSender implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(WebhookSender.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Why an alert was not delivered (the metric's {@code reason}). */
  public enum Drop {
    QUEUE_FULL,
    ATTEMPTS_EXHAUSTED,
    REJECTED;

    public String label() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  private record Delivery(String id, String event, String alertId, byte[] body) {
    String what() {
      return alertId + " " + event;
    }
  }

  private final WebhookSettings settings;
  private final byte[] secret; // null: unsigned
  private final String node;
  private final Clock clock;
  private final HttpClient http;
  private final BlockingQueue<Delivery> queue;
  private final Thread thread;
  private final AtomicLong next = new AtomicLong();
  private final AtomicLong delivered = new AtomicLong();
  private final AtomicLong failedAttempts = new AtomicLong();
  private final Map<Drop, AtomicLong> dropped = new java.util.EnumMap<>(Drop.class);
  private volatile boolean closed;

  public WebhookSender(WebhookSettings settings, String node, Clock clock) {
    this.settings = settings;
    this.secret =
        settings.secret() == null ? null : settings.secret().getBytes(StandardCharsets.UTF_8);
    this.node = node;
    this.clock = clock;
    this.http =
        HttpClient.newBuilder()
            .connectTimeout(Duration.ofMillis(settings.timeoutMs()))
            .followRedirects(HttpClient.Redirect.NEVER)
            .build();
    this.queue = new LinkedBlockingQueue<>(settings.maxQueued());
    for (Drop d : Drop.values()) {
      dropped.put(d, new AtomicLong());
    }
    this.thread = new Thread(this::run, "edgesync-alert-webhook");
    thread.setDaemon(true);
    thread.start();
  }

  /** Queues the delivery of {@code alert}'s change; drops it (counted) if the queue is full. */
  public void submit(Alerts.Change change, Alert alert) {
    String event = change == Alerts.Change.FIRED ? "fired" : "resolved";
    String id = node + "/" + next.incrementAndGet();
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("event", event);
    body.put("deliveryId", id);
    body.put("node", node);
    body.put("atMs", clock.nowMs());
    body.put("alert", alert.toJson());
    byte[] bytes;
    try {
      bytes = JSON.writeValueAsBytes(body);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("alert JSON", e); // plain maps of strings and numbers
    }
    if (!queue.offer(new Delivery(id, event, alert.id(), bytes))) {
      drop(
          Drop.QUEUE_FULL,
          id,
          alert.id() + " " + event,
          "max_queued " + settings.maxQueued() + " reached");
    }
  }

  private void run() {
    while (!closed) {
      Delivery d;
      try {
        d = queue.take();
      } catch (InterruptedException e) {
        return;
      }
      try {
        deliver(d);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  private void deliver(Delivery d) throws InterruptedException {
    for (int attempt = 1; ; attempt++) {
      String failure = attempt(d);
      if (failure == null) {
        delivered.incrementAndGet();
        return;
      }
      failedAttempts.incrementAndGet();
      if (failure.startsWith("refused")) {
        drop(Drop.REJECTED, d.id(), d.what(), failure);
        return;
      }
      if (attempt >= settings.maxAttempts()) {
        drop(
            Drop.ATTEMPTS_EXHAUSTED,
            d.id(),
            d.what(),
            attempt + " attempts failed, the last: " + failure);
        return;
      }
      long waitMs = settings.backoffAfter(attempt);
      log.info(
          "alert webhook delivery {} attempt {} failed ({}); retrying in {} ms",
          d.id(),
          attempt,
          failure,
          waitMs);
      Thread.sleep(waitMs);
    }
  }

  /** One POST: null when the receiver took it, else why not ("refused ..." when final). */
  private String attempt(Delivery d) throws InterruptedException {
    HttpRequest.Builder req =
        HttpRequest.newBuilder(settings.url())
            .timeout(Duration.ofMillis(settings.timeoutMs()))
            .header("Content-Type", "application/json")
            .header("X-Edgesync-Event", d.event())
            .header("X-Edgesync-Delivery", d.id())
            .POST(HttpRequest.BodyPublishers.ofByteArray(d.body()));
    if (secret != null) {
      req.header("X-Edgesync-Signature", "sha256=" + sign(secret, d.body()));
    }
    try {
      int status = http.send(req.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
      if (status >= 200 && status < 300) {
        return null;
      }
      boolean retry = status >= 500 || status == 408 || status == 429;
      return (retry ? "HTTP " : "refused with HTTP ") + status;
    } catch (IOException e) {
      return e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
    }
  }

  /** The hex HMAC-SHA256 of {@code body} under {@code secret}: what the signature header holds. */
  public static String sign(byte[] secret, byte[] body) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret, "HmacSHA256"));
      return HexFormat.of().formatHex(mac.doFinal(body));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
    }
  }

  private void drop(Drop reason, String id, String what, String why) {
    dropped.get(reason).incrementAndGet();
    log.warn("alert webhook: dropped delivery {} ({}): {}", id, what, why);
  }

  public long delivered() {
    return delivered.get();
  }

  public long failedAttempts() {
    return failedAttempts.get();
  }

  public long dropped(Drop reason) {
    return dropped.get(reason).get();
  }

  public int queued() {
    return queue.size();
  }

  @Override
  public void close() {
    closed = true;
    thread.interrupt();
    int left = queue.size();
    if (left > 0) {
      log.warn("alert webhook: {} deliveries not made at shutdown", left);
    }
  }
}
