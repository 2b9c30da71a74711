package io.edgesync.cli;

import io.edgesync.server.BackupManifest;
import io.edgesync.server.ServerBackup;
import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code edgesync server backup|restore}: an online backup of a server's data directory on the
 * embedded store, and its restore ({@link ServerBackup}; docs/operations.md, "Backup and restore").
 */
final class ServerBackupCommands {
  private ServerBackupCommands() {}

  @Command(
      name = "backup",
      description =
          "Back up a server's data directory while the server runs: a consistent snapshot of the"
              + " database, then the keys and file chunks, with a manifest of SHA-256 sums.")
  static final class Backup implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--data-dir", required = true, description = "The server's data directory")
    Path dataDir;

    @Option(names = "--to", required = true, description = "A new (or empty) directory")
    Path to;

    @Override
    public Integer call() throws Exception {
      BackupManifest m = ServerBackup.backup(dataDir, to, System::currentTimeMillis);
      spec.commandLine()
          .getOut()
          .printf(
              "backed up %s to %s: snapshot at %s, %d devices, %d streams, %d batches, audit"
                  + " records through %d, %d files%n",
              dataDir,
              to,
              Instant.ofEpochMilli(m.createdAtMs()),
              m.devices(),
              m.streams(),
              m.batches(),
              m.auditLastSeq(),
              m.files().size());
      spec.commandLine().getOut().flush();
      return 0;
    }
  }

  @Command(
      name = "restore",
      description =
          "Restore a backup into a data directory, after checking it (SHA-256 of every file,"
              + " PRAGMA integrity_check, the audit chain). The server on it must be stopped.")
  static final class Restore implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--from", required = true, description = "A directory `server backup` wrote")
    Path from;

    @Option(names = "--data-dir", required = true, description = "The data directory to restore")
    Path dataDir;

    @Option(
        names = "--force",
        description = "Move a non-empty data directory's contents aside (to <dir>.replaced-<ms>)")
    boolean force;

    @Override
    public Integer call() throws Exception {
      ServerBackup.Restored r =
          ServerBackup.restore(
              from, dataDir, force, KeysCommand.cliActor(), System::currentTimeMillis);
      BackupManifest m = r.manifest();
      spec.commandLine()
          .getOut()
          .printf(
              "restored %s into %s: the store as of %s (%d devices, %d streams, audit records"
                  + " through %d)%s%n"
                  + "devices resume from the restored checkpoints; what they had sent after the"
                  + " snapshot and no longer hold is reported as not_retained gaps%n",
              from,
              dataDir,
              Instant.ofEpochMilli(m.createdAtMs()),
              m.devices(),
              m.streams(),
              m.auditLastSeq(),
              r.replacedContentsDir() == null
                  ? ""
                  : "; the previous contents are in " + r.replacedContentsDir());
      spec.commandLine().getOut().flush();
      return 0;
    }
  }
}
