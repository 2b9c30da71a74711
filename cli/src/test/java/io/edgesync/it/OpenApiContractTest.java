package io.edgesync.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgesync.server.ServerConfig;
import io.edgesync.server.SyncServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The OpenAPI document at {@code GET /api/v1/openapi.json} against the real routes of a real server
 * with every optional part on (documents, files): every {@code /api/v1} route the server registered
 * is documented (method and path), every documented operation answers (a route that matched: not
 * Javalin's "not found", not 405, not 500) when called with the admin key, and the {@code x-role}
 * it names is the role the server enforces (a viewer key is refused exactly where the document says
 * a higher role is needed).
 *
 * <p>Another engineer's new route fails {@link #everyRegisteredApiRoute_isDocumented} until it is
 * added to {@code server/src/main/resources/io/edgesync/server/openapi.yaml}.
 */
class OpenApiContractTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final List<String> METHODS = List.of("get", "put", "post", "delete", "patch");
  private static final Pattern PATH_PARAM = Pattern.compile("\\{([^}]+)}");

  @TempDir Path dir;
  private SyncServer server;
  private final HttpClient http = HttpClient.newHttpClient();
  private String adminKey;

  @BeforeEach
  void start() {
    Path keys = dir.resolve("keys");
    CliRun.stdout("release-key", "init", "--out", keys.toString());
    server =
        SyncServer.start(
            ServerConfig.fromYaml(
                "server: {port: 0, data_dir: \""
                    + dir.resolve("cloud")
                    + "\", files: {release_key_file: \""
                    + keys.resolve("release.key")
                    + "\"}}\n"
                    + "documents:\n  collections:\n    settings: {strategy: last_write_wins}\n"));
    server.store().registerDevice("dev-1", 0);
    adminKey = Rest.adminKey(server.adminKeyFile());
  }

  @AfterEach
  void stop() {
    server.close();
  }

  @Test
  void document_isServedAsOpenApi3Json_toAKeyOnly() throws Exception {
    HttpResponse<String> anonymous = call("GET", "/api/v1/openapi.json", null);
    assertThat(anonymous.statusCode()).isEqualTo(401);

    JsonNode doc = document();
    assertThat(doc.get("openapi").asText()).startsWith("3.");
    assertThat(doc.at("/components/securitySchemes/apiKey/scheme").asText()).isEqualTo("bearer");
    assertThat(doc.at("/paths/~1api~1v1~1health/get/security").isEmpty()).isTrue();
    assertThat(doc.at("/paths/~1api~1v1~1health/get/x-role").asText()).isEqualTo("none");
  }

  @Test
  void everyRegisteredApiRoute_isDocumented() throws Exception {
    Set<String> documented = operations(document()).keySet();
    Set<String> registered = new TreeSet<>();
    for (String route : server.httpRoutes()) {
      if (route.split(" ", 2)[1].startsWith("/api/v1/")) {
        registered.add(route);
      }
    }
    assertThat(registered).as("the server's /api/v1 routes").hasSizeGreaterThan(40);
    assertThat(documented).as("documented in openapi.yaml").containsAll(registered);
  }

  @Test
  void everyDocumentedOperation_isComplete_andAnswersWithTheAdminKey() throws Exception {
    JsonNode doc = document();
    for (Map.Entry<String, JsonNode> op : operations(doc).entrySet()) {
      String name = op.getKey();
      JsonNode o = op.getValue();
      assertThat(o.path("summary").asText()).as(name + " summary").isNotBlank();
      assertThat(o.path("responses").size()).as(name + " responses").isPositive();
      assertThat(o.path("x-role").asText())
          .as(name + " x-role")
          .isIn("none", "viewer", "operator", "admin");
      String path = concrete(doc, name, o);
      HttpResponse<String> r = call(method(name), path, adminKey);
      assertThat(routeMatched(r))
          .as(name + " answered " + r.statusCode() + " " + r.body())
          .isTrue();
    }
  }

  @Test
  void xRole_isTheRoleTheServerEnforces() throws Exception {
    String viewer = createKey("doc-viewer", "viewer");
    JsonNode doc = document();
    for (Map.Entry<String, JsonNode> op : operations(doc).entrySet()) {
      String name = op.getKey();
      String role = op.getValue().get("x-role").asText();
      HttpResponse<String> r = call(method(name), concrete(doc, name, op.getValue()), viewer);
      if (role.equals("operator") || role.equals("admin")) {
        assertThat(r.statusCode()).as(name + " (x-role " + role + ") to a viewer").isEqualTo(403);
      } else {
        assertThat(r.statusCode())
            .as(name + " (x-role " + role + ") to a viewer")
            .isNotEqualTo(403);
      }
    }
  }

  /** Every operation as "METHOD /path" → its object. */
  private static Map<String, JsonNode> operations(JsonNode doc) {
    Map<String, JsonNode> out = new java.util.TreeMap<>();
    Iterator<Map.Entry<String, JsonNode>> paths = doc.get("paths").fields();
    while (paths.hasNext()) {
      Map.Entry<String, JsonNode> p = paths.next();
      for (String m : METHODS) {
        if (p.getValue().has(m)) {
          out.put(m.toUpperCase(java.util.Locale.ROOT) + " " + p.getKey(), p.getValue().get(m));
        }
      }
    }
    return out;
  }

  /** The operation's path with each {param} replaced by its documented example. */
  private static String concrete(JsonNode doc, String name, JsonNode op) {
    String path = name.split(" ", 2)[1];
    List<JsonNode> params = new ArrayList<>();
    for (JsonNode p : op.path("parameters")) {
      params.add(p.has("$ref") ? doc.at(p.get("$ref").asText().substring(1)) : p);
    }
    Matcher m = PATH_PARAM.matcher(path);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      JsonNode declared =
          params.stream()
              .filter(p -> p.path("in").asText().equals("path"))
              .filter(p -> p.path("name").asText().equals(m.group(1)))
              .findFirst()
              .orElse(null);
      assertThat(declared).as(name + " declares its path parameter " + m.group(1)).isNotNull();
      assertThat(declared.has("example")).as(name + " example of " + m.group(1)).isTrue();
      m.appendReplacement(out, declared.get("example").asText());
    }
    m.appendTail(out);
    return out.toString();
  }

  /**
   * Whether a route matched: anything but Javalin's own answer to an unknown path (a 404 without
   * our {"error": ...} body), a 405, or a server error.
   */
  private static boolean routeMatched(HttpResponse<String> r) {
    if (r.statusCode() == 405 || r.statusCode() >= 500) {
      return false;
    }
    if (r.statusCode() == 404) {
      try {
        JsonNode body = JSON.readTree(r.body());
        return body != null && body.has("error");
      } catch (java.io.IOException e) {
        return false; // Javalin's own "Endpoint GET /... not found"
      }
    }
    return true;
  }

  private static String method(String operation) {
    return operation.split(" ", 2)[0];
  }

  private JsonNode document() throws Exception {
    HttpResponse<String> r = call("GET", "/api/v1/openapi.json", adminKey);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type").orElseThrow()).startsWith("application/json");
    return JSON.readTree(r.body());
  }

  private String createKey(String name, String role) throws Exception {
    HttpResponse<String> r =
        call(
            "POST",
            "/api/v1/keys",
            adminKey,
            "{\"name\":\"" + name + "\",\"role\":\"" + role + "\"}");
    assertThat(r.statusCode()).isEqualTo(201);
    return JSON.readTree(r.body()).get("key").asText();
  }

  private HttpResponse<String> call(String method, String path, String key) throws Exception {
    return call(method, path, key, "");
  }

  private HttpResponse<String> call(String method, String path, String key, String body)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
            .header("Content-Type", "application/json")
            .method(method, HttpRequest.BodyPublishers.ofString(body));
    if (key != null) {
      b.header("Authorization", "Bearer " + key);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }
}
