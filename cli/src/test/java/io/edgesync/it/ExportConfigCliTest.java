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

/** A bad {@code export.kafka} stops {@code edgesync server} at start, naming the key. */
class ExportConfigCliTest {
  @TempDir Path dir;

  @Test
  void serverWithoutKafkaBootstrapServers_exitsNamingTheKey_andCreatesNothing() throws Exception {
    assertRefused(
        "export:\n  kafka:\n    topics: {logs: logs}\n",
        "config error at 'export.kafka.bootstrap_servers'");
  }

  @Test
  void serverMappingAStreamToAnInvalidTopic_exitsNamingTheKey_andCreatesNothing() throws Exception {
    assertRefused(
        "export:\n  kafka:\n    bootstrap_servers: 'k:9092'\n    topics: {'sensors.*': 'a b'}\n",
        "config error at 'export.kafka.topics.sensors.*': 'a b' is not a valid Kafka topic name");
  }

  private void assertRefused(String exportYaml, String message) throws Exception {
    Path data = dir.resolve("cloud");
    Path config = dir.resolve("server.yaml");
    Files.writeString(config, "server: {host: 127.0.0.1, port: 0}\n" + exportYaml);
    PrintStream originalErr = System.err;
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code;
    try {
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      code = Main.run("server", "--config", config.toString(), "--data-dir", data.toString());
    } finally {
      System.setErr(originalErr);
    }
    assertThat(code).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8)).contains(message);
    assertThat(data).doesNotExist();
  }
}
