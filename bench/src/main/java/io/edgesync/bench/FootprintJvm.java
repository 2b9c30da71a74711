package io.edgesync.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How the footprint bench starts the agent: {@code java <options> -jar edgesync.jar agent --config
 * <yaml>}, with the options of {@code deploy/jvm/agent.options} read as the launcher {@code
 * ./edgesync} reads them (one option a line, {@code #} comments and blank lines skipped), then the
 * bench's extra options ({@code --agent-extra-opts}, last, as {@code EDGESYNC_JAVA_OPTS}), the
 * class-data-sharing archive when there is one, and {@code MALLOC_ARENA_MAX} in the environment.
 * Immutable.
 */
final class FootprintJvm {
  private final Path java;
  private final Path jar;
  private final List<String> options;
  private final Map<String, String> env;

  private FootprintJvm(Path java, Path jar, List<String> options, Map<String, String> env) {
    this.java = java;
    this.jar = jar;
    this.options = List.copyOf(options);
    this.env = Map.copyOf(env);
  }

  /** From the bench's options: the options file, extra options, NMT and the malloc arenas. */
  static FootprintJvm from(Opts o) throws IOException {
    Path file = Path.of(o.string("agent-jvm-options", "deploy/jvm/agent.options"));
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException(
          "--agent-jvm-options: no file "
              + file.toAbsolutePath()
              + " (run from the repository root)");
    }
    Path jar = Path.of(o.string("agent-jar", "cli/target/edgesync.jar"));
    if (!Files.isRegularFile(jar)) {
      throw new IllegalArgumentException(
          "--agent-jar: no file " + jar.toAbsolutePath() + " (build it: mvn -pl cli -am package)");
    }
    List<String> opts = new ArrayList<>(readOptions(file));
    String extra = o.string("agent-extra-opts", "").trim();
    if (!extra.isEmpty()) {
      opts.addAll(Arrays.asList(extra.split("\\s+")));
    }
    if (o.bool("nmt", false)) {
      opts.add("-XX:NativeMemoryTracking=summary");
    }
    Map<String, String> env = new LinkedHashMap<>();
    int arenas = o.integer("malloc-arena-max", 2);
    if (arenas > 0) {
      env.put("MALLOC_ARENA_MAX", Integer.toString(arenas));
    }
    for (String kv : o.string("agent-env", "").trim().split("\\s+")) {
      int eq = kv.indexOf('=');
      if (eq > 0) {
        env.put(kv.substring(0, eq), kv.substring(eq + 1));
      }
    }
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    return new FootprintJvm(java, jar.toAbsolutePath(), opts, env);
  }

  /** The options of a {@code deploy/jvm/*.options} file: one a line, without comments. */
  static List<String> readOptions(Path file) throws IOException {
    List<String> out = new ArrayList<>();
    for (String line : Files.readAllLines(file)) {
      String t = line.strip();
      if (!t.isEmpty() && !t.startsWith("#")) {
        out.add(t);
      }
    }
    return out;
  }

  /** The same JVM with more options after the others (a CDS archive, a training run's dump). */
  FootprintJvm with(String... more) {
    List<String> opts = new ArrayList<>(options);
    opts.addAll(List.of(more));
    return new FootprintJvm(java, jar, opts, env);
  }

  List<String> command(Path config) {
    List<String> cmd = new ArrayList<>();
    cmd.add(java.toString());
    cmd.addAll(options);
    cmd.addAll(List.of("-jar", jar.toString(), "agent", "--config", config.toString()));
    return cmd;
  }

  Map<String, String> env() {
    return env;
  }

  Path javaHome() {
    return java.getParent().getParent();
  }

  /** The command line as a shell would take it, environment first. */
  String describe(Path config) {
    StringBuilder b = new StringBuilder();
    env.forEach((k, v) -> b.append(k).append('=').append(v).append(' '));
    return b.append(String.join(" ", command(config))).toString();
  }

  List<String> options() {
    return options;
  }
}
