package io.edgesync.cli;

import java.util.concurrent.Callable;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code edgesync completion bash}: prints a completion script for the whole command tree
 * (picocli's {@link AutoComplete}), generated from the commands as they are, so it never lags
 * behind them. The script works in bash and in zsh (after {@code autoload -U bashcompinit &&
 * bashcompinit}).
 */
@Command(
    name = "completion",
    description = {
      "Print a shell completion script: source <(edgesync completion bash)",
      "(zsh: autoload -U compinit bashcompinit && compinit && bashcompinit first)."
    })
final class CompletionCommand implements Callable<Integer> {
  @Spec CommandLine.Model.CommandSpec spec;

  @Parameters(
      index = "0",
      arity = "0..1",
      defaultValue = "bash",
      description = "The shell: bash (also read by zsh's bashcompinit); default: ${DEFAULT-VALUE}")
  String shell;

  @Override
  public Integer call() {
    if (!shell.equals("bash") && !shell.equals("zsh")) {
      System.err.println(
          "edgesync: no completion for shell '" + shell + "'; bash and zsh have one");
      return 2;
    }
    CommandLine root = spec.root().commandLine();
    System.out.print(AutoComplete.bash(root.getCommandName(), root));
    return 0;
  }
}
