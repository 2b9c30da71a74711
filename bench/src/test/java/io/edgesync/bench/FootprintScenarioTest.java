package io.edgesync.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgesync.agent.AgentConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The footprint bench starts the agent as the launcher does: the options file read the same way
 * (comments and blank lines skipped, blanks trimmed), extra options after it, then the jar; and a
 * generated config the agent reads as meant, with any extra YAML (an MQTT listener) taken in.
 */
class FootprintScenarioTest {
  @TempDir Path dir;

  @Test
  void command_isTheOptionsFileInOrder_thenTheExtraOptions_thenTheJarAndTheAgentCommand()
      throws Exception {
    Path options = dir.resolve("agent.options");
    Files.writeString(options, "# heap\n-Xmx48m\n\n  -XX:+UseSerialGC  \n\t# more\n-Xss512k\n");
    Path jar = Files.writeString(dir.resolve("edgesync.jar"), "");
    Opts o =
        new Opts(
            new String[] {
              "--agent-jvm-options=" + options,
              "--agent-jar=" + jar,
              "--agent-extra-opts=-Xmx64m -Da=b",
              "--agent-env=MALLOC_TRIM_THRESHOLD_=131072"
            },
            0);

    FootprintJvm jvm = FootprintJvm.from(o);
    List<String> cmd = jvm.command(Path.of("a.yaml"));

    assertThat(cmd.subList(1, cmd.size()))
        .containsExactly(
            "-Xmx48m",
            "-XX:+UseSerialGC",
            "-Xss512k",
            "-Xmx64m",
            "-Da=b",
            "-jar",
            jar.toAbsolutePath().toString(),
            "agent",
            "--config",
            "a.yaml");
    assertThat(jvm.env())
        .containsEntry("MALLOC_ARENA_MAX", "2")
        .containsEntry("MALLOC_TRIM_THRESHOLD_", "131072");
    assertThat(FootprintJvm.readOptions(Path.of("../deploy/jvm/agent.options")))
        .as("the repository's agent options")
        .contains("-Xmx48m")
        .noneMatch(l -> l.startsWith("#") || l.isBlank());
  }

  @Test
  void agentYaml_isReadByTheAgent_withTheExtraLines() {
    AgentConfig c =
        AgentConfig.fromYaml(
            FootprintScenario.agentYaml(
                "fp-load",
                "ws://127.0.0.1:9/v1/sync",
                18471,
                dir.resolve("edge"),
                "mqtt: {enabled: true, port: 18839, topics: [{filter: 'bench/#', stream: mqtt}]}"));

    assertThat(c.deviceId()).isEqualTo("fp-load");
    assertThat(c.localApiPort()).isEqualTo(18471);
    assertThat(c.dataDir()).isEqualTo(dir.resolve("edge").toAbsolutePath());
    assertThat(c.mqtt().enabled()).isTrue();
    assertThat(c.mqtt().port()).isEqualTo(18839);
  }
}
