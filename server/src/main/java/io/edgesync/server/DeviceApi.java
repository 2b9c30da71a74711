package io.edgesync.server;

import io.edgesync.engine.cloud.CloudStore;
import io.edgesync.protocol.Clock;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * REST for the devices the cloud knows: {@code GET /api/v1/devices} (each with whether it is
 * connected, when it was last seen, and what it last reported over its session) and {@code GET
 * /api/v1/devices/{id}} (its streams with counts, wire bytes and gaps; the streams as the device
 * reported them; the capabilities of its session while connected).
 *
 * <p>Thread safe: stateless beyond the store.
 */
final class DeviceApi {
  private final CloudStore store;
  private final Clock clock;
  private final Predicate<String> isConnected;
  private final Function<String, List<String>> capabilitiesOf;
  private final FleetStatus reports;

  /**
   * {@code capabilitiesOf}: a connected device's accepted capabilities, null when not connected.
   */
  DeviceApi(
      CloudStore store,
      Clock clock,
      Predicate<String> isConnected,
      Function<String, List<String>> capabilitiesOf,
      FleetStatus reports) {
    this.store = store;
    this.clock = clock;
    this.isConnected = isConnected;
    this.capabilitiesOf = capabilitiesOf;
    this.reports = reports;
  }

  void register(RoutesConfig r) {
    r.get("/api/v1/devices", this::listDevices);
    r.get("/api/v1/devices/{id}", this::getDevice);
  }

  private void listDevices(Context ctx) {
    List<Map<String, Object>> out = new ArrayList<>();
    for (CloudStore.Device d : store.devices()) {
      out.add(deviceJson(d));
    }
    ctx.json(Map.of("devices", out));
  }

  private void getDevice(Context ctx) {
    CloudStore.Device d = requireDevice(ctx.pathParam("id"));
    Map<String, Object> out = deviceJson(d);
    List<String> capabilities = capabilitiesOf.apply(d.id());
    if (capabilities != null) {
      out.put("capabilities", capabilities);
    }
    List<Map<String, Object>> streams = new ArrayList<>();
    long[] total = new long[4];
    for (CloudStore.StreamSummary s : store.streams(d.id())) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("stream", s.stream());
      m.put("lastSequence", s.lastSequence());
      m.put("records", s.records());
      m.put("payloadBytes", s.payloadBytes());
      m.put("droppedRecords", s.droppedRecords());
      m.put("expired", expiredJson(s.expired()));
      m.put(
          "wire",
          wireJson(s.wireBatches(), s.wireRawBytes(), s.wirePayloadBytes(), s.wireFrameBytes()));
      total[0] += s.wireBatches();
      total[1] += s.wireRawBytes();
      total[2] += s.wirePayloadBytes();
      total[3] += s.wireFrameBytes();
      List<Map<String, Object>> gaps = new ArrayList<>();
      for (CloudStore.StoredGap g : store.gaps(d.id(), s.stream())) {
        Map<String, Object> gm = new LinkedHashMap<>();
        gm.put("firstSequence", g.firstSequence());
        gm.put("lastSequence", g.lastSequence());
        gm.put("records", g.lastSequence() - g.firstSequence() + 1);
        gm.put("reason", SyncServer.reasonName(g.reason()));
        gm.put("droppedAtMs", g.droppedAtMs());
        gaps.add(gm);
      }
      m.put("gaps", gaps);
      streams.add(m);
    }
    out.put("streams", streams);
    out.put("wire", wireJson(total[0], total[1], total[2], total[3]));
    out.put("reportedStreams", reports.reportedStreamsJson(d.id()));
    ctx.json(out);
  }

  /** What retention expired: records, bytes as stored, and through which sequence (0: none). */
  static Map<String, Object> expiredJson(CloudStore.StreamSummary.Expired e) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("records", e.records());
    m.put("bytes", e.bytes());
    m.put("throughSequence", e.throughSequence());
    return m;
  }

  /**
   * Bytes on the wire: raw = the records in the uncompressed record layout, encoded = the batch
   * payloads, frames = whole frames; ratio = raw / frames (0 before the first batch).
   */
  private static Map<String, Object> wireJson(long batches, long raw, long encoded, long frames) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("batches", batches);
    m.put("rawBytes", raw);
    m.put("encodedBytes", encoded);
    m.put("frameBytes", frames);
    m.put("ratio", frames == 0 ? 0.0 : Math.round(raw * 100.0 / frames) / 100.0);
    return m;
  }

  private Map<String, Object> deviceJson(CloudStore.Device d) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", d.id());
    m.put("connected", isConnected.test(d.id()));
    m.put("registeredAtMs", d.registeredAtMs());
    m.put("lastSeenMs", isConnected.test(d.id()) ? clock.nowMs() : d.lastSeenMs());
    m.put("reported", reports.reportedJson(d.id())); // null until the device reports (old agents)
    return m;
  }

  private CloudStore.Device requireDevice(String id) {
    return store
        .device(id)
        .orElseThrow(() -> new SyncServer.ApiError(404, "unknown device '" + id + "'"));
  }
}
