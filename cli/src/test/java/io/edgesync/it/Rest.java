package io.edgesync.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** A tiny JSON client for the server's REST API in end-to-end tests. */
final class Rest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http;
  private final String base;

  record Reply(int status, JsonNode body) {}

  Rest(int port) {
    this.http = HttpClient.newHttpClient();
    this.base = "http://127.0.0.1:" + port;
  }

  /** Over HTTPS, trusting what {@code ssl} trusts. */
  Rest(int port, javax.net.ssl.SSLContext ssl) {
    this.http = HttpClient.newBuilder().sslContext(ssl).build();
    this.base = "https://127.0.0.1:" + port;
  }

  Reply get(String path) {
    return send(HttpRequest.newBuilder(URI.create(base + path)).GET());
  }

  Reply put(String path, String json) {
    return send(
        HttpRequest.newBuilder(URI.create(base + path))
            .PUT(HttpRequest.BodyPublishers.ofString(json)));
  }

  Reply post(String path, String json) {
    return send(
        HttpRequest.newBuilder(URI.create(base + path))
            .POST(HttpRequest.BodyPublishers.ofString(json)));
  }

  Reply delete(String path) {
    return send(HttpRequest.newBuilder(URI.create(base + path)).DELETE());
  }

  /** Like get/put/post but fails unless the status is 2xx. */
  JsonNode ok(Reply r) {
    if (r.status() / 100 != 2) {
      throw new AssertionError("HTTP " + r.status() + ": " + r.body());
    }
    return r.body();
  }

  /** Asserts the reply is an error with {@code status} whose message contains {@code part}. */
  static void assertError(Reply r, int status, String part) {
    assertThat(r.status()).as("status of %s", r.body()).isEqualTo(status);
    assertThat(r.body().get("error").asText()).contains(part);
  }

  /**
   * Waits (at most 10 s) until GET {@code path} answers 2xx with {@code field} equal to {@code
   * expected}.
   */
  void awaitField(String path, String field, JsonNode expected) {
    await().atMost(Duration.ofSeconds(10)).until(() -> ok(get(path)).get(field).equals(expected));
  }

  /** As above, for a text field. */
  void awaitField(String path, String field, String expected) {
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> ok(get(path)).get(field).asText().equals(expected));
  }

  static JsonNode json(String text) {
    try {
      return JSON.readTree(text);
    } catch (IOException e) {
      throw new IllegalArgumentException(e);
    }
  }

  private Reply send(HttpRequest.Builder b) {
    try {
      HttpResponse<String> r =
          http.send(
              b.header("Content-Type", "application/json").build(),
              HttpResponse.BodyHandlers.ofString());
      JsonNode body = r.body().isEmpty() ? null : JSON.readTree(r.body());
      return new Reply(r.statusCode(), body);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
