package io.edgesync.server;

import static io.edgesync.server.EdgeChanges.value;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.edgesync.engine.docs.CloudDocuments;
import io.edgesync.engine.docs.ConflictPolicy;
import io.edgesync.engine.docs.ConflictStrategy;
import io.edgesync.engine.docs.DocumentRules;
import io.edgesync.engine.docs.DocumentStore.ConflictFilter;
import io.edgesync.engine.docs.DocumentStore.ConflictRecord;
import io.edgesync.protocol.Hlc;
import io.edgesync.server.files.CloudFiles;
import io.edgesync.server.files.FileStore.TargetKind;
import io.edgesync.testing.FakeClock;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.ByteArrayInputStream;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The metrics that count the store's rows ({@link StoreGauges}) on a real store: conflicts by
 * strategy and status follow a conflict opened and resolved, rollouts by state follow a rollout
 * paused, and a scrape within {@link StoreGauges#REFRESH_MS} of the last read shows the last counts
 * without reading again.
 */
@ParameterizedClass
@EnumSource(StoreKind.class)
class StoreGaugesTest {
  private static final long T0 = 1_700_000_000_000L;

  @RegisterExtension final StoreFile db;

  StoreGaugesTest(StoreKind kind) {
    db = new StoreFile(kind);
  }

  private final FakeClock clock = new FakeClock(T0);
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private SqliteCloudStore store;
  private CloudFiles files;

  @AfterEach
  void close() {
    if (files != null) {
      files.close();
    }
    registry.close();
  }

  @Test
  void conflicts_byStrategyAndStatus_followTheStore_atMostOncePerRefreshInterval()
      throws Exception {
    store = db.open();
    CloudDocuments docs =
        new CloudDocuments(
            store.documents(),
            new DocumentRules(
                    Map.of("manual", ConflictPolicy.of(ConflictStrategy.MANUAL)),
                    4096,
                    60_000,
                    false)
                .withDeviceWritable(io.edgesync.engine.docs.DeviceWrites.of("fleet/*")),
            clock);
    StoreGauges gauges = new StoreGauges(store, null, clock, registry);
    gauges.refresh();
    assertThat(conflicts("manual", "open")).as("no conflict yet: no series").isNull();

    docs.put("fleet", "manual", "mode", "{\"m\":\"base\"}".getBytes(UTF_8), null); // v1
    docs.put("fleet", "manual", "mode", "{\"m\":\"cloud\"}".getBytes(UTF_8), 1L); // v2
    docs.applyEdgeChanges(
        "gw-1",
        List.of(
            value(1, "fleet", "manual", "mode", 1, new Hlc(T0, 0, "gw-1"), "{\"m\":\"edge\"}")));
    gauges.refresh();
    assertThat(conflicts("manual", "open")).as("read within the interval: not yet").isNull();

    clock.advance(StoreGauges.REFRESH_MS);
    gauges.refresh();
    assertThat(conflicts("manual", "open")).isEqualTo(1);

    ConflictRecord c =
        store.documents().conflicts(new ConflictFilter("open", null, null, 0, 10)).get(0);
    docs.resolve(c.id(), "edge", null, "alice");
    clock.advance(StoreGauges.REFRESH_MS);
    gauges.refresh();
    assertThat(conflicts("manual", "open")).isZero();
    assertThat(conflicts("manual", "resolved")).isEqualTo(1);
  }

  @Test
  void rollouts_byState_followARolloutPaused() throws Exception {
    store = db.open();
    files = db.openFiles(store, clock::nowMs);
    StoreGauges gauges = new StoreGauges(store, store.files(), clock, registry);
    gauges.refresh();
    assertThat(rollouts("running")).isZero();
    assertThat(rollouts("paused")).isZero();

    long v =
        files
            .publish(
                new CloudFiles.PublishRequest("fw/gw.img", Map.of(), null, null, null, "ops"),
                new ByteArrayInputStream(new byte[] {1, 2, 3}),
                clock.nowMs())
            .header()
            .getVersion();
    long id =
        files
            .createRollout(
                new CloudFiles.RolloutRequest(
                    "fw/gw.img", v, TargetKind.DEVICE, "gw-1", 10, 0.2, 5),
                "ops",
                clock.nowMs())
            .id();
    clock.advance(StoreGauges.REFRESH_MS);
    gauges.refresh();
    assertThat(rollouts("running")).isEqualTo(1);

    files.pause(id, "looks wrong", "ops", clock.nowMs());
    clock.advance(StoreGauges.REFRESH_MS);
    gauges.refresh();
    assertThat(rollouts("running")).isZero();
    assertThat(rollouts("paused")).isEqualTo(1);
  }

  private Double conflicts(String strategy, String status) {
    Gauge g =
        registry.find("edgesync.conflicts").tags("strategy", strategy, "status", status).gauge();
    return g == null ? null : g.value();
  }

  private double rollouts(String state) {
    return registry.find("edgesync.rollouts").tags("state", state).gauge().value();
  }
}
