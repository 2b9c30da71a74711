package io.edgesync.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgesync.protocol.Clock;
import io.edgesync.protocol.wire.FileMeta;
import io.edgesync.server.SyncServer.ApiError;
import io.edgesync.server.files.CloudFiles;
import io.edgesync.server.files.DeviceRolloutState;
import io.edgesync.server.files.FileRefusal;
import io.edgesync.server.files.FileStore;
import io.edgesync.server.files.FileStore.Rollout;
import io.edgesync.server.files.FileStore.StoredVersion;
import io.edgesync.server.files.UploadStore;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.javalin.http.Handler;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The REST API for files ({@code /api/v1/files}, {@code /api/v1/rollouts}, {@code /api/v1/uploads};
 * docs/api.md "Files"): publish (the body streamed into chunks), list and download versions, create
 * and control rollouts and watch them per device, list and download uploads. Refusals ({@link
 * FileRefusal}) answer 400, 404 or 409 naming the problem. Publishing and rollout changes audit
 * themselves ({@code file.publish}, {@code rollout.*}). Thread safe.
 */
final class FileApi {
  static final String SIGNATURE_HEADER = "X-Edgesync-Signature";
  static final String KEY_ID_HEADER = "X-Edgesync-Key-Id";
  static final String SHA256_HEADER = "X-Edgesync-Sha256";
  static final String VERSION_HEADER = "X-Edgesync-Version";

  /** The write routes, each auditing itself. */
  static final Set<String> WRITES =
      Set.of(
          "POST /api/v1/files",
          "POST /api/v1/rollouts",
          "POST /api/v1/rollouts/{id}/pause",
          "POST /api/v1/rollouts/{id}/resume",
          "POST /api/v1/rollouts/{id}/cancel");

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String META_PREFIX = "meta.";

  private final CloudFiles files;
  private final Clock clock;

  FileApi(CloudFiles files, Clock clock) {
    this.files = files;
    this.clock = clock;
  }

  void register(RoutesConfig r) {
    r.post("/api/v1/files", refusals(this::publish));
    r.get("/api/v1/files", refusals(this::listPaths));
    r.get("/api/v1/files/versions", refusals(this::listVersions));
    r.get("/api/v1/files/download", refusals(this::download));
    r.post("/api/v1/rollouts", refusals(this::createRollout));
    r.get("/api/v1/rollouts", refusals(this::listRollouts));
    r.get("/api/v1/rollouts/{id}", refusals(this::rolloutStatus));
    r.post("/api/v1/rollouts/{id}/pause", refusals(ctx -> control(ctx, "pause")));
    r.post("/api/v1/rollouts/{id}/resume", refusals(ctx -> control(ctx, "resume")));
    r.post("/api/v1/rollouts/{id}/cancel", refusals(ctx -> control(ctx, "cancel")));
    r.get("/api/v1/uploads", refusals(this::listUploads));
    r.get("/api/v1/uploads/download", refusals(this::downloadUpload));
  }

  /** Maps a refusal to its status; the message names the problem. */
  private static Handler refusals(Handler h) {
    return ctx -> {
      try {
        h.handle(ctx);
      } catch (FileRefusal e) {
        int status =
            switch (e.kind()) {
              case BAD_INPUT -> 400;
              case NOT_FOUND -> 404;
              case CONFLICT -> 409;
            };
        throw new ApiError(status, e.getMessage());
      }
    };
  }

  // ---------------------------------------------------------------- versions

  private void publish(Context ctx) throws IOException {
    String path = requireParam(ctx, "path");
    Map<String, String> meta = new LinkedHashMap<>();
    ctx.queryParamMap()
        .forEach(
            (k, v) -> {
              if (k.startsWith(META_PREFIX)) {
                if (v.size() != 1) {
                  throw new ApiError(400, "metadata '" + k + "' is given " + v.size() + " times");
                }
                meta.put(k.substring(META_PREFIX.length()), v.get(0));
              } else if (!k.equals("path") && !k.equals("version")) {
                throw new ApiError(
                    400, "unknown query parameter '" + k + "'; allowed: path, version, meta.<key>");
              }
            });
    Long version =
        ctx.queryParam("version") == null
            ? null
            : SyncServer.longParam(ctx, "version", 0, 1, Long.MAX_VALUE);
    byte[] signature = signature(ctx);
    CloudFiles.PublishRequest req =
        new CloudFiles.PublishRequest(
            path, meta, version, signature, ctx.header(KEY_ID_HEADER), ApiAuth.keyName(ctx));
    StoredVersion v = files.publish(req, ctx.req().getInputStream(), clock.nowMs());
    ctx.status(201).json(versionJson(v));
  }

  private static byte[] signature(Context ctx) {
    String raw = ctx.header(SIGNATURE_HEADER);
    if (raw == null || raw.isBlank()) {
      return null;
    }
    try {
      return Base64.getDecoder().decode(raw.trim());
    } catch (IllegalArgumentException e) {
      throw new ApiError(400, "bad_signature: header " + SIGNATURE_HEADER + " is not base64");
    }
  }

  private void listPaths(Context ctx) {
    List<Map<String, Object>> out = new ArrayList<>();
    for (StoredVersion v : files.store().latestOfEveryPath()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("path", v.header().getPath());
      m.put("latestVersion", v.header().getVersion());
      m.put("size", v.header().getSize());
      m.put("sha256", hex(v.header().getSha256().toByteArray()));
      m.put("publishedAtMs", v.publishedAtMs());
      out.add(m);
    }
    ctx.json(Map.of("files", out));
  }

  private void listVersions(Context ctx) {
    String path = requireParam(ctx, "path");
    List<Map<String, Object>> out = new ArrayList<>();
    for (StoredVersion v : files.store().versions(path)) {
      out.add(versionJson(v));
    }
    ctx.json(Map.of("path", path, "versions", out));
  }

  private void download(Context ctx) {
    String path = requireParam(ctx, "path");
    StoredVersion v =
        (ctx.queryParam("version") == null
                ? files.store().latest(path)
                : files
                    .store()
                    .version(path, SyncServer.longParam(ctx, "version", 0, 1, Long.MAX_VALUE)))
            .orElseThrow(() -> new ApiError(404, "no such version of " + path));
    ctx.header(SHA256_HEADER, hex(v.header().getSha256().toByteArray()));
    ctx.header(VERSION_HEADER, Long.toString(v.header().getVersion()));
    ctx.header("Content-Length", Long.toString(v.header().getSize()));
    ctx.contentType("application/octet-stream");
    ctx.result(files.open(path, v.header().getVersion()));
  }

  private static Map<String, Object> versionJson(StoredVersion v) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("path", v.header().getPath());
    m.put("version", v.header().getVersion());
    m.put("size", v.header().getSize());
    m.put("sha256", hex(v.header().getSha256().toByteArray()));
    Map<String, String> meta = new LinkedHashMap<>();
    for (FileMeta e : v.header().getMetadataList()) {
      meta.put(e.getKey(), e.getValue());
    }
    m.put("metadata", meta);
    m.put("chunks", v.chunkCount());
    m.put("keyId", v.keyId());
    m.put("signature", Base64.getEncoder().encodeToString(v.signature()));
    m.put("publishedAtMs", v.publishedAtMs());
    m.put("publisher", v.publisher());
    return m;
  }

  // ---------------------------------------------------------------- rollouts

  private void createRollout(Context ctx) {
    JsonNode body;
    try {
      body = JSON.readTree(ctx.body());
    } catch (IOException e) {
      throw new ApiError(400, "the body is not JSON: " + e.getMessage());
    }
    if (body == null || !body.isObject()) {
      throw new ApiError(400, "expected a JSON object: " + ROLLOUT_SHAPE);
    }
    CloudFiles.RolloutRequest req = rolloutRequest(body);
    Rollout r = files.createRollout(req, ApiAuth.keyName(ctx), clock.nowMs());
    ctx.status(201).json(rolloutJson(r, true));
  }

  private static final String ROLLOUT_SHAPE =
      "{\"path\": P, \"version\": V, \"device\": D | \"group\": G | \"fleet\": true,"
          + " \"ratePerMinute\": N, \"maxFailureShare\": S, \"minReports\": M}";

  private static CloudFiles.RolloutRequest rolloutRequest(JsonNode b) {
    Set<String> allowed =
        Set.of(
            "path",
            "version",
            "device",
            "group",
            "fleet",
            "ratePerMinute",
            "maxFailureShare",
            "minReports");
    b.fieldNames()
        .forEachRemaining(
            f -> {
              if (!allowed.contains(f)) {
                throw new ApiError(400, "unknown field '" + f + "'; expected " + ROLLOUT_SHAPE);
              }
            });
    if (!b.path("path").isTextual() || !b.path("version").canConvertToLong()) {
      throw new ApiError(400, "\"path\" (text) and \"version\" (number) are required");
    }
    FileStore.TargetKind kind = null;
    String target = "";
    int targets = 0;
    if (b.has("device")) {
      kind = FileStore.TargetKind.DEVICE;
      target = b.get("device").asText();
      targets++;
    }
    if (b.has("group")) {
      kind = FileStore.TargetKind.GROUP;
      target = b.get("group").asText();
      targets++;
    }
    if (b.path("fleet").asBoolean(false)) {
      kind = FileStore.TargetKind.FLEET;
      targets++;
    }
    if (targets != 1) {
      throw new ApiError(400, "name exactly one target: \"device\", \"group\" or \"fleet\": true");
    }
    return new CloudFiles.RolloutRequest(
        b.get("path").asText(),
        b.get("version").asLong(),
        kind,
        target,
        intField(b, "ratePerMinute", 10),
        b.has("maxFailureShare") ? number(b, "maxFailureShare") : 0.2,
        intField(b, "minReports", 5));
  }

  private static int intField(JsonNode b, String name, int fallback) {
    if (!b.has(name)) {
      return fallback;
    }
    if (!b.get(name).canConvertToInt() || !b.get(name).isIntegralNumber()) {
      throw new ApiError(400, "\"" + name + "\" must be a whole number, was " + b.get(name));
    }
    return b.get(name).asInt();
  }

  private static double number(JsonNode b, String name) {
    if (!b.get(name).isNumber()) {
      throw new ApiError(400, "\"" + name + "\" must be a number, was " + b.get(name));
    }
    return b.get(name).asDouble();
  }

  private void listRollouts(Context ctx) {
    List<Map<String, Object>> out = new ArrayList<>();
    for (Rollout r : files.store().rollouts(CloudFiles.MAX_LISTED_ROLLOUTS)) {
      out.add(rolloutJson(r, false));
    }
    ctx.json(Map.of("rollouts", out));
  }

  private void rolloutStatus(Context ctx) {
    long id = rolloutId(ctx);
    Rollout r = files.store().rollout(id).orElseThrow(() -> new ApiError(404, "no rollout " + id));
    ctx.json(rolloutJson(r, true));
  }

  private void control(Context ctx, String action) {
    long id = rolloutId(ctx);
    String reason = null;
    if (!ctx.body().isBlank()) {
      try {
        JsonNode b = JSON.readTree(ctx.body());
        reason = b.hasNonNull("reason") ? b.get("reason").asText() : null;
      } catch (IOException e) {
        throw new ApiError(400, "the body is not JSON: expected {\"reason\": \"...\"} or none");
      }
    }
    String who = ApiAuth.keyName(ctx);
    long now = clock.nowMs();
    Rollout r =
        switch (action) {
          case "pause" -> files.pause(id, reason, who, now);
          case "resume" -> files.resume(id, who, now);
          default -> files.cancel(id, reason, who, now);
        };
    ctx.json(rolloutJson(r, false));
  }

  private static long rolloutId(Context ctx) {
    String raw = ctx.pathParam("id");
    try {
      return Long.parseLong(raw);
    } catch (NumberFormatException e) {
      throw new ApiError(400, "a rollout id is a number, was '" + raw + "'");
    }
  }

  private Map<String, Object> rolloutJson(Rollout r, boolean withDevices) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", r.id());
    m.put("path", r.path());
    m.put("version", r.version());
    m.put("target", r.targetKind().label());
    if (!r.target().isEmpty()) {
      m.put(r.targetKind().label(), r.target());
    }
    m.put("state", r.state().label());
    m.put("reason", r.reason());
    m.put("ratePerMinute", r.ratePerMin());
    m.put("maxFailureShare", r.maxFailureShare());
    m.put("minReports", r.minReports());
    m.put("admitted", r.admitted());
    m.put("createdBy", r.createdBy());
    m.put("createdAtMs", r.createdAtMs());
    m.put("updatedAtMs", r.updatedAtMs());
    Map<String, Long> counts = new LinkedHashMap<>();
    files.store().counts(r.id()).forEach((s, n) -> counts.put(s.label(), n));
    m.put("counts", counts);
    if (withDevices) {
      List<Map<String, Object>> devices = new ArrayList<>();
      for (FileStore.RolloutDevice d : files.store().devices(r.id())) {
        devices.add(deviceJson(d));
      }
      m.put("devices", devices);
    }
    return m;
  }

  private static Map<String, Object> deviceJson(FileStore.RolloutDevice d) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("device", d.device());
    m.put("state", d.state().label());
    m.put("bytesDone", d.bytesDone());
    m.put("bytesTotal", d.bytesTotal());
    m.put(
        "percent",
        d.bytesTotal() == 0
            ? (d.state() == DeviceRolloutState.INSTALLED ? 100 : 0)
            : Math.round(1000.0 * d.bytesDone() / d.bytesTotal()) / 10.0);
    m.put("bytesReceived", d.bytesReceived());
    m.put("reason", d.reason());
    m.put("admittedAtMs", d.admittedAtMs());
    m.put("updatedAtMs", d.updatedAtMs());
    return m;
  }

  // ---------------------------------------------------------------- uploads

  private void listUploads(Context ctx) {
    String device = ctx.queryParam("device");
    List<Map<String, Object>> out = new ArrayList<>();
    for (UploadStore.Upload u : files.uploads().list(device, 1000)) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("device", u.device());
      m.put("collection", u.collection());
      m.put("path", u.path());
      m.put("version", u.version());
      m.put("size", u.size());
      m.put("sha256", hex(u.sha256()));
      m.put("state", stateLabel(u.state()));
      m.put("reason", u.reason());
      m.put("bytesDone", u.bytesDone());
      m.put("bytesReceived", u.bytesReceived());
      m.put("startedAtMs", u.startedAtMs());
      m.put("updatedAtMs", u.updatedAtMs());
      out.add(m);
    }
    ctx.json(Map.of("uploads", out));
  }

  private void downloadUpload(Context ctx) {
    String device = requireParam(ctx, "device");
    String path = requireParam(ctx, "path");
    long version = SyncServer.longParam(ctx, "version", 0, 1, Long.MAX_VALUE);
    if (version == 0) {
      throw new ApiError(400, "query parameter 'version' is required");
    }
    var in = files.openUpload(device, path, version);
    ctx.contentType("application/octet-stream");
    ctx.result(in);
  }

  private static String stateLabel(io.edgesync.protocol.wire.FileState s) {
    return s.name().substring("FILE_STATE_".length()).toLowerCase(java.util.Locale.ROOT);
  }

  private static String requireParam(Context ctx, String name) {
    String v = ctx.queryParam(name);
    if (v == null || v.isEmpty()) {
      throw new ApiError(400, "query parameter '" + name + "' is required");
    }
    return v;
  }

  private static String hex(byte[] b) {
    return HexFormat.of().formatHex(b);
  }
}
