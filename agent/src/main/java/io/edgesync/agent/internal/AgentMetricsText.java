package io.edgesync.agent.internal;

import io.edgesync.agent.AgentStatus;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * The agent's metrics in Prometheus' text format (version 0.0.4), rendered from one {@link
 * AgentStatus} snapshot at each scrape ({@code GET /metrics} on the local API; docs/metrics.md):
 * the connection, and per stream the records appended, acknowledged, queued (count and bytes),
 * dropped, the age of the oldest unsent record, the append rate and the bytes on the wire. Written
 * by hand rather than through a metrics library: the agent is meant for small gateways, and every
 * value is a snapshot the agent already keeps.
 */
public final class AgentMetricsText {
  /** The exposition format Prometheus asks for with {@code Accept: text/plain}. */
  public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  private AgentMetricsText() {}

  private record Family(String name, String type, String help, Map<String, Double> samples) {}

  public static String render(AgentStatus s) {
    List<Family> families = new ArrayList<>();
    families.add(
        single(
            "edgesync_agent_connected",
            "gauge",
            "1 while a session with the cloud is open, else 0",
            "connected".equals(s.connection().state()) ? 1 : 0));
    families.add(
        single(
            "edgesync_agent_sessions_established_total",
            "counter",
            "sessions with the cloud established since the agent started",
            s.sessionsEstablished()));
    families.add(
        single(
            "edgesync_agent_last_sync_timestamp_seconds",
            "gauge",
            "when the cloud last acknowledged data from this agent (Unix time); 0 if it has not"
                + " since the agent started",
            s.lastSyncAt() == null
                ? 0
                : java.time.Instant.parse(s.lastSyncAt()).toEpochMilli() / 1000.0));
    List<AgentStatus.StreamView> streams = s.streams();
    families.add(
        perStream(
            "edgesync_agent_stream_appended_records_total",
            "counter",
            "records appended to the stream (its last sequence)",
            streams,
            v -> v.lastSequence()));
    families.add(
        perStream(
            "edgesync_agent_stream_acknowledged_records_total",
            "counter",
            "records the cloud acknowledged as stored",
            streams,
            v -> v.syncedRecords()));
    families.add(
        perStream(
            "edgesync_agent_stream_queued_records",
            "gauge",
            "records appended and not yet acknowledged",
            streams,
            v -> v.queuedRecords()));
    families.add(
        perStream(
            "edgesync_agent_stream_queued_bytes",
            "gauge",
            "payload bytes of the queued records",
            streams,
            v -> v.queuedBytes()));
    Map<String, Double> dropped = new LinkedHashMap<>();
    Map<String, Double> notRetained = new LinkedHashMap<>();
    for (AgentStatus.StreamView v : streams) {
      for (String reason : List.of("queue_full", "expired")) {
        dropped.put(
            labels("stream", v.name(), "reason", reason),
            (double) v.droppedByReason().getOrDefault(reason, 0L));
      }
      notRetained.put(
          labels("stream", v.name()),
          (double) v.droppedByReason().getOrDefault("not_retained", 0L));
    }
    families.add(
        new Family(
            "edgesync_agent_stream_dropped_records_total",
            "counter",
            "records the agent dropped before the cloud acknowledged them, by reason: queue_full"
                + " (the overflow policy), expired (max_offline_hours)",
            dropped));
    families.add(
        new Family(
            "edgesync_agent_stream_not_retained_records_total",
            "counter",
            "records the cloud lost (restored from an older backup) that the agent no longer held",
            notRetained));
    families.add(
        perStream(
            "edgesync_agent_stream_ack_records_per_second",
            "gauge",
            "records the cloud acknowledged per second over the last minutes; -1 until a minute of"
                + " samples",
            streams,
            v -> v.ackRecordsPerSec()));
    families.add(
        perStream(
            "edgesync_agent_stream_drain_eta_seconds",
            "gauge",
            "when the queue is empty at the measured rates; 0 when nothing is queued, -1 when unknown"
                + " or not shrinking (offline, or appends outpace sends)",
            streams,
            v -> v.drainEtaSeconds()));
    families.add(
        perStream(
            "edgesync_agent_stream_oldest_queued_age_seconds",
            "gauge",
            "age of the oldest record not yet acknowledged; 0 when none is queued",
            streams,
            v -> Math.max(0, v.oldestQueuedAgeMs()) / 1000.0));
    families.add(
        perStream(
            "edgesync_agent_stream_append_records_per_second",
            "gauge",
            "records appended per second over the last minutes; -1 until a minute of appends",
            streams,
            v -> v.appendRecordsPerSec()));
    Map<String, Double> wire = new LinkedHashMap<>();
    for (AgentStatus.StreamView v : streams) {
      wire.put(labels("stream", v.name(), "form", "raw"), (double) v.wire().rawBytes());
      wire.put(labels("stream", v.name(), "form", "encoded"), (double) v.wire().encodedBytes());
      wire.put(labels("stream", v.name(), "form", "frame"), (double) v.wire().frameBytes());
    }
    families.add(
        new Family(
            "edgesync_agent_stream_wire_bytes_total",
            "counter",
            "bytes of the stream's batches: raw = the records uncompressed, encoded = the batch"
                + " payloads, frame = whole frames on the wire",
            wire));
    families.add(
        single(
            "edgesync_agent_documents_pending",
            "gauge",
            "local document edits waiting for the cloud's outcome",
            s.documents() == null ? 0 : s.documents().pending()));
    families.add(
        single(
            "edgesync_agent_documents_conflicted",
            "gauge",
            "documents in an open manual conflict",
            s.documents() == null ? 0 : s.documents().conflicted()));
    StringBuilder out = new StringBuilder();
    for (Family f : families) {
      out.append("# HELP ").append(f.name()).append(' ').append(f.help()).append('\n');
      out.append("# TYPE ").append(f.name()).append(' ').append(f.type()).append('\n');
      for (Map.Entry<String, Double> e : f.samples().entrySet()) {
        out.append(f.name()).append(e.getKey()).append(' ').append(number(e.getValue()));
        out.append('\n');
      }
    }
    return out.toString();
  }

  private static Family single(String name, String type, String help, double value) {
    return new Family(name, type, help, Map.of("", value));
  }

  private static Family perStream(
      String name,
      String type,
      String help,
      List<AgentStatus.StreamView> streams,
      ToDoubleFunction<AgentStatus.StreamView> value) {
    Map<String, Double> samples = new LinkedHashMap<>();
    for (AgentStatus.StreamView v : streams) {
      samples.put(labels("stream", v.name()), value.applyAsDouble(v));
    }
    return new Family(name, type, help, samples);
  }

  /** {@code {k="v",...}} with the values escaped as the format requires. */
  private static String labels(String... keysAndValues) {
    StringBuilder b = new StringBuilder("{");
    for (int i = 0; i < keysAndValues.length; i += 2) {
      if (i > 0) {
        b.append(',');
      }
      b.append(keysAndValues[i]).append("=\"");
      for (char c : keysAndValues[i + 1].toCharArray()) {
        switch (c) {
          case '\\' -> b.append("\\\\");
          case '"' -> b.append("\\\"");
          case '\n' -> b.append("\\n");
          default -> b.append(c);
        }
      }
      b.append('"');
    }
    return b.append('}').toString();
  }

  private static String number(double v) {
    if (Double.isNaN(v) || Double.isInfinite(v)) {
      return Double.isNaN(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf";
    }
    return v == Math.rint(v) && Math.abs(v) < 1e15
        ? Long.toString((long) v)
        : java.math.BigDecimal.valueOf(v).toPlainString();
  }
}
