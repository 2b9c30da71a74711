package io.edgesync.dist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Debian packages as built by {@code mvn -Pdist package}, checked with Debian's own tools:
 * dpkg-deb lists and describes them, dpkg installs them into a temporary root (dependencies,
 * conffiles, maintainer scripts, md5sums), systemd-analyze verifies their units, and the launcher
 * and units they install start a server and an agent that sync.
 *
 * <p>Skips with a notice where dpkg-deb or the packages are missing; systemd-analyze and lintian
 * each skip their own check where absent. Runs in the integration-test phase, after the packages
 * are built.
 */
class PackagesTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static String version; // the Debian version
  private static Path common;
  private static Path agent;
  private static Path server;

  @BeforeAll
  static void packages() {
    Debs debs = Debs.built("PackagesTest");
    version = debs.version();
    common = debs.common();
    agent = debs.agent();
    server = debs.server();
  }

  @Test
  void eachPackageHoldsItsFiles_ownedByRoot_withTheirModes() {
    assertThat(contents(common))
        .containsEntry("./usr/bin/edgesync", "-rwxr-xr-x root/root")
        .containsEntry("./usr/share/edgesync/edgesync.jar", "-rw-r--r-- root/root")
        .containsEntry("./usr/lib/sysusers.d/edgesync.conf", "-rw-r--r-- root/root")
        .containsEntry("./usr/share/doc/edgesync/copyright", "-rw-r--r-- root/root")
        .containsEntry("./usr/share/doc/edgesync/changelog.gz", "-rw-r--r-- root/root");
    for (String role : List.of("agent", "server")) {
      String pkg = "edgesync-" + role;
      assertThat(contents(role.equals("agent") ? agent : server))
          .containsEntry("./usr/lib/systemd/system/" + pkg + ".service", "-rw-r--r-- root/root")
          .containsEntry("./etc/edgesync/" + role + ".yaml", "-rw-r--r-- root/root")
          .containsEntry("./etc/edgesync/" + role + ".jvm.options", "-rw-r--r-- root/root")
          .containsEntry("./usr/share/doc/" + pkg + "/copyright", "-rw-r--r-- root/root")
          .containsEntry("./usr/share/doc/" + pkg + "/changelog.gz", "-rw-r--r-- root/root");
    }
    for (Path deb : List.of(common, agent, server)) {
      assertThat(contents(deb).values())
          .as("owners in %s", deb)
          .allMatch(e -> e.endsWith("root/root"));
    }
  }

  @Test
  void noFileIsInTwoPackages_soAllThreeInstallSideBySide() {
    Map<String, Path> owner = new HashMap<>();
    for (Path deb : List.of(common, agent, server)) {
      contents(deb)
          .forEach(
              (path, modeOwner) -> {
                if (!modeOwner.startsWith("d")) {
                  Path before = owner.putIfAbsent(path, deb);
                  assertThat(before).as("%s is in %s and %s", path, before, deb).isNull();
                }
              });
    }
  }

  @Test
  void controlNamesTheVersion_aJava17Runtime_theExactCommonPackage_andTheConffiles(
      @TempDir Path tmp) throws IOException {
    for (Path deb : List.of(common, agent, server)) {
      assertThat(field(deb, "Version")).isEqualTo(version);
      assertThat(field(deb, "Architecture")).isEqualTo("all");
      assertThat(field(deb, "Maintainer")).isNotBlank();
      assertThat(field(deb, "Description")).isNotBlank();
    }
    assertThat(field(common, "Depends"))
        .contains("default-jre-headless (>= 2:1.17)")
        .contains("java17-runtime-headless");
    assertThat(field(agent, "Depends")).isEqualTo("edgesync (= " + version + ")");
    assertThat(field(server, "Depends")).isEqualTo("edgesync (= " + version + ")");
    for (String role : List.of("agent", "server")) {
      Path control = tmp.resolve(role);
      Sh.run(
              "dpkg-deb",
              "--control",
              (role.equals("agent") ? agent : server).toString(),
              control.toString())
          .ok();
      assertThat(Files.readAllLines(control.resolve("conffiles")))
          .containsExactly(
              "/etc/edgesync/" + role + ".yaml", "/etc/edgesync/" + role + ".jvm.options");
      for (String script : List.of("postinst", "prerm", "postrm")) {
        assertThat(control.resolve(script)).isExecutable();
      }
      assertThat(control.resolve("md5sums")).isNotEmptyFile();
    }
  }

  @Test
  void installIntoARoot_makesTheUser_theStateDirs_andFilesMatchingTheirMd5sums(@TempDir Path tmp)
      throws IOException {
    InstalledRoot r = InstalledRoot.empty(tmp.resolve("root"));
    r.dpkg("--install", common.toString(), agent.toString(), server.toString()).ok();

    r.dpkg("--verify").ok(); // every installed file against the packages' md5sums
    assertThat(r.dpkg("--verify").output()).isEmpty();
    int[] ids = r.userIds("edgesync");
    assertThat(ids).as("the user edgesync in the root's /etc/passwd").isNotNull();
    for (String dir :
        List.of("/var/lib/edgesync", "/var/lib/edgesync/agent", "/var/lib/edgesync/server")) {
      Path p = r.path(dir);
      assertThat(Files.getAttribute(p, "unix:uid")).as(dir + " owner").isEqualTo(ids[0]);
      assertThat(Files.getAttribute(p, "unix:gid")).as(dir + " group").isEqualTo(ids[1]);
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(p)))
          .as(dir + " mode")
          .isEqualTo("rwxr-x---");
    }
    for (String role : List.of("agent", "server")) {
      assertThat(Files.readString(r.path("/etc/edgesync/" + role + ".jvm.options")))
          .as("the installed JVM options are deploy/jvm/%s.options", role)
          .isEqualTo(Files.readString(Path.of("..", "deploy", "jvm", role + ".options")));
      assertThat(r.dpkg("--status", "edgesync-" + role).ok())
          .contains("Status: install ok installed")
          .contains(" /etc/edgesync/" + role + ".yaml ");
    }
  }

  @Test
  void theAgentPackageAloneIsRefused_itNeedsTheCommonPackageOfTheSameVersion(@TempDir Path tmp)
      throws IOException {
    InstalledRoot r = InstalledRoot.empty(tmp.resolve("root"));
    Sh.Result alone = r.dpkg("--install", agent.toString());
    assertThat(alone.exitCode()).as(alone.output()).isNotZero();
    assertThat(alone.output()).contains("edgesync-agent depends on edgesync (= " + version + ")");
  }

  @Test
  void unitFilesPassSystemdAnalyzeVerify(@TempDir Path tmp) throws IOException {
    boolean present = Sh.onPath("systemd-analyze");
    if (!present) {
      System.err.println(
          "notice: PackagesTest.unitFilesPassSystemdAnalyzeVerify skipped: systemd-analyze not"
              + " found (Debian package systemd)");
    }
    assumeTrue(present, "systemd-analyze is needed");
    InstalledRoot r = InstalledRoot.empty(tmp.resolve("root"));
    r.dpkg("--install", common.toString(), agent.toString(), server.toString()).ok();
    // verify loads the units the packages' units name (multi-user.target, network-online.target):
    // the host's, put where the root's systemd would look for them.
    copyHostUnits(r.path("/lib/systemd/system"));
    for (String unit : List.of("edgesync-agent.service", "edgesync-server.service")) {
      Sh.Result v =
          Sh.run(
              "systemd-analyze", "verify", "--root=" + r.root, "/usr/lib/systemd/system/" + unit);
      assertThat(v.exitCode()).as(v.output()).isZero();
      // Unknown keys and bad values are only warned about (exit 0): any output is a finding.
      assertThat(v.output()).as("systemd-analyze verify %s", unit).isEmpty();
    }
  }

  @Test
  void theInstalledUnitsStartServerAndAgentWithTheShippedConfigs_andTheAgentSyncs(@TempDir Path tmp)
      throws Exception {
    InstalledRoot r = InstalledRoot.empty(tmp.resolve("root"));
    r.dpkg("--install", common.toString(), agent.toString(), server.toString()).ok();
    int serverPort = Services.freePort();
    int agentPort = Services.freePort();
    String state = r.path("/var/lib/edgesync").toString();
    r.rewrite(
        "/etc/edgesync/server.yaml",
        ordered(
            "/var/lib/edgesync/server", state + "/server", "port: 8470", "port: " + serverPort));
    r.rewrite(
        "/etc/edgesync/agent.yaml",
        ordered(
            "/var/lib/edgesync/agent", state + "/agent",
            "ws://127.0.0.1:8470/", "ws://127.0.0.1:" + serverPort + "/",
            "port: 8471", "port: " + agentPort));

    Process s = Services.start(r, "edgesync-server.service", tmp.resolve("server.log"));
    Process a = null;
    try {
      HttpClient http = HttpClient.newHttpClient();
      String cloud = "http://127.0.0.1:" + serverPort;
      Services.awaitUp(http, cloud + "/api/v1/health", s, tmp.resolve("server.log"));
      assertThat(Services.jvmArguments(s))
          .containsAll(r.jvmOptions("/etc/edgesync/server.jvm.options"));
      assertThat(r.path("/var/lib/edgesync/server/edgesync-cloud.db")).exists();

      a = Services.start(r, "edgesync-agent.service", tmp.resolve("agent.log"));
      String local = "http://127.0.0.1:" + agentPort;
      Services.awaitUp(http, local + "/v1/status", a, tmp.resolve("agent.log"));
      assertThat(Services.jvmArguments(a))
          .containsAll(r.jvmOptions("/etc/edgesync/agent.jvm.options"));
      HttpResponse<String> appended =
          Services.post(http, local + "/v1/streams/sensor_data", "{\"temp\":21.5}");
      assertThat(appended.statusCode()).as(appended.body()).isEqualTo(200);
      assertThat(r.path("/var/lib/edgesync/agent/edgesync-agent.db")).exists();

      String adminKey = Files.readString(r.path("/var/lib/edgesync/server/admin.key")).trim();
      String records = cloud + "/api/v1/devices/change-me/streams/sensor_data?after=0";
      await()
          .atMost(Duration.ofSeconds(30))
          .untilAsserted(
              () -> {
                JsonNode body = JSON.readTree(Services.get(http, records, adminKey));
                assertThat(body.path("records").path(0).path("payload").path("temp").asDouble())
                    .isEqualTo(21.5);
              });
      // The agent's first run trains its class-data-sharing archive in its state directory.
      Path archive = r.path("/var/lib/edgesync/agent/edgesync-agent.jsa");
      assertThat(Services.jvmArguments(a)).contains("-XX:ArchiveClassesAtExit=" + archive);
      Services.assertStopsCleanly(a, "agent");
      assertThat(archive).isNotEmptyFile();
      Services.assertStopsCleanly(s, "server");
    } finally {
      Services.kill(a);
      Services.kill(s);
    }
  }

  @Test
  void purgeRemovesTheConffilesAndKeepsTheState(@TempDir Path tmp) throws IOException {
    InstalledRoot r = InstalledRoot.empty(tmp.resolve("root"));
    r.dpkg("--install", common.toString(), agent.toString()).ok();
    Path outbox = r.path("/var/lib/edgesync/agent/edgesync-agent.db");
    Files.writeString(outbox, "state the agent wrote");

    String purged = r.dpkg("--purge", "edgesync-agent").ok();

    assertThat(r.path("/etc/edgesync/agent.yaml")).doesNotExist();
    assertThat(r.path("/etc/edgesync/agent.jvm.options")).doesNotExist();
    assertThat(r.path("/usr/lib/systemd/system/edgesync-agent.service")).doesNotExist();
    assertThat(outbox).hasContent("state the agent wrote");
    assertThat(purged).contains("kept its state in /var/lib/edgesync/agent");
  }

  @Test
  void anUpgradeKeepsAnEditedConfigAndTheState(@TempDir Path tmp) throws IOException {
    InstalledRoot r = InstalledRoot.empty(tmp.resolve("root"));
    r.dpkg("--install", common.toString(), agent.toString()).ok();
    r.rewrite("/etc/edgesync/agent.yaml", Map.of("id: change-me", "id: gw-0042"));
    Path outbox = r.path("/var/lib/edgesync/agent/edgesync-agent.db");
    Files.writeString(outbox, "state the agent wrote");
    // the same tree as a newer version, as the next build would make it
    Path next = tmp.resolve("next");
    Sh.run(
            "bash",
            Path.of("build-debs.sh").toString(),
            Path.of("..", "cli", "target", "edgesync.jar").toString(),
            "99.0.0",
            next.toString())
        .ok();

    r.dpkg(
            "--install",
            next.resolve("edgesync_99.0.0_all.deb").toString(),
            next.resolve("edgesync-agent_99.0.0_all.deb").toString())
        .ok();

    assertThat(r.dpkg("--status", "edgesync-agent").ok()).contains("Version: 99.0.0");
    assertThat(r.path("/etc/edgesync/agent.yaml")).content().contains("id: gw-0042");
    assertThat(outbox).hasContent("state the agent wrote");
  }

  /** Lintian takes about 20 s on the jar: only with -Dedgesync.lintian=true. */
  @Test
  void lintianFindsNoErrors() {
    boolean wanted = Boolean.getBoolean("edgesync.lintian");
    boolean present = Sh.onPath("lintian");
    if (!wanted || !present) {
      System.err.println(
          "notice: PackagesTest.lintianFindsNoErrors skipped: "
              + (wanted
                  ? "lintian not found (Debian package lintian)"
                  : "run with -Dedgesync.lintian=true (it takes about 20 s)"));
    }
    assumeTrue(wanted && present, "lintian is optional");
    for (Path deb : List.of(common, agent, server)) {
      Sh.Result l = Sh.run("lintian", "--fail-on", "error", deb.toString());
      assertThat(l.exitCode()).as("lintian %s:%n%s", deb, l.output()).isZero();
    }
  }

  // ---- helpers ----

  /**
   * dpkg-deb --contents: path ("./usr/bin/edgesync") to mode and owner ("-rwxr-xr-x root/root").
   */
  private static Map<String, String> contents(Path deb) {
    Map<String, String> entries = new LinkedHashMap<>();
    for (String line : Sh.run("dpkg-deb", "--contents", deb.toString()).ok().split("\n")) {
      String[] f = line.trim().split("\\s+");
      if (f.length >= 6) {
        entries.put(f[5], f[0] + " " + f[1]);
      }
    }
    return entries;
  }

  private static String field(Path deb, String name) {
    return Sh.run("dpkg-deb", "--field", deb.toString(), name).ok().trim();
  }

  private static Map<String, String> ordered(String... pairs) {
    Map<String, String> m = new LinkedHashMap<>();
    for (int i = 0; i < pairs.length; i += 2) {
      m.put(pairs[i], pairs[i + 1]);
    }
    return m;
  }

  private static void copyHostUnits(Path target) throws IOException {
    Path host =
        Files.isDirectory(Path.of("/lib/systemd/system"))
            ? Path.of("/lib/systemd/system")
            : Path.of("/usr/lib/systemd/system");
    Files.createDirectories(target);
    Sh.run("cp", "-a", host + "/.", target.toString()).ok();
  }
}
