package io.edgesync.dist;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The three packages {@code mvn -Pdist package} built (dist/target, named by the surefire
 * configuration), or a skipped test with a notice where dpkg or the packages are missing.
 */
record Debs(String version, Path common, Path agent, Path server) {

  /** The built packages; skips {@code test} (with a notice on stderr) without dpkg or them. */
  static Debs built(String test) {
    boolean dpkg = Sh.onPath("dpkg-deb") && Sh.onPath("dpkg");
    if (!dpkg) {
      System.err.println(
          "notice: " + test + " skipped: dpkg-deb or dpkg not found (Debian package dpkg)");
    }
    assumeTrue(dpkg, "dpkg-deb and dpkg are needed");
    Path dir = Path.of(System.getProperty("edgesync.dist.dir", "target"));
    // 0.1.0-SNAPSHOT is packaged as 0.1.0~SNAPSHOT (dist/build-debs.sh)
    String version = System.getProperty("edgesync.version", "0.1.0-SNAPSHOT").replace('-', '~');
    Debs debs =
        new Debs(
            version,
            dir.resolve("edgesync_" + version + "_all.deb"),
            dir.resolve("edgesync-agent_" + version + "_all.deb"),
            dir.resolve("edgesync-server_" + version + "_all.deb"));
    boolean present = debs.all().stream().allMatch(Files::exists);
    if (!present) {
      System.err.println(
          "notice: " + test + " skipped: no packages in " + dir + " (mvn -Pdist package)");
    }
    assumeTrue(present, "the packages are built");
    return debs;
  }

  List<Path> all() {
    return List.of(common, agent, server);
  }

  /** The arguments that install all three. */
  String[] installAll() {
    return new String[] {"--install", common.toString(), agent.toString(), server.toString()};
  }
}
