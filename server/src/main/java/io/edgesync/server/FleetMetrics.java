package io.edgesync.server;

import io.edgesync.protocol.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The device status and KPI metrics (docs/metrics.md "Device status and KPIs"): fleet aggregates
 * and KPI ratios as gauges, always; and series per device for at most {@code maxDeviceSeries}
 * devices, those with the oldest unsent record first (then the largest backlog, then the id), so
 * that a fleet of any size adds a bounded number of series and the devices an operator must look at
 * are the ones published. The KPIs read the store (consistency): {@code kpis} serves one shared
 * computation however often Prometheus scrapes ({@link KpiApi#fleetKpis}).
 *
 * <p>Thread safe.
 */
final class FleetMetrics {
  private final FleetStatus fleet;
  private final Supplier<Kpis.Result> kpis;
  private final Clock clock;
  private final int maxDeviceSeries;

  FleetMetrics(FleetStatus fleet, Supplier<Kpis.Result> kpis, Clock clock, int maxDeviceSeries) {
    this.fleet = fleet;
    this.kpis = kpis;
    this.clock = clock;
    this.maxDeviceSeries = maxDeviceSeries;
  }

  /** Registers the fleet gauges and the per-device text on {@code m}. */
  void register(ServerMetrics m) {
    m.gauge(
            "edgesync.fleet.devices.reporting",
            "devices with a status report on this node",
            () -> fleet.all().size())
        .gauge(
            "edgesync.fleet.backlog.records",
            "records queued on the devices, as reported",
            () -> sum(r -> r.backlogRecords()))
        .gauge(
            "edgesync.fleet.backlog.bytes",
            "payload bytes queued on the devices, as reported",
            () -> sum(r -> r.backlogBytes()))
        .gauge(
            "edgesync.fleet.dropped.records",
            "records the devices dropped unsent, as reported",
            () -> sum(r -> r.droppedRecords()))
        .gauge(
            "edgesync.fleet.oldest.unsent.age.seconds",
            "age of the oldest unsent record of any device",
            this::oldestAgeSeconds)
        .gauge(
            "edgesync.device.series.omitted",
            "reporting devices left out of the per-device series (server.metrics.max_device_series)",
            () -> Math.max(0, fleet.all().size() - maxDeviceSeries))
        .ratio(
            "edgesync.kpi.sync.success.ratio",
            "batches acknowledged / batches sent (acknowledged + lost with a session)",
            () -> kpis.get().syncSuccessRate())
        .ratio(
            "edgesync.kpi.conflict.ratio",
            "document changes that met a concurrent version / changes processed",
            () -> kpis.get().conflictRate())
        .ratio(
            "edgesync.kpi.consistency.ratio",
            "reporting devices whose replicas hold the cloud's current versions",
            () -> kpis.get().consistency())
        .ratio(
            "edgesync.kpi.outage.data.kept.ratio",
            "1 - records dropped during outages / records appended during them",
            () -> kpis.get().outageDataKept())
        .ratio(
            "edgesync.kpi.bandwidth.reduction.ratio",
            "1 - bytes on the wire / raw record bytes",
            () -> kpis.get().bandwidthReduction())
        .text(this::deviceSeries);
  }

  private long sum(java.util.function.ToLongFunction<FleetStatus.Reported> f) {
    long n = 0;
    for (Map.Entry<String, FleetStatus.Reported> e : fleet.all()) {
      n += f.applyAsLong(e.getValue());
    }
    return n;
  }

  private long oldestAgeSeconds() {
    long now = clock.nowMs();
    long age = 0;
    for (Map.Entry<String, FleetStatus.Reported> e : fleet.all()) {
      age = Math.max(age, e.getValue().oldestUnsentAgeMs(now));
    }
    return age / 1000;
  }

  /** One device's published numbers. */
  private record Row(String device, long ageMs, long records, long bytes, long reportAgeMs) {}

  /** The per-device series in Prometheus' text format, worst devices first. */
  String deviceSeries() {
    long now = clock.nowMs();
    List<Row> rows = new ArrayList<>();
    for (Map.Entry<String, FleetStatus.Reported> e : fleet.all()) {
      FleetStatus.Reported r = e.getValue();
      synchronized (r) {
        rows.add(
            new Row(
                e.getKey(),
                r.oldestUnsentAgeMs(now),
                r.backlogRecords(),
                r.backlogBytes(),
                Math.max(0, now - r.atMs)));
      }
    }
    rows.sort(
        Comparator.comparingLong(Row::ageMs)
            .reversed()
            .thenComparing(Comparator.comparingLong(Row::records).reversed())
            .thenComparing(Row::device));
    List<Row> shown = rows.subList(0, Math.min(rows.size(), maxDeviceSeries));
    StringBuilder out = new StringBuilder();
    series(
        out,
        shown,
        "edgesync_device_backlog_records",
        "records queued on the device, as reported",
        r -> (double) r.records());
    series(
        out,
        shown,
        "edgesync_device_backlog_bytes",
        "payload bytes queued on the device, as reported",
        r -> (double) r.bytes());
    series(
        out,
        shown,
        "edgesync_device_oldest_unsent_age_seconds",
        "age of the device's oldest unsent record",
        r -> r.ageMs() / 1000.0);
    series(
        out,
        shown,
        "edgesync_device_report_age_seconds",
        "time since the device's last status report",
        r -> r.reportAgeMs() / 1000.0);
    return out.toString();
  }

  private static void series(
      StringBuilder out,
      List<Row> rows,
      String name,
      String help,
      java.util.function.ToDoubleFunction<Row> value) {
    out.append("# HELP ").append(name).append(' ').append(help).append('\n');
    out.append("# TYPE ").append(name).append(" gauge\n");
    for (Row r : rows) {
      out.append(name)
          .append("{device=\"")
          .append(r.device()) // device ids are [A-Za-z0-9_.:-]: nothing to escape
          .append("\"} ")
          .append(value.applyAsDouble(r))
          .append('\n');
    }
  }
}
