package io.edgesync.it;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgesync.agent.AgentConfig;
import io.edgesync.agent.EdgeAgent;
import io.edgesync.agent.internal.LocalApi;
import io.edgesync.server.ServerConfig;
import io.edgesync.server.SyncServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * An unexpected failure behind the server's REST API or the agent's local API, over a real socket:
 * the answer is 500 with {@code {"error":"internal error","errorId":"..."}} and nothing else; the
 * exception, with its stack, is in the log under the same id. The failure is a real one: another
 * program renamed a table in the process's SQLite file, or the store was closed under the API.
 * Regression: the answer was {@code "internal error: " + exception}, class name, SQL message and
 * all (and the agent answered a document store failure with 400 and its SQL message).
 */
class InternalErrorTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @Test
  void serverRestFailure_answers500WithOnlyAnErrorId_andLogsTheExceptionUnderThatId()
      throws Exception {
    Path data = dir.resolve("cloud");
    ServerConfig config = ServerConfig.defaults(data).withAddress("127.0.0.1", 0);
    SyncServer.start(config).close();
    // Renamed while the server is down: the running server's connection keeps a read snapshot
    // from before a rename made under it until its next write.
    renameTable(data.resolve("edgesync-cloud.db"), "devices");
    try (SyncServer server = SyncServer.start(config);
        LogCapture log = new LogCapture(SyncServer.class)) {

      HttpResponse<String> r =
          send(
              HttpRequest.newBuilder(
                      URI.create("http://127.0.0.1:" + server.port() + "/api/v1/devices"))
                  .header("Authorization", "Bearer " + Rest.adminKey(server.adminKeyFile()))
                  .GET());

      String errorId = assertInternalErrorAnswer(r);
      assertLoggedWithStack(log, errorId, "GET /api/v1/devices", "no such table: devices");
    }
  }

  @Test
  void agentLocalApiFailures_answer500WithOnlyAnErrorId_andLogTheExceptionUnderThatId()
      throws Exception {
    AgentConfig config =
        AgentConfig.simple("gw-1", URI.create("ws://127.0.0.1:9/v1/sync"), dir.resolve("agent"))
            .withLocalApiPort(0);
    try (EdgeAgent agent = EdgeAgent.open(config);
        LogCapture log = new LogCapture(LocalApi.class)) {
      // The outbox cannot commit (was: 500 with the exception's class and SQL message).
      renameTable(dir.resolve("agent/edgesync-agent.db"), "chunks");
      HttpResponse<String> append = post(agent.localApiPort(), "/v1/streams/sensor_data", "{}");
      String appendId = assertInternalErrorAnswer(append);
      assertLoggedWithStack(
          log, appendId, "POST /v1/streams/sensor_data", "committing appends failed");

      // The document store fails under the API (was: 400, "document store failed: ...").
      renameTable(dir.resolve("agent/edgesync-docs.db"), "docs");
      HttpResponse<String> doc = get(agent.localApiPort(), "/v1/docs/config/limits");
      String docId = assertInternalErrorAnswer(doc);
      assertLoggedWithStack(log, docId, "GET /v1/docs/config/limits", "document store failed");
      assertThat(docId).isNotEqualTo(appendId);
    }
  }

  @Test
  void agentRefusingOnDemandSync_answers409NamingTheKey_notAnInternalError() throws Exception {
    // The local API used to answer every IllegalStateException with 400 and its message; now
    // those are internal errors, and this one refusal is answered on its own.
    AgentConfig config =
        AgentConfig.fromYaml(
                "device: {id: gw-1}\n"
                    + "server: {url: 'ws://127.0.0.1:9/v1/sync'}\n"
                    + "sync:\n"
                    + "  strategies: {on_demand: {enabled: false}}\n"
                    + "  offline: {local_storage_path: '"
                    + dir.resolve("agent")
                    + "'}\n")
            .withLocalApiPort(0);
    try (EdgeAgent agent = EdgeAgent.open(config)) {
      HttpResponse<String> r = post(agent.localApiPort(), "/v1/sync", "");

      assertThat(r.statusCode()).isEqualTo(409);
      assertThat(JSON.readTree(r.body()).get("error").asText())
          .contains("sync.strategies.on_demand.enabled: false");
    }
  }

  /** Asserts a 500 whose body is exactly the error and its id; returns the id. */
  private static String assertInternalErrorAnswer(HttpResponse<String> r) throws Exception {
    assertThat(r.statusCode()).as("status of " + r.body()).isEqualTo(500);
    JsonNode body = JSON.readTree(r.body());
    List<String> fields = new ArrayList<>();
    body.fieldNames().forEachRemaining(fields::add);
    assertThat(fields).containsExactly("error", "errorId");
    assertThat(body.get("error").asText()).isEqualTo("internal error");
    String errorId = body.get("errorId").asText();
    assertThat(errorId).matches("[0-9a-f]{12}");
    assertThat(r.body()).doesNotContain("Exception", "SQL", "no such table", "io.edgesync");
    return errorId;
  }

  private static void assertLoggedWithStack(
      LogCapture log, String errorId, String request, String cause) {
    List<ILoggingEvent> events = log.errorsContaining("errorId=" + errorId);
    assertThat(events).hasSize(1);
    ILoggingEvent e = events.get(0);
    assertThat(e.getFormattedMessage()).contains(request);
    IThrowableProxy thrown = e.getThrowableProxy();
    assertThat(thrown).as("the exception is logged").isNotNull();
    assertThat(thrown.getStackTraceElementProxyArray()).as("with its stack").isNotEmpty();
    assertThat(messages(thrown)).contains(cause);
  }

  /** The messages of an exception and its causes, one string. */
  private static String messages(IThrowableProxy t) {
    StringBuilder out = new StringBuilder();
    for (; t != null; t = t.getCause()) {
      out.append(t.getClassName()).append(": ").append(t.getMessage()).append('\n');
    }
    return out.toString();
  }

  /** What another program could do to a store under a running process. */
  private static void renameTable(Path db, String table) throws Exception {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
        Statement st = c.createStatement()) {
      st.execute("PRAGMA busy_timeout=5000");
      st.execute("ALTER TABLE " + table + " RENAME TO " + table + "_moved_away");
    }
  }

  private HttpResponse<String> get(int port, String path) throws Exception {
    return send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).GET());
  }

  private HttpResponse<String> post(int port, String path, String body) throws Exception {
    return send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .POST(HttpRequest.BodyPublishers.ofString(body, UTF_8)));
  }

  private HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
    return http.send(
        request.timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString(UTF_8));
  }

  /** Collects one class's log events (logback) while open. */
  private static final class LogCapture implements AutoCloseable {
    private final Logger logger;
    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

    LogCapture(Class<?> source) {
      logger = (Logger) LoggerFactory.getLogger(source);
      appender.start();
      logger.addAppender(appender);
    }

    List<ILoggingEvent> errorsContaining(String text) {
      List<ILoggingEvent> out = new ArrayList<>();
      synchronized (appender) { // AppenderBase.doAppend holds this lock while adding
        for (ILoggingEvent e : appender.list) {
          if (e.getLevel() == Level.ERROR && e.getFormattedMessage().contains(text)) {
            out.add(e);
          }
        }
      }
      return out;
    }

    @Override
    public void close() {
      logger.detachAppender(appender);
      appender.stop();
    }
  }
}
