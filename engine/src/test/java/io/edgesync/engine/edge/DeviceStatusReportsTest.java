package io.edgesync.engine.edge;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgesync.engine.testing.InMemoryOutbox;
import io.edgesync.engine.testing.RecordingEdgeIo;
import io.edgesync.protocol.FrameCodec;
import io.edgesync.protocol.wire.DeviceStatus;
import io.edgesync.protocol.wire.Frame;
import io.edgesync.protocol.wire.StreamStatus;
import io.edgesync.testing.FakeClock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The edge's status reports over its session (DeviceStatus, docs/protocol.md "Device status"):
 * offered in Hello, a full report after a Welcome that accepted it, deltas every status interval,
 * none for a cloud that did not accept it; and what a busy device costs on the wire.
 */
class DeviceStatusReportsTest {
  private static final long T0 = 1_700_000_000_000L;

  private final FakeClock clock = new FakeClock(T0);
  private final InMemoryOutbox outbox = new InMemoryOutbox(clock);
  private final RecordingEdgeIo io = new RecordingEdgeIo();

  /** The outbox's figures; nothing is dropped, the oldest queued record is the first unacked. */
  private final StatusSource source =
      nowMs -> {
        List<StatusSource.StreamHealth> out = new ArrayList<>();
        for (Outbox.StreamState s : outbox.streams()) {
          out.add(
              new StatusSource.StreamHealth(
                  s.name(),
                  s.lastSequence(),
                  s.ackedSequence(),
                  s.queuedRecords(),
                  s.queuedBytes(),
                  0,
                  s.queuedRecords() == 0 ? -1 : T0));
        }
        return out;
      };

  private EdgeSyncEngine engine(long statusIntervalMs) {
    return TestPolicy.engine(TestPolicy.builder().statusIntervalMs(statusIntervalMs), outbox, io)
        .withStatus(source);
  }

  private List<DeviceStatus> takeStatuses() {
    List<DeviceStatus> out = new ArrayList<>();
    for (Frame f : io.frames()) {
      if (f.hasStatus()) {
        out.add(f.getStatus());
      }
    }
    io.frames().clear();
    return out;
  }

  private static Frame welcome(String... capabilities) {
    return TestCloud.frame(
        TestCloud.welcome(Map.of())
            .setHeartbeatIntervalMs(15_000)
            .addAllCapabilities(List.of(capabilities)));
  }

  @Test
  void statusIsOffered_fullAfterWelcome_thenDeltasEveryInterval_withTheOutageCounted() {
    outbox.stream("temp", 1);
    EdgeSyncEngine engine = engine(30_000);
    engine.start(T0);
    engine.onConnected(T0);
    assertThat(io.frames().get(0).getHello().getCapabilitiesList()).contains("status");
    engine.onDisconnected(T0, "link down");
    clock.advance(60_000);
    outbox.append("temp", 5); // during the outage

    engine.onTimer(clock.nowMs());
    engine.onConnected(clock.nowMs());
    io.frames().clear();
    engine.onFrame(clock.nowMs(), welcome("status"));

    List<DeviceStatus> first = takeStatuses();
    assertThat(first).hasSize(1);
    DeviceStatus full = first.get(0);
    assertThat(full.getFull()).isTrue();
    assertThat(full.getStreamsList())
        .singleElement()
        .satisfies(
            s -> {
              assertThat(s.getStream()).isEqualTo("temp");
              assertThat(s.getStreamRef()).isEqualTo(1);
              assertThat(s.getAppended()).isEqualTo(5);
              assertThat(s.hasQueued()).isTrue();
              assertThat(s.getQueued()).isEqualTo(5);
            });
    assertThat(full.getOutageRecords()).isEqualTo(5);
    assertThat(full.getOutageDropped()).isZero();
    assertThat(full.getOfflineMs()).isGreaterThanOrEqualTo(60_000);
    assertThat(full.hasDocsPending()).isTrue();

    clock.advance(29_000);
    engine.onTimer(clock.nowMs());
    assertThat(takeStatuses()).as("not due before the interval").isEmpty();
    assertThat(engine.nextWakeupMs()).isLessThanOrEqualTo(T0 + 60_000 + 30_000 + 100);

    outbox.append("temp", 3);
    clock.advance(1_000);
    engine.onTimer(clock.nowMs());
    List<DeviceStatus> later = takeStatuses();
    assertThat(later).hasSize(1);
    DeviceStatus delta = later.get(0);
    assertThat(delta.getFull()).isFalse();
    StreamStatus s = delta.getStreams(0);
    assertThat(s.getStream()).as("bound in the full report: the number alone").isEmpty();
    assertThat(s.getStreamRef()).isEqualTo(1);
    assertThat(s.getAppended()).as("the increase").isEqualTo(3);
    assertThat(delta.getOutageRecords()).as("no new outage").isZero();
  }

  @Test
  void aCloudThatDidNotAcceptStatus_getsNone() {
    outbox.stream("temp", 1);
    EdgeSyncEngine engine = engine(30_000);
    engine.start(T0);
    engine.onConnected(T0);
    engine.onFrame(T0, welcome());
    clock.advance(120_000);
    engine.onTimer(clock.nowMs());
    assertThat(takeStatuses()).isEmpty();
  }

  @Test
  void statusIntervalZero_offersNothingAndSendsNothing() {
    outbox.stream("temp", 1);
    EdgeSyncEngine engine = engine(0);
    engine.start(T0);
    engine.onConnected(T0);
    assertThat(io.frames().get(0).getHello().getCapabilitiesList()).doesNotContain("status");
    engine.onFrame(T0, welcome("status"));
    clock.advance(120_000);
    engine.onTimer(clock.nowMs());
    assertThat(takeStatuses()).isEmpty();
  }

  /**
   * A year-old device with three busy streams (billions of records already, hundreds to thousands a
   * minute, backlog moving, every ack changing the last sync time), reporting every 30 s for an
   * hour after one full report: the budget is 200 bytes per device-minute on the wire.
   */
  @Test
  void aBusyDeviceWithThreeStreams_costsUnder200BytesPerMinute() {
    long[] appended = {3_000_000_000L, 800_000_000L, 20_000_000L};
    long[] perReport = {300, 3_000, 20};
    long[] raw = {1_500_000_000_000L};
    long[] wire = {300_000_000_000L};
    long[] now = {T0};
    String[] names = {"temperature", "vibration_raw", "events"};
    StatusSource busy =
        nowMs -> {
          List<StatusSource.StreamHealth> out = new ArrayList<>();
          for (int i = 0; i < 3; i++) {
            long queued = (nowMs / 30_000 + i) % 7; // a small, moving backlog
            out.add(
                new StatusSource.StreamHealth(
                    names[i],
                    appended[i],
                    appended[i] - queued - 12,
                    queued,
                    queued * 64,
                    12,
                    queued == 0 ? -1 : nowMs - 2_000 - i * 100));
          }
          return out;
        };
    StatusReports reports =
        new StatusReports(
            busy,
            30_000,
            () -> new EdgeSyncEngine.WireStats(0, 0, 0, raw[0], 0, wire[0]),
            () -> Map.of("device", 42L, "fleet", 1_234_567L, "group:line-3", 99L));
    reports.onOffline(now[0]);
    long bytes = FrameCodec.encode(reports.onWelcome(now[0], List.of("status"))).length;
    int minutes = 60;
    for (int r = 0; r < minutes * 2; r++) {
      now[0] += 30_000;
      for (int i = 0; i < 3; i++) {
        appended[i] += perReport[i];
      }
      raw[0] += 1_200_000;
      wire[0] += 200_000;
      reports.onAck(now[0] - 1_000, 4);
      assertThat(reports.due(now[0])).isTrue();
      bytes += FrameCodec.encode(reports.report(now[0])).length;
    }
    double perMinute = (double) bytes / minutes;
    assertThat(perMinute).as("bytes per device-minute: " + perMinute).isLessThanOrEqualTo(200);
  }

  @Test
  void anUnchangedDevice_sendsAnEmptyDelta() {
    outbox.stream("temp", 1);
    EdgeSyncEngine engine = engine(30_000);
    engine.start(T0);
    engine.onConnected(T0);
    engine.onFrame(T0, welcome("status"));
    takeStatuses();
    clock.advance(30_000);
    engine.onTimer(clock.nowMs());
    List<DeviceStatus> later = takeStatuses();
    assertThat(later).hasSize(1);
    assertThat(later.get(0).getStreamsCount()).isZero();
    assertThat(FrameCodec.encode(Frame.newBuilder().setStatus(later.get(0)).build()).length)
        .as("frame tag, length and checksum")
        .isEqualTo(8);
  }
}
