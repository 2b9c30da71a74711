package io.edgesync.cli;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** A small HTTP client for the CLI's calls to a server's REST API or an agent's local API. */
final class ServerApi {
  record Reply(int status, String body) {
    boolean ok() {
      return status / 100 == 2;
    }
  }

  /** Nothing answered at the URL. */
  static final class Unreachable extends Exception {
    Unreachable(String url) {
      super("nothing answers at " + url + " (is it running?)");
    }
  }

  private final HttpClient client;
  private final String apiKey; // null: no Authorization header (an agent's local API)

  static final String CA_FILE_DESCRIPTION =
      "With an https --server: the CA its certificate chains to (e.g. ca.pem; default: the JDK's"
          + " trusted CAs)";

  /**
   * A client of a server's REST API sending {@code apiKey}; over HTTPS it trusts the CA
   * certificates in {@code caFile} (null: the JDK's trusted CAs).
   */
  static ServerApi toServer(String apiKey, java.nio.file.Path caFile) throws IOException {
    return new ServerApi(apiKey, caFile == null ? null : trusting(caFile));
  }

  /** A TLS context that trusts the CA certificates in {@code caFile}. */
  static javax.net.ssl.SSLContext trusting(java.nio.file.Path caFile) throws IOException {
    return io.edgesync.security.TlsContexts.trusting(
        io.edgesync.security.Pem.readCertificates(caFile));
  }

  /** A client without a key, for an agent's local API. */
  ServerApi() {
    this(null);
  }

  /** A client that sends {@code apiKey} (if not null) as its bearer key. */
  ServerApi(String apiKey) {
    this(apiKey, null);
  }

  /** As above, over HTTPS trusting {@code ssl}'s CAs (null: the JDK's defaults). */
  ServerApi(String apiKey, javax.net.ssl.SSLContext ssl) {
    this.apiKey = apiKey;
    HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5));
    if (ssl != null) {
      b.sslContext(ssl);
    }
    this.client = b.build();
  }

  Reply get(String url) throws Unreachable, IOException, InterruptedException {
    return send(url, HttpRequest.newBuilder(URI.create(url)).GET());
  }

  Reply post(String url, String json) throws Unreachable, IOException, InterruptedException {
    return send(
        url,
        HttpRequest.newBuilder(URI.create(url))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(json)));
  }

  /**
   * POSTs a streamed body ({@code body} is read once, as the request goes) with extra headers; no
   * timeout on the whole request, since a large file takes as long as the link needs.
   */
  Reply postStream(
      String url, java.util.Map<String, String> headers, HttpRequest.BodyPublisher body)
      throws Unreachable, IOException, InterruptedException {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(url))
            .header("Content-Type", "application/octet-stream")
            .POST(body);
    headers.forEach(b::header);
    return sendUntimed(url, b, HttpResponse.BodyHandlers.ofString());
  }

  /**
   * GETs {@code url} into {@code out} (written to a temporary file beside it and moved into place
   * only when complete); a refusal's body comes back in the reply, and {@code out} is untouched.
   */
  Reply download(String url, java.nio.file.Path out)
      throws Unreachable, IOException, InterruptedException {
    return download(url, out, null);
  }

  /** As above, drawing a progress bar of the bytes received on {@code bar} (null: none). */
  Reply download(String url, java.nio.file.Path out, java.io.PrintStream bar)
      throws Unreachable, IOException, InterruptedException {
    java.nio.file.Path dir = out.toAbsolutePath().getParent();
    java.nio.file.Path tmp = java.nio.file.Files.createTempFile(dir, ".edgesync-", ".part");
    try {
      int status =
          bar != null
              ? receiveWithProgress(url, tmp, bar)
              : sendUntimedRaw(
                      url,
                      HttpRequest.newBuilder(URI.create(url)).GET(),
                      HttpResponse.BodyHandlers.ofFile(tmp))
                  .statusCode();
      if (status / 100 != 2) {
        return new Reply(status, java.nio.file.Files.readString(tmp));
      }
      java.nio.file.Files.move(
          tmp,
          out,
          java.nio.file.StandardCopyOption.REPLACE_EXISTING,
          java.nio.file.StandardCopyOption.ATOMIC_MOVE);
      return new Reply(status, "");
    } finally {
      java.nio.file.Files.deleteIfExists(tmp);
    }
  }

  /**
   * Receives the answer into {@code file} in this thread through a {@link ProgressStream} sized by
   * the answer's Content-Length (a refusal's body is written the same way, without a bar); returns
   * the status.
   */
  private int receiveWithProgress(String url, java.nio.file.Path file, java.io.PrintStream bar)
      throws Unreachable, IOException, InterruptedException {
    HttpResponse<java.io.InputStream> r =
        sendUntimedRaw(
            url,
            HttpRequest.newBuilder(URI.create(url)).GET(),
            HttpResponse.BodyHandlers.ofInputStream());
    long total = r.headers().firstValueAsLong("Content-Length").orElse(-1);
    boolean draw = r.statusCode() / 100 == 2 && total >= 0;
    try (java.io.InputStream body = draw ? new ProgressStream(r.body(), total, bar) : r.body()) {
      java.nio.file.Files.copy(body, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
    if (draw) {
      bar.println();
    }
    return r.statusCode();
  }

  private <T> Reply sendUntimed(
      String url, HttpRequest.Builder request, HttpResponse.BodyHandler<String> handler)
      throws Unreachable, IOException, InterruptedException {
    HttpResponse<String> r = sendUntimedRaw(url, request, handler);
    return new Reply(r.statusCode(), r.body());
  }

  private <T> HttpResponse<T> sendUntimedRaw(
      String url, HttpRequest.Builder request, HttpResponse.BodyHandler<T> handler)
      throws Unreachable, IOException, InterruptedException {
    if (apiKey != null) {
      request.header("Authorization", "Bearer " + apiKey);
    }
    try {
      return client.send(request.build(), handler);
    } catch (ConnectException e) {
      throw new Unreachable(url);
    }
  }

  private Reply send(String url, HttpRequest.Builder request)
      throws Unreachable, IOException, InterruptedException {
    if (apiKey != null) {
      request.header("Authorization", "Bearer " + apiKey);
    }
    try {
      HttpResponse<String> r =
          client.send(
              request.timeout(Duration.ofSeconds(30)).build(),
              HttpResponse.BodyHandlers.ofString());
      return new Reply(r.statusCode(), r.body());
    } catch (ConnectException e) {
      throw new Unreachable(url);
    } catch (javax.net.ssl.SSLHandshakeException e) {
      throw new IOException(
          "TLS with "
              + url
              + " failed: "
              + e.getMessage()
              + " (a server certificate from a private CA needs --ca-file with that CA's ca.pem)",
          e);
    }
  }
}
