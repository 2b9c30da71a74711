package io.edgesync.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgesync.cli.Main;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CliTest {
  @TempDir Path dir;

  @Test
  void agentWithInvalidConfig_exitsWithAnErrorNamingTheKey() throws Exception {
    Path config = dir.resolve("agent.yaml");
    Files.writeString(config, "device: {id: gw-1}\nsync:\n  offline:\n    queue_max_size: lots\n");
    PrintStream originalErr = System.err;
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code;
    try {
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      code = Main.run("agent", "--config", config.toString());
    } finally {
      System.setErr(originalErr);
    }
    assertThat(code).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains("config error at 'sync.offline.queue_max_size'")
        .contains("\"lots\" (a string)");
  }

  @Test
  void demo_shortRun_passesItsOwnCheck() {
    int code =
        Main.run(
            "demo",
            "--devices",
            "2",
            "--rate",
            "300",
            "--seconds",
            "4",
            "--outage-at",
            "1",
            "--outage-seconds",
            "2");
    assertThat(code).isZero();
  }

  /**
   * The files demo end to end on a small image: a rollout through a cut link, then a delta. Its
   * summary checks each device's installed file against the published SHA-256 and exits non-zero if
   * any check fails.
   */
  @Test
  void demoFiles_smallImage_rollsOutThroughACut_andTheNextVersionAsADelta() {
    String out =
        CliRun.stdout(
            "demo", "--files", "--devices", "2", "--image-mib", "4", "--data-dir", dir.toString());

    assertThat(out)
        .contains("link CUT for 4 s in the middle of the downloads")
        .contains("link HEALED")
        .containsPattern("demo-device-01 +v1  downloading +\\d+%")
        .containsPattern(
            "demo-device-01 +[\\d.]+ MiB +[\\d.]+ KiB  v2 +yes +v1 \\(sha256 = published\\)")
        .containsPattern(
            "demo-device-02 +[\\d.]+ MiB +[\\d.]+ KiB  v2 +yes +v1 \\(sha256 = published\\)")
        .contains("PASS: every device installed v2 byte-identical")
        .doesNotContain("FAIL");
    assertThat(dir.resolve("demo-device-02/installed/firmware/gateway.img")).isRegularFile();
  }
}
