package io.edgesync.agent.internal.tls;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgesync.security.DeviceIdentity;
import io.edgesync.security.Pem;
import io.edgesync.security.TlsContexts;
import java.io.IOException;
import java.io.StringReader;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMParser;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Enrolls this device: makes an EC P-256 key pair here, sends a CSR naming the device id with the
 * one-time token to the server's {@code POST /v1/enroll} over HTTPS (trusting only {@code
 * tls.ca_file}; no client certificate, the token is the credential), checks that the certificate it
 * gets back is for this key and this device, and writes key (0600) and certificate. The private key
 * never leaves the device.
 *
 * <p>A refusal of the token or the CSR is permanent for that token: it is remembered, and not sent
 * again until the token file's content changes (a new token), so a device with a spent token does
 * not call the server at every reconnect.
 *
 * <p>Thread safe (one enrollment at a time).
 */
public final class Enroller {
  private static final Logger log = LoggerFactory.getLogger(Enroller.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final String deviceId;
  private final URI enrollUrl;
  private final DeviceCertificate files;
  private final Duration timeout;
  private String refusedToken; // guarded by this: the token of the last permanent refusal
  private EnrollmentException refusal; // guarded by this

  public Enroller(String deviceId, URI serverUrl, DeviceCertificate files, Duration timeout) {
    this.deviceId = deviceId;
    this.enrollUrl = enrollUrl(serverUrl);
    this.files = files;
    this.timeout = timeout;
  }

  /** {@code wss://host:port/...} → {@code https://host:port/v1/enroll}. */
  static URI enrollUrl(URI serverUrl) {
    try {
      return new URI(
          "https", null, serverUrl.getHost(), serverUrl.getPort(), "/v1/enroll", null, null);
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("no enrollment URL for " + serverUrl, e);
    }
  }

  /** Enrolls (blocking) and writes the key and certificate files. */
  public synchronized void enroll() throws EnrollmentException {
    String token = readToken();
    if (token.equals(refusedToken)) {
      throw refusal;
    }
    try {
      enrollWith(token);
    } catch (EnrollmentException e) {
      if (e.permanent()) {
        refusedToken = token;
        refusal = e;
      }
      log.warn("{}: {}", deviceId, e.getMessage());
      throw e;
    }
  }

  private void enrollWith(String token) throws EnrollmentException {
    KeyPair pair = DeviceCertificate.newKeyPair();
    Map<String, String> body = new LinkedHashMap<>();
    body.put("token", token);
    String csrPem;
    try {
      csrPem = Pem.toPem(DeviceCertificate.csr(deviceId, pair));
      body.put("csr", csrPem);
      HttpResponse<String> r = post(JSON.writeValueAsString(body));
      if (r.statusCode() != 200) {
        throw refused(r);
      }
      List<X509Certificate> chain = chainOf(JSON.readTree(r.body()));
      check(chain.get(0), pair);
      files.store(pair.getPrivate(), chain);
      log.info(
          "{}: enrolled; certificate serial {} valid until {}; key in {} (0600)",
          deviceId,
          chain.get(0).getSerialNumber().toString(16),
          chain.get(0).getNotAfter().toInstant(),
          files.files().keyFile());
    } catch (IOException e) {
      throw new EnrollmentException(
          "enrollment at " + enrollUrl + " failed: " + describe(e), false, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new EnrollmentException("enrollment interrupted", false, e);
    }
  }

  private HttpResponse<String> post(String json) throws IOException, InterruptedException {
    HttpClient client =
        HttpClient.newBuilder().connectTimeout(timeout).sslContext(trustOnly()).build();
    return client.send(
        HttpRequest.newBuilder(enrollUrl)
            .timeout(timeout.plusSeconds(30))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(json))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** A refusal names the server's reason; 503 (no CA yet) and other 5xx are worth retrying. */
  private EnrollmentException refused(HttpResponse<String> r) {
    String reason = "";
    String message = r.body();
    try {
      JsonNode n = JSON.readTree(r.body());
      reason = n.path("reason").asText("");
      message = n.path("error").asText(message);
    } catch (IOException | RuntimeException e) {
      // not JSON: the body as it came
    }
    boolean permanent = r.statusCode() / 100 == 4;
    return new EnrollmentException(
        "enrollment refused by the server ("
            + r.statusCode()
            + (reason.isEmpty() ? "" : " " + reason)
            + "): "
            + message
            + (permanent ? "; not retried with this token (put a new one in the token file)" : ""),
        permanent,
        null);
  }

  /** The certificate must be for the key made here and name this device. */
  private void check(X509Certificate cert, KeyPair pair) throws EnrollmentException {
    if (!cert.getPublicKey().equals(pair.getPublic())) {
      throw new EnrollmentException(
          "the server sent a certificate for another key; not stored", true, null);
    }
    String named = DeviceIdentity.deviceId(cert);
    if (!deviceId.equals(named)) {
      throw new EnrollmentException(
          "the server sent a certificate for device '" + named + "'; not stored", true, null);
    }
  }

  private static List<X509Certificate> chainOf(JsonNode reply) throws IOException {
    List<X509Certificate> chain = new ArrayList<>();
    try (PEMParser parser = new PEMParser(new StringReader(reply.path("chain").asText("")))) {
      for (Object o = parser.readObject(); o != null; o = parser.readObject()) {
        if (o instanceof X509CertificateHolder h) {
          chain.add(new JcaX509CertificateConverter().getCertificate(h));
        }
      }
    } catch (java.security.cert.CertificateException e) {
      throw new IOException("unreadable certificate in the reply: " + e.getMessage(), e);
    }
    if (chain.isEmpty()) {
      throw new IOException("the reply holds no certificate chain");
    }
    return chain;
  }

  private String readToken() throws EnrollmentException {
    Path file = files.files().enrollmentTokenFile();
    if (file == null) {
      throw new EnrollmentException(
          "this device has no certificate ("
              + files.files().certFile()
              + ") and no tls.enrollment_token_file to enroll with",
          true,
          null);
    }
    try {
      String token = Files.readString(file, StandardCharsets.UTF_8).trim();
      if (token.isEmpty()) {
        throw new EnrollmentException(
            "the enrollment token file " + file + " is empty", true, null);
      }
      return token;
    } catch (IOException e) {
      throw new EnrollmentException(
          "cannot read the enrollment token file " + file + ": " + e, true, e);
    }
  }

  private SSLContext trustOnly() throws IOException {
    try {
      return TlsContexts.trusting(files.caCertificates());
    } catch (IllegalArgumentException e) {
      throw new IOException("cannot trust " + files.files().caFile() + ": " + e.getMessage(), e);
    }
  }

  private static String describe(Throwable t) {
    Throwable root = t;
    while (root.getCause() != null) {
      root = root.getCause();
    }
    return root == t
        ? String.valueOf(t.getMessage())
        : t.getMessage() + " (" + root.getClass().getSimpleName() + ": " + root.getMessage() + ")";
  }
}
