package io.edgesync.server;

import io.edgesync.engine.docs.CloudDocuments;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The brief's KPIs over a set of devices, from what they reported ({@link FleetStatus}) and what
 * their sessions counted (docs/metrics.md "KPIs" defines each):
 *
 * <ul>
 *   <li>sync success rate: batches (and gaps) acknowledged / (acknowledged + lost with a session);
 *   <li>conflict rate: document changes that met a concurrent cloud version / changes processed;
 *   <li>consistency: reporting devices whose document replicas hold the cloud's current version of
 *       every scope they read, with no local change pending / reporting devices;
 *   <li>outage data kept: 1 - records dropped during outages / records appended during outages;
 *   <li>bandwidth reduction: 1 - bytes on the wire / raw record bytes (0..1, 0 before any batch).
 * </ul>
 *
 * Consistency reads the store (one read per distinct scope cursor); the rest is memory. Thread
 * safe: stateless beyond what it reads.
 */
final class Kpis {
  /** The counts behind the ratios. */
  record Result(
      int devices,
      int reporting,
      long batchesAcked,
      long batchesFailed,
      long docChanges,
      long conflicts,
      int consistent,
      long outageRecords,
      long outageDropped,
      long offlineMs,
      long rawBytes,
      long wireBytes) {

    double syncSuccessRate() {
      long sent = batchesAcked + batchesFailed;
      return sent == 0 ? 1.0 : (double) batchesAcked / sent;
    }

    double conflictRate() {
      return docChanges == 0 ? 0.0 : Math.min(1.0, (double) conflicts / docChanges);
    }

    double consistency() {
      return reporting == 0 ? 1.0 : (double) consistent / reporting;
    }

    double outageDataKept() {
      return outageRecords == 0 ? 1.0 : 1.0 - Math.min(1.0, (double) outageDropped / outageRecords);
    }

    double bandwidthReduction() {
      return rawBytes == 0
          ? 0.0
          : Math.max(0.0, Math.min(1.0, 1.0 - (double) wireBytes / rawBytes));
    }

    /** The answer of {@code GET /api/v1/kpis} (docs/api.md). */
    Map<String, Object> json(String scope, String name) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("scope", scope);
      m.put("name", name);
      m.put("syncSuccessRate", syncSuccessRate());
      m.put("conflictRate", conflictRate());
      m.put("consistency", consistency());
      m.put("outageDataKept", outageDataKept());
      m.put("bandwidthReduction", bandwidthReduction());
      m.put("devices", devices);
      m.put("devicesReporting", reporting);
      m.put("devicesConsistent", consistent);
      m.put("batchesAcked", batchesAcked);
      m.put("batchesFailed", batchesFailed);
      m.put("docChanges", docChanges);
      m.put("conflicts", conflicts);
      m.put("outageRecords", outageRecords);
      m.put("outageDroppedRecords", outageDropped);
      m.put("outageMs", offlineMs);
      m.put("rawBytes", rawBytes);
      m.put("wireBytes", wireBytes);
      return m;
    }
  }

  private final FleetStatus fleet;
  private final CloudDocuments docs; // null: the server keeps no documents

  Kpis(FleetStatus fleet, CloudDocuments docs) {
    this.fleet = fleet;
    this.docs = docs;
  }

  /**
   * The KPIs of {@code devices} (registered ids; those that never reported count only in devices).
   */
  Result of(List<String> devices) {
    long[] sum = new long[9];
    int reporting = 0;
    int consistent = 0;
    Map<String, Boolean> current = new HashMap<>(); // "scope version" -> nothing newer in the store
    for (String id : devices) {
      long[] dc = fleet.docCounts(id);
      sum[7] += dc[0];
      sum[8] += dc[1];
      FleetStatus.Reported r = fleet.of(id);
      if (r == null) {
        continue;
      }
      reporting++;
      long[] c = r.kpiCounts();
      for (int i = 0; i < 7; i++) {
        sum[i] += c[i];
      }
      if (c[7] == 0 && replicasCurrent(id, r.docCursors(), current)) {
        consistent++;
      }
    }
    return new Result(
        devices.size(),
        reporting,
        sum[0],
        sum[1],
        sum[7],
        sum[8],
        consistent,
        sum[2],
        sum[3],
        sum[4],
        sum[5],
        sum[6]);
  }

  /**
   * Whether the device's replica of every scope it reads holds the cloud's current version: no
   * version of the scope was written after the cursor it reported (a scope it reported no cursor
   * for is at 0). Answers are shared between devices with the same cursor.
   */
  private boolean replicasCurrent(
      String device, Map<String, Long> cursors, Map<String, Boolean> current) {
    if (docs == null) {
      return true;
    }
    for (String scope : docs.scopesOf(device)) {
      String wire = scope.equals(CloudDocuments.deviceScope(device)) ? "device" : scope;
      long cursor = cursors.getOrDefault(wire, 0L);
      boolean upToDate =
          current.computeIfAbsent(
              scope + " " + cursor, k -> docs.store().changesAfter(scope, cursor, 1).isEmpty());
      if (!upToDate) {
        return false;
      }
    }
    return true;
  }
}
