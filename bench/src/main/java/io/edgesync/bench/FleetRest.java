package io.edgesync.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import javax.net.ssl.SSLContext;

/**
 * The fleet bench's operator: writes the fleet document through the server's REST API ({@code PUT
 * /api/v1/fleet/docs/{collection}/{key}}) with an API key, as a cloud application does. Thread safe
 * (java.net.http).
 */
final class FleetRest {
  static final String COLLECTION = "config";
  static final String KEY = "fleet-bench";

  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http;
  private final String baseUrl;
  private final String apiKey;

  /** {@code baseUrl} like {@code https://127.0.0.1:8470}; {@code ssl} null for plain http. */
  FleetRest(String baseUrl, SSLContext ssl, String apiKey) {
    HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10));
    if (ssl != null) {
      b.sslContext(ssl);
    }
    this.http = b.build();
    this.baseUrl = baseUrl;
    this.apiKey = apiKey;
  }

  /**
   * Writes the fleet document {@code {"revision": n}} and returns its new version, trying again for
   * up to {@code patienceSeconds} when the server does not answer in time (right after a restart,
   * its threads are busy with the storm of reconnects and the REST call waits with them, or its
   * handshake is turned away at the bound of handshakes in progress).
   */
  long writeFleetDoc(int revision, double patienceSeconds)
      throws IOException, InterruptedException {
    long deadline = System.nanoTime() + (long) (patienceSeconds * 1e9);
    while (true) {
      try {
        return writeOnce(revision);
      } catch (java.net.http.HttpTimeoutException
          | java.net.ConnectException
          | javax.net.ssl.SSLHandshakeException e) {
        // A TLS server closes handshakes beyond server.admission.max_pending_handshakes at once,
        // the REST API's too: during a storm of device handshakes the write must try again.
        if (System.nanoTime() > deadline) {
          throw e;
        }
        Bench.logf("fleet: the REST write of revision %d: %s; trying again", revision, e);
        Thread.sleep(500);
      }
    }
  }

  private long writeOnce(int revision) throws IOException, InterruptedException {
    HttpRequest req =
        HttpRequest.newBuilder(URI.create(baseUrl + "/api/v1/fleet/docs/" + COLLECTION + "/" + KEY))
            .header("Authorization", "Bearer " + apiKey)
            .header("Content-Type", "application/json")
            .timeout(Duration.ofSeconds(30))
            .PUT(HttpRequest.BodyPublishers.ofString("{\"revision\":" + revision + "}"))
            .build();
    HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200 && r.statusCode() != 201) {
      throw new IOException(
          "PUT of the fleet document answered " + r.statusCode() + ": " + r.body());
    }
    JsonNode version = JSON.readTree(r.body()).get("version");
    if (version == null || !version.canConvertToLong()) {
      throw new IOException("PUT of the fleet document answered no version: " + r.body());
    }
    return version.asLong();
  }
}
