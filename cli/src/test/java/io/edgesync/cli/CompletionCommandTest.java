package io.edgesync.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code edgesync completion bash}: a completion script that knows every command and option. */
class CompletionCommandTest {
  @Test
  void bashScript_namesEverySubcommand_andTheirSubcommandsAndOptions() {
    String script = run(0, "completion", "bash");
    assertThat(script).startsWith("#!/usr/bin/env bash").contains("complete -F _complete_edgesync");
    CommandLine root = Main.commandLine();
    assertThat(root.getSubcommands()).containsKeys("status", "synclog", "sync", "completion");
    for (Map.Entry<String, CommandLine> sub : root.getSubcommands().entrySet()) {
      assertThat(script).as("the script names " + sub.getKey()).contains(sub.getKey());
      for (String nested : sub.getValue().getSubcommands().keySet()) {
        assertThat(script).as("it names " + sub.getKey() + " " + nested).contains(nested);
      }
    }
    assertThat(script).contains("--watch").contains("--iterations").contains("--json");
  }

  @Test
  void unknownShell_isRefusedNamingTheShellsThatHaveOne() {
    assertThat(run(2, "completion", "fish"))
        .contains("no completion for shell 'fish'")
        .contains("bash");
  }

  private static String run(int expectedExit, String... args) {
    PrintStream out = System.out;
    PrintStream err = System.err;
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    int code;
    try {
      PrintStream p = new PrintStream(buf, true, StandardCharsets.UTF_8);
      System.setOut(p);
      System.setErr(p);
      code = Main.run(args);
    } finally {
      System.setOut(out);
      System.setErr(err);
    }
    String printed = buf.toString(StandardCharsets.UTF_8);
    assertThat(code).as(printed).isEqualTo(expectedExit);
    return printed;
  }
}
