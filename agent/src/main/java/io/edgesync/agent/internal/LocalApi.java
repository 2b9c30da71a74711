package io.edgesync.agent.internal;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.edgesync.agent.AppendResult;
import io.edgesync.agent.Document;
import io.edgesync.agent.Documents;
import io.edgesync.agent.EdgeAgent;
import io.edgesync.agent.EdgeSyncException;
import io.edgesync.agent.PendingCommand;
import io.edgesync.agent.internal.files.AgentFiles;
import io.edgesync.agent.internal.outbox.SyncLog;
import io.edgesync.engine.docs.JsonDocs;
import io.edgesync.protocol.ProtocolLimits;
import io.edgesync.support.ErrorIds;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's localhost HTTP API for programs in any language (JDK HTTP server, bound to the
 * loopback interface only):
 *
 * <ul>
 *   <li>{@code POST /v1/streams/{stream}}: one JSON value, or NDJSON (one JSON value per line);
 *       answered after the commit with the assigned sequences and operation ids. All lines are
 *       validated before anything is stored.
 *   <li>{@code GET /v1/status}, {@code GET /v1/metrics}, {@code GET /v1/operations/{id}}
 *   <li>{@code GET /v1/streams/{stream}/log}: the batches sent, with queued, sent and acknowledged
 *       times ({@link SyncLog}).
 *   <li>{@code POST /v1/sync}: sync now.
 *   <li>{@code /v1/files...}: uploads, installed files, downloads ({@link LocalFilesApi}).
 * </ul>
 *
 * With {@code local_api.token_file} set, every request needs {@code Authorization: Bearer <token>}
 * (401 otherwise, naming what is missing; {@link LocalApiToken}).
 *
 * <p>Errors are JSON {@code {"error": "..."}} with 400 (bad input), 401 (no or wrong token), 404,
 * 405, 409 (on-demand sync disabled), 413 (body above {@link #MAX_BODY_BYTES}), 502 (refused by the
 * cloud) or 503 (queue full, agent closing); the agent's own failures (disk, a sync loop that does
 * not answer, a bug) are 500 with only {@code "error": "internal error"} and an {@code errorId}
 * that the log names. {@link #httpStatus} maps {@link EdgeSyncException}'s codes.
 */
public final class LocalApi implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(LocalApi.class);

  /** Largest request body accepted. */
  public static final int MAX_BODY_BYTES = 16 * 1024 * 1024;

  static final int MAX_LIST_LIMIT = 1000;
  private static final String LOG_SUFFIX = "/log";
  static final long MAX_POLL_WAIT_MS = 60_000;

  // Numbers are read as BigDecimal and kept as written: through double, decimals would be
  // rounded and 1e400 would turn into the string "Infinity", so the stored record would differ
  // from the one the program sent.
  private static final ObjectMapper JSON =
      new ObjectMapper()
          .setPropertyNamingStrategy(PropertyNamingStrategies.LOWER_CAMEL_CASE)
          .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
          .configure(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES, false);

  private final EdgeAgent agent;
  private final HttpServer server;
  private final ExecutorService executor;
  private final LocalApiToken token; // null: no token required
  private final LocalFilesApi files;
  private final SyncLog syncLog;

  /** Serves on loopback {@code port}; with a {@code token}, every request must carry it. */
  public LocalApi(EdgeAgent agent, int port, LocalApiToken token, AgentFiles files, SyncLog syncLog)
      throws IOException {
    this.agent = agent;
    this.syncLog = syncLog;
    this.token = token;
    this.files = new LocalFilesApi(files);
    this.server =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 64);
    this.executor =
        Executors.newFixedThreadPool(
            8,
            r -> {
              Thread t = new Thread(r, "edgesync-local-api");
              t.setDaemon(true);
              return t;
            });
    server.setExecutor(executor);
    server.createContext("/v1/", this::handle);
    server.createContext("/metrics", this::handle); // Prometheus' default path
    server.start();
  }

  public int port() {
    return server.getAddress().getPort();
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }

  private void handle(HttpExchange ex) throws IOException {
    try (ex) {
      String path = ex.getRequestURI().getPath();
      String method = ex.getRequestMethod();
      try {
        rejectBrowsers(ex);
        requireToken(ex);
        // "/v1/streams/log" is the stream named log; its sync log is "/v1/streams/log/log".
        if (path.startsWith("/v1/streams/")
            && path.endsWith(LOG_SUFFIX)
            && path.length() > "/v1/streams/".length() + LOG_SUFFIX.length()) {
          requireMethod(method, "GET");
          syncLog(ex, path.substring(12, path.length() - LOG_SUFFIX.length()));
        } else if (path.startsWith("/v1/streams/")) {
          requireMethod(method, "POST");
          appendRecords(ex, path.substring("/v1/streams/".length()));
        } else if (path.equals("/v1/status")) {
          requireMethod(method, "GET");
          reply(ex, 200, agent.status());
        } else if (path.equals("/metrics")) {
          requireMethod(method, "GET");
          byte[] text =
              (AgentMetricsText.render(agent.status())
                      + agent.mqttMetricsText()
                      + JvmMetricsText.render())
                  .getBytes(java.nio.charset.StandardCharsets.UTF_8);
          ex.getResponseHeaders().set("Content-Type", AgentMetricsText.CONTENT_TYPE);
          ex.sendResponseHeaders(200, text.length);
          try (OutputStream out = ex.getResponseBody()) {
            out.write(text);
          }
        } else if (path.equals("/v1/metrics")) {
          requireMethod(method, "GET");
          reply(ex, 200, agent.metrics());
        } else if (path.startsWith("/v1/operations/")) {
          requireMethod(method, "GET");
          reply(ex, 200, agent.operationStatus(path.substring("/v1/operations/".length())));
        } else if (path.startsWith("/v1/docs/")) {
          docs(ex, method, Documents.DEVICE, path.substring("/v1/docs/".length()));
        } else if (path.startsWith("/v1/fleet/docs/")) {
          docs(ex, method, "fleet", path.substring("/v1/fleet/docs/".length()));
        } else if (path.startsWith("/v1/groups/") && path.indexOf("/docs/", 11) > 11) {
          int at = path.indexOf("/docs/", 11);
          docs(ex, method, "group:" + path.substring(11, at), path.substring(at + 6));
        } else if (path.equals("/v1/commands/next")) {
          requireMethod(method, "GET");
          nextCommand(ex);
        } else if (path.startsWith("/v1/commands/") && path.endsWith("/result")) {
          requireMethod(method, "POST");
          commandResult(ex, path.substring("/v1/commands/".length(), path.length() - 7));
        } else if (path.equals("/v1/files") || path.startsWith("/v1/files/")) {
          files.handle(ex, method, path.substring("/v1/files".length()));
        } else if (path.equals("/v1/sync")) {
          requireMethod(method, "POST");
          syncNow(ex);
        } else {
          throw new HttpError(404, "no such endpoint: " + method + " " + path);
        }
      } catch (HttpError e) {
        if (e.allow != null) {
          ex.getResponseHeaders().set("Allow", e.allow);
        }
        reply(ex, e.status, Map.of("error", e.getMessage()));
      } catch (EdgeSyncException e) {
        int status = httpStatus(e.code());
        if (status == 500) {
          internalError(ex, method, path, e);
        } else {
          reply(ex, status, Map.of("error", e.getMessage()));
        }
      } catch (IllegalArgumentException e) {
        reply(ex, 400, Map.of("error", e.getMessage()));
      } catch (RuntimeException e) {
        internalError(ex, method, path, e);
      }
    }
  }

  /**
   * The answer to a failure of the agent. 500 for the agent's own failures (its disk, a sync loop
   * that does not answer, a bug), answered with an error id only; the others with their message,
   * which names no internals.
   */
  static int httpStatus(EdgeSyncException.Code code) {
    return switch (code) {
      case QUEUE_FULL, CLOSED, INTERRUPTED -> 503; // try again later, or another time
      case DISABLED -> 409; // the configuration switches it off; the message names the key
      case REFUSED_BY_CLOUD -> 502;
      case STORAGE, TIMEOUT, INTERNAL, CONFIGURATION, LOCAL_API, ENCRYPTION_KEY -> 500;
    };
  }

  /**
   * An unexpected failure: 500 with a new error id and nothing else, since an exception's class and
   * message describe internals (SQL, paths, classes). The log has the exception and its stack under
   * the same id.
   */
  private static void internalError(HttpExchange ex, String method, String path, Exception e)
      throws IOException {
    String errorId = ErrorIds.next();
    log.error("internal error errorId={} answering {} {}", errorId, method, path, e);
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("error", "internal error");
    body.put("errorId", errorId);
    reply(ex, 500, body);
  }

  private void syncNow(HttpExchange ex) throws IOException {
    agent.syncNow(); // DISABLED (409) with sync.strategies.on_demand.enabled: false
    reply(ex, 202, Map.of("sync", "requested"));
  }

  /** {@code <collection>} (GET: list) or {@code <collection>/<key>} (GET, PUT, DELETE). */
  private void docs(HttpExchange ex, String method, String scope, String rest) throws IOException {
    Documents docs = agent.documents();
    int slash = rest.indexOf('/');
    if (slash < 0) {
      requireMethod(method, "GET");
      requireCollection(docs, rest);
      String after = queryParam(ex, "after", "");
      int limit = (int) Math.min(MAX_LIST_LIMIT, Math.max(1, longParam(ex, "limit", 100)));
      List<Document> page = docs.list(scope, rest, after, limit);
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("scope", scope);
      out.put("collection", rest);
      out.put("documents", page.stream().map(LocalApi::docJson).toList());
      out.put("nextAfter", page.size() == limit ? page.get(page.size() - 1).key() : null);
      reply(ex, 200, out);
      return;
    }
    String collection = rest.substring(0, slash);
    String key = rest.substring(slash + 1);
    switch (method) {
      case "GET" -> {
        requireCollection(docs, collection);
        Document d =
            docs.get(scope, collection, key)
                .orElseThrow(
                    () ->
                        new HttpError(
                            404, "no document " + collection + "/" + key + " in " + scope));
        reply(ex, 200, docJson(d));
      }
      case "PUT" -> {
        byte[] body = readBody(ex.getRequestBody());
        if (body.length > agent.documents().maxDocumentBytes()) {
          throw new HttpError(
              413,
              "document is "
                  + body.length
                  + " bytes; the limit is "
                  + agent.documents().maxDocumentBytes());
        }
        JsonNode value;
        try {
          value = JsonDocs.parse(body);
        } catch (IllegalArgumentException e) {
          throw new HttpError(400, "the body is " + e.getMessage());
        }
        reply(ex, 200, docJson(docs.put(scope, collection, key, value)));
      }
      case "DELETE" -> {
        if (!docs.delete(scope, collection, key)) {
          throw new HttpError(404, "no document " + collection + "/" + key + " in " + scope);
        }
        reply(ex, 200, Map.of("deleted", true));
      }
      default -> throw new HttpError(405, method + " is not allowed here", "GET, PUT, DELETE");
    }
  }

  private static void requireCollection(Documents docs, String collection) {
    if (!docs.collections().contains(collection)) {
      throw new HttpError(
          404,
          "unknown collection '"
              + collection
              + "'; declared: "
              + new java.util.TreeSet<>(docs.collections()));
    }
  }

  private static Map<String, Object> docJson(Document d) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("scope", d.scope());
    m.put("collection", d.collection());
    m.put("key", d.key());
    m.put("value", d.value());
    m.put("version", d.version());
    m.put("hlc", d.hlc().toString());
    m.put("pending", d.pending());
    m.put("conflicted", d.conflicted());
    return m;
  }

  private void nextCommand(HttpExchange ex) throws IOException {
    long waitMs = Math.min(MAX_POLL_WAIT_MS, Math.max(0, longParam(ex, "waitMs", 30_000)));
    PendingCommand c;
    try {
      c = agent.commands().next(waitMs);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new HttpError(503, "agent stopping");
    }
    if (c == null) {
      ex.sendResponseHeaders(204, -1);
      return;
    }
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", c.id());
    m.put("name", c.name());
    m.put("payload", c.payload());
    m.put("deadlineMs", c.deadlineMs());
    reply(ex, 200, m);
  }

  private void commandResult(HttpExchange ex, String id) throws IOException {
    JsonNode body;
    try {
      body = JsonDocs.parse(readBody(ex.getRequestBody()));
    } catch (IllegalArgumentException e) {
      throw new HttpError(400, "the body is " + e.getMessage());
    }
    JsonNode status = body.get("status");
    if (status == null
        || !status.isTextual()
        || !(status.asText().equals("succeeded") || status.asText().equals("failed"))) {
      throw new HttpError(400, "\"status\" must be \"succeeded\" or \"failed\", was " + status);
    }
    JsonNode error = body.get("error");
    if (!agent
        .commands()
        .complete(
            id,
            status.asText().equals("succeeded"),
            body.get("result"),
            error == null ? null : error.asText())) {
      throw new HttpError(
          409, "command '" + id + "' is not running (unknown, or already finished)");
    }
    reply(ex, 200, Map.of("id", id, "state", status.asText()));
  }

  /**
   * {@code GET /v1/streams/{stream}/log?after=&limit=}: the batches the agent sent of a stream
   * ({@link SyncLog}), and what is still queued behind them.
   */
  private void syncLog(HttpExchange ex, String stream) throws IOException {
    if (!ProtocolLimits.isValidStreamName(stream)) {
      throw new HttpError(400, "invalid stream name '" + stream + "'");
    }
    long after = longParam(ex, "after", 0);
    long limit = longParam(ex, "limit", 100);
    if (after < 0 || limit < 1 || limit > MAX_LIST_LIMIT) {
      throw new HttpError(
          400,
          "after must be 0 or more and limit 1.."
              + MAX_LIST_LIMIT
              + ", were "
              + after
              + " and "
              + limit);
    }
    Map<String, Object> out = new java.util.LinkedHashMap<>();
    out.put("stream", stream);
    agent.status().streams().stream()
        .filter(s -> s.name().equals(stream))
        .findFirst()
        .ifPresent(
            s -> {
              out.put("lastSequence", s.lastSequence());
              out.put("acknowledgedSequence", s.ackedSequence());
              out.put("queuedRecords", s.queuedRecords());
            });
    out.put("entries", syncLog.entries(stream, after, (int) limit));
    reply(ex, 200, out);
  }

  static String queryParam(HttpExchange ex, String name, String fallback) {
    String q = ex.getRequestURI().getRawQuery();
    if (q == null) {
      return fallback;
    }
    for (String part : q.split("&")) {
      int eq = part.indexOf('=');
      if (eq > 0 && part.substring(0, eq).equals(name)) {
        return java.net.URLDecoder.decode(
            part.substring(eq + 1), java.nio.charset.StandardCharsets.UTF_8);
      }
    }
    return fallback;
  }

  static long longParam(HttpExchange ex, String name, long fallback) {
    String v = queryParam(ex, name, null);
    if (v == null) {
      return fallback;
    }
    try {
      return Long.parseLong(v);
    } catch (NumberFormatException e) {
      throw new HttpError(
          400, "query parameter '" + name + "' must be an integer, was '" + v + "'");
    }
  }

  private void appendRecords(HttpExchange ex, String stream) throws IOException {
    if (!ProtocolLimits.isValidStreamName(stream)) {
      throw new HttpError(
          400,
          "invalid stream name '" + stream + "': must match " + ProtocolLimits.STREAM_NAME_PATTERN);
    }
    byte[] body = readBody(ex.getRequestBody());
    List<byte[]> records = parseRecords(body);
    AppendResult r = agent.appendAll(stream, records);
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("stream", r.stream());
    out.put("firstSequence", r.firstSequence());
    out.put("lastSequence", r.lastSequence());
    out.put("count", r.count());
    out.put("operationIds", r.operationIds());
    if (!r.duplicates().isEmpty()) {
      // Records equal to one of the stream's last dedup_window records: not stored again.
      List<Map<String, Object>> dups = new java.util.ArrayList<>();
      for (AppendResult.Duplicate d : r.duplicates()) {
        dups.add(
            Map.of(
                "index",
                d.index(),
                "sameAs",
                io.edgesync.agent.OperationStatus.idOf(stream, d.sameAsSequence())));
      }
      out.put("duplicates", dups);
    }
    reply(ex, 200, out);
  }

  /**
   * One JSON value (possibly pretty-printed over many lines), or NDJSON: one value per line. Each
   * record is stored as the exact bytes of its value, without the whitespace around it: the cloud
   * gives back, and hashes, what the program sent (issue 10). The body must be UTF-8; any invalid
   * line fails the whole request.
   */
  static List<byte[]> parseRecords(byte[] body) {
    requireUtf8(body);
    // A byte order mark is not part of any JSON value (RFC 8259 lets a reader ignore it).
    int start = hasUtf8Bom(body) ? 3 : 0;
    int[] all = trimmed(body, start, body.length);
    if (all[0] == all[1]) {
      throw new HttpError(400, "empty body: send one JSON value or NDJSON lines");
    }
    if (jsonError(body, all[0], all[1]) == null) {
      return List.of(Arrays.copyOfRange(body, all[0], all[1]));
    }
    List<byte[]> records = new ArrayList<>();
    int line = 1;
    int from = start;
    for (int i = 0; i <= body.length; i++) {
      if (i == body.length || body[i] == '\n') {
        int[] t = trimmed(body, from, i);
        if (t[0] < t[1]) {
          String error = jsonError(body, t[0], t[1]);
          if (error != null) {
            throw new HttpError(
                400, "invalid JSON on line " + line + ": " + error + "; nothing was stored");
          }
          records.add(Arrays.copyOfRange(body, t[0], t[1]));
        }
        line++;
        from = i + 1;
      }
    }
    return records;
  }

  /** Null if {@code body[from, to)} is exactly one JSON value, else what is wrong with it. */
  private static String jsonError(byte[] body, int from, int to) {
    try {
      JsonNode node = JSON.readTree(body, from, to - from);
      return node == null || node.isMissingNode() ? "empty" : null;
    } catch (JsonProcessingException e) {
      return e.getOriginalMessage();
    } catch (IOException e) {
      return e.getMessage();
    }
  }

  /** {@code [from, to)} without JSON whitespace (space, tab, CR, LF) at either end. */
  private static int[] trimmed(byte[] b, int from, int to) {
    while (from < to && isJsonSpace(b[from])) {
      from++;
    }
    while (to > from && isJsonSpace(b[to - 1])) {
      to--;
    }
    return new int[] {from, to};
  }

  private static boolean isJsonSpace(byte c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
  }

  private static boolean hasUtf8Bom(byte[] b) {
    return b.length >= 3 && b[0] == (byte) 0xEF && b[1] == (byte) 0xBB && b[2] == (byte) 0xBF;
  }

  /** Checks the body is UTF-8, decoding through a small buffer (only validity matters). */
  private static void requireUtf8(byte[] body) {
    CharsetDecoder utf8 =
        StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    ByteBuffer in = ByteBuffer.wrap(body);
    CharBuffer out = CharBuffer.allocate(4096);
    while (true) {
      CoderResult r = utf8.decode(in, out, true);
      if (r.isError()) {
        throw new HttpError(
            400, "the body is not valid UTF-8 at byte " + in.position() + "; nothing was stored");
      }
      out.clear();
      if (r.isUnderflow()) {
        break;
      }
    }
    CoderResult end = utf8.flush(out);
    if (end.isError()) {
      throw new HttpError(400, "the body is not valid UTF-8 at its end; nothing was stored");
    }
  }

  private static byte[] readBody(InputStream in) throws IOException {
    byte[] data = in.readNBytes(MAX_BODY_BYTES + 1);
    if (data.length > MAX_BODY_BYTES) {
      throw new HttpError(
          413, "request body exceeds " + MAX_BODY_BYTES + " bytes; nothing was stored");
    }
    return data;
  }

  /**
   * With {@code local_api.token_file}: every route, status included (it names the server and the
   * device's errors), needs {@code Authorization: Bearer <token>}. Checked before the route, so a
   * refused request reads and stores nothing.
   */
  private void requireToken(HttpExchange ex) {
    if (token == null) {
      return;
    }
    String header = ex.getRequestHeaders().getFirst("Authorization");
    if (!token.accepts(header)) {
      ex.getResponseHeaders().set("WWW-Authenticate", "Bearer realm=\"edgesync-agent\"");
      throw new HttpError(
          401,
          header == null
              ? "this agent's local API requires 'Authorization: Bearer <token>' with the token of"
                  + " its local_api.token_file; the request has no Authorization header"
              : "the Authorization header does not carry this agent's local API token (expected"
                  + " 'Bearer <token>' with the token of its local_api.token_file)");
    }
  }

  /**
   * The API is for programs on the device, not for web pages open in a browser there: a request
   * carrying an Origin header, or naming a non-loopback Host (DNS rebinding), is refused.
   */
  private static void rejectBrowsers(HttpExchange ex) {
    if (ex.getRequestHeaders().containsKey("Origin")) {
      throw new HttpError(403, "requests from web pages (with an Origin header) are not accepted");
    }
    String host = ex.getRequestHeaders().getFirst("Host");
    if (host != null) {
      String name =
          host.startsWith("[") ? host.substring(0, host.indexOf(']') + 1) : host.split(":")[0];
      if (!name.equals("localhost") && !name.equals("127.0.0.1") && !name.equals("[::1]")) {
        throw new HttpError(403, "Host '" + host + "' is not a loopback name");
      }
    }
  }

  static void requireMethod(String method, String expected) {
    if (!method.equals(expected)) {
      throw new HttpError(405, "method " + method + " not allowed; use " + expected, expected);
    }
  }

  static void reply(HttpExchange ex, int status, Object body) throws IOException {
    byte[] bytes = JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(body);
    ex.getResponseHeaders().set("Content-Type", "application/json");
    ex.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(bytes);
    }
  }

  static final class HttpError extends RuntimeException {
    final int status;
    final String allow; // the Allow header of a 405 (RFC 9110 requires it), else null

    HttpError(int status, String message) {
      this(status, message, null);
    }

    HttpError(int status, String message, String allow) {
      super(message);
      this.status = status;
      this.allow = allow;
    }
  }
}
