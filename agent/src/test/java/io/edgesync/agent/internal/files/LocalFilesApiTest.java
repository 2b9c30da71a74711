package io.edgesync.agent.internal.files;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgesync.agent.AgentConfig;
import io.edgesync.agent.EdgeAgent;
import io.edgesync.agent.InstalledFile;
import io.edgesync.engine.files.FileInbox;
import io.edgesync.engine.files.Manifest;
import io.edgesync.protocol.Clock;
import io.edgesync.protocol.wire.FileOffer;
import io.edgesync.protocol.wire.FileState;
import io.edgesync.testing.FakeTransport;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The local API's file routes over a real socket, in front of a real agent (offline: its cloud
 * connection is refused) with its real file store and a real release key file. A download is
 * received through the agent's own {@code FileInbox}, as the engine does.
 */
class LocalFilesApiTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String PATH = "firmware/gateway.img";

  @TempDir Path dir;

  private final FakeTransport transport = new FakeTransport();
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private SignedFiles keys;
  private EdgeAgent agent;

  @BeforeEach
  void startAgent() {
    keys = new SignedFiles(dir);
    AgentConfig config =
        AgentConfig.fromYaml(
                "device: {id: gw-1}\n"
                    + "sync: {offline: {local_storage_path: \""
                    + dir.resolve("data")
                    + "\"}}\n"
                    + "tuning: {backoff_initial_ms: 3600000, backoff_max_ms: 3600000}\n"
                    + "local_api: {port: -1}\n"
                    + "files:\n"
                    + "  trusted_release_keys_file: "
                    + keys.publicKeyFile
                    + "\n"
                    + "  uploads: [{collection: logs, priority: 3}]\n")
            .withLocalApiPort(0);
    transport.refuseConnections(true);
    agent = EdgeAgent.open(config, transport, Clock.SYSTEM, new SplittableRandom(1));
  }

  @AfterEach
  void stopAgent() {
    agent.close();
  }

  @Test
  void postUpload_storesTheBodyAsTheNextVersion_andListsIt() throws Exception {
    byte[] content = SignedFiles.content(1, 700_000);

    HttpResponse<String> r = send(post("/v1/files/uploads/logs/boot.log", content));
    assertThat(r.statusCode()).isEqualTo(200);
    JsonNode body = JSON.readTree(r.body());
    assertThat(body.get("path").asText()).isEqualTo("logs/boot.log");
    assertThat(body.get("version").asLong()).isEqualTo(1);
    assertThat(body.get("sizeBytes").asLong()).isEqualTo(content.length);
    assertThat(body.get("state").asText()).isEqualTo("queued");
    assertThat(send(post("/v1/files/uploads/logs/boot.log", content)).statusCode()).isEqualTo(200);

    JsonNode list = JSON.readTree(send(get("/v1/files/uploads")).body()).get("uploads");
    assertThat(list).hasSize(2);
    assertThat(list.get(0).get("version").asLong()).isEqualTo(2);
    assertThat(agent.files().uploads()).hasSize(2);
    // What the cloud will be offered, readable from the chunk store.
    AgentFiles files = (AgentFiles) agent.files();
    Manifest m = files.outbox().manifest("logs/boot.log", 1).orElseThrow();
    java.io.ByteArrayOutputStream rebuilt = new java.io.ByteArrayOutputStream();
    for (int i = 0; i < m.chunkCount(); i++) {
      rebuilt.writeBytes(files.outbox().chunk(m.hash(i)));
    }
    assertThat(rebuilt.toByteArray()).isEqualTo(content);
  }

  @Test
  void badUploads_areRefusedAndStoreNothing() throws Exception {
    HttpResponse<String> unknown = send(post("/v1/files/uploads/secrets/a.txt", new byte[10]));
    assertThat(unknown.statusCode()).isEqualTo(400);
    assertThat(JSON.readTree(unknown.body()).get("error").asText())
        .contains("unknown upload collection 'secrets'");

    // A client that sends 10 of the 100,000 bytes it announced, then goes away.
    try (Socket s = new Socket("127.0.0.1", agent.localApiPort())) {
      OutputStream out = s.getOutputStream();
      out.write(
          ("POST /v1/files/uploads/logs/cut.log HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  + "Content-Length: 100000\r\n\r\n0123456789")
              .getBytes(UTF_8));
      out.flush();
      s.shutdownOutput();
      String answer = new String(s.getInputStream().readAllBytes(), UTF_8);
      assertThat(answer).startsWith("HTTP/1.1 400").contains("nothing was stored");
    }

    assertThat(agent.files().uploads()).isEmpty();
  }

  @Test
  void installedFile_isListed_served_watched_andAFailedInstallIsReported() throws Exception {
    List<InstalledFile> watched = new CopyOnWriteArrayList<>();
    agent.files().watch(watched::add);
    CompletableFuture<HttpResponse<String>> poll =
        http.sendAsync(
            get("/v1/files/events?after=0&waitMs=20000"), HttpResponse.BodyHandlers.ofString());
    byte[] content = SignedFiles.content(2, 300_000);

    receive(content, 1);

    JsonNode events = JSON.readTree(poll.get(20, TimeUnit.SECONDS).body());
    assertThat(events.get("events")).hasSize(1);
    assertThat(events.get("events").get(0).get("path").asText()).isEqualTo(PATH);
    assertThat(events.get("next").asLong())
        .isEqualTo(events.get("events").get(0).get("seq").asLong());
    assertThat(watched).extracting(InstalledFile::version).containsExactly(1L);
    assertThat(watched.get(0).metadata()).containsEntry("build", "b1");

    JsonNode all = JSON.readTree(send(get("/v1/files")).body());
    assertThat(all.get("installed").get(0).get("path").asText()).isEqualTo(PATH);
    assertThat(all.get("installed").get(0).get("version").asLong()).isEqualTo(1);
    assertThat(all.get("downloads").get(0).get("state").asText()).isEqualTo("installed");
    assertThat(all.get("downloads").get(0).get("bytesDone").asLong()).isEqualTo(content.length);

    HttpResponse<byte[]> file =
        http.send(get("/v1/files/content?path=" + PATH), HttpResponse.BodyHandlers.ofByteArray());
    assertThat(file.statusCode()).isEqualTo(200);
    assertThat(file.body()).isEqualTo(content);
    assertThat(file.headers().firstValue("X-Edgesync-Version")).hasValue("1");
    assertThat(send(get("/v1/files/content?path=models/none.onnx")).statusCode()).isEqualTo(404);

    HttpResponse<String> wrong =
        send(post("/v1/files/report", "{\"path\":\"" + PATH + "\",\"version\":2,\"ok\":false}"));
    assertThat(wrong.statusCode()).isEqualTo(404);
    HttpResponse<String> report =
        send(
            post(
                "/v1/files/report",
                "{\"path\":\""
                    + PATH
                    + "\",\"version\":1,\"ok\":false,\"reason\":\"flash verify error\"}"));
    assertThat(report.statusCode()).isEqualTo(200);

    JsonNode after = JSON.readTree(send(get("/v1/files")).body()).get("downloads").get(0);
    assertThat(after.get("state").asText()).isEqualTo("failed");
    assertThat(after.get("reason").asText()).isEqualTo("install_failed: flash verify error");
    // What the engine sends the cloud on its next report round.
    FileInbox.Inbound unreported = ((AgentFiles) agent.files()).inbox().unreported(10).get(0);
    assertThat(unreported.state()).isEqualTo(FileState.FILE_STATE_FAILED);
    assertThat(Files.readAllBytes(agent.files().installed(PATH).orElseThrow().file()))
        .isEqualTo(content);
  }

  @Test
  void eventsWithNothingNew_answerEmptyAfterTheWait() throws Exception {
    JsonNode r = JSON.readTree(send(get("/v1/files/events?after=5&waitMs=50")).body());
    assertThat(r.get("events")).isEmpty();
    assertThat(r.get("next").asLong()).isEqualTo(5);
  }

  /** Receives and installs a signed version through the agent's inbox, as the engine would. */
  private void receive(byte[] content, long version) throws Exception {
    SqliteFileInbox inbox = ((AgentFiles) agent.files()).inbox();
    Manifest m = SignedFiles.manifest(content);
    FileOffer offer = keys.signed(PATH, version, m);
    assertThat(inbox.refusal(offer)).isEmpty();
    inbox.begin(offer, 1);
    inbox.addEntries(offer.getTransferId(), 0, m.lengths(), m.hashes(), 0);
    inbox.putChunks(
        offer.getTransferId(), 0, SignedFiles.chunks(content, m, 0, m.chunkCount()), m.hashes(), 0);
    CompletableFuture<FileState> done = new CompletableFuture<>();
    inbox.complete(
        offer.getTransferId(),
        (id, state, reason) -> {
          inbox.setState(id, state, reason, 2);
          done.complete(state);
        });
    assertThat(done.get(20, TimeUnit.SECONDS)).isEqualTo(FileState.FILE_STATE_INSTALLED);
  }

  private URI uri(String path) {
    return URI.create("http://127.0.0.1:" + agent.localApiPort() + path);
  }

  private HttpRequest get(String path) {
    return HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(30)).GET().build();
  }

  private HttpRequest post(String path, byte[] body) {
    return HttpRequest.newBuilder(uri(path))
        .timeout(Duration.ofSeconds(30))
        .POST(HttpRequest.BodyPublishers.ofByteArray(body))
        .build();
  }

  private HttpRequest post(String path, String body) {
    return post(path, body.getBytes(UTF_8));
  }

  private HttpResponse<String> send(HttpRequest r) throws Exception {
    return http.send(r, HttpResponse.BodyHandlers.ofString(UTF_8));
  }
}
