package io.edgesync.it;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgesync.protocol.Record;
import io.edgesync.server.RetentionRules;
import io.edgesync.server.SqliteCloudStore;
import io.edgesync.server.SyncServer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the REST API says about records the cloud's retention expired: counted per stream, a read
 * that starts in the expired range says so, a one-record read of an expired record is 410.
 */
class RetentionRestTest {
  private static final long DAY_MS = 86_400_000L;

  @TempDir Path dir;

  private static List<Record> batch(long first) {
    List<Record> out = new ArrayList<>();
    for (long s = first; s < first + 10; s++) {
      out.add(new Record(s, s, ("{\"n\":" + s + "}").getBytes(UTF_8)));
    }
    return out;
  }

  @Test
  void expiredRecords_areCountedPerStream_andReadsFromBeforeTheKeptRangeSaySo() throws Exception {
    AtomicLong now = new AtomicLong(10 * DAY_MS);
    RetentionRules rules =
        new RetentionRules(
            60_000,
            RetentionRules.Policy.NONE,
            Map.of("logs", new RetentionRules.Policy(DAY_MS, 0)));
    SqliteCloudStore store = new SqliteCloudStore(dir.resolve("cloud/edgesync-cloud.db"));
    try (SyncServer server =
        SyncServer.start(Testbed.serverConfig(dir, 0).withRetention(rules), store, now::get)) {
      store.registerDevice("gw", now.get());
      store.commitRecords("gw", "logs", batch(1), 1 * DAY_MS);
      store.commitRecords("gw", "logs", batch(11), 9 * DAY_MS + 1);
      store.commitRecords("gw", "temp", batch(1), 1 * DAY_MS);

      assertThat(server.streamExpiry().runOnce(now.get()).records()).isEqualTo(10);

      Rest rest = new Rest(server);
      JsonNode logs = stream(rest.ok(rest.get("/api/v1/devices/gw")), "logs");
      assertThat(logs.get("lastSequence").asLong()).isEqualTo(20);
      assertThat(logs.get("expired").get("records").asLong()).isEqualTo(10);
      assertThat(logs.get("expired").get("throughSequence").asLong()).isEqualTo(10);
      assertThat(logs.get("expired").get("bytes").asLong()).isPositive();
      JsonNode temp = stream(rest.ok(rest.get("/api/v1/devices/gw")), "temp");
      assertThat(temp.get("expired").get("records").asLong()).isZero();

      JsonNode fromStart = rest.ok(rest.get("/api/v1/devices/gw/streams/logs?after=0"));
      assertThat(fromStart.get("expired").get("throughSequence").asLong()).isEqualTo(10);
      assertThat(fromStart.get("records").get(0).get("sequence").asLong()).isEqualTo(11);
      JsonNode kept = rest.ok(rest.get("/api/v1/devices/gw/streams/logs?after=10"));
      assertThat(kept.has("expired")).isFalse(); // a read of what is kept is a plain page
      assertThat(kept.get("records")).hasSize(10);

      Rest.assertError(
          rest.get("/api/v1/devices/gw/streams/logs/records/3"),
          410,
          "record 3 of stream 'logs' of device 'gw' expired");
      assertThat(rest.get("/api/v1/devices/gw/streams/logs/records/11").status()).isEqualTo(200);
      Rest.assertError(
          rest.get("/api/v1/devices/gw/streams/logs/records/21"), 404, "last sequence is 20");
    }
  }

  private static JsonNode stream(JsonNode device, String name) {
    for (JsonNode s : device.get("streams")) {
      if (s.get("stream").asText().equals(name)) {
        return s;
      }
    }
    throw new AssertionError("no stream " + name + " in " + device);
  }
}
