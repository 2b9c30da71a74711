package io.edgesync.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** What the MQTT bench reports about the agent besides the load's own figures. */
class MqttAgentTest {
  @Test
  void gcPauses_countsEveryPauseLine_andItsLongest() {
    List<String> log =
        List.of(
            "[0.011s][info][gc] Using Serial",
            "[1.204s][info][gc] GC(0) Pause Young (Allocation Failure) 13M->4M(47M) 3.125ms",
            "[2.810s][info][gc] GC(1) Pause Full (System.gc()) 20M->6M(48M) 21.500ms",
            "[3.001s][info][gc] GC(2) Pause Young (Allocation Failure) 14M->5M(48M) 0.375ms");
    assertThat(MqttAgent.gcPauses(log)).isEqualTo("GC: 3 pauses, max 21.5 ms, total 25.0 ms");
  }
}
