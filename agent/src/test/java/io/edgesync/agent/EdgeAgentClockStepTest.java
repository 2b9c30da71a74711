package io.edgesync.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgesync.engine.edge.SyncPolicy;
import io.edgesync.protocol.Clock;
import io.edgesync.protocol.Transport;
import java.net.URI;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Regression test for a bug the deterministic simulator found: the agent ran the engine's timers
 * (reconnect backoff, connect, handshake and heartbeat timeouts, batch age) on the wall clock, so a
 * wall clock stepped back by an hour (NTP, an operator, a bad RTC) stalled reconnects and the
 * detection of dead connections for that hour.
 */
class EdgeAgentClockStepTest {
  @TempDir Path dir;

  @Test
  void wallClockSteppedBackAnHour_reconnectAttemptsGoOn() throws Exception {
    AtomicLong stepMs = new AtomicLong();
    Clock steppable = () -> System.currentTimeMillis() + stepMs.get();
    AtomicInteger attempts = new AtomicInteger();
    Transport refusing =
        listener -> {
          attempts.incrementAndGet();
          listener.onClosed(
              new Transport.Connection() {
                @Override
                public void send(byte[] frame) {}

                @Override
                public void close(String reason) {}
              },
              "connection refused");
        };
    SyncPolicy fastBackoff =
        SyncPolicy.defaults("gw-1").withLiveness(15_000, 45_000, 10_000, 10_000, 20, 40);
    AgentConfig config =
        AgentConfig.simple("gw-1", URI.create("ws://127.0.0.1:9/v1/sync"), dir)
            .withSync(fastBackoff);

    try (EdgeAgent agent = EdgeAgent.open(config, refusing, steppable, new SplittableRandom(1))) {
      awaitAtLeast(attempts::get, 3);
      stepMs.set(-3_600_000);
      int atStep = attempts.get();

      // Backoff is 20..40 ms: within two seconds there are dozens of attempts, not an hour's wait.
      awaitAtLeast(attempts::get, atStep + 5);
      assertThat(attempts.get()).isGreaterThanOrEqualTo(atStep + 5);
    }
  }

  private static void awaitAtLeast(IntSupplier value, int target) throws InterruptedException {
    long deadline = System.nanoTime() + 2_000_000_000L;
    while (value.getAsInt() < target && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
  }
}
