package io.edgesync.server;

import io.edgesync.protocol.Clock;
import io.edgesync.server.ApiKeys.Role;
import io.edgesync.server.SyncServer.ApiError;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.javalin.router.Endpoint;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Who may call which REST route: every {@code /api/v1/...} request but {@value #HEALTH} carries
 * {@code Authorization: Bearer <key>}, the key must be known and not revoked (else 401), and its
 * role must allow the route (else 403). {@link #ROLES} is the one table of what each route needs;
 * docs/api.md shows it. The key's name is the "who" the audit records ({@link #keyName}).
 *
 * <p>Also serves the key routes ({@code /api/v1/keys}, admin). Thread safe (no state of its own).
 */
final class ApiAuth {
  /** The one route open without a key: load balancers and the demo probe it. */
  static final String HEALTH = "/api/v1/health";

  /**
   * Tells a key its own name, role and groups (viewer, and open to keys limited to groups): the
   * dashboard shows the role and hides what the key may not do.
   */
  static final String WHOAMI = "/api/v1/whoami";

  /**
   * The header that once named the audit's "who"; refused now (400), since anyone could set it and
   * a client sending it would believe it still counts.
   */
  static final String OLD_USER_HEADER = "X-Edgesync-User";

  private static final String KEY_ATTRIBUTE = "edgesync.apiKey";

  /** The KPIs: open to a key limited to groups for its own groups and their devices. */
  private static final String KPIS = "/api/v1/kpis";

  /**
   * What each route needs, by method and path as registered. A GET not named here needs {@link
   * Role#VIEWER}; any other method not named here needs {@link Role#ADMIN}, so that a route added
   * without an entry is closed rather than open.
   */
  static final Map<String, Role> ROLES = roles();

  private static Map<String, Role> roles() {
    Map<String, Role> m = new LinkedHashMap<>();
    for (String scope :
        List.of("/api/v1/devices/{id}", "/api/v1/fleet", "/api/v1/groups/{group}")) {
      m.put("PUT " + scope + "/docs/{collection}/{key}", Role.OPERATOR);
      m.put("DELETE " + scope + "/docs/{collection}/{key}", Role.OPERATOR);
    }
    m.put("POST /api/v1/devices/{id}/commands", Role.OPERATOR);
    m.put("POST /api/v1/conflicts/{cid}/resolve", Role.OPERATOR);
    m.put("PUT /api/v1/devices/{id}/groups", Role.ADMIN);
    m.put("GET /api/v1/keys", Role.ADMIN);
    m.put("POST /api/v1/keys", Role.ADMIN);
    m.put("DELETE /api/v1/keys/{name}", Role.ADMIN);
    m.put("GET /api/v1/enrollment-tokens", Role.ADMIN);
    m.put("POST /api/v1/enrollment-tokens", Role.ADMIN);
    for (String write : FileApi.WRITES) {
      m.put(write, Role.OPERATOR); // publish, rollouts
    }
    return Map.copyOf(m);
  }

  private final ApiKeys keys; // null: the store keeps no keys, and every route but health is shut
  private final Clock clock;
  private final Function<String, List<String>> groupsOfDevice;

  /** {@code groupsOfDevice}: the groups a device is in, for keys limited to groups. */
  ApiAuth(ApiKeys keys, Clock clock, Function<String, List<String>> groupsOfDevice) {
    this.keys = keys;
    this.clock = clock;
    this.groupsOfDevice = groupsOfDevice;
  }

  /** The role {@code method path} needs ({@code path} as registered, with its {@code {params}}). */
  static Role required(String method, String path) {
    Role r = ROLES.get(method + " " + path);
    if (r != null) {
      return r;
    }
    return method.equals("GET") || method.equals("HEAD") ? Role.VIEWER : Role.ADMIN;
  }

  /** The name of the key that authorized {@code ctx} (the audit's "who"). */
  static String keyName(Context ctx) {
    ApiKeys.Key k = ctx.attribute(KEY_ATTRIBUTE);
    if (k == null) {
      throw new IllegalStateException("no API key checked for " + ctx.path());
    }
    return k.name();
  }

  void register(RoutesConfig r) {
    r.beforeMatched(this::check);
    r.get(WHOAMI, ctx -> ctx.json(keyJson(ctx.attribute(KEY_ATTRIBUTE))));
    r.get("/api/v1/keys", this::listKeys);
    r.post("/api/v1/keys", this::createKey);
    r.delete("/api/v1/keys/{name}", this::revokeKey);
  }

  /** Runs before every matched route; a refusal is thrown, so the route's handler never runs. */
  private void check(Context ctx) {
    Endpoint endpoint = ctx.endpoints().matchedHttpEndpoint();
    if (endpoint == null || !endpoint.path.startsWith("/api/") || endpoint.path.equals(HEALTH)) {
      return;
    }
    if (ctx.header(OLD_USER_HEADER) != null) {
      throw new ApiError(
          400,
          "header "
              + OLD_USER_HEADER
              + " is not accepted: the audit names the API key that made the request");
    }
    ApiKeys.Key key = authenticate(ctx);
    String method = endpoint.method.name();
    Role needed = required(method, endpoint.path);
    if (!key.role().allows(needed)) {
      throw new ApiError(
          403,
          "API key '"
              + key.name()
              + "' has role "
              + key.role().label()
              + "; "
              + method
              + " "
              + endpoint.path
              + " needs role "
              + needed.label());
    }
    if (key.limited() && !endpoint.path.equals(WHOAMI)) {
      checkGroups(ctx, key, method + " " + endpoint.path);
    }
    ctx.attribute(KEY_ATTRIBUTE, key);
  }

  /**
   * A key limited to groups acts only on a group scope of its own ({@code {group}} routes) or on a
   * device in one of its groups ({@code {id}} routes); every other route (fleet documents, lists
   * across devices, a conflict or command by its id, keys) reaches beyond them and is refused.
   */
  private void checkGroups(Context ctx, ApiKeys.Key key, String route) {
    String limit = "API key '" + key.name() + "' is limited to groups " + key.groups();
    if (route.contains("{group}")) {
      String group = ctx.pathParam("group");
      if (!key.groups().contains(group)) {
        throw new ApiError(403, limit + "; group '" + group + "' is not one of them");
      }
    } else if (route.contains("/devices/{id}")) {
      String device = ctx.pathParam("id");
      if (groupsOfDevice.apply(device).stream().noneMatch(key.groups()::contains)) {
        throw new ApiError(403, limit + "; device '" + device + "' is in none of them");
      }
    } else if (route.equals("GET " + KPIS)) {
      checkKpiScope(ctx, key, limit);
    } else {
      throw new ApiError(
          403, limit + "; " + route + " reaches beyond one device or group of theirs");
    }
  }

  /** The KPIs of one of the key's groups ({@code ?group=}) or of a device in one of them. */
  private void checkKpiScope(Context ctx, ApiKeys.Key key, String limit) {
    String group = ctx.queryParam("group");
    String device = ctx.queryParam("device");
    boolean own =
        group != null && device == null
            ? key.groups().contains(group)
            : device != null
                && group == null
                && groupsOfDevice.apply(device).stream().anyMatch(key.groups()::contains);
    if (!own) {
      throw new ApiError(
          403,
          limit
              + "; "
              + KPIS
              + " answers it for ?group= of its own or ?device= in one of them, not the fleet's");
    }
  }

  private ApiKeys.Key authenticate(Context ctx) {
    String header = ctx.header("Authorization");
    if (header == null || header.isBlank()) {
      throw unauthorized(ctx, "missing API key: send the header Authorization: Bearer <key>");
    }
    if (!header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      throw unauthorized(ctx, "the Authorization header must be 'Bearer <key>'");
    }
    if (keys == null) {
      throw unauthorized(ctx, "this server's store keeps no API keys, so no key is valid");
    }
    String secret = header.substring(7).trim();
    ApiKeys.Key key = keys.bySecret(secret).orElseThrow(() -> unauthorized(ctx, "unknown API key"));
    if (key.revoked()) {
      throw unauthorized(
          ctx,
          "API key '" + key.name() + "' was revoked at " + Instant.ofEpochMilli(key.revokedAtMs()));
    }
    return key;
  }

  private static ApiError unauthorized(Context ctx, String message) {
    ctx.header("WWW-Authenticate", "Bearer realm=\"edgesync\"");
    return new ApiError(401, message);
  }

  // ---------------------------------------------------------------- key routes (admin)

  private void listKeys(Context ctx) {
    List<Map<String, Object>> out = new ArrayList<>();
    for (ApiKeys.Key k : requireKeys().list()) {
      out.add(keyJson(k));
    }
    ctx.json(Map.of("keys", out));
  }

  private void createKey(Context ctx) {
    Map<?, ?> body;
    try {
      body = ctx.bodyAsClass(Map.class);
    } catch (Exception e) { // Jackson's IOException (an empty body) comes through Kotlin unchecked
      throw new ApiError(400, "expected {\"name\": \"...\", \"role\": \"viewer|operator|admin\"}");
    }
    if (!(body.get("name") instanceof String name) || !(body.get("role") instanceof String role)) {
      throw new ApiError(400, "expected {\"name\": \"...\", \"role\": \"viewer|operator|admin\"}");
    }
    List<String> groups = new ArrayList<>();
    Object g = body.get("groups");
    if (g instanceof List<?> list) {
      for (Object o : list) {
        if (!(o instanceof String s)) {
          throw new ApiError(400, "\"groups\" must be a list of group names, had " + o);
        }
        groups.add(s);
      }
    } else if (g != null) {
      throw new ApiError(400, "\"groups\" must be a list of group names, was " + g);
    }
    ApiKeys.Created c;
    try {
      c = requireKeys().create(name, Role.parse(role), groups, clock.nowMs(), keyName(ctx));
    } catch (ApiKeys.NameTaken e) {
      throw new ApiError(409, e.getMessage());
    } catch (IllegalArgumentException e) {
      throw new ApiError(400, e.getMessage());
    }
    Map<String, Object> out = keyJson(c.key());
    out.put("key", c.secret());
    ctx.status(201).json(out);
  }

  private void revokeKey(Context ctx) {
    try {
      ctx.json(keyJson(requireKeys().revoke(ctx.pathParam("name"), clock.nowMs(), keyName(ctx))));
    } catch (ApiKeys.NoSuchKey e) {
      throw new ApiError(404, e.getMessage());
    }
  }

  private ApiKeys requireKeys() {
    if (keys == null) {
      throw new ApiError(404, "this server's store keeps no API keys");
    }
    return keys;
  }

  private static Map<String, Object> keyJson(ApiKeys.Key k) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("name", k.name());
    m.put("role", k.role().label());
    m.put("createdAtMs", k.createdAtMs());
    m.put("revokedAtMs", k.revokedAtMs());
    m.put("groups", k.groups());
    return m;
  }
}
