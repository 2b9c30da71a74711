package io.edgesync.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgesync.testing.FakeClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The fleet's KPIs read the store for every device, so one answer serves every caller until it is
 * older than 1 ms per device (capped): a registered device shows once that time has passed.
 */
class KpiApiTest {
  private static final long T0 = 1_700_000_000_000L;

  @RegisterExtension final StoreFile db = new StoreFile();

  @Test
  void theFleetsAnswer_isSharedForOneMillisecondPerDevice() throws Exception {
    SqliteCloudStore store = db.open();
    for (int i = 0; i < 200; i++) {
      store.registerDevice("dev-" + i, T0);
    }
    FakeClock clock = new FakeClock(T0);
    KpiApi api = new KpiApi(store, null, new Kpis(new FleetStatus(clock), null), clock);
    assertThat(api.fleetKpis().devices()).isEqualTo(200);

    store.registerDevice("dev-new", T0);
    clock.advance(199);
    assertThat(api.fleetKpis().devices()).as("within 200 ms: the shared answer").isEqualTo(200);
    clock.advance(1);
    assertThat(api.fleetKpis().devices()).isEqualTo(201);
  }
}
