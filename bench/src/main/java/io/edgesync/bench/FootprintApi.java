package io.edgesync.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The agent's local HTTP API as the footprint bench uses it: appends ({@code POST
 * /v1/streams/{stream}}) and the Prometheus scrape ({@code GET /metrics}), read into name → value
 * for the unlabelled samples and {@code name{stream="s"}} for the per-stream ones. Thread safe (one
 * JDK HTTP client, connections kept alive).
 */
final class FootprintApi {
  private final URI base;
  private final HttpClient client =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(2))
          .build();

  FootprintApi(int port) {
    this.base = URI.create("http://127.0.0.1:" + port);
  }

  private HttpRequest append(String stream, byte[] body) {
    return HttpRequest.newBuilder(base.resolve("/v1/streams/" + stream))
        .timeout(Duration.ofSeconds(30))
        .header("Content-Type", "application/x-ndjson")
        .POST(HttpRequest.BodyPublishers.ofByteArray(body))
        .build();
  }

  /** The append's HTTP status, or -1 when the agent does not answer (not listening yet). */
  int post(String stream, byte[] body) throws InterruptedException {
    try {
      return client.send(append(stream, body), HttpResponse.BodyHandlers.discarding()).statusCode();
    } catch (IOException e) {
      return -1;
    }
  }

  CompletableFuture<Integer> postAsync(String stream, byte[] body) {
    return client
        .sendAsync(append(stream, body), HttpResponse.BodyHandlers.discarding())
        .thenApply(HttpResponse::statusCode);
  }

  /** The scrape's samples; empty when the agent does not answer. */
  Map<String, Double> metrics() {
    Map<String, Double> out = new HashMap<>();
    try {
      HttpResponse<String> r =
          client.send(
              HttpRequest.newBuilder(base.resolve("/metrics"))
                  .timeout(Duration.ofSeconds(10))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200) {
        return out;
      }
      for (String line : r.body().split("\n")) {
        int sp = line.lastIndexOf(' ');
        if (line.startsWith("#") || sp < 0) {
          continue;
        }
        try {
          out.put(line.substring(0, sp), Double.parseDouble(line.substring(sp + 1)));
        } catch (NumberFormatException e) {
          // NaN or a value this reader does not need
        }
      }
    } catch (IOException e) {
      return out;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return out;
  }
}
