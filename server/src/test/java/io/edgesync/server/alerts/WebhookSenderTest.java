package io.edgesync.server.alerts;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.edgesync.server.alerts.Alert.Severity;
import io.edgesync.testing.FakeClock;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Webhook delivery against a real HTTP receiver on this machine (the JDK's HttpServer): retries
 * after failures, the signature, and drops that are counted, never silent.
 */
class WebhookSenderTest {
  private static final String SECRET = "hook-secret";
  private static final Duration WAIT = Duration.ofSeconds(20);

  private final FakeClock clock = new FakeClock(1_700_000_000_000L);
  private HttpServer receiver;
  private WebhookSender sender;
  private final List<Received> received = new CopyOnWriteArrayList<>();
  private final AtomicInteger attempts = new AtomicInteger();

  private record Received(String event, String delivery, String signature, byte[] body) {}

  @AfterEach
  void stop() {
    if (sender != null) {
      sender.close();
    }
    if (receiver != null) {
      receiver.stop(0);
    }
  }

  /**
   * A receiver that answers {@code failFirst} attempts with {@code failStatus} (0: no answer for
   * two seconds, longer than the tests' timeouts), then 204.
   */
  private URI receiver(int failFirst, int failStatus) throws IOException {
    receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    receiver.createContext(
        "/hook",
        exchange -> {
          byte[] body = exchange.getRequestBody().readAllBytes();
          int n = attempts.incrementAndGet();
          if (n <= failFirst) {
            if (failStatus == 0) {
              sleep(2_000);
            }
            reply(exchange, failStatus == 0 ? 204 : failStatus);
            return;
          }
          received.add(
              new Received(
                  header(exchange, "X-Edgesync-Event"),
                  header(exchange, "X-Edgesync-Delivery"),
                  header(exchange, "X-Edgesync-Signature"),
                  body));
          reply(exchange, 204);
        });
    receiver.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
    receiver.start();
    return URI.create("http://127.0.0.1:" + receiver.getAddress().getPort() + "/hook");
  }

  private static Alert alert(String device) {
    return Alert.of(AlertRule.DEVICE_OFFLINE, device, device, Severity.WARNING, 42, "gone");
  }

  @Test
  void failedAttempts_areRetriedWithBackoff_andTheDeliveryArrivesSigned() throws Exception {
    URI url = receiver(2, 503);
    sender = new WebhookSender(new WebhookSettings(url, 2_000, 4, 20, 10, SECRET), "n1", clock);
    sender.submit(Alerts.Change.FIRED, alert("d1"));
    sender.submit(Alerts.Change.RESOLVED, alert("d1").resolved(99));

    await().atMost(WAIT).until(() -> received.size() == 2);
    assertThat(attempts.get()).as("two 503s, then both delivered").isEqualTo(4);
    assertThat(sender.delivered()).isEqualTo(2);
    assertThat(sender.failedAttempts()).isEqualTo(2);
    for (WebhookSender.Drop d : WebhookSender.Drop.values()) {
      assertThat(sender.dropped(d)).as(d.label()).isZero();
    }

    Received fired = received.get(0);
    assertThat(fired.event()).isEqualTo("fired");
    assertThat(fired.delivery()).isEqualTo("n1/1");
    assertThat(fired.signature()).isEqualTo("sha256=" + hmac(fired.body()));
    JsonNode body = new ObjectMapper().readTree(fired.body());
    assertThat(body.get("event").asText()).isEqualTo("fired");
    assertThat(body.get("alert").get("id").asText()).isEqualTo("device_offline:d1");
    assertThat(body.get("alert").get("severity").asText()).isEqualTo("warning");
    assertThat(body.get("alert").get("sinceMs").asLong()).isEqualTo(42);
    assertThat(body.get("atMs").asLong()).isEqualTo(clock.nowMs());

    Received resolved = received.get(1);
    assertThat(resolved.event()).isEqualTo("resolved");
    assertThat(
            new ObjectMapper().readTree(resolved.body()).get("alert").get("resolvedAtMs").asLong())
        .isEqualTo(99);
    assertThat(resolved.signature()).isEqualTo("sha256=" + hmac(resolved.body()));
  }

  @Test
  void aReceiverDownLongerThanMaxAttempts_isACountedDrop_andTheNextAlertStillGoes()
      throws Exception {
    URI url = receiver(3, 500);
    sender = new WebhookSender(new WebhookSettings(url, 2_000, 3, 10, 10, null), "n1", clock);
    sender.submit(Alerts.Change.FIRED, alert("lost"));
    await().atMost(WAIT).until(() -> sender.dropped(WebhookSender.Drop.ATTEMPTS_EXHAUSTED) == 1);
    assertThat(sender.failedAttempts()).isEqualTo(3);
    assertThat(received).isEmpty();

    sender.submit(Alerts.Change.FIRED, alert("next"));
    await().atMost(WAIT).until(() -> received.size() == 1);
    assertThat(received.get(0).signature()).as("no secret, no signature").isNull();
    assertThat(new String(received.get(0).body(), UTF_8)).contains("device_offline:next");
  }

  @Test
  void anAttemptThatTimesOut_isRetried() throws Exception {
    URI url = receiver(1, 0);
    sender = new WebhookSender(new WebhookSettings(url, 300, 3, 10, 10, null), "n1", clock);
    sender.submit(Alerts.Change.FIRED, alert("slow"));
    await().atMost(WAIT).until(() -> received.size() == 1);
    assertThat(sender.failedAttempts()).isEqualTo(1);
    assertThat(sender.delivered()).isEqualTo(1);
  }

  @Test
  void anUnreachableReceiver_isRetried_thenDroppedAfterItsAttempts() throws Exception {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0)) {
      closedPort = s.getLocalPort(); // nothing listens there once closed
    }
    URI url = URI.create("http://127.0.0.1:" + closedPort + "/hook");
    sender = new WebhookSender(new WebhookSettings(url, 500, 2, 10, 10, null), "n1", clock);
    sender.submit(Alerts.Change.FIRED, alert("d1"));
    await().atMost(WAIT).until(() -> sender.dropped(WebhookSender.Drop.ATTEMPTS_EXHAUSTED) == 1);
    assertThat(sender.failedAttempts()).isEqualTo(2);
  }

  @Test
  void aFullQueue_dropsWhatDoesNotFit_counted() throws Exception {
    URI url = receiver(1_000, 503); // down for the whole test
    sender = new WebhookSender(new WebhookSettings(url, 2_000, 100, 60_000, 1, null), "n1", clock);
    sender.submit(Alerts.Change.FIRED, alert("a"));
    await().atMost(WAIT).until(() -> attempts.get() == 1); // "a" waits for its retry
    sender.submit(Alerts.Change.FIRED, alert("b")); // queued
    sender.submit(Alerts.Change.FIRED, alert("c")); // no room
    assertThat(sender.queued()).isEqualTo(1);
    assertThat(sender.dropped(WebhookSender.Drop.QUEUE_FULL)).isEqualTo(1);
  }

  @Test
  void aClientError_isNotRetried_andCountsAsRejected() throws Exception {
    URI url = receiver(1, 401);
    sender = new WebhookSender(new WebhookSettings(url, 2_000, 5, 10, 10, SECRET), "n1", clock);
    sender.submit(Alerts.Change.FIRED, alert("d1"));
    await().atMost(WAIT).until(() -> sender.dropped(WebhookSender.Drop.REJECTED) == 1);
    assertThat(attempts.get()).isEqualTo(1);
  }

  private static String hmac(byte[] body) throws Exception {
    javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
    mac.init(new javax.crypto.spec.SecretKeySpec(SECRET.getBytes(UTF_8), "HmacSHA256"));
    return java.util.HexFormat.of().formatHex(mac.doFinal(body));
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static String header(HttpExchange e, String name) {
    return e.getRequestHeaders().getFirst(name);
  }

  private static void reply(HttpExchange e, int status) throws IOException {
    e.sendResponseHeaders(status, -1);
    e.close();
  }
}
