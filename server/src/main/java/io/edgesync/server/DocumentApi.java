package io.edgesync.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgesync.engine.cloud.CloudStore;
import io.edgesync.engine.commands.CommandStore;
import io.edgesync.engine.docs.CloudDocuments;
import io.edgesync.engine.docs.DocumentException;
import io.edgesync.engine.docs.DocumentStore;
import io.edgesync.engine.docs.JsonDocs;
import io.edgesync.protocol.Clock;
import io.edgesync.protocol.Hlc;
import io.edgesync.protocol.ProtocolLimits;
import io.edgesync.server.SyncServer.ApiError;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The REST API for documents, conflicts, the audit log, device groups and commands ({@code
 * /api/v1/...}; see docs/api.md). Every error is {@code {"error": "..."}} with a status naming the
 * kind of problem; a refused request stores nothing.
 */
final class DocumentApi {
  static final int MAX_PAGE = 1000;
  static final long MAX_COMMAND_TTL_SECONDS = 30L * 86_400;

  private final CloudDocuments docs;
  private final CommandStore commands;
  private final CloudStore store;
  private final Clock clock;
  private final Consumer<String> commandsQueued;
  private final ObjectMapper json;

  DocumentApi(
      CloudDocuments docs,
      CommandStore commands,
      CloudStore store,
      Clock clock,
      ObjectMapper json,
      Consumer<String> commandsQueued) {
    this.docs = docs;
    this.commands = commands;
    this.store = store;
    this.clock = clock;
    this.json = json;
    this.commandsQueued = commandsQueued;
  }

  void register(RoutesConfig r) {
    r.get("/api/v1/devices/{id}/docs/{collection}", ctx -> list(ctx, deviceScope(ctx)));
    r.get("/api/v1/devices/{id}/docs/{collection}/{key}", ctx -> get(ctx, deviceScope(ctx)));
    r.put("/api/v1/devices/{id}/docs/{collection}/{key}", ctx -> put(ctx, deviceScope(ctx)));
    r.delete("/api/v1/devices/{id}/docs/{collection}/{key}", ctx -> delete(ctx, deviceScope(ctx)));
    r.get("/api/v1/fleet/docs/{collection}", ctx -> list(ctx, CloudDocuments.FLEET));
    r.get("/api/v1/fleet/docs/{collection}/{key}", ctx -> get(ctx, CloudDocuments.FLEET));
    r.put("/api/v1/fleet/docs/{collection}/{key}", ctx -> put(ctx, CloudDocuments.FLEET));
    r.delete("/api/v1/fleet/docs/{collection}/{key}", ctx -> delete(ctx, CloudDocuments.FLEET));
    r.get("/api/v1/groups/{group}/docs/{collection}", ctx -> list(ctx, groupScope(ctx)));
    r.get("/api/v1/groups/{group}/docs/{collection}/{key}", ctx -> get(ctx, groupScope(ctx)));
    r.put("/api/v1/groups/{group}/docs/{collection}/{key}", ctx -> put(ctx, groupScope(ctx)));
    r.delete("/api/v1/groups/{group}/docs/{collection}/{key}", ctx -> delete(ctx, groupScope(ctx)));
    r.get("/api/v1/devices/{id}/groups", this::getGroups);
    r.put("/api/v1/devices/{id}/groups", this::putGroups);
    r.get("/api/v1/conflicts", this::listConflicts);
    r.get("/api/v1/conflicts/{cid}", ctx -> ctx.json(conflictJson(conflict(ctx))));
    r.post("/api/v1/conflicts/{cid}/resolve", this::resolve);
    r.get("/api/v1/audit", this::audit);
    r.post("/api/v1/devices/{id}/commands", this::postCommand);
    r.get("/api/v1/devices/{id}/commands", this::listCommands);
    r.get("/api/v1/commands/{cmd}", this::getCommand);
    r.exception(
        DocumentException.class,
        (e, ctx) ->
            ctx.status(
                    switch (e.kind()) {
                      case INVALID -> 400;
                      case NOT_FOUND -> 404;
                      case CONFLICT -> 409;
                      case TOO_LARGE -> 413;
                    })
                .json(Map.of("error", e.getMessage())));
  }

  // ---------------------------------------------------------------- documents

  private String deviceScope(Context ctx) {
    String id = ctx.pathParam("id");
    requireDevice(id);
    return CloudDocuments.deviceScope(id);
  }

  private String groupScope(Context ctx) {
    String g = ctx.pathParam("group");
    if (!ProtocolLimits.isValidCollection(g)) {
      throw new ApiError(400, "invalid group name '" + g + "'");
    }
    return CloudDocuments.groupScope(g);
  }

  private void requireDevice(String id) {
    if (store.device(id).isEmpty()) {
      throw new ApiError(404, "unknown device '" + id + "'");
    }
  }

  private void list(Context ctx, String scope) {
    String collection = declared(ctx.pathParam("collection"));
    String after = ctx.queryParam("after") == null ? "" : ctx.queryParam("after");
    int limit = (int) SyncServer.longParam(ctx, "limit", 100, 1, MAX_PAGE);
    List<Map<String, Object>> out = new ArrayList<>();
    String last = null;
    for (DocumentStore.StoredDoc d : docs.store().list(scope, collection, after, limit)) {
      out.add(docJson(d));
      last = d.key();
    }
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("scope", scope);
    m.put("collection", collection);
    m.put("documents", out);
    m.put("nextAfter", out.size() == limit ? last : null);
    ctx.json(m);
  }

  private void get(Context ctx, String scope) {
    String collection = declared(ctx.pathParam("collection"));
    DocumentStore.StoredDoc d = docs.store().get(scope, collection, ctx.pathParam("key"));
    if (d == null || d.deleted()) {
      throw new ApiError(
          404, "no document " + collection + "/" + ctx.pathParam("key") + " in " + scope);
    }
    ctx.json(docJson(d));
  }

  private void put(Context ctx, String scope) {
    DocumentStore.StoredDoc d =
        docs.put(
            scope,
            ctx.pathParam("collection"),
            ctx.pathParam("key"),
            ctx.bodyAsBytes(),
            ifMatch(ctx));
    ctx.json(docJson(d));
  }

  private void delete(Context ctx, String scope) {
    DocumentStore.StoredDoc d =
        docs.delete(scope, ctx.pathParam("collection"), ctx.pathParam("key"), ifMatch(ctx));
    ctx.json(Map.of("deleted", true, "version", d.version()));
  }

  private String declared(String collection) {
    if (docs.rules().policy(collection) == null) {
      throw new ApiError(
          404,
          "unknown collection '"
              + collection
              + "'; declared: "
              + docs.rules().collections().keySet());
    }
    return collection;
  }

  private static Long ifMatch(Context ctx) {
    String h = ctx.header("If-Match");
    if (h == null || h.isBlank()) {
      return null;
    }
    try {
      return Long.parseLong(h.replace("\"", "").trim());
    } catch (NumberFormatException e) {
      throw new ApiError(400, "If-Match must be a document version number, was '" + h + "'");
    }
  }

  private Map<String, Object> docJson(DocumentStore.StoredDoc d) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("scope", d.scope());
    m.put("collection", d.collection());
    m.put("key", d.key());
    m.put("version", d.version());
    m.put("value", d.deleted() ? null : JsonDocs.parse(d.value()));
    m.put("hlc", d.hlc().toString());
    m.put("writer", d.writer());
    m.put("conflicted", d.conflictId() != 0);
    if (d.conflictId() != 0) {
      m.put("conflictId", d.conflictId());
    }
    m.put("updatedMs", d.updatedMs());
    return m;
  }

  // ---------------------------------------------------------------- groups

  private void getGroups(Context ctx) {
    String id = ctx.pathParam("id");
    requireDevice(id);
    ctx.json(Map.of("device", id, "groups", docs.store().groups(id)));
  }

  private void putGroups(Context ctx) {
    String id = ctx.pathParam("id");
    requireDevice(id);
    JsonNode body = body(ctx);
    JsonNode groups = body.isArray() ? body : body.get("groups");
    if (groups == null || !groups.isArray()) {
      throw new ApiError(400, "expected a JSON array of group names, or {\"groups\": [...]}");
    }
    List<String> names = new ArrayList<>();
    for (JsonNode g : groups) {
      if (!g.isTextual() || !ProtocolLimits.isValidCollection(g.asText())) {
        throw new ApiError(
            400, "invalid group name " + g + "; allowed: " + ProtocolLimits.COLLECTION_PATTERN);
      }
      names.add(g.asText());
    }
    docs.store().setGroups(id, names);
    ctx.json(Map.of("device", id, "groups", docs.store().groups(id)));
  }

  // ---------------------------------------------------------------- conflicts and audit

  private void listConflicts(Context ctx) {
    String status = ctx.queryParam("status");
    if (status != null && !status.equals("open") && !status.equals("resolved")) {
      throw new ApiError(400, "status must be open or resolved, was '" + status + "'");
    }
    List<Map<String, Object>> out = new ArrayList<>();
    for (DocumentStore.ConflictRecord c :
        docs.store()
            .conflicts(
                new DocumentStore.ConflictFilter(
                    status,
                    ctx.queryParam("device"),
                    ctx.queryParam("collection"),
                    SyncServer.longParam(ctx, "after", 0, 0, Long.MAX_VALUE),
                    (int) SyncServer.longParam(ctx, "limit", 100, 1, MAX_PAGE)))) {
      out.add(conflictJson(c));
    }
    ctx.json(Map.of("conflicts", out));
  }

  private DocumentStore.ConflictRecord conflict(Context ctx) {
    long id;
    try {
      id = Long.parseLong(ctx.pathParam("cid"));
    } catch (NumberFormatException e) {
      throw new ApiError(400, "conflict id must be a number, was '" + ctx.pathParam("cid") + "'");
    }
    DocumentStore.ConflictRecord c = docs.store().conflict(id);
    if (c == null) {
      throw new ApiError(404, "no conflict " + id);
    }
    return c;
  }

  private void resolve(Context ctx) {
    DocumentStore.ConflictRecord c = conflict(ctx);
    JsonNode body = body(ctx);
    if (!body.isObject()) {
      throw new ApiError(400, "expected {\"take\":\"edge\"|\"cloud\"} or {\"value\": ...}");
    }
    JsonNode value = body.get("value");
    JsonNode take = body.get("take");
    if ((value == null) == (take == null)) {
      throw new ApiError(400, "give exactly one of \"take\" and \"value\"");
    }
    if (take != null && !take.isTextual()) {
      throw new ApiError(400, "\"take\" must be \"edge\" or \"cloud\", was " + take);
    }
    String by = ApiAuth.keyName(ctx);
    DocumentStore.StoredDoc d =
        docs.resolve(
            c.id(),
            take == null ? null : take.asText(),
            value == null ? null : JsonDocs.bytes(value),
            by);
    ctx.json(
        Map.of("conflict", conflictJson(docs.store().conflict(c.id())), "document", docJson(d)));
  }

  private Map<String, Object> conflictJson(DocumentStore.ConflictRecord c) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", c.id());
    m.put("status", c.status());
    putDecision(m, c.scope(), c.collection(), c.key(), c.deviceId(), c.strategy());
    m.put("flagged", c.flagged());
    putBaseAndCloud(
        m, c.baseVersion(), c.baseValue(), c.cloudVersion(), c.cloudValue(), c.cloudHlc());
    Map<String, Object> edge = side(0, c.edgeValue(), c.edgeHlc().toString());
    edge.remove("version");
    edge.put("changeSeq", c.edgeChangeSeq());
    m.put("edge", edge);
    m.put(
        "fieldConflicts",
        c.fieldConflicts().isEmpty() ? List.of() : List.of(c.fieldConflicts().split(",")));
    m.put("note", c.note());
    m.put("outcome", c.outcome());
    m.put("resolvedBy", c.resolvedBy());
    m.put("resultVersion", c.resultVersion());
    m.put("createdMs", c.createdMs());
    m.put("resolvedMs", c.resolvedMs());
    return m;
  }

  /** The key a conflict or audit record is about, the device and the strategy that decided. */
  private static void putDecision(
      Map<String, Object> m,
      String scope,
      String collection,
      String key,
      String device,
      String strategy) {
    m.put("scope", scope);
    m.put("collection", collection);
    m.put("key", key);
    m.put("device", device);
    m.put("strategy", strategy);
  }

  /** The base and cloud sides of a conflict or audit record. */
  private static void putBaseAndCloud(
      Map<String, Object> m,
      long baseVersion,
      byte[] baseValue,
      long cloudVersion,
      byte[] cloudValue,
      Hlc cloudHlc) {
    m.put("base", side(baseVersion, baseValue, null));
    m.put("cloud", side(cloudVersion, cloudValue, cloudHlc.toString()));
  }

  private static Map<String, Object> side(long version, byte[] value, String hlc) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("version", version);
    m.put("value", value == null ? null : JsonDocs.parse(value));
    m.put("deleted", value == null);
    if (hlc != null) {
      m.put("hlc", hlc);
    }
    return m;
  }

  private void audit(Context ctx) {
    List<Map<String, Object>> out = new ArrayList<>();
    for (DocumentStore.AuditRecord a :
        docs.store()
            .audit(
                new DocumentStore.AuditFilter(
                    ctx.queryParam("device"),
                    ctx.queryParam("collection"),
                    ctx.queryParam("key"),
                    SyncServer.longParam(ctx, "after", 0, 0, Long.MAX_VALUE),
                    (int) SyncServer.longParam(ctx, "limit", 100, 1, MAX_PAGE)))) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("id", a.id());
      m.put("atMs", a.atMs());
      m.put("conflictId", a.conflictId());
      putDecision(m, a.scope(), a.collection(), a.key(), a.deviceId(), a.strategy());
      m.put("outcome", a.outcome());
      m.put("resolvedBy", a.resolvedBy());
      putBaseAndCloud(
          m, a.baseVersion(), a.baseValue(), a.cloudVersion(), a.cloudValue(), a.cloudHlc());
      m.put("edge", side(0, a.edgeValue(), a.edgeHlc().toString()));
      m.put("result", side(a.resultVersion(), a.resultValue(), null));
      m.put("note", a.note());
      out.add(m);
    }
    ctx.json(Map.of("audit", out));
  }

  // ---------------------------------------------------------------- commands

  private void postCommand(Context ctx) {
    String id = ctx.pathParam("id");
    requireDevice(id);
    JsonNode body = body(ctx);
    JsonNode name = body.get("name");
    if (name == null || !name.isTextual() || !ProtocolLimits.isValidCollection(name.asText())) {
      throw new ApiError(
          400,
          "\"name\" must be a string matching "
              + ProtocolLimits.COLLECTION_PATTERN
              + ", was "
              + name);
    }
    JsonNode payload = body.has("payload") ? body.get("payload") : json.createObjectNode();
    byte[] bytes = JsonDocs.bytes(payload);
    if (bytes.length > docs.rules().maxDocumentBytes()) {
      throw new ApiError(
          413,
          "payload is " + bytes.length + " bytes; the limit is " + docs.rules().maxDocumentBytes());
    }
    JsonNode ttl = body.get("ttlSeconds");
    long ttlSeconds = 3600;
    if (ttl != null) {
      if (!ttl.canConvertToLong()
          || !ttl.isIntegralNumber()
          || ttl.asLong() < 1
          || ttl.asLong() > MAX_COMMAND_TTL_SECONDS) {
        throw new ApiError(
            400,
            "\"ttlSeconds\" must be an integer in 1.." + MAX_COMMAND_TTL_SECONDS + ", was " + ttl);
      }
      ttlSeconds = ttl.asLong();
    }
    CommandStore.StoredCommand c =
        commands.create(id, name.asText(), bytes, ttlSeconds * 1000, clock.nowMs());
    commandsQueued.accept(id);
    ctx.status(201).json(commandJson(c));
  }

  private void listCommands(Context ctx) {
    String id = ctx.pathParam("id");
    requireDevice(id);
    List<Map<String, Object>> out = new ArrayList<>();
    for (CommandStore.StoredCommand c :
        commands.commands(
            id, (int) SyncServer.longParam(ctx, "limit", 100, 1, MAX_PAGE), clock.nowMs())) {
      out.add(commandJson(c));
    }
    ctx.json(Map.of("commands", out));
  }

  private void getCommand(Context ctx) {
    CommandStore.StoredCommand c = commands.command(ctx.pathParam("cmd"), clock.nowMs());
    if (c == null) {
      throw new ApiError(404, "no command '" + ctx.pathParam("cmd") + "'");
    }
    ctx.json(commandJson(c));
  }

  private static Map<String, Object> commandJson(CommandStore.StoredCommand c) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", c.id());
    m.put("device", c.deviceId());
    m.put("name", c.name());
    m.put("payload", JsonDocs.parse(c.payload()));
    m.put("state", c.state());
    m.put("createdMs", c.createdMs());
    m.put("expiresMs", c.expiresMs());
    m.put("deliveries", c.deliveries());
    m.put("result", c.result() == null ? null : parseOrText(c.result()));
    m.put("error", c.error());
    m.put("updatedMs", c.updatedMs());
    return m;
  }

  private static Object parseOrText(byte[] b) {
    try {
      return JsonDocs.parse(b);
    } catch (IllegalArgumentException e) {
      return new String(b, StandardCharsets.UTF_8);
    }
  }

  private static JsonNode body(Context ctx) {
    try {
      return JsonDocs.parse(ctx.bodyAsBytes());
    } catch (IllegalArgumentException e) {
      throw new ApiError(400, "the body is " + e.getMessage());
    }
  }
}
