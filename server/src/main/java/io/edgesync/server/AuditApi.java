package io.edgesync.server;

import io.edgesync.server.AuditChain.Entry;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * REST for the hash-chained audit log: {@code GET /api/v1/audit/log} (records in order, with their
 * hashes; details as the JSON object) and {@code GET /api/v1/audit/verify} (the chain recomputed on
 * the server with its own checkpoint key). The document audit records stay at {@code GET
 * /api/v1/audit} ({@link DocumentApi}); each has its chain record ({@code details.audit_id}).
 *
 * <p>Thread safe: stateless beyond the log.
 */
final class AuditApi {
  private static final int MAX_PAGE = 1000;
  private final AuditLog auditLog;

  AuditApi(AuditLog auditLog) {
    this.auditLog = auditLog;
  }

  void register(RoutesConfig r) {
    r.get("/api/v1/audit/log", this::records);
    r.get("/api/v1/audit/verify", this::verify);
  }

  private void records(Context ctx) {
    List<Map<String, Object>> out = new ArrayList<>();
    for (Entry e :
        auditLog.read(
            SyncServer.longParam(ctx, "after", 0, 0, Long.MAX_VALUE),
            (int) SyncServer.longParam(ctx, "limit", 100, 1, MAX_PAGE))) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("seq", e.seq());
      m.put("atMs", e.atMs());
      m.put("actor", e.actor());
      m.put("action", e.action());
      m.put("target", e.target());
      m.put("details", AuditChain.parseObject(e.details()));
      m.put("prev", AuditChain.hex(e.prev()));
      m.put("hash", AuditChain.hex(e.hash()));
      out.add(m);
    }
    ctx.json(Map.of("records", out));
  }

  private void verify(Context ctx) {
    AuditVerifier.Report r = auditLog.verify(auditLog.publicKey());
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("ok", r.ok());
    m.put("records", r.records());
    m.put("checkpoints", r.checkpoints());
    m.put("anchoredThroughSeq", r.anchoredThroughSeq());
    m.put("unanchored", r.ok() ? r.unanchored() : 0);
    if (!r.ok()) {
      m.put("badSeq", r.badSeq());
      m.put("problem", r.problem());
    }
    m.put("summary", r.summary());
    ctx.json(m);
  }
}
