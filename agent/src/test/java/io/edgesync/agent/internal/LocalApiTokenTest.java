package io.edgesync.agent.internal;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.edgesync.agent.AgentConfig;
import io.edgesync.agent.EdgeAgent;
import io.edgesync.agent.InvalidConfigException;
import io.edgesync.protocol.Clock;
import io.edgesync.testing.FakeTransport;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The local API's optional token ({@code local_api.token_file}) over a real socket, in front of a
 * real agent that stays offline (its cloud connection is refused), so what a request stored stays
 * queued and countable.
 */
class LocalApiTokenTest {
  private static final String TOKEN = "9f2c4e6a8b0d1f3e5a7c9b1d3f5e7a9c";

  @TempDir Path dir;
  private final FakeTransport transport = new FakeTransport();
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private EdgeAgent agent;

  @AfterEach
  void stop() {
    if (agent != null) {
      agent.close();
    }
  }

  @Test
  void requestWithoutAuthorization_is401NamingWhatIsMissing_andStoresNothing() throws Exception {
    agent = open(tokenFile("rw-------", TOKEN));

    HttpResponse<String> r = post("/v1/streams/sensor_data", "{\"t\":1}", null);

    assertThat(r.statusCode()).isEqualTo(401);
    assertThat(r.body())
        .contains("requires 'Authorization: Bearer <token>'")
        .contains("local_api.token_file")
        .contains("no Authorization header");
    assertThat(r.headers().firstValue("WWW-Authenticate")).isPresent();
    assertThat(agent.metrics().queueDepthRecords()).isZero();
  }

  @Test
  void requestWithAWrongToken_is401_andStoresNothing() throws Exception {
    agent = open(tokenFile("rw-------", TOKEN));

    HttpResponse<String> wrong = post("/v1/streams/sensor_data", "{\"t\":1}", "Bearer nope");
    HttpResponse<String> prefix =
        post("/v1/streams/sensor_data", "{\"t\":1}", "Bearer " + TOKEN.substring(0, 31));
    HttpResponse<String> basic = post("/v1/streams/sensor_data", "{\"t\":1}", "Basic " + TOKEN);

    for (HttpResponse<String> r : java.util.List.of(wrong, prefix, basic)) {
      assertThat(r.statusCode()).isEqualTo(401);
      assertThat(r.body()).contains("does not carry this agent's local API token");
    }
    assertThat(agent.metrics().queueDepthRecords()).isZero();
  }

  @Test
  void requestWithTheToken_isServed_onEveryRoute() throws Exception {
    agent = open(tokenFile("r--------", "\n  " + TOKEN + "  \n"));

    assertThat(post("/v1/streams/sensor_data", "{\"t\":1}", "Bearer " + TOKEN).statusCode())
        .isEqualTo(200);
    assertThat(get("/v1/status", "Bearer " + TOKEN).statusCode()).isEqualTo(200);
    assertThat(get("/v1/status", null).statusCode()).isEqualTo(401); // status is guarded too
    assertThat(get("/v1/metrics", null).statusCode()).isEqualTo(401);
    assertThat(agent.metrics().queueDepthRecords()).isEqualTo(1);
  }

  @Test
  void withoutATokenFile_noHeaderIsNeeded() throws Exception {
    agent = open(null);
    assertThat(post("/v1/streams/sensor_data", "{\"t\":1}", null).statusCode()).isEqualTo(200);
  }

  @Test
  void tokenFileReadableByGroupOrOthers_theAgentRefusesToStart_namingTheFile() throws Exception {
    assumeTrue(FileSystems.getDefault().supportedFileAttributeViews().contains("posix"));
    for (String perms : new String[] {"rw-r-----", "rw----r--", "rw-rw-rw-"}) {
      Path file = tokenFile(perms, TOKEN);
      assertThatThrownBy(() -> open(file))
          .isInstanceOf(InvalidConfigException.class)
          .hasMessageContaining("local_api.token_file")
          .hasMessageContaining(file.toAbsolutePath().toString())
          .hasMessageContaining("has permissions " + perms)
          .hasMessageContaining("chmod 600");
    }
    assertThat(dir.resolve("edge").resolve("edgesync-agent.db")).doesNotExist();
  }

  @Test
  void missingOrShortTokenFile_theAgentRefusesToStart_namingTheFile() throws Exception {
    Path missing = dir.resolve("no-such-token");
    assertThatThrownBy(() -> open(missing))
        .hasMessageContaining("local_api.token_file")
        .hasMessageContaining(missing.toAbsolutePath() + " does not exist");
    Path shortToken = tokenFile("rw-------", "abc");
    assertThatThrownBy(() -> open(shortToken))
        .hasMessageContaining("must hold a token of at least 16 printable ASCII characters")
        .hasMessageContaining("it holds 3 characters");
    assertThat(dir.resolve("edge").resolve("edgesync-agent.db")).doesNotExist();
  }

  private Path tokenFile(String perms, String content) throws Exception {
    Path file = Files.createTempFile(dir, "token-", ".txt");
    Files.writeString(file, content, UTF_8);
    if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(perms));
    }
    return file;
  }

  private EdgeAgent open(Path tokenFile) {
    AgentConfig config =
        AgentConfig.fromYaml(
            "device: {id: gw-1}\n"
                + "sync: {offline: {local_storage_path: \""
                + dir.resolve("edge")
                + "\"}}\n"
                // After the first refused connect the agent waits an hour: it stays offline.
                + "tuning: {backoff_initial_ms: 3600000, backoff_max_ms: 3600000}\n"
                + "local_api: {port: 0"
                + (tokenFile == null ? "" : ", token_file: \"" + tokenFile + "\"")
                + "}\n");
    transport.refuseConnections(true);
    return EdgeAgent.open(config, transport, Clock.SYSTEM, new SplittableRandom(1));
  }

  private HttpResponse<String> get(String path, String authorization) throws Exception {
    return send(HttpRequest.newBuilder(uri(path)).GET(), authorization);
  }

  private HttpResponse<String> post(String path, String body, String authorization)
      throws Exception {
    return send(
        HttpRequest.newBuilder(uri(path)).POST(HttpRequest.BodyPublishers.ofString(body, UTF_8)),
        authorization);
  }

  private HttpResponse<String> send(HttpRequest.Builder b, String authorization) throws Exception {
    if (authorization != null) {
      b.header("Authorization", authorization);
    }
    return http.send(
        b.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString(UTF_8));
  }

  private URI uri(String path) {
    return URI.create("http://127.0.0.1:" + agent.localApiPort() + path);
  }
}
