package io.edgesync.server.alerts;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgesync.server.alerts.Alert.Severity;
import io.edgesync.support.ConfigNode;
import io.edgesync.testing.FakeClock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The built-in rules and the alert lifecycle (fire, stay with the same id and start, resolve, keep
 * the last resolved) on a fake clock, over a fleet view the test sets. The server's wiring of the
 * view to its real parts is tested end to end in the cli module's AlertsTest.
 */
class AlertsTest {
  private static final long MIN = 60_000;
  private static final long DAY = 24 * 60 * MIN;

  private final FakeClock clock = new FakeClock(1_000 * DAY);
  private final Fleet fleet = new Fleet();
  private final List<String> changes = new ArrayList<>();

  private Alerts alerts(String yaml) {
    AlertSettings s = AlertSettings.from(ConfigNode.parse(yaml));
    return new Alerts(s, fleet, clock, (c, a) -> changes.add(c + " " + a.id()));
  }

  @Test
  void deviceOffline_firesAfterTheThreshold_keepsItsStart_andResolvesWhenTheDeviceIsBack() {
    Alerts alerts = alerts("device_offline_ms: 600000");
    long seen = clock.nowMs();
    fleet.devices.add(new AlertInputs.Device("d1", seen, false));
    clock.advance(10 * MIN);
    alerts.evaluate();
    assertThat(alerts.active()).as("exactly at the threshold").isEmpty();

    clock.advance(1);
    alerts.evaluate();
    clock.advance(5 * MIN);
    alerts.evaluate();
    assertThat(alerts.active())
        .singleElement()
        .satisfies(
            a -> {
              assertThat(a.id()).isEqualTo("device_offline:d1");
              assertThat(a.device()).isEqualTo("d1");
              assertThat(a.severity()).isEqualTo(Severity.WARNING);
              assertThat(a.sinceMs()).isEqualTo(seen + 10 * MIN);
              assertThat(a.message()).contains("d1").contains("offline for 15m");
            });
    assertThat(changes).containsExactly("FIRED device_offline:d1");
    assertThat(alerts.activeCount(AlertRule.DEVICE_OFFLINE)).isEqualTo(1);

    fleet.devices.set(0, new AlertInputs.Device("d1", clock.nowMs(), true));
    alerts.evaluate();
    assertThat(alerts.active()).isEmpty();
    assertThat(alerts.activeCount(AlertRule.DEVICE_OFFLINE)).isZero();
    assertThat(alerts.resolved())
        .singleElement()
        .satisfies(
            a -> {
              assertThat(a.id()).isEqualTo("device_offline:d1");
              assertThat(a.resolvedAtMs()).isEqualTo(clock.nowMs());
            });
    assertThat(changes).containsExactly("FIRED device_offline:d1", "RESOLVED device_offline:d1");
  }

  @Test
  void resolvedAlerts_keepOnlyTheLastN_newestFirst() {
    Alerts alerts = alerts("device_offline_ms: 1000\nmax_resolved_kept: 2");
    for (int i = 0; i < 4; i++) {
      fleet.devices.clear();
      fleet.devices.add(new AlertInputs.Device("d" + i, clock.nowMs() - MIN, false));
      alerts.evaluate(); // d(i) fires, d(i-1) resolves
    }
    fleet.devices.clear();
    alerts.evaluate();
    assertThat(alerts.resolved())
        .extracting(Alert::id)
        .containsExactly("device_offline:d3", "device_offline:d2");
  }

  @Test
  void backlogAge_growsFromTheReport_whileRecordsWait() {
    Alerts alerts = alerts("backlog_age_ms: 3600000");
    fleet.reports.put("d1", new DeviceReports.Report(clock.nowMs(), 12, 50 * MIN));
    fleet.reports.put("d2", new DeviceReports.Report(clock.nowMs(), 0, 0));
    alerts.evaluate();
    assertThat(alerts.active()).isEmpty();

    clock.advance(11 * MIN); // 61 minutes old now, though the report said 50
    alerts.evaluate();
    assertThat(alerts.active())
        .singleElement()
        .satisfies(
            a -> {
              assertThat(a.id()).isEqualTo("backlog_age:d1");
              assertThat(a.message()).contains("12 records queued").contains("1h 1m");
              assertThat(a.sinceMs()).isEqualTo(clock.nowMs() - MIN);
            });

    fleet.reports.put("d1", new DeviceReports.Report(clock.nowMs(), 0, 0)); // drained
    alerts.evaluate();
    assertThat(alerts.active()).isEmpty();
  }

  @Test
  void stalled_needsABacklogOrBatchesArriving_andAnyProgressClearsIt() {
    Alerts alerts = alerts("stalled_ms: 300000");
    fleet.sessions.put("idle", new AlertInputs.SessionProgress("s1", 5, 100));
    fleet.sessions.put("busy", new AlertInputs.SessionProgress("s2", 5, 100));
    fleet.sessions.put("sending", new AlertInputs.SessionProgress("s3", 5, 100));
    fleet.reports.put("busy", new DeviceReports.Report(clock.nowMs(), 40, 1_000));
    alerts.evaluate();
    clock.advance(4 * MIN);
    fleet.sessions.put("sending", new AlertInputs.SessionProgress("s3", 5, 900));
    alerts.evaluate();
    assertThat(alerts.active()).as("not yet 5 minutes").isEmpty();

    clock.advance(MIN);
    alerts.evaluate();
    assertThat(alerts.active())
        .extracting(Alert::id)
        .containsExactlyInAnyOrder("device_stalled:busy", "device_stalled:sending");
    assertThat(alerts.active()).allSatisfy(a -> assertThat(a.sinceMs()).isEqualTo(clock.nowMs()));

    fleet.sessions.put("busy", new AlertInputs.SessionProgress("s2", 6, 100)); // a record stored
    fleet.sessions.put("sending", new AlertInputs.SessionProgress("s4", 5, 900)); // reconnected
    alerts.evaluate();
    assertThat(alerts.active()).isEmpty();
  }

  @Test
  void conflictsOpen_firesAboveTheLimit_fromWhenTheLimitWasPassed() {
    Alerts alerts = alerts("max_open_conflicts: 2");
    fleet.conflicts.addAll(List.of(100L, 200L));
    alerts.evaluate();
    assertThat(alerts.active()).isEmpty();
    fleet.conflicts.add(300L);
    alerts.evaluate();
    assertThat(alerts.active())
        .singleElement()
        .satisfies(
            a -> {
              assertThat(a.id()).isEqualTo("conflicts_open");
              assertThat(a.device()).isNull();
              assertThat(a.sinceMs()).isEqualTo(300L);
            });
  }

  @Test
  void certificateExpiring_warnsWithinTheWindow_andIsCriticalInItsLastDay() {
    Alerts alerts = alerts("cert_expiry_days: 7");
    fleet.certs.put("far", clock.nowMs() + 8 * DAY);
    fleet.certs.put("soon", clock.nowMs() + 3 * DAY);
    fleet.certs.put("gone", clock.nowMs() - 2 * DAY);
    alerts.evaluate();
    Map<String, Severity> bySubject = new HashMap<>();
    alerts.active().forEach(a -> bySubject.put(a.id(), a.severity()));
    assertThat(bySubject)
        .containsExactlyInAnyOrderEntriesOf(
            Map.of(
                "cert_expiring:soon", Severity.WARNING, "cert_expiring:gone", Severity.CRITICAL));
    assertThat(alerts.active())
        .filteredOn(a -> a.device().equals("gone"))
        .singleElement()
        .satisfies(a -> assertThat(a.message()).contains("expired 2d 0h ago"));
  }

  @Test
  void rolloutPaused_andExportLagging_andDisabledRulesStayQuiet() {
    Alerts alerts = alerts("export_lag_records: 1000\nexport_idle_ms: 600000");
    fleet.paused.add(new AlertInputs.PausedRollout(7, "fw.bin", 3, "failures 40% > 20%", 55));
    fleet.export = new AlertInputs.Export(10L, clock.nowMs(), clock.nowMs(), null);
    alerts.evaluate();
    assertThat(alerts.active()).extracting(Alert::id).containsExactly("rollout_paused:7");
    assertThat(alerts.active().get(0).message()).contains("failures 40% > 20%");

    clock.advance(11 * MIN); // 10 records wait, nothing exported for 11 minutes
    alerts.evaluate();
    assertThat(alerts.active())
        .extracting(Alert::id)
        .containsExactly("rollout_paused:7", "export_lagging");
    fleet.export = new AlertInputs.Export(5_000L, clock.nowMs(), 0, "broker down");
    alerts.evaluate();
    assertThat(alerts.active().get(1).message()).contains("5000 records behind", "broker down");

    Alerts quiet = alerts("disabled_rules: [rollout_paused, export_lagging]");
    quiet.evaluate();
    assertThat(quiet.active()).isEmpty();
  }

  /** The fleet as the rules see it, set by each test. */
  private static final class Fleet implements AlertInputs {
    final List<Device> devices = new ArrayList<>();
    final Map<String, SessionProgress> sessions = new HashMap<>();
    final Map<String, DeviceReports.Report> reports = new HashMap<>();
    final List<Long> conflicts = new ArrayList<>();
    final Map<String, Long> certs = new HashMap<>();
    final List<PausedRollout> paused = new ArrayList<>();
    Export export;

    @Override
    public List<Device> devices() {
      return devices;
    }

    @Override
    public Map<String, SessionProgress> sessions() {
      return sessions;
    }

    @Override
    public Map<String, DeviceReports.Report> reports() {
      return reports;
    }

    @Override
    public List<Long> openConflictsCreatedMs(int limit) {
      return conflicts.subList(0, Math.min(limit, conflicts.size()));
    }

    @Override
    public Map<String, Long> certificateNotAfterMs() {
      return certs;
    }

    @Override
    public List<PausedRollout> pausedRollouts() {
      return paused;
    }

    @Override
    public Export export() {
      return export;
    }
  }
}
