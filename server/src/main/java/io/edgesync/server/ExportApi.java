package io.edgesync.server;

import io.edgesync.server.export.KafkaExporter;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * {@code GET /api/v1/export}: the Kafka export's state and lag (docs/api.md). Stateless; thread
 * safe.
 */
final class ExportApi {
  private final Supplier<KafkaExporter> exporter; // null inside: no export on this node

  ExportApi(Supplier<KafkaExporter> exporter) {
    this.exporter = exporter;
  }

  void register(RoutesConfig r) {
    r.get("/api/v1/export", this::status);
  }

  private void status(Context ctx) {
    KafkaExporter e = exporter.get();
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("enabled", e != null);
    if (e != null) {
      KafkaExporter.Status s = e.status();
      body.put("state", s.state().name().toLowerCase(java.util.Locale.ROOT));
      body.put("lagRecords", s.lagRecords());
      body.put("exportedRecords", s.exportedRecords());
      body.put("transactions", s.transactions());
      body.put("restarts", s.restarts());
      body.put("lastError", s.lastError());
      body.put("lastExportAtMs", s.lastExportAtMs());
    }
    ctx.json(body);
  }
}
