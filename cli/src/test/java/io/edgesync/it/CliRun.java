package io.edgesync.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgesync.cli.Main;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/** Runs the real CLI in this JVM, as a user would type it, and returns what it printed. */
final class CliRun {
  private CliRun() {}

  /** Runs {@code args}, asserts exit code 0, returns what it printed on standard output. */
  static String stdout(String... args) {
    return run(0, false, args);
  }

  /** Runs {@code args}, asserts {@code expectedExit}, returns what it printed (out and err). */
  static String exit(int expectedExit, String... args) {
    return run(expectedExit, true, args);
  }

  private static String run(int expectedExit, boolean withErr, String... args) {
    PrintStream savedOut = System.out;
    PrintStream savedErr = System.err;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int code;
    try {
      PrintStream p = new PrintStream(out, true, StandardCharsets.UTF_8);
      System.setOut(p);
      if (withErr) {
        System.setErr(p);
      }
      code = Main.run(args);
    } finally {
      System.setOut(savedOut);
      System.setErr(savedErr);
    }
    String printed = out.toString(StandardCharsets.UTF_8);
    assertThat(code)
        .as("exit code of %s: %s", String.join(" ", args), printed)
        .isEqualTo(expectedExit);
    return printed;
  }
}
