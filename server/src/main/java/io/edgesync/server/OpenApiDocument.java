package io.edgesync.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code GET /api/v1/openapi.json}: the OpenAPI 3 description of the REST API, written by hand in
 * the resource {@value #RESOURCE} (YAML: comments, and a route is a few lines to add) and served as
 * JSON. The role each operation needs is not written in the resource: it is filled in as {@code
 * x-role} from {@link ApiAuth#required}, the table the server enforces, so the two cannot disagree.
 * Routes open without a key ({@value ApiAuth#HEALTH}, {@value EnrollmentApi#ENROLL_PATH}) get
 * {@code security: []} and {@code x-role: none}.
 *
 * <p>Immutable after construction; thread safe.
 */
final class OpenApiDocument {
  /** The route this document is served at (viewer, as every GET). */
  static final String PATH = "/api/v1/openapi.json";

  static final String RESOURCE = "openapi.yaml";

  private static final List<String> METHODS = List.of("get", "put", "post", "delete", "patch");

  private final String json;

  OpenApiDocument() {
    this.json = render(load());
  }

  void register(RoutesConfig r) {
    r.get(PATH, this::serve);
  }

  private void serve(Context ctx) {
    ctx.contentType("application/json").result(json);
  }

  private static String render(ObjectNode doc) {
    addRoles(doc);
    try {
      return new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(doc);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static ObjectNode load() {
    try (InputStream in = OpenApiDocument.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException("missing resource " + RESOURCE);
      }
      return (ObjectNode) new ObjectMapper(new YAMLFactory()).readTree(in);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + RESOURCE, e);
    }
  }

  /** Writes each operation's {@code x-role} (and {@code security: []} for the open routes). */
  private static void addRoles(ObjectNode doc) {
    Iterator<Map.Entry<String, JsonNode>> paths = doc.path("paths").fields();
    while (paths.hasNext()) {
      Map.Entry<String, JsonNode> p = paths.next();
      for (String method : METHODS) {
        if (p.getValue().get(method) instanceof ObjectNode op) {
          String m = method.toUpperCase(Locale.ROOT);
          if (isOpen(p.getKey())) {
            op.put("x-role", "none");
            op.set("security", new ArrayNode(null));
          } else {
            op.put("x-role", ApiAuth.required(m, p.getKey()).label());
          }
        }
      }
    }
  }

  private static boolean isOpen(String path) {
    return path.equals(ApiAuth.HEALTH) || path.equals(EnrollmentApi.ENROLL_PATH);
  }
}
