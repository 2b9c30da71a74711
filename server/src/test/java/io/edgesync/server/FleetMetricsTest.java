package io.edgesync.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgesync.protocol.wire.DeviceStatus;
import io.edgesync.protocol.wire.StreamStatus;
import io.edgesync.testing.FakeClock;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What devices report, as the cloud keeps it ({@link FleetStatus}) and publishes it ({@link
 * FleetMetrics}): deltas add up to the device's figures, a full report starts them over, the oldest
 * unsent record ages between reports, and per-device series stop at the configured bound, worst
 * devices first.
 */
class FleetMetricsTest {
  private static final long T0 = 1_700_000_000_000L;
  private final FakeClock clock = new FakeClock(T0);
  private final FleetStatus fleet = new FleetStatus(clock);

  private static DeviceStatus.Builder full(long queued, long oldestAgeMs) {
    return DeviceStatus.newBuilder()
        .setFull(true)
        .addStreams(
            StreamStatus.newBuilder()
                .setStreamRef(1)
                .setStream("temp")
                .setAppended(100 + queued)
                .setAcknowledged(100)
                .setQueued(queued)
                .setQueuedBytes(queued * 10)
                .setOldestUnsentAgeMs(oldestAgeMs))
        .setRawBytes(1_000)
        .setWireBytes(200);
  }

  @Test
  void deltasAddUp_aFullReportStartsOver_andTheOldestUnsentAges() {
    fleet.onStatus("d1", full(5, 1_000).build(), List.of("temp"), T0);
    clock.advance(30_000);
    fleet.onStatus(
        "d1",
        DeviceStatus.newBuilder()
            .addStreams(StreamStatus.newBuilder().setStreamRef(1).setAppended(7).setQueued(12))
            .setRawBytes(500)
            .build(),
        List.of("temp"),
        clock.nowMs());

    var r = fleet.reportedJson("d1");
    assertThat(r.get("backlogRecords")).isEqualTo(12L);
    assertThat(r.get("backlogBytes")).as("unchanged gauge kept").isEqualTo(50L);
    assertThat(r.get("rawBytes")).isEqualTo(1_500L);
    assertThat(r.get("oldestUnsentAgeMs")).as("aged since the report").isEqualTo(31_000L);
    assertThat(fleet.reportedStreamsJson("d1").get(0).get("appended")).isEqualTo(112L);

    fleet.onStatus("d1", full(0, 0).build(), List.of("temp"), clock.nowMs());
    r = fleet.reportedJson("d1");
    assertThat(r.get("rawBytes")).isEqualTo(1_000L);
    assertThat(r.get("backlogRecords")).isEqualTo(0L);
    assertThat(r.get("oldestUnsentAgeMs")).isEqualTo(0L);
    assertThat(fleet.reportedJson("never")).isNull();
  }

  @Test
  void perDeviceSeries_stopAtTheBound_worstDevicesFirst() {
    fleet.onStatus("calm", full(0, 0).build(), List.of("temp"), T0);
    fleet.onStatus("stuck", full(50, 3_600_000).build(), List.of("temp"), T0);
    fleet.onStatus("behind", full(5, 60_000).build(), List.of("temp"), T0);
    FleetMetrics metrics = new FleetMetrics(fleet, () -> null, clock, 2);

    String text = metrics.deviceSeries();

    assertThat(text)
        .contains("edgesync_device_oldest_unsent_age_seconds{device=\"stuck\"} 3600.0")
        .contains("edgesync_device_backlog_records{device=\"behind\"} 5.0")
        .doesNotContain("device=\"calm\"");
    assertThat(text.indexOf("device=\"stuck\"")).isLessThan(text.indexOf("device=\"behind\""));
    assertThat(new FleetMetrics(fleet, () -> null, clock, 0).deviceSeries())
        .doesNotContain("device=");
  }
}
