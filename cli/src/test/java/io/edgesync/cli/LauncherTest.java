package io.edgesync.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The repository's launcher {@code ./edgesync} composes the JVM's command line: the options of
 * {@code deploy/jvm/agent.options} for {@code agent}, of {@code server.options} for {@code server},
 * {@code EDGESYNC_JAVA_OPTS} after them, and for the agent {@code MALLOC_ARENA_MAX} and the
 * class-data-sharing archive. The launcher runs for real (bash) in a copy of the repository's
 * layout whose {@code java} on {@code PATH} is a script that prints its arguments and environment:
 * the launcher's job is the command line, and the real JVM's reading of it is the footprint
 * bench's.
 */
class LauncherTest {
  private static final Path REPO = Path.of("..").toAbsolutePath().normalize();

  @TempDir Path root;
  private Path jar;

  @BeforeEach
  void layout() throws IOException {
    Assumptions.assumeTrue(
        Files.isExecutable(Path.of("/bin/bash")),
        () -> {
          System.err.println("LauncherTest skipped: no /bin/bash (apt-get install bash)");
          return "no bash";
        });
    Files.copy(REPO.resolve("edgesync"), root.resolve("edgesync"));
    Files.createDirectories(root.resolve("deploy/jvm"));
    for (String role : List.of("agent", "server")) {
      Files.copy(
          REPO.resolve("deploy/jvm/" + role + ".options"),
          root.resolve("deploy/jvm/" + role + ".options"));
    }
    jar = Files.createDirectories(root.resolve("cli/target")).resolve("edgesync.jar");
    Files.writeString(jar, "not a jar: the fake java never opens it");
    Path bin = Files.createDirectories(root.resolve("bin"));
    Path java = bin.resolve("java");
    Files.writeString(
        java,
        "#!/bin/bash\n"
            + "echo \"MALLOC_ARENA_MAX=${MALLOC_ARENA_MAX:-}\"\n"
            + "for a in \"$@\"; do echo \"ARG $a\"; done\n");
    Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
  }

  @Test
  void agent_getsTheOptionsOfAgentOptions_inOrder_thenEdgesyncJavaOpts_thenTheJar()
      throws Exception {
    List<String> fileOptions = options(root.resolve("deploy/jvm/agent.options"));
    assertThat(fileOptions).as("the repository's agent.options").contains("-Xmx48m");

    Run r = run(Map.of("EDGESYNC_JAVA_OPTS", "-Xmx64m -Dfrom.env=1"), "agent", "--help");

    assertThat(r.args())
        .containsSubsequence(fileOptions)
        .endsWith("-Xmx64m", "-Dfrom.env=1", "-jar", jar.toString(), "agent", "--help");
    assertThat(r.args().subList(0, fileOptions.size())).isEqualTo(fileOptions);
    assertThat(r.env()).isEqualTo("MALLOC_ARENA_MAX=2");
    assertThat(r.args()).noneMatch(a -> a.contains("Archive")); // no archive trained on --help
  }

  @Test
  void server_getsTheOptionsOfServerOptions_andNotTheAgents() throws Exception {
    List<String> fileOptions = options(root.resolve("deploy/jvm/server.options"));
    assertThat(fileOptions).isNotEmpty();

    Run r = run(Map.of(), "server", "--config", "server.yaml");

    assertThat(r.args())
        .containsExactlyElementsOf(
            concat(fileOptions, "-jar", jar.toString(), "server", "--config", "server.yaml"));
    assertThat(r.env()).isEqualTo("MALLOC_ARENA_MAX=");
  }

  @Test
  void otherSubcommands_getOnlyEdgesyncJavaOpts() throws Exception {
    Run r = run(Map.of("EDGESYNC_JAVA_OPTS", "-Xmx32m"), "status", "--agent", "x");

    assertThat(r.args())
        .containsExactly("-Xmx32m", "-jar", jar.toString(), "status", "--agent", "x");
  }

  @Test
  void optionsFile_commentsAndBlankLinesSkipped_optionsTrimmed_oneArgumentPerLine()
      throws Exception {
    Files.writeString(
        root.resolve("deploy/jvm/agent.options"),
        "# a comment\n\n   \n  -Xmx40m  \n\t# indented comment\n-Dedgesync.note=a b\n-Xss256k");

    Run r = run(Map.of("EDGESYNC_CDS_ARCHIVE", "off"), "agent", "--config", "a.yaml");

    assertThat(r.args())
        .containsExactly(
            "-Xmx40m",
            "-Dedgesync.note=a b",
            "-Xss256k",
            "-jar",
            jar.toString(),
            "agent",
            "--config",
            "a.yaml");
  }

  @Test
  void agent_trainsAClassDataArchiveOnItsFirstRun_andMapsItAfterwards() throws Exception {
    Path archive = root.resolve("cli/target/edgesync-agent.jsa");

    Run first = run(Map.of(), "agent", "--config", "a.yaml");
    assertThat(first.args()).contains("-XX:ArchiveClassesAtExit=" + archive);

    Files.writeString(archive, "an archive the JVM wrote at the first run's exit");
    Run second = run(Map.of(), "agent", "--config", "a.yaml");
    assertThat(second.args())
        .contains("-XX:SharedArchiveFile=" + archive)
        .noneMatch(a -> a.startsWith("-XX:ArchiveClassesAtExit"));

    // A rebuilt jar makes the archive stale: it is trained again.
    Files.setLastModifiedTime(
        jar, FileTime.fromMillis(Files.getLastModifiedTime(archive).toMillis() + 5_000));
    Run third = run(Map.of(), "agent", "--config", "a.yaml");
    assertThat(third.args()).contains("-XX:ArchiveClassesAtExit=" + archive);
    assertThat(archive).doesNotExist();

    // An agent of the old jar that stops after the rebuild writes its archive later than the
    // new jar: a date comparison would take it; it belongs to another jar, so it is trained again.
    Files.writeString(root.resolve("cli/target/edgesync-agent.jsa.jar"), "an older jar's stamp\n");
    Files.writeString(archive, "the old jar's classes, written at its agent's exit");
    Files.setLastModifiedTime(
        archive, FileTime.fromMillis(Files.getLastModifiedTime(jar).toMillis() + 5_000));
    Run fourth = run(Map.of(), "agent", "--config", "a.yaml");
    assertThat(fourth.args()).contains("-XX:ArchiveClassesAtExit=" + archive);
    assertThat(archive).doesNotExist();
  }

  @Test
  void unreadableOptionsFile_stopsWithAMessageNamingIt() throws Exception {
    Files.delete(root.resolve("deploy/jvm/server.options"));

    Run r = run(Map.of(), "server");

    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.args()).isEmpty();
    assertThat(r.stderr()).contains("deploy/jvm/server.options");
  }

  private record Run(int exit, String env, List<String> args, String stderr) {}

  private Run run(Map<String, String> env, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("/bin/bash", root.resolve("edgesync").toString()));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(root.toFile());
    pb.environment().remove("EDGESYNC_JAVA_OPTS");
    pb.environment().remove("EDGESYNC_CDS_ARCHIVE");
    pb.environment().remove("MALLOC_ARENA_MAX");
    pb.environment().put("PATH", root.resolve("bin") + ":" + System.getenv("PATH"));
    pb.environment().putAll(env);
    Path err = root.resolve("stderr.txt");
    Process p = pb.redirectError(err.toFile()).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    String envLine = "";
    List<String> argv = new ArrayList<>();
    for (String line : out.split("\n")) {
      if (line.startsWith("MALLOC_ARENA_MAX=")) {
        envLine = line;
      } else if (line.startsWith("ARG ")) {
        argv.add(line.substring(4));
      }
    }
    return new Run(p.exitValue(), envLine, argv, Files.readString(err));
  }

  /** The options of an options file as the launcher should pass them. */
  private static List<String> options(Path file) throws IOException {
    List<String> out = new ArrayList<>();
    for (String line : Files.readAllLines(file)) {
      String t = line.strip();
      if (!t.isEmpty() && !t.startsWith("#")) {
        out.add(t);
      }
    }
    return out;
  }

  private static List<String> concat(List<String> a, String... b) {
    List<String> out = new ArrayList<>(a);
    out.addAll(List.of(b));
    return out;
  }
}
