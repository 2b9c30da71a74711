package io.edgesync.server;

import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.javalin.router.Endpoint;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Puts every REST write an API key made into the hash-chained audit log: a document written or
 * deleted, a command queued, a device's groups set, and any write route added later. The record's
 * actor is the key's name, its action names what was done ({@code document.put}, {@code
 * command.queue}, ...; {@code api.<method>} for a route without a name here), its target is the
 * request's path, and its details hold the method, the route and the answer's status.
 *
 * <p>Only writes that succeeded (2xx) are recorded: a refused request changed nothing, and
 * recording refusals would let anyone without a key grow the log. Reads are not recorded. Routes
 * that audit themselves with more detail are skipped: conflict resolution (the resolution's own
 * record names the key, {@link ConflictRows}), API keys ({@link ApiKeys}), enrollment tokens
 * ({@link EnrollmentTokens}), and file publishes and rollouts ({@link FileApi}).
 *
 * <p>The record is appended after the write committed, in a transaction of its own, before the
 * answer is sent: a client that saw its answer finds the record in the chain. A crash between the
 * two loses the record of a write that happened (the write itself is kept); docs/security.md says
 * so.
 */
final class ApiAudit {
  /** Routes whose records are written elsewhere, with more to say. */
  private static final Set<String> SELF_AUDITED = selfAudited();

  private static Set<String> selfAudited() {
    Set<String> s = new java.util.HashSet<>(FileApi.WRITES); // file.publish, rollout.*
    s.add("POST /api/v1/conflicts/{cid}/resolve");
    s.add("POST /api/v1/keys");
    s.add("DELETE /api/v1/keys/{name}");
    s.add("POST /api/v1/enrollment-tokens");
    return Set.copyOf(s);
  }

  private final AuditLog auditLog;

  ApiAudit(AuditLog auditLog) {
    this.auditLog = auditLog;
  }

  void register(RoutesConfig r) {
    r.afterMatched(this::record);
  }

  /** The audit action of a write route ({@code method path} as registered). */
  static String action(String method, String route) {
    if (route.endsWith("/docs/{collection}/{key}")) {
      return method.equals("DELETE") ? "document.delete" : "document.put";
    }
    if (route.endsWith("/commands")) {
      return "command.queue";
    }
    if (route.endsWith("/groups")) {
      return "groups.set";
    }
    return "api." + method.toLowerCase(Locale.ROOT);
  }

  private void record(Context ctx) {
    Endpoint endpoint = ctx.endpoints().matchedHttpEndpoint();
    if (endpoint == null || !endpoint.path.startsWith("/api/")) {
      return;
    }
    String method = endpoint.method.name();
    int status = ctx.statusCode();
    if (method.equals("GET")
        || method.equals("HEAD")
        || method.equals("OPTIONS")
        || status < 200
        || status > 299
        || SELF_AUDITED.contains(method + " " + endpoint.path)) {
      return;
    }
    Map<String, Object> details = new LinkedHashMap<>();
    details.put("method", method);
    details.put("route", endpoint.path);
    details.put("status", status);
    auditLog.append(ApiAuth.keyName(ctx), action(method, endpoint.path), ctx.path(), details);
  }
}
