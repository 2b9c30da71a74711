package io.edgesync.server;

import io.javalin.config.JavalinConfig;
import io.javalin.http.staticfiles.Location;
import java.util.Map;

/**
 * The browser dashboard: plain HTML, CSS and JavaScript modules in the server's jar (resources
 * under {@value #RESOURCES}), served at {@value #PATH}/ with no build step and nothing fetched from
 * elsewhere. The pages hold no secret: they call the REST API with the API key the user pastes, so
 * the API's roles decide what each user may do (docs/operations.md, "Dashboard").
 *
 * <p>Thread safe (configuration only).
 */
final class Dashboard {
  /** Where the dashboard is served. */
  static final String PATH = "/dashboard";

  /** The classpath folder of its files. */
  static final String RESOURCES = "/io/edgesync/server/dashboard";

  /**
   * Only this server's own files run (no inline script, no other origin), and no other site may
   * frame the page (it holds an API key in its session storage).
   */
  private static final Map<String, String> HEADERS =
      Map.of(
          "Content-Security-Policy",
          "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none';"
              + " form-action 'none'",
          "X-Content-Type-Options",
          "nosniff",
          "Referrer-Policy",
          "no-referrer",
          "Cache-Control",
          "no-cache");

  private Dashboard() {}

  /** Serves the files ({@value #PATH}/ is its index.html) and sends {@code /} there. */
  static void install(JavalinConfig cfg) {
    cfg.staticFiles.add(
        files -> {
          files.hostedPath = PATH;
          files.directory = RESOURCES;
          files.location = Location.CLASSPATH;
          files.headers = HEADERS;
        });
    cfg.routes.get("/", ctx -> ctx.redirect(PATH + "/"));
  }
}
