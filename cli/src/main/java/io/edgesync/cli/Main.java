package io.edgesync.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code edgesync} command. */
@Command(
    name = "edgesync",
    mixinStandardHelpOptions = true,
    version = "edgesync 0.1.0",
    description = "Keeps data in step between edge devices and the cloud, through outages.",
    subcommands = {
      ServerCommand.class,
      AgentCommand.class,
      DemoCommand.class,
      StatusCommand.class,
      ConflictsCommand.class,
      CommandLine.HelpCommand.class
    })
public final class Main implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs the command line and returns the exit code (for tests). */
  public static int run(String... args) {
    CommandLine cli = new CommandLine(new Main());
    cli.setExecutionExceptionHandler(
        (e, cmd, parsed) -> {
          cmd.getErr().println("edgesync: " + e.getMessage());
          return 2;
        });
    return cli.execute(args);
  }

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }
}
