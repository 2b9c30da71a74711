package io.edgesync.dist;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs an outside program to its end and keeps what it printed; for the package test. */
final class Sh {
  private Sh() {}

  /** What a program printed (stdout and stderr together) and how it ended. */
  record Result(List<String> command, int exitCode, String output) {
    /** The output, failing with the command and its output unless it exited 0. */
    String ok() {
      if (exitCode != 0) {
        throw new AssertionError(
            String.join(" ", command) + " exited " + exitCode + ":\n" + output);
      }
      return output;
    }
  }

  static Result run(String... command) {
    return run(Map.of(), List.of(command));
  }

  /** Runs {@code command} with {@code env} added to this JVM's environment; at most 2 minutes. */
  static Result run(Map<String, String> env, List<String> command) {
    try {
      Path out = Files.createTempFile("edgesync-dist-sh", ".out");
      try {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.redirectOutput(out.toFile());
        pb.environment().putAll(env);
        Process p = pb.start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
          p.destroyForcibly();
          throw new AssertionError(String.join(" ", command) + " still running after 2 minutes");
        }
        return new Result(command, p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
      } finally {
        Files.deleteIfExists(out);
      }
    } catch (IOException e) {
      throw new AssertionError("cannot run " + String.join(" ", command), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** Whether {@code program} is an executable on the PATH. */
  static boolean onPath(String program) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, program))) {
        return true;
      }
    }
    return false;
  }
}
