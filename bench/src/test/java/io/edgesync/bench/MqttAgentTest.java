package io.edgesync.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgesync.agent.AgentConfig;
import io.edgesync.agent.MqttSettings;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The agent the MQTT bench starts: its config as the agent reads it, and its GC summary. */
class MqttAgentTest {
  @Test
  void config_isReadByTheAgent_asAListenerOfBenchTopicsIntoTheStream() {
    MqttAgent.Setup setup = new MqttAgent.Setup(null, null, false, 64);
    AgentConfig c =
        AgentConfig.fromYaml(
            MqttAgent.config(setup, "/tmp/x", "ws://127.0.0.1:9/v1/sync", "18830", "18471"));
    MqttSettings m = c.mqtt();
    assertThat(m.enabled()).isTrue();
    assertThat(m.host()).isEqualTo("127.0.0.1");
    assertThat(m.port()).isEqualTo(18830);
    assertThat(m.maxInflightMessages()).isEqualTo(64);
    assertThat(m.topics()).containsExactly(new MqttSettings.Route("bench/#", "mqtt"));
    assertThat(c.localApiPort()).isEqualTo(18471);
  }

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
