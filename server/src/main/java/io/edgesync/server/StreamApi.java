package io.edgesync.server;

import com.fasterxml.jackson.databind.util.RawValue;
import io.edgesync.engine.cloud.CloudStore;
import io.edgesync.protocol.ProtocolLimits;
import io.edgesync.protocol.Record;
import io.edgesync.server.SyncServer.ApiError;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The REST API for the stream records devices sent ({@code /api/v1/devices/{id}/streams/...}; see
 * docs/api.md). A record comes back as the exact bytes the device sent: embedded verbatim when it
 * is JSON ({@link RawJson}), base64 otherwise, or as the whole body of a one-record read with its
 * SHA-256. Stateless apart from the store; thread safe.
 */
final class StreamApi {
  /** Most records one stream read returns. */
  static final int MAX_READ_LIMIT = 10_000;

  static final int DEFAULT_READ_LIMIT = 100;

  static final String SEQUENCE_HEADER = "X-Edgesync-Sequence";
  static final String ORIGIN_MS_HEADER = "X-Edgesync-Origin-Ms";
  static final String SHA256_HEADER = "X-Edgesync-Sha256";

  private final CloudStore store;

  StreamApi(CloudStore store) {
    this.store = store;
  }

  void register(RoutesConfig r) {
    r.get("/api/v1/devices/{id}/streams/{stream}", this::readStream);
    r.get("/api/v1/devices/{id}/streams/{stream}/records/{sequence}", this::readRecord);
  }

  private void readStream(Context ctx) {
    String device = requireDevice(ctx.pathParam("id"));
    String stream = requireStreamName(ctx.pathParam("stream"));
    long after = SyncServer.longParam(ctx, "after", 0, 0, Long.MAX_VALUE);
    int limit = (int) SyncServer.longParam(ctx, "limit", DEFAULT_READ_LIMIT, 1, MAX_READ_LIMIT);
    List<Map<String, Object>> records = new ArrayList<>();
    long last = after;
    for (Record r : store.read(device, stream, after, limit)) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("sequence", r.sequence());
      m.put("originMs", r.originMs());
      String json = RawJson.textIfJson(r.payload());
      if (json != null) {
        // Written as it is: re-serializing a parsed tree would change the device's bytes.
        m.put("payload", new RawValue(json));
      } else {
        m.put("payloadBase64", Base64.getEncoder().encodeToString(r.payload()));
      }
      records.add(m);
      last = r.sequence();
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("device", device);
    out.put("stream", stream);
    CloudStore.StreamSummary.Expired expired = expiredOf(device, stream);
    if (after < expired.throughSequence()) {
      // The read starts in what retention removed: say so, so that the page is not mistaken for
      // all there is (the records that follow are the oldest still kept).
      out.put("expired", DeviceApi.expiredJson(expired));
    }
    out.put("records", records);
    out.put("nextAfter", last);
    ctx.json(out);
  }

  /** One record's exact bytes as the body; sequence, origin time and SHA-256 in headers. */
  private void readRecord(Context ctx) {
    String device = requireDevice(ctx.pathParam("id"));
    String stream = requireStreamName(ctx.pathParam("stream"));
    long sequence = sequenceParam(ctx.pathParam("sequence"));
    List<Record> found = store.read(device, stream, sequence - 1, 1);
    if (found.isEmpty() || found.get(0).sequence() != sequence) {
      throw missingRecord(device, stream, sequence);
    }
    Record r = found.get(0);
    ctx.header(SEQUENCE_HEADER, Long.toString(r.sequence()));
    ctx.header(ORIGIN_MS_HEADER, Long.toString(r.originMs()));
    ctx.header(SHA256_HEADER, HexFormat.of().formatHex(sha256(r.payload())));
    ctx.contentType(
        RawJson.textIfJson(r.payload()) != null ? "application/json" : "application/octet-stream");
    ctx.result(r.payload());
  }

  /**
   * Why a sequence has no stored record, naming the device, the stream and the sequence: 404, or
   * 410 for a record retention expired.
   */
  private ApiError missingRecord(String device, String stream, long sequence) {
    Long lastSequence = store.checkpoints(device).get(stream);
    if (lastSequence == null) {
      return new ApiError(404, "device '" + device + "' has no stream '" + stream + "'");
    }
    String record = "record " + sequence + " of stream '" + stream + "' of device '" + device + "'";
    for (CloudStore.StoredGap g : store.gaps(device, stream)) {
      if (g.firstSequence() <= sequence && sequence <= g.lastSequence()) {
        String why =
            g.reason() == io.edgesync.protocol.wire.GapReason.GAP_REASON_NOT_RETAINED
                ? " was lost: the cloud had acknowledged it, then lost it (restored from an older"
                    + " backup), and the device no longer held it (gap "
                : " was dropped on the device and never sent (gap ";
        return new ApiError(
            404,
            record
                + why
                + g.firstSequence()
                + ".."
                + g.lastSequence()
                + ", "
                + SyncServer.reasonName(g.reason())
                + ")");
      }
    }
    CloudStore.StreamSummary.Expired expired = expiredOf(device, stream);
    if (sequence <= expired.throughSequence()) {
      return new ApiError(
          410,
          record
              + " expired: the cloud's retention removed records 1.."
              + expired.throughSequence()
              + " of it ("
              + expired.records()
              + " records); the oldest kept follows");
    }
    return new ApiError(404, "no " + record + ": the stream's last sequence is " + lastSequence);
  }

  /** What retention expired of the stream (nothing for an unknown stream). */
  private CloudStore.StreamSummary.Expired expiredOf(String device, String stream) {
    for (CloudStore.StreamSummary s : store.streams(device)) {
      if (s.stream().equals(stream)) {
        return s.expired();
      }
    }
    return CloudStore.StreamSummary.Expired.NONE;
  }

  private String requireDevice(String id) {
    return store
        .device(id)
        .orElseThrow(() -> new ApiError(404, "unknown device '" + id + "'"))
        .id();
  }

  private static String requireStreamName(String stream) {
    if (!ProtocolLimits.isValidStreamName(stream)) {
      throw new ApiError(
          400,
          "invalid stream name '" + stream + "': must match " + ProtocolLimits.STREAM_NAME_PATTERN);
    }
    return stream;
  }

  private static long sequenceParam(String raw) {
    long sequence;
    try {
      sequence = Long.parseLong(raw);
    } catch (NumberFormatException e) {
      sequence = 0;
    }
    if (sequence < 1) {
      throw new ApiError(
          400, "sequence must be an integer in 1.." + Long.MAX_VALUE + ", was '" + raw + "'");
    }
    return sequence;
  }

  private static byte[] sha256(byte[] bytes) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(bytes);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }
}
