package io.edgesync.cli;

import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code edgesync} command. Its standard help options ({@code -h/--help}, {@code -V/--version})
 * are inherited by every subcommand, including ones added later.
 */
@Command(
    name = "edgesync",
    mixinStandardHelpOptions = true,
    scope = CommandLine.ScopeType.INHERIT,
    version = "edgesync 0.1.0",
    description = "Keeps data in step between edge devices and the cloud, through outages.",
    subcommands = {
      ServerCommand.class,
      AgentCommand.class,
      DemoCommand.class,
      StatusCommand.class,
      ConflictsCommand.class,
      KeysCommand.class,
      EnrollCommand.class,
      CaCommand.class,
      AuditCommand.class,
      ReleaseKeyCommand.class,
      FilesCommand.class,
      RolloutCommand.class,
      UploadsCommand.class,
      SyncLogCommand.class,
      SyncCommand.class,
      CompletionCommand.class,
      CommandLine.HelpCommand.class
    })
public final class Main implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs the command line and returns the exit code (for tests). */
  public static int run(String... args) {
    return commandLine().execute(args);
  }

  /** The whole command tree, as {@link #run} executes it. */
  static CommandLine commandLine() {
    CommandLine cli = new CommandLine(new Main());
    cli.setExecutionExceptionHandler(
        (e, cmd, parsed) -> {
          cmd.getErr().println("edgesync: " + e.getMessage());
          return 2;
        });
    return cli;
  }

  /**
   * Blocks until the JVM shuts down (Ctrl-C, SIGTERM), which runs {@code close} first; returns the
   * exit code 0. For the commands that run a service.
   */
  static int untilShutdown(Runnable close) throws InterruptedException {
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  close.run();
                  stopped.countDown();
                }));
    stopped.await();
    return 0;
  }

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }
}
