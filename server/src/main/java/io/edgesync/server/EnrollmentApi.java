package io.edgesync.server;

import io.edgesync.protocol.Clock;
import io.edgesync.server.SyncServer.ApiError;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The enrollment routes (docs/api.md, "Enrollment"):
 *
 * <ul>
 *   <li>{@code POST /api/v1/enrollment-tokens} (admin API key): {@code {"device": id, "ttl_s": n}}
 *       or {@code {"device": id, "expires": "2026-12-07T10:00:00Z"}} → 201 with the token, shown
 *       this once. {@code GET} lists tokens (never the tokens themselves).
 *   <li>{@code POST /v1/enroll} (no API key, no client certificate: the token is the credential):
 *       {@code {"token": t, "csr": PEM}} → 200 with the device's certificate and the CA's. A
 *       refusal is {@code {"error": message, "reason": label}}: 403 for a token or CSR refused, 400
 *       for a malformed request, 503 when the server holds no CA.
 * </ul>
 *
 * Thread safe (no state of its own).
 */
final class EnrollmentApi {
  static final String ENROLL_PATH = "/v1/enroll";

  private final EnrollmentTokens tokens; // null: a store without tokens
  private final Enrollment enrollment; // null: a store without tokens
  private final Clock clock;

  EnrollmentApi(EnrollmentTokens tokens, Enrollment enrollment, Clock clock) {
    this.tokens = tokens;
    this.enrollment = enrollment;
    this.clock = clock;
  }

  void register(RoutesConfig r) {
    r.post("/api/v1/enrollment-tokens", this::createToken);
    r.get("/api/v1/enrollment-tokens", this::listTokens);
    r.post(ENROLL_PATH, this::enroll);
  }

  private void createToken(Context ctx) {
    Map<?, ?> body = jsonBody(ctx, "{\"device\": \"gw-0042\", \"ttl_s\": 86400}");
    if (!(body.get("device") instanceof String device)) {
      throw new ApiError(400, "\"device\" is required: the device id the token enrolls");
    }
    long now = clock.nowMs();
    long ttlS = ttlSeconds(body, now);
    EnrollmentTokens.Created c;
    try {
      c = requireTokens().create(device, ttlS, ApiAuth.keyName(ctx), now);
    } catch (IllegalArgumentException e) {
      throw new ApiError(400, e.getMessage());
    }
    Map<String, Object> out = tokenJson(c.token());
    out.put("token", c.secret());
    ctx.status(201).json(out);
  }

  /** {@code ttl_s} (seconds), or {@code expires} (an ISO-8601 instant) as seconds from now. */
  private static long ttlSeconds(Map<?, ?> body, long nowMs) {
    Object ttl = body.get("ttl_s");
    Object expires = body.get("expires");
    if ((ttl == null) == (expires == null)) {
      throw new ApiError(400, "give exactly one of \"ttl_s\" (seconds) and \"expires\" (ISO-8601)");
    }
    if (ttl != null) {
      if (!(ttl instanceof Number n) || n.doubleValue() != n.longValue()) {
        throw new ApiError(400, "\"ttl_s\" must be a whole number of seconds, was " + ttl);
      }
      return n.longValue();
    }
    try {
      long atMs = Instant.parse(String.valueOf(expires)).toEpochMilli();
      return Math.floorDiv(atMs - nowMs, 1000);
    } catch (DateTimeParseException e) {
      throw new ApiError(
          400,
          "\"expires\" must be an ISO-8601 instant such as 2026-12-07T10:00:00Z, was " + expires);
    }
  }

  private void listTokens(Context ctx) {
    List<Map<String, Object>> out = new ArrayList<>();
    for (EnrollmentTokens.Token t : requireTokens().list()) {
      out.add(tokenJson(t));
    }
    ctx.json(Map.of("tokens", out));
  }

  private void enroll(Context ctx) {
    Map<?, ?> body = jsonBody(ctx, "{\"token\": \"eet_...\", \"csr\": \"-----BEGIN ...\"}");
    if (!(body.get("token") instanceof String token) || !(body.get("csr") instanceof String csr)) {
      throw new ApiError(400, "\"token\" and \"csr\" (PEM) are required");
    }
    if (enrollment == null) {
      refuse(ctx, 503, Enrollment.Reason.NO_CA.label(), "this server's store keeps no tokens");
      return;
    }
    Enrollment.Issued issued;
    try {
      issued = enrollment.enroll(token, csr);
    } catch (Enrollment.Refused r) {
      int status =
          switch (r.reason) {
            case NO_CA -> 503;
            case BAD_CSR -> 400;
            default -> 403;
          };
      refuse(ctx, status, r.reason.label(), r.getMessage());
      return;
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("device", issued.deviceId());
    out.put("serial", issued.serialHex());
    out.put("notAfter", issued.certificate().getNotAfter().toInstant().toString());
    out.put("certificate", Enrollment.pem(List.of(issued.certificate())));
    out.put("chain", Enrollment.pem(issued.chain()));
    ctx.json(out);
  }

  private static void refuse(Context ctx, int status, String reason, String message) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("error", message);
    out.put("reason", reason);
    ctx.status(status).json(out);
  }

  private static Map<?, ?> jsonBody(Context ctx, String example) {
    try {
      Map<?, ?> body = ctx.bodyAsClass(Map.class);
      if (body != null) {
        return body;
      }
    } catch (Exception e) { // Jackson's IOException (an empty body) comes through Kotlin unchecked
      // answered below
    }
    throw new ApiError(400, "expected a JSON object such as " + example);
  }

  private EnrollmentTokens requireTokens() {
    if (tokens == null) {
      throw new ApiError(404, "this server's store keeps no enrollment tokens");
    }
    return tokens;
  }

  static Map<String, Object> tokenJson(EnrollmentTokens.Token t) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("tokenId", t.tokenId());
    m.put("device", t.device());
    m.put("createdBy", t.createdBy());
    m.put("createdAtMs", t.createdAtMs());
    m.put("expiresAtMs", t.expiresAtMs());
    m.put("expires", Instant.ofEpochMilli(t.expiresAtMs()).toString());
    m.put("usedAtMs", t.usedAtMs());
    m.put("certSerial", t.certSerial());
    return m;
  }
}
