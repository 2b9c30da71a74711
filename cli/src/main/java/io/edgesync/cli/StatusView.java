package io.edgesync.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;

/**
 * The text of {@code edgesync status}: an agent's status (its local API's {@code GET /v1/status}),
 * a server's devices ({@code GET /api/v1/devices}) or one device ({@code GET /api/v1/devices/{id}})
 * as short tables. Fields a version of the API does not send print as "-". Stateless.
 */
final class StatusView {
  private StatusView() {}

  /** An agent's status. */
  static String agent(JsonNode s) {
    StringBuilder out = new StringBuilder();
    JsonNode c = s.path("connection");
    out.append(
        String.format(
            "device %s  %s since %s  activity %s%n",
            text(s, "deviceId"), text(c, "state"), text(c, "since"), text(s, "activity")));
    if (s.path("lastError").isObject() && !s.path("lastError").path("past").asBoolean()) {
      out.append("last error: ").append(text(s.path("lastError"), "message")).append('\n');
    }
    out.append(
        String.format(
            "%-24s %10s %10s %12s %12s %10s %10s%n",
            "STREAM", "LAST", "ACKED", "QUEUED", "QUEUED-BYTES", "OLDEST", "DROPPED"));
    for (JsonNode st : s.path("streams")) {
      long oldest = st.path("oldestQueuedAgeMs").asLong(-1);
      out.append(
          String.format(
              "%-24s %10d %10d %12d %12s %10s %10d%n",
              text(st, "name"),
              st.path("lastSequence").asLong(),
              st.path("ackedSequence").asLong(),
              st.path("queuedRecords").asLong(),
              RemoteCommand.bytes(st.path("queuedBytes").asLong()),
              oldest < 0 ? "-" : duration(oldest),
              st.path("droppedRecords").asLong()));
    }
    JsonNode d = s.path("documents");
    if (d.isObject()) {
      out.append(
          String.format(
              "documents: %d pending, %d conflicted, %d refused%n",
              d.path("pending").asLong(),
              d.path("conflicted").asLong(),
              d.path("refused").asLong()));
    }
    if (s.path("capacityWarning").isTextual()) {
      out.append("warning: ").append(s.get("capacityWarning").asText()).append('\n');
    }
    return out.toString();
  }

  /** A server's devices. */
  static String devices(JsonNode body, long nowMs) {
    StringBuilder out = new StringBuilder();
    out.append(
        String.format(
            "%-24s %-10s %-12s %12s %12s%n",
            "DEVICE", "CONNECTED", "LAST-SEEN", "BACKLOG", "OLDEST"));
    for (JsonNode d : body.path("devices")) {
      JsonNode r = d.path("reported"); // what the device last reported, where the server has it
      long seen = d.path("lastSeenMs").asLong(0);
      out.append(
          String.format(
              "%-24s %-10s %-12s %12s %12s%n",
              text(d, "id"),
              d.path("connected").asBoolean() ? "yes" : "no",
              seen <= 0 ? "never" : duration(Math.max(0, nowMs - seen)) + " ago",
              r.isObject() ? String.valueOf(r.path("backlogRecords").asLong()) : "-",
              r.isObject() && r.path("oldestUnsentAgeMs").asLong(-1) >= 0
                  ? duration(r.path("oldestUnsentAgeMs").asLong())
                  : "-"));
    }
    return out.toString();
  }

  /** One device: its streams with what the cloud holds of each and its gaps. */
  static String device(JsonNode d, long nowMs) {
    StringBuilder out = new StringBuilder(devices(wrap(d), nowMs));
    out.append(
        String.format(
            "%-24s %12s %10s %12s %8s %6s%n",
            "STREAM", "LAST", "RECORDS", "BYTES", "DROPPED", "GAPS"));
    for (JsonNode s : d.path("streams")) {
      out.append(
          String.format(
              "%-24s %12d %10d %12s %8d %6d%n",
              text(s, "stream"),
              s.path("lastSequence").asLong(),
              s.path("records").asLong(),
              RemoteCommand.bytes(s.path("payloadBytes").asLong()),
              s.path("droppedRecords").asLong(),
              s.path("gaps").size()));
    }
    return out.toString();
  }

  private static JsonNode wrap(JsonNode device) {
    com.fasterxml.jackson.databind.node.ObjectNode o = RemoteCommand.JSON.createObjectNode();
    o.putArray("devices").add(device);
    return o;
  }

  /** A duration in the largest whole unit that fits: 850ms, 42s, 7m, 3h, 2d. */
  static String duration(long ms) {
    if (ms < 1000) {
      return ms + "ms";
    }
    long s = ms / 1000;
    if (s < 120) {
      return s + "s";
    }
    if (s < 7200) {
      return s / 60 + "m";
    }
    return s < 172_800 ? s / 3600 + "h" : s / 86_400 + "d";
  }

  /** An instant in ISO-8601, or "-" for 0. */
  static String time(long epochMs) {
    return epochMs <= 0 ? "-" : Instant.ofEpochMilli(epochMs).toString();
  }

  private static String text(JsonNode n, String field) {
    JsonNode v = n.path(field);
    return v.isMissingNode() || v.isNull() ? "-" : v.asText();
  }
}
