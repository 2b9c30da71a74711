package io.edgesync.server;

import io.edgesync.engine.cloud.CloudStore;
import io.edgesync.engine.commands.CommandStore;
import io.edgesync.engine.docs.CloudDocuments;
import io.edgesync.engine.docs.DocumentStore;
import io.edgesync.protocol.Clock;
import io.edgesync.server.SyncServer.ApiError;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reports read from the store (docs/api.md, "Reports"): {@code GET /api/v1/reports/conflicts}
 * ({@link ConflictReport}) and {@code GET /api/v1/devices/{id}/synclog}, what the cloud knows of a
 * device's sync operations: its commands (queued, sent, acknowledged by the device, finished) and
 * the current versions of its own documents (who wrote each, when the cloud committed it, the
 * device's change sequence for its own writes). Both scan at most {@value #MAX_SCANNED} rows and
 * say {@code truncated} when they stopped there. Thread safe (no state of its own).
 */
final class ReportApi {
  /** Rows one report reads at most: a bound on the work of one request. */
  static final int MAX_SCANNED = 200_000;

  private static final int PAGE = 1000;

  private final DocumentStore docs;
  private final CommandStore commands;
  private final CloudStore store;
  private final Clock clock;

  ReportApi(DocumentStore docs, CommandStore commands, CloudStore store, Clock clock) {
    this.docs = docs;
    this.commands = commands;
    this.store = store;
    this.clock = clock;
  }

  void register(RoutesConfig r) {
    r.get("/api/v1/reports/conflicts", this::conflicts);
    r.get("/api/v1/devices/{id}/synclog", this::syncLog);
  }

  private void conflicts(Context ctx) {
    String device = ctx.queryParam("device");
    if (device != null && store.device(device).isEmpty()) {
      throw new ApiError(404, "unknown device '" + device + "'");
    }
    long now = clock.nowMs();
    long from = time(ctx, "from", 0);
    long to = time(ctx, "to", now + 1);
    if (from >= to) {
      throw new ApiError(400, "'from' (" + from + ") must be before 'to' (" + to + ")");
    }
    ConflictReport report = new ConflictReport(from, to);
    // Ids grow with time: the period's first conflict is where reading starts, and a page whose
    // conflicts were all created after the period ends the reading.
    long after = from == 0 ? 0 : docs.conflictIdBefore(from);
    int scanned = 0;
    boolean truncated = false;
    while (true) {
      List<DocumentStore.ConflictRecord> page =
          docs.conflicts(
              new DocumentStore.ConflictFilter(
                  null, device, ctx.queryParam("collection"), after, PAGE));
      boolean pastThePeriod = !page.isEmpty();
      for (DocumentStore.ConflictRecord c : page) {
        report.add(c);
        after = c.id();
        pastThePeriod &= c.createdMs() >= to;
      }
      scanned += page.size();
      if (page.size() < PAGE || pastThePeriod) {
        break;
      }
      if (scanned >= MAX_SCANNED) {
        truncated = true;
        break;
      }
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("collection", ctx.queryParam("collection"));
    out.put("device", device);
    out.putAll(report.json());
    out.put("truncated", truncated);
    ctx.json(out);
  }

  /** A time parameter: epoch milliseconds or an ISO-8601 instant; {@code fallback} if absent. */
  static long time(Context ctx, String name, long fallback) {
    String raw = ctx.queryParam(name);
    if (raw == null || raw.isEmpty()) {
      return fallback;
    }
    try {
      long ms = Long.parseLong(raw);
      if (ms < 0) {
        throw new ApiError(400, "'" + name + "' must not be negative, was " + ms);
      }
      return ms;
    } catch (NumberFormatException e) {
      try {
        return Instant.parse(raw).toEpochMilli();
      } catch (DateTimeParseException e2) {
        throw new ApiError(
            400,
            "'"
                + name
                + "' must be epoch milliseconds or an ISO-8601 time such as"
                + " 2026-12-06T10:00:00Z, was '"
                + raw
                + "'");
      }
    }
  }

  private void syncLog(Context ctx) {
    String device = ctx.pathParam("id");
    if (store.device(device).isEmpty()) {
      throw new ApiError(404, "unknown device '" + device + "'");
    }
    int limit = (int) SyncServer.longParam(ctx, "limit", 100, 1, DocumentApi.MAX_PAGE);
    List<Map<String, Object>> entries = new ArrayList<>();
    for (CommandStore.StoredCommand c : commands.commands(device, limit, clock.nowMs())) {
      entries.add(commandEntry(c));
    }
    boolean truncated = documentEntries(device, entries);
    entries.sort(
        Comparator.comparingLong((Map<String, Object> e) -> (Long) e.get("atMs")).reversed());
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("device", device);
    out.put("entries", entries.size() > limit ? entries.subList(0, limit) : entries);
    out.put("truncated", truncated);
    ctx.json(out);
  }

  /**
   * A command's steps: queued at {@code createdMs}; {@code sent} times a Command frame went out;
   * acknowledged once the device stored it (any state after {@code queued}); {@code stateAtMs} when
   * it reached its present state.
   */
  private static Map<String, Object> commandEntry(CommandStore.StoredCommand c) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("kind", "command");
    m.put("direction", "to_device");
    m.put("id", c.id());
    m.put("name", c.name());
    m.put("state", c.state());
    m.put("queuedAtMs", c.createdMs());
    m.put("sent", c.deliveries());
    m.put("acknowledged", !c.state().equals(CommandStore.QUEUED));
    m.put("stateAtMs", c.updatedMs());
    m.put("atMs", c.updatedMs());
    return m;
  }

  /** Adds the device scope's current documents; true if it stopped at {@link #MAX_SCANNED}. */
  private boolean documentEntries(String device, List<Map<String, Object>> entries) {
    String scope = CloudDocuments.deviceScope(device);
    long after = 0;
    int scanned = 0;
    while (true) {
      List<DocumentStore.StoredDoc> page = docs.changesAfter(scope, after, PAGE);
      for (DocumentStore.StoredDoc d : page) {
        entries.add(documentEntry(device, d));
        after = Math.max(after, d.version());
      }
      scanned += page.size();
      if (page.size() < PAGE) {
        return false;
      }
      if (scanned >= MAX_SCANNED) {
        return true;
      }
    }
  }

  /**
   * A document version: written by the device (received and committed at {@code atMs}, which is
   * when the cloud acknowledged the change) or by the cloud for the device ({@code to_device}).
   */
  private static Map<String, Object> documentEntry(String device, DocumentStore.StoredDoc d) {
    boolean fromDevice = device.equals(d.originDevice());
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("kind", "document");
    m.put("direction", fromDevice ? "from_device" : "to_device");
    m.put("collection", d.collection());
    m.put("key", d.key());
    m.put("version", d.version());
    m.put("writer", d.writer());
    m.put("deleted", d.deleted());
    if (fromDevice) {
      m.put("changeSeq", d.originChangeSeq());
    }
    m.put("conflictId", d.conflictId() == 0 ? null : d.conflictId());
    m.put("committedAtMs", d.updatedMs());
    m.put("atMs", d.updatedMs());
    return m;
  }
}
