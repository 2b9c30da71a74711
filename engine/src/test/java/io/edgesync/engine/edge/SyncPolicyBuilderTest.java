package io.edgesync.engine.edge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.edgesync.engine.link.BandwidthPolicy;
import org.junit.jupiter.api.Test;

class SyncPolicyBuilderTest {
  @Test
  void builderFromDefaults_buildsTheDefaults() {
    assertEquals(SyncPolicy.defaults("d1"), SyncPolicy.builder("d1").build());
  }

  @Test
  void withMethods_changeOnlyTheirSettings() {
    SyncPolicy d = SyncPolicy.defaults("d1");
    SyncPolicy p =
        d.withTriggers(false, 7, false, 9, 11, 13, 15)
            .withBatching(17, 19, 21, 23)
            .withLiveness(25, 270, 29, 31, 33, 350)
            .withBandwidth(BandwidthPolicy.defaults());
    SyncPolicy expected =
        new SyncPolicy(
            "d1",
            d.agentVersion(),
            false,
            7,
            false,
            9,
            11,
            13,
            15,
            17,
            19,
            21,
            23,
            25,
            270,
            29,
            31,
            33,
            350,
            d.backoffMultiplier(),
            BandwidthPolicy.defaults());
    assertEquals(expected, p);
  }

  @Test
  void setterRejectsAnOutOfRangeValueAtOnce_withTheConstructorsMessage() {
    SyncPolicy.Builder b = SyncPolicy.builder("d1");
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> b.debounceMs(0));
    assertEquals("debounceMs must be > 0, was 0", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> b.maxInFlightBatches(-1));
    assertEquals("maxInFlightBatches must be > 0, was -1", e.getMessage());
  }

  @Test
  void buildRejectsHeartbeatTimeoutNotAboveInterval() {
    SyncPolicy.Builder b =
        SyncPolicy.builder("d1").heartbeatIntervalMs(10_000).heartbeatTimeoutMs(10_000);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, b::build);
    assertEquals(
        "heartbeatTimeoutMs (10000) must exceed heartbeatIntervalMs (10000)", e.getMessage());
  }

  @Test
  void withLiveness_rejectsBadValueWithTheSameMessageAsBefore() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> SyncPolicy.defaults("d1").withLiveness(1_000, 500, 1, 1, 1, 1));
    assertEquals("heartbeatTimeoutMs (500) must exceed heartbeatIntervalMs (1000)", e.getMessage());
  }
}
