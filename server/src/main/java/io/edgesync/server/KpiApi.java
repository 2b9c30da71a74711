package io.edgesync.server;

import io.edgesync.engine.cloud.CloudStore;
import io.edgesync.engine.docs.CloudDocuments;
import io.edgesync.protocol.ProtocolLimits;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code GET /api/v1/kpis}: the brief's KPIs ({@link Kpis}) of the fleet, of one group ({@code
 * ?group=G}) or of one device ({@code ?device=D}); docs/api.md. A viewer's route, as every GET.
 *
 * <p>The fleet's answer reads the store for every device (consistency), so it is shared by every
 * caller (dashboard tabs polling it, the metrics) and computed again only when it is older than 1
 * ms per device, at most {@link #MAX_SHARED_MS}: 10 s for 10,000 devices, fresh at once for a
 * handful. Thread safe.
 */
final class KpiApi {
  /** The longest one computation of the fleet's KPIs serves its callers. */
  static final long MAX_SHARED_MS = 15_000;

  private final CloudStore store;
  private final CloudDocuments docs; // null: the server keeps no documents (and no groups)
  private final Kpis kpis;
  private final io.edgesync.protocol.Clock clock;
  private Kpis.Result fleetCached; // guarded by this
  private long fleetCachedAtMs;

  KpiApi(CloudStore store, CloudDocuments docs, Kpis kpis, io.edgesync.protocol.Clock clock) {
    this.store = store;
    this.docs = docs;
    this.kpis = kpis;
    this.clock = clock;
  }

  /** The fleet's KPIs, computed again only when the last answer is older than its cache time. */
  synchronized Kpis.Result fleetKpis() {
    long now = clock.nowMs();
    if (fleetCached == null
        || now - fleetCachedAtMs >= Math.min(MAX_SHARED_MS, fleetCached.devices())
        || now < fleetCachedAtMs) {
      fleetCached = kpis.of(fleet());
      fleetCachedAtMs = now;
    }
    return fleetCached;
  }

  void register(RoutesConfig r) {
    r.get("/api/v1/kpis", this::kpis);
  }

  private void kpis(Context ctx) {
    String group = ctx.queryParam("group");
    String device = ctx.queryParam("device");
    if (group != null && device != null) {
      throw new SyncServer.ApiError(400, "give 'group' or 'device', not both");
    }
    if (device != null) {
      if (store.device(device).isEmpty()) {
        throw new SyncServer.ApiError(404, "unknown device '" + device + "'");
      }
      ctx.json(kpis.of(List.of(device)).json("device", device));
    } else if (group != null) {
      ctx.json(kpis.of(groupMembers(group)).json("group", group));
    } else {
      ctx.json(fleetKpis().json("fleet", null));
    }
  }

  private List<String> groupMembers(String group) {
    if (!ProtocolLimits.isValidCollection(group)) {
      throw new SyncServer.ApiError(
          400,
          "invalid group name '" + group + "': must match " + ProtocolLimits.COLLECTION_PATTERN);
    }
    List<String> members =
        docs == null ? List.of() : docs.store().devicesReading(CloudDocuments.groupScope(group));
    if (members.isEmpty()) {
      throw new SyncServer.ApiError(404, "no device is in group '" + group + "'");
    }
    return members;
  }

  /** Every registered device. */
  List<String> fleet() {
    List<String> ids = new ArrayList<>();
    for (CloudStore.Device d : store.devices()) {
      ids.add(d.id());
    }
    return ids;
  }
}
