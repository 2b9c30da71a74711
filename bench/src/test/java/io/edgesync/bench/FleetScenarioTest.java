package io.edgesync.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A short run of the fleet runner (the full figures: {@code java -jar
 * bench/target/edgesync-bench.jar fleet}, docs/benchmarks.md "Fleet (issue 14)"): 50 light devices
 * over real sockets against a server in its own JVM, which is killed and started again. Every batch
 * is acknowledged, every device gets the fan-out document and is caught up after the restart, so
 * the runner cannot pass by measuring nothing.
 */
class FleetScenarioTest {
  @TempDir Path dir;

  @Test
  void fiftyDevices_everyBatchAcked_everyDeviceGetsTheDocument_andCatchesUpAfterRestart()
      throws Exception {
    FleetScenario.Result r =
        FleetScenario.run(
            dir,
            new Opts(
                new String[] {
                  "--devices=50",
                  "--tls=false",
                  "--steady-seconds=2",
                  "--batch-every=0.5",
                  "--idle-seconds=0.5",
                  "--server-heap=256m",
                  "--server-jvm-opts=-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
                  "--fleet-timeout=30"
                },
                0));

    assertThat(r.connectSeconds()).as("all welcomed").isNotNegative();
    assertThat(r.errors()).as("protocol errors, first: " + r.firstError()).isZero();
    assertThat(r.batchesSent()).as("about 4 batches per device").isGreaterThan(100);
    assertThat(r.ackLatency().count()).as("every batch acked").isEqualTo(r.batchesSent());
    assertThat(r.fanout().reached()).isEqualTo(50);
    assertThat(r.fanout().latency().count()).isEqualTo(50);
    assertThat(r.restart().reached()).as("caught up after the restart").isEqualTo(50);
    assertThat(r.restart().seconds()).isPositive();
    assertThat(r.idleMemory().rss()).as("the server's RSS read from /proc").isPositive();
    assertThat(r.idleMemory().heapUsed()).isPositive();
  }
}
