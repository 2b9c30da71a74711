package io.edgesync.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgesync.it.MaxFieldResolver;
import io.edgesync.it.TestConfigs;
import io.edgesync.server.ServerConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.reflect.RecordComponent;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;

/**
 * {@code edgesync server --config F} with each command-line override: the override changes its own
 * key and every other setting of F stays. Regression: {@code --data-dir} rebuilt the config from
 * four fields and lost F's {@code documents:} and {@code dictionaries:} sections.
 * ServerCommandConfigTest checks the same against a running server.
 */
class ServerOverridesTest {
  private static final int FILE_PORT = 18_470;
  private static final int FLAG_PORT = 18_471;

  @TempDir Path dir;

  @ParameterizedTest(name = "--port given: {0}, --data-dir given: {1}")
  @CsvSource({"false, false", "true, false", "false, true", "true, true"})
  void serverOverrides_changeOnlyTheirOwnKey_andKeepEverySettingOfTheFile(
      boolean givePort, boolean giveDataDir) throws IOException {
    Path file = TestConfigs.serverEverySection(dir, FILE_PORT, dir.resolve("data-from-file"));
    Path flagDataDir = dir.resolve("data-from-flag");
    List<String> args = new ArrayList<>(List.of("server", "--config", file.toString()));
    ServerConfig expected = ServerConfig.load(file);
    if (givePort) {
      args.addAll(List.of("--port", String.valueOf(FLAG_PORT)));
      expected = expected.withPort(FLAG_PORT);
    }
    if (giveDataDir) {
      args.addAll(List.of("--data-dir", flagDataDir.toString()));
      expected = expected.withDataDir(flagDataDir);
    }

    ServerConfig actual = serverCommand(args).effectiveConfig();

    assertThat(actual.port()).isEqualTo(givePort ? FLAG_PORT : FILE_PORT);
    assertThat(actual.dataDir())
        .isEqualTo(giveDataDir ? flagDataDir : dir.resolve("data-from-file"));
    assertThat(actual.documents().collections())
        .containsOnlyKeys("config", "firmware", "rollout", "settings", "desired", "tuning");
    assertThat(actual.documents().policy("tuning").resolver()).isInstanceOf(MaxFieldResolver.class);
    // Everything else as the file says. Two loads make two resolver instances: compared by class.
    assertThat(actual)
        .usingRecursiveComparison()
        .ignoringFieldsOfTypes(MaxFieldResolver.class)
        .isEqualTo(expected);
  }

  @Test
  void theTestConfig_setsEverySettingToANonDefaultValue() throws IOException {
    // Guards the test above: a setting the file leaves at its default would survive an override
    // that rebuilt the config from defaults, unnoticed. A new ServerConfig component fails here
    // until server-every-section.yaml sets it.
    Path file = TestConfigs.serverEverySection(dir, FILE_PORT, dir.resolve("data-from-file"));
    ServerConfig fromFile = ServerConfig.load(file);
    ServerConfig defaults = ServerConfig.defaults(Path.of("./edgesync-cloud"));
    for (RecordComponent c : ServerConfig.class.getRecordComponents()) {
      assertThat(value(c, fromFile)).as(c.getName()).isNotEqualTo(value(c, defaults));
    }
  }

  @Test
  void portOutOfRange_isAnErrorNamingTheFlag_andStartsNothing() {
    CommandLine cli = Main.commandLine();
    StringWriter err = new StringWriter();
    cli.setErr(new PrintWriter(err, true));

    int code = cli.execute("server", "--port", "70000", "--data-dir", dir.toString());

    assertThat(code).isEqualTo(2);
    assertThat(err.toString()).contains("--port must be a TCP port in 0..65535").contains("70000");
    assertThat(dir).isEmptyDirectory();
  }

  private static ServerCommand serverCommand(List<String> args) {
    CommandLine.ParseResult parsed = Main.commandLine().parseArgs(args.toArray(String[]::new));
    return (ServerCommand) parsed.subcommand().commandSpec().userObject();
  }

  private static Object value(RecordComponent c, ServerConfig config) {
    try {
      return c.getAccessor().invoke(config);
    } catch (ReflectiveOperationException e) {
      throw new AssertionError(e);
    }
  }
}
