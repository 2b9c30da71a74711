package io.edgesync.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgesync.server.SyncServer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A tiny JSON client for the server's REST API (with an API key) or an agent's local API (without)
 * in end-to-end tests.
 */
final class Rest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http;
  private final String base;
  private final String apiKey; // null: no Authorization header

  record Reply(int status, JsonNode body) {}

  /** A client without a key: for an agent's local API, or to check refusals. */
  Rest(int port) {
    this(port, (String) null);
  }

  /** A client sending {@code apiKey} as its bearer key. */
  Rest(int port, String apiKey) {
    this(HttpClient.newHttpClient(), "http://127.0.0.1:" + port, apiKey);
  }

  /** Over HTTPS, trusting what {@code ssl} trusts, sending {@code apiKey} as its bearer key. */
  Rest(int port, javax.net.ssl.SSLContext ssl, String apiKey) {
    this(HttpClient.newBuilder().sslContext(ssl).build(), "https://127.0.0.1:" + port, apiKey);
  }

  private Rest(HttpClient http, String base, String apiKey) {
    this.http = http;
    this.base = base;
    this.apiKey = apiKey;
  }

  /** A client of {@code server}'s REST API with the admin key its first start wrote. */
  Rest(SyncServer server) {
    this(server.port(), adminKey(server.adminKeyFile()));
  }

  /**
   * A client of the server on {@code port} whose data is in {@code dataDir}, with its admin key.
   */
  static Rest admin(int port, Path dataDir) {
    return new Rest(port, adminKey(dataDir.resolve("admin.key")));
  }

  /** The key in an admin key file. */
  static String adminKey(Path file) {
    try {
      return Files.readString(file).trim();
    } catch (IOException e) {
      throw new IllegalStateException("cannot read the admin key " + file, e);
    }
  }

  /** The same server with another key ({@code null}: none). */
  Rest withKey(String key) {
    return new Rest(http, base, key);
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

  /** A GET whose answer is not JSON (the metrics' text): the response as it came. */
  HttpResponse<String> getText(String path) {
    return exchange(HttpRequest.newBuilder(URI.create(base + path)).GET());
  }

  private Reply send(HttpRequest.Builder b) {
    HttpResponse<String> r = exchange(b.header("Content-Type", "application/json"));
    try {
      return new Reply(r.statusCode(), r.body().isEmpty() ? null : JSON.readTree(r.body()));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private HttpResponse<String> exchange(HttpRequest.Builder b) {
    try {
      if (apiKey != null) {
        b.header("Authorization", "Bearer " + apiKey);
      }
      return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
