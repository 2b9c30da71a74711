package io.edgesync.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;

/**
 * Every command of the real command tree answers {@code --help} and {@code -h} with its usage and
 * exit code 0. The commands are found by walking the tree, so a command added later without help
 * options fails here. Regression: {@code edgesync server --help} and {@code edgesync status --help}
 * failed with "Unknown option".
 */
class HelpOptionTest {
  @ParameterizedTest(name = "edgesync {0} {1}")
  @MethodSource("everyCommandAndHelpFlag")
  void everyCommand_answersHelpWithItsUsage_andExitCode0(String path, String flag) {
    CommandLine cli = Main.commandLine();
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    List<String> args = new ArrayList<>(List.of(path.split(" ")));
    args.removeIf(String::isEmpty);
    args.add(flag);

    int code = cli.execute(args.toArray(String[]::new));

    assertThat(err.toString()).as("stderr").isEmpty();
    assertThat(code).as("exit code").isZero();
    String fullName = ("edgesync " + path).trim();
    String usage = out.toString();
    assertThat(usage).as("usage").contains("Usage: " + fullName);
    assertThat(oneLine(usage)).as("usage, lines joined").contains(description(cli, path));
  }

  @Test
  void theWalk_findsEveryCommand() {
    // Guards the test above against a walk that finds nothing (it would pass vacuously).
    assertThat(commandPaths(Main.commandLine(), ""))
        .contains(
            "",
            "server",
            "agent",
            "demo",
            "status",
            "conflicts",
            "conflicts list",
            "conflicts show",
            "conflicts resolve",
            "help");
  }

  static Stream<Arguments> everyCommandAndHelpFlag() {
    return commandPaths(Main.commandLine(), "").stream()
        .flatMap(p -> Stream.of(Arguments.of(p, "--help"), Arguments.of(p, "-h")));
  }

  /** Space-separated paths of the command and all its subcommands, aliases counted once. */
  private static List<String> commandPaths(CommandLine cli, String path) {
    List<String> out = new ArrayList<>(List.of(path));
    Map<CommandLine, Boolean> seen = new IdentityHashMap<>();
    for (CommandLine sub : cli.getSubcommands().values()) {
      if (seen.put(sub, true) == null) {
        out.addAll(commandPaths(sub, (path + " " + sub.getCommandName()).trim()));
      }
    }
    return out;
  }

  private static String oneLine(String text) {
    return text.replaceAll("\\s+", " ").trim();
  }

  /** The first line of the command's description (lines joined), which its usage must show. */
  private static String description(CommandLine root, String path) {
    CommandLine c = root;
    for (String name : path.split(" ")) {
      if (!name.isEmpty()) {
        c = c.getSubcommands().get(name);
      }
    }
    String[] d = c.getCommandSpec().usageMessage().description();
    return d.length == 0 ? "" : oneLine(String.format(d[0]));
  }
}
