package io.edgesync.cli;

import io.edgesync.server.AuditFiles;
import io.edgesync.server.AuditKeys;
import io.edgesync.server.AuditVerifier;
import io.edgesync.server.ServerConfig;
import java.io.BufferedWriter;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code edgesync audit verify|export}: the server's tamper-evident audit log, offline. */
@Command(
    name = "audit",
    description = "Verify or export the cloud server's hash-chained audit log (offline).",
    subcommands = {AuditCommand.Verify.class, AuditCommand.Export.class})
final class AuditCommand implements Runnable {
  static final String CONFIG_HELP =
      "The server's YAML config: read the store its server.store names (PostgreSQL too) and the"
          + " keys in its data_dir; nothing is changed";

  @Spec CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /** Exit code 0 when the chain verified (unanchored records are reported, not an error). */
  @Command(
      name = "verify",
      description =
          "Recompute the chain and the checkpoint signatures; report the first bad record or OK"
              + " with counts. Exit code 1 on any problem.")
  static final class Verify implements Callable<Integer> {
    @Spec CommandSpec spec;

    static final class Source {
      @Option(
          names = "--data-dir",
          description = "The server's data directory (store file and audit-signing.pub)")
      Path dataDir;

      @Option(names = "--config", description = CONFIG_HELP)
      Path config;

      @Option(names = "--file", description = "An export written by `edgesync audit export`")
      Path file;
    }

    @ArgGroup(multiplicity = "1")
    Source source;

    @Option(
        names = "--public-key",
        description = "The server's audit-signing.pub (for --file; default: beside --data-dir)")
    Path publicKey;

    @Override
    public Integer call() throws Exception {
      AuditVerifier.Report r;
      if (source.dataDir != null) {
        r = AuditFiles.verifyStore(source.dataDir);
      } else if (source.config != null) {
        r = AuditFiles.verifyStore(ServerConfig.load(source.config));
      } else {
        if (publicKey == null) {
          throw new IllegalArgumentException(
              "--file needs --public-key, the server's " + AuditKeys.PUBLIC_FILE);
        }
        r =
            AuditVerifier.verifyExport(
                Files.readAllBytes(source.file), AuditKeys.readPublic(publicKey));
      }
      PrintWriter out = r.ok() ? spec.commandLine().getOut() : spec.commandLine().getErr();
      out.println(r.summary());
      out.flush();
      return r.ok() ? 0 : 1;
    }
  }

  @Command(
      name = "export",
      description =
          "Write the audit log as JSON lines with a signed end line (the format verify --file"
              + " reads).")
  static final class Export implements Callable<Integer> {
    @Spec CommandSpec spec;

    static final class Source {
      @Option(names = "--data-dir", description = "The server's data directory (SQLite store)")
      Path dataDir;

      @Option(names = "--config", description = CONFIG_HELP)
      Path config;
    }

    @ArgGroup(multiplicity = "1")
    Source source;

    @Option(names = "--out", description = "The file to write (default: standard output)")
    Path out;

    @Override
    public Integer call() throws Exception {
      if (out == null) {
        Writer w = new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8));
        export(w);
        return 0;
      }
      long records;
      try (Writer w = Files.newBufferedWriter(out, StandardCharsets.UTF_8)) {
        records = export(w);
      }
      spec.commandLine().getErr().println("exported " + records + " audit records to " + out);
      return 0;
    }

    private long export(Writer w) throws Exception {
      return source.config != null
          ? AuditFiles.export(ServerConfig.load(source.config), w)
          : AuditFiles.export(source.dataDir, w);
    }
  }
}
