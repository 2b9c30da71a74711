package io.edgesync.dist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Starts what the packages installed into an {@link InstalledRoot} as systemd would start it: the
 * unit's ExecStart in its WorkingDirectory (as this user, without systemd's sandbox), with the
 * test's own Java runtime as JAVA_HOME.
 */
final class Services {
  private static final Duration START_TIMEOUT = Duration.ofSeconds(90);

  private Services() {}

  /** Runs the unit's ExecStart from the root; its output goes to {@code log}. */
  static Process start(InstalledRoot r, String unit, Path log) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(r.execStart(unit)).redirectErrorStream(true);
    pb.redirectOutput(log.toFile());
    pb.directory(r.path(r.unitSetting(unit, "WorkingDirectory")).toFile());
    pb.environment().putAll(env());
    pb.environment().remove("EDGESYNC_JAVA_OPTS");
    return pb.start();
  }

  /**
   * Runs the installed command {@code edgesync <args>} to its end; with the JIT's first tier only
   * (through EDGESYNC_JAVA_OPTS, which the launcher reads), as these commands are short.
   */
  static String cli(InstalledRoot r, String... args) {
    List<String> cmd = new java.util.ArrayList<>();
    cmd.add(r.path("/usr/bin/edgesync").toString());
    cmd.addAll(List.of(args));
    Map<String, String> env = new java.util.HashMap<>(env());
    env.put("EDGESYNC_JAVA_OPTS", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xshare:auto");
    return Sh.run(env, cmd).ok();
  }

  private static Map<String, String> env() {
    return Map.of("JAVA_HOME", System.getProperty("java.home"));
  }

  /** Waits until GET {@code url} answers 200; fails at once, with its log, if {@code p} died. */
  static void awaitUp(HttpClient http, String url, Process p, Path log) {
    await()
        .atMost(START_TIMEOUT)
        .pollInterval(Duration.ofMillis(200))
        .failFast(() -> assertThat(p.isAlive()).as("running; its log:%n%s", readLog(log)).isTrue())
        .until(() -> status(http, url) == 200);
  }

  private static String readLog(Path log) {
    try {
      return Files.readString(log);
    } catch (IOException e) {
      return "(cannot read " + log + ": " + e + ")";
    }
  }

  private static int status(HttpClient http, String url) {
    try {
      return http.send(
              HttpRequest.newBuilder(URI.create(url)).GET().build(),
              HttpResponse.BodyHandlers.discarding())
          .statusCode();
    } catch (IOException e) {
      return -1; // not listening yet
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  /** GET with an API key; fails unless 200. */
  static String get(HttpClient http, String url, String key) throws Exception {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(URI.create(url))
                .header("Authorization", "Bearer " + key)
                .GET()
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return r.body();
  }

  /** POST a body without a key; the reply. */
  static HttpResponse<String> post(HttpClient http, String url, String body) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(url))
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** The running JVM's arguments: the launcher exec'd java, so the process is the JVM. */
  static List<String> jvmArguments(Process p) {
    return List.of(p.toHandle().info().arguments().orElse(new String[0]));
  }

  /** SIGTERM, as systemctl stop sends; the JVM ends with 143, the unit's SuccessExitStatus. */
  static void assertStopsCleanly(Process p, String name) throws InterruptedException {
    p.destroy();
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).as(name + " stops within 30 s of SIGTERM").isTrue();
    assertThat(p.exitValue()).as(name + " exit code after SIGTERM").isEqualTo(143);
  }

  static void kill(Process p) {
    if (p != null && p.isAlive()) {
      p.destroyForcibly();
    }
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
