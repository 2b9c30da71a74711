package io.edgesync.it;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgesync.protocol.Record;
import io.edgesync.server.BackupManifest;
import io.edgesync.server.ServerConfig;
import io.edgesync.server.SqliteCloudStore;
import io.edgesync.server.SyncServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code edgesync server backup|restore} on bad input: each refusal names the problem and changes
 * nothing; what a backup holds (the chunk store, keys) and leaves out (temporary files).
 */
class ServerBackupCommandTest {
  @TempDir Path dir;
  private Path cloud;
  private Path backup;

  /** A data directory a server ran on, with one record and a chunk, then a backup of it. */
  @BeforeEach
  void serverDataAndABackup() throws Exception {
    cloud = dir.resolve("cloud");
    backup = dir.resolve("backup");
    try (SyncServer server = SyncServer.start(Testbed.serverConfig(dir, 0))) {
      server.store().registerDevice("d", 1);
      server.store().commitRecords("d", "s", List.of(new Record(1, 1, "{}".getBytes(UTF_8))), 1);
    }
    Path chunk = cloud.resolve("files/chunks/ab/ab" + "0".repeat(62));
    Files.createDirectories(chunk.getParent());
    Files.writeString(chunk, "chunk");
    Files.writeString(chunk.resolveSibling(".tmp-123.chunk"), "half");
    Files.createDirectories(cloud.resolve("files/staging/x"));
    Files.writeString(cloud.resolve("files/staging/x/part"), "staged");
    CliRun.stdout("server", "backup", "--data-dir", cloud.toString(), "--to", backup.toString());
  }

  @Test
  void backup_holdsTheDatabaseKeysAndChunks_notTemporaryFiles() throws Exception {
    List<String> paths =
        BackupManifest.read(backup).files().stream().map(BackupManifest.FileEntry::path).toList();
    assertThat(paths)
        .contains(
            SyncServer.STORE_FILE,
            "admin.key",
            "audit-signing.key",
            "audit-signing.pub",
            "files/chunks/ab/ab" + "0".repeat(62))
        .noneMatch(p -> p.contains(".tmp-") || p.contains("staging") || p.endsWith("-wal"))
        .doesNotContain("server.lock");
    assertThat(BackupManifest.read(backup).batches()).isEqualTo(1);
  }

  @Test
  void backup_refusesATargetThatIsNotEmpty_andADirectoryWithoutAStore() throws Exception {
    assertThat(
            CliRun.exit(
                2, "server", "backup", "--data-dir", cloud.toString(), "--to", backup.toString()))
        .contains(backup + " exists and is not empty");
    assertThat(
            CliRun.exit(
                2,
                "server",
                "backup",
                "--data-dir",
                dir.resolve("nothing").toString(),
                "--to",
                dir.resolve("b2").toString()))
        .contains("is not a server's data directory");
    assertThat(dir.resolve("b2")).doesNotExist();
    assertThat(
            CliRun.exit(
                2,
                "server",
                "backup",
                "--data-dir",
                cloud.toString(),
                "--to",
                cloud.resolve("inside").toString()))
        .contains("must be apart");
    assertThat(cloud.resolve("inside")).doesNotExist();
  }

  @Test
  void restore_refusesANonEmptyTarget_withForceMovesItsContentsAside() throws Exception {
    Path target = dir.resolve("target");
    Files.createDirectories(target);
    Files.writeString(target.resolve("precious"), "x");

    assertThat(restore(2, target)).contains(target + " is not empty").contains("--force");
    assertThat(Files.readString(target.resolve("precious"))).isEqualTo("x");
    try (Stream<Path> s = Files.list(target)) {
      assertThat(s).hasSize(1); // refused: not even a lock file was left
    }

    String out = restore(0, target, "--force");
    assertThat(out).contains("previous contents are in");
    try (Stream<Path> s = Files.list(dir)) {
      Path aside =
          s.filter(p -> p.getFileName().toString().startsWith("target.replaced-"))
              .findFirst()
              .orElseThrow();
      assertThat(Files.readString(aside.resolve("precious"))).isEqualTo("x");
    }
    try (SqliteCloudStore store = new SqliteCloudStore(target.resolve(SyncServer.STORE_FILE))) {
      assertThat(store.checkpoints("d")).containsEntry("s", 1L);
    }
  }

  @Test
  void restore_refusesWhileAServerRunsOnTheTarget() throws Exception {
    try (SyncServer running = SyncServer.start(Testbed.serverConfig(dir, 0))) {
      assertThat(restore(2, cloud, "--force"))
          .contains("is in use by a running edgesync server")
          .contains("stop that server first");
      assertThat(running.store().checkpoints("d")).containsEntry("s", 1L);
    }
    try (Stream<Path> s = Files.list(dir)) {
      assertThat(s.map(p -> p.getFileName().toString())).noneMatch(n -> n.contains("replaced"));
    }
  }

  @Test
  void secondServerOnTheSameDataDirectory_isRefused() {
    ServerConfig config = Testbed.serverConfig(dir, 0);
    try (SyncServer first = SyncServer.start(config)) {
      assertThatThrownBy(() -> SyncServer.start(config))
          .hasMessageContaining("is in use by a running edgesync server");
      assertThat(first.store().checkpoints("d")).containsEntry("s", 1L);
    }
  }

  @Test
  void restore_refusesADamagedOrIncompleteBackup_andWritesNothing() throws Exception {
    Path db = backup.resolve(SyncServer.STORE_FILE);
    byte[] bytes = Files.readAllBytes(db);
    bytes[bytes.length / 2] ^= 1;
    Files.write(db, bytes);
    Path target = dir.resolve("target");
    assertThat(restore(2, target))
        .contains("is damaged: " + SyncServer.STORE_FILE + " does not match its manifest");
    assertThat(target).doesNotExist();

    Files.delete(backup.resolve("audit-signing.pub"));
    assertThat(restore(2, target)).contains("is incomplete");
    Files.delete(backup.resolve(BackupManifest.FILE_NAME));
    assertThat(restore(2, target)).contains("is not an edgesync backup");
    assertThat(target).doesNotExist();
  }

  @Test
  void restore_ofABackupThisBuildCannotOpen_leavesTheTargetUntouched() throws Exception {
    Path db = backup.resolve(SyncServer.STORE_FILE);
    try (java.sql.Connection c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + db);
        java.sql.Statement st = c.createStatement()) {
      st.execute("PRAGMA user_version=999"); // as if written by a newer edgesync
    }
    rewriteManifestEntry(SyncServer.STORE_FILE, db);
    Path target = dir.resolve("target");

    assertThat(restore(2, target)).contains("newer than this build supports");

    assertThat(target).doesNotExist();
    try (Stream<Path> s = Files.list(dir)) {
      assertThat(s.map(p -> p.getFileName().toString())).noneMatch(n -> n.contains("restoring"));
    }
  }

  /** Puts {@code file}'s current size and SHA-256 into the backup manifest's entry {@code path}. */
  private void rewriteManifestEntry(String path, Path file) throws Exception {
    com.fasterxml.jackson.databind.ObjectMapper json =
        new com.fasterxml.jackson.databind.ObjectMapper();
    Path manifest = backup.resolve(BackupManifest.FILE_NAME);
    com.fasterxml.jackson.databind.JsonNode root = json.readTree(manifest.toFile());
    for (com.fasterxml.jackson.databind.JsonNode f : root.get("files")) {
      if (f.get("path").asText().equals(path)) {
        byte[] bytes = Files.readAllBytes(file);
        ((com.fasterxml.jackson.databind.node.ObjectNode) f).put("bytes", bytes.length);
        ((com.fasterxml.jackson.databind.node.ObjectNode) f)
            .put(
                "sha256",
                java.util.HexFormat.of()
                    .formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(bytes)));
      }
    }
    json.writeValue(manifest.toFile(), root);
  }

  private String restore(int exit, Path target, String... more) {
    List<String> args =
        new java.util.ArrayList<>(
            List.of(
                "server", "restore", "--from", backup.toString(), "--data-dir", target.toString()));
    args.addAll(List.of(more));
    return CliRun.exit(exit, args.toArray(String[]::new));
  }
}
