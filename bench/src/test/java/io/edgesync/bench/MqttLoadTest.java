package io.edgesync.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bench's load against a real Mosquitto the bench starts, briefly: every message published is
 * PUBACKed after the drain, and every PUBACK read in the measured window is counted and timed.
 * Skips with a notice without Debian's {@code mosquitto}.
 */
class MqttLoadTest {
  @TempDir Path dir;

  @Test
  void loadAgainstMosquitto_everyPublishedMessageIsAcknowledgedAndTimed() throws Exception {
    String missing = MqttMosquitto.unavailable(MqttMosquitto.DEFAULT_BINARY);
    if (missing != null) {
      System.err.println("MqttLoadTest skipped: " + missing);
    }
    assumeTrue(missing == null, missing);
    MqttLoad.Settings s = new MqttLoad.Settings(3, 16, 4, 0.3, 1.0, 10, 10);
    MqttLoad.Result r;
    long[] windowCalls = new long[2];
    try (MqttMosquitto m = MqttMosquitto.start(MqttMosquitto.DEFAULT_BINARY, dir)) {
      r =
          MqttLoad.run(
              "127.0.0.1",
              m.port(),
              s,
              new MqttLoad.Window() {
                @Override
                public void started() {
                  windowCalls[0]++;
                }

                @Override
                public void ended() {
                  windowCalls[1]++;
                }
              });
      assertThat(m.check(r).ok()).isTrue();
    }
    assertThat(windowCalls).containsExactly(1, 1);
    assertThat(r.unacked()).isZero();
    assertThat(r.pubacked()).isEqualTo(r.published()).isGreaterThan(r.acked());
    assertThat(r.acked()).isPositive();
    assertThat(r.latency().count()).isEqualTo(r.acked());
    assertThat(r.rate()).isEqualTo(r.acked() / r.seconds());
    assertThat(r.payloadBytes() / r.published()).isBetween(120L, 200L); // ~150-byte readings
  }
}
