package io.edgesync.server.alerts;

import io.edgesync.server.alerts.Alert.Severity;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The built-in rules: from {@link AlertInputs} at {@code nowMs}, the alerts that hold now. Keeps,
 * per connected device, when its session last made progress (the {@code device_stalled} rule needs
 * time since then, which no input says).
 *
 * <p>Not thread safe: the alert timer's thread only.
 */
final class AlertRules {
  private static final long DAY_MS = 86_400_000L;

  private final AlertSettings settings;
  private final AlertInputs in;
  private final Map<String, Progress> lastProgress = new HashMap<>();

  /** A session's counts when they last changed, and when that was. */
  private record Progress(AlertInputs.SessionProgress seen, long atMs) {}

  AlertRules(AlertSettings settings, AlertInputs in) {
    this.settings = settings;
    this.in = in;
  }

  List<Alert> evaluate(long nowMs) {
    List<Alert> out = new ArrayList<>();
    Map<String, DeviceReports.Report> reports = in.reports();
    if (settings.evaluates(AlertRule.DEVICE_OFFLINE)) {
      offline(nowMs, out);
    }
    if (settings.evaluates(AlertRule.BACKLOG_AGE)) {
      backlog(nowMs, reports, out);
    }
    if (settings.evaluates(AlertRule.DEVICE_STALLED)) {
      stalled(nowMs, reports, out);
    }
    if (settings.evaluates(AlertRule.CONFLICTS_OPEN)) {
      conflicts(out);
    }
    if (settings.evaluates(AlertRule.CERT_EXPIRING)) {
      certificates(nowMs, out);
    }
    if (settings.evaluates(AlertRule.ROLLOUT_PAUSED)) {
      for (AlertInputs.PausedRollout r : in.pausedRollouts()) {
        String why = r.reason() == null ? "" : ": " + r.reason();
        String m =
            "rollout " + r.id() + " of " + r.path() + " v" + r.version() + " is paused" + why;
        out.add(
            Alert.of(
                AlertRule.ROLLOUT_PAUSED, "" + r.id(), null, Severity.WARNING, r.pausedAtMs(), m));
      }
    }
    if (settings.evaluates(AlertRule.EXPORT_LAGGING)) {
      export(nowMs, out);
    }
    return out;
  }

  private void offline(long nowMs, List<Alert> out) {
    long limit = settings.deviceOfflineMs();
    for (AlertInputs.Device d : in.devices()) {
      long silentMs = nowMs - d.lastSeenMs();
      if (!d.connected() && silentMs > limit) {
        String m =
            "device %s offline for %s (last seen %s)"
                .formatted(d.id(), duration(silentMs), at(d.lastSeenMs()));
        out.add(
            Alert.of(
                AlertRule.DEVICE_OFFLINE,
                d.id(),
                d.id(),
                Severity.WARNING,
                d.lastSeenMs() + limit,
                m));
      }
    }
  }

  /**
   * The reported age grows with the time since the report while records are queued: an offline
   * device's backlog keeps ageing though it cannot report.
   */
  private void backlog(long nowMs, Map<String, DeviceReports.Report> reports, List<Alert> out) {
    long limit = settings.backlogAgeMs();
    for (Map.Entry<String, DeviceReports.Report> e : reports.entrySet()) {
      DeviceReports.Report r = e.getValue();
      if (r.backlogRecords() <= 0 || r.oldestUnsentAgeMs() <= 0) {
        continue;
      }
      long ageMs = r.oldestUnsentAgeMs() + Math.max(0, nowMs - r.atMs());
      if (ageMs > limit) {
        String m =
            "device %s: oldest unsent record is %s old (%d records queued)"
                .formatted(e.getKey(), duration(ageMs), r.backlogRecords());
        out.add(
            Alert.of(
                AlertRule.BACKLOG_AGE,
                e.getKey(),
                e.getKey(),
                Severity.WARNING,
                nowMs - ageMs + limit,
                m));
      }
    }
  }

  /**
   * Connected, and for {@code stalled_ms} nothing moved (no record stored, no document pushed)
   * while the device has a reported backlog or keeps sending batches.
   */
  private void stalled(long nowMs, Map<String, DeviceReports.Report> reports, List<Alert> out) {
    Map<String, AlertInputs.SessionProgress> sessions = in.sessions();
    lastProgress.keySet().retainAll(sessions.keySet());
    for (Map.Entry<String, AlertInputs.SessionProgress> e : sessions.entrySet()) {
      AlertInputs.SessionProgress now = e.getValue();
      Progress last = lastProgress.get(e.getKey());
      if (last == null
          || !last.seen().session().equals(now.session())
          || last.seen().progress() != now.progress()) {
        lastProgress.put(e.getKey(), new Progress(now, nowMs));
        continue;
      }
      DeviceReports.Report r = reports.get(e.getKey());
      boolean backlog = r != null && r.backlogRecords() > 0;
      boolean sending = now.bytesIn() > last.seen().bytesIn();
      long stillMs = nowMs - last.atMs();
      if ((backlog || sending) && stillMs >= settings.stalledMs()) {
        String what = backlog ? r.backlogRecords() + " records queued" : "batches arriving";
        String m =
            "device %s connected without progress for %s (%s)"
                .formatted(e.getKey(), duration(stillMs), what);
        out.add(
            Alert.of(
                AlertRule.DEVICE_STALLED,
                e.getKey(),
                e.getKey(),
                Severity.WARNING,
                last.atMs() + settings.stalledMs(),
                m));
      }
    }
  }

  private void conflicts(List<Alert> out) {
    long max = settings.maxOpenConflicts();
    List<Long> created = in.openConflictsCreatedMs((int) max + 1);
    if (created.size() > max) {
      String m = "more than " + max + " manual conflicts wait to be resolved";
      out.add(
          Alert.of(
              AlertRule.CONFLICTS_OPEN, null, null, Severity.WARNING, created.get((int) max), m));
    }
  }

  private void certificates(long nowMs, List<Alert> out) {
    long windowMs = settings.certExpiryDays() * DAY_MS;
    for (Map.Entry<String, Long> e : in.certificateNotAfterMs().entrySet()) {
      long leftMs = e.getValue() - nowMs;
      if (leftMs <= windowMs) {
        Severity s = leftMs <= DAY_MS ? Severity.CRITICAL : Severity.WARNING;
        String when =
            leftMs <= 0
                ? "expired " + duration(-leftMs) + " ago"
                : "expires in " + duration(leftMs);
        String m = "device " + e.getKey() + ": certificate " + when + " (" + at(e.getValue()) + ")";
        out.add(
            Alert.of(
                AlertRule.CERT_EXPIRING, e.getKey(), e.getKey(), s, e.getValue() - windowMs, m));
      }
    }
  }

  /** More than {@code export_lag_records} behind, or records waiting and none exported lately. */
  private void export(long nowMs, List<Alert> out) {
    AlertInputs.Export x = in.export();
    if (x == null || x.lagRecords() == null) {
      return;
    }
    long lag = x.lagRecords();
    long lastMs = Math.max(x.lastExportAtMs(), x.startedAtMs());
    String error = x.lastError() == null ? "" : "; last error: " + x.lastError();
    if (lag > settings.exportLagRecords()) {
      String m = "Kafka export is " + lag + " records behind" + error;
      out.add(Alert.of(AlertRule.EXPORT_LAGGING, null, null, Severity.WARNING, nowMs, m));
    } else if (lag > 0 && nowMs - lastMs > settings.exportIdleMs()) {
      String m =
          "Kafka export: "
              + lag
              + " records waiting, nothing exported for "
              + duration(nowMs - lastMs)
              + error;
      out.add(
          Alert.of(
              AlertRule.EXPORT_LAGGING,
              null,
              null,
              Severity.WARNING,
              lastMs + settings.exportIdleMs(),
              m));
    }
  }

  /** {@code 3h 5m}, {@code 42s}: a duration for people. */
  static String duration(long ms) {
    long s = Math.max(0, ms) / 1000;
    if (s < 60) {
      return s + "s";
    }
    long m = s / 60;
    if (m < 60) {
      return m + "m";
    }
    long h = m / 60;
    return h < 48 ? h + "h " + m % 60 + "m" : h / 24 + "d " + h % 24 + "h";
  }

  private static String at(long ms) {
    return Instant.ofEpochMilli(ms).toString();
  }
}
