package io.edgesync.dist;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The packages installed by dpkg into a temporary root ({@code dpkg --root}), as apt would on a
 * device: dpkg's own database, its dependency checks and ordering, conffiles, and the maintainer
 * scripts run with {@code DPKG_ROOT} set ({@code --force-script-chrootless}), which they honour.
 *
 * <p>The root's dpkg database starts with two stub entries standing for what Debian provides and
 * the packages depend on: {@code openjdk-17-jre-headless} (which provides {@code
 * java17-runtime-headless}) and {@code adduser}. dpkg then checks every Depends line for real: a
 * package whose dependencies are not met is left unconfigured, and dpkg exits 1.
 */
final class InstalledRoot {
  private static final String STUBS =
      """
      Package: openjdk-17-jre-headless
      Status: install ok installed
      Priority: optional
      Section: java
      Maintainer: stub
      Architecture: all
      Version: 17.0.15+6-1~deb12u1
      Provides: java17-runtime-headless
      Description: stub of the Java runtime for the package test

      Package: adduser
      Status: install ok installed
      Priority: important
      Section: admin
      Maintainer: stub
      Architecture: all
      Version: 3.134
      Description: stub of adduser for the package test

      """;

  final Path root;

  private InstalledRoot(Path root) {
    this.root = root;
  }

  /**
   * An empty root with a dpkg database holding only the stubs. Skips the test (with a notice) when
   * not run as root: dpkg unpacks without root (--force-not-root), but the postinst must chown the
   * state directories to the service user, which only root may.
   */
  static InstalledRoot empty(Path root) throws IOException {
    boolean isRoot =
        Integer.valueOf(0).equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
    if (!isRoot) {
      System.err.println(
          "notice: installing into a temporary root skipped: it needs root (the postinst chowns"
              + " the state directories to the user edgesync)");
    }
    org.junit.jupiter.api.Assumptions.assumeTrue(isRoot, "installing needs root");
    // Into another root (DPKG_ROOT) the postinst makes the user with systemd-sysusers --root.
    boolean sysusers = Sh.onPath("systemd-sysusers");
    if (!sysusers) {
      System.err.println(
          "notice: installing into a temporary root skipped: no systemd-sysusers (apt-get install"
              + " systemd), which the postinst needs to make the user edgesync in that root");
    }
    org.junit.jupiter.api.Assumptions.assumeTrue(sysusers, "installing needs systemd-sysusers");
    Files.createDirectories(root.resolve("var/lib/dpkg/info"));
    Files.createDirectories(root.resolve("var/lib/dpkg/updates"));
    Files.createDirectories(root.resolve("etc"));
    Files.writeString(root.resolve("var/lib/dpkg/status"), STUBS);
    for (String stub : List.of("openjdk-17-jre-headless", "adduser")) {
      Files.createFile(root.resolve("var/lib/dpkg/info/" + stub + ".list")); // no files
    }
    return new InstalledRoot(root);
  }

  /** {@code dpkg ... <args>} on this root. */
  Sh.Result dpkg(String... args) {
    List<String> cmd = new ArrayList<>();
    cmd.add("dpkg");
    cmd.add("--root=" + root);
    cmd.add("--force-script-chrootless");
    cmd.add("--force-not-root");
    cmd.add("--log=/dev/null");
    cmd.addAll(List.of(args));
    return Sh.run(Map.of(), cmd);
  }

  /** {@code absolute} (a path as installed, "/etc/...") inside this root. */
  Path path(String absolute) {
    return root.resolve(absolute.substring(1));
  }

  /** The uid and gid of {@code user} in this root's /etc/passwd, or null. */
  int[] userIds(String user) throws IOException {
    Path passwd = path("/etc/passwd");
    if (!Files.exists(passwd)) {
      return null;
    }
    for (String line : Files.readAllLines(passwd)) {
      String[] f = line.split(":");
      if (f[0].equals(user)) {
        return new int[] {Integer.parseInt(f[2]), Integer.parseInt(f[3])};
      }
    }
    return null;
  }

  /**
   * Replaces each key of {@code replacements} in the installed file {@code absolute}, asserting it
   * is there: the shipped file must hold what the test rewrites.
   */
  void rewrite(String absolute, Map<String, String> replacements) throws IOException {
    Path file = path(absolute);
    String text = Files.readString(file);
    for (Map.Entry<String, String> r : replacements.entrySet()) {
      assertThat(text).as("shipped %s", absolute).contains(r.getKey());
      text = text.replace(r.getKey(), r.getValue());
    }
    Files.writeString(file, text);
  }

  /** The value of {@code key} in the installed unit's file (its first line setting it). */
  String unitSetting(String unit, String key) throws IOException {
    return Files.readAllLines(path("/usr/lib/systemd/system/" + unit)).stream()
        .filter(l -> l.startsWith(key + "="))
        .map(l -> l.substring(key.length() + 1).trim())
        .findFirst()
        .orElseThrow(() -> new AssertionError(unit + " sets no " + key));
  }

  /** The installed unit's ExecStart, with each absolute path taken inside this root. */
  List<String> execStart(String unit) throws IOException {
    List<String> cmd = new ArrayList<>();
    for (String word : unitSetting(unit, "ExecStart").split("\\s+")) {
      cmd.add(word.startsWith("/") ? path(word).toString() : word);
    }
    return cmd;
  }

  /** The options of an installed JVM options file: its lines without comments and blanks. */
  List<String> jvmOptions(String absolute) throws IOException {
    return Files.readAllLines(path(absolute)).stream()
        .map(String::strip)
        .filter(l -> !l.isEmpty() && !l.startsWith("#"))
        .toList();
  }
}
