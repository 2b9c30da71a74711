package io.edgesync.cli;

import io.edgesync.security.CertificateAuthority;
import io.edgesync.security.IssuedCertificate;
import io.edgesync.security.KeyAndCertificate;
import io.edgesync.security.Pem;
import java.io.PrintWriter;
import java.math.BigInteger;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code edgesync ca init|issue|revoke|list}: the built-in certificate authority (see
 * docs/security.md). Every command prints where its files went.
 */
@Command(
    name = "ca",
    description = "A built-in certificate authority for mutual TLS: init, issue, revoke, list.",
    subcommands = {
      CaCommand.Init.class,
      CaCommand.Issue.class,
      CaCommand.Revoke.class,
      CaCommand.ListCerts.class
    })
final class CaCommand {
  @Option(
      names = "--ca-dir",
      description = "The CA's directory (default: ${DEFAULT-VALUE})",
      defaultValue = "./edgesync-ca",
      scope = CommandLine.ScopeType.INHERIT)
  Path caDir;

  CertificateAuthority open() throws java.io.IOException {
    return CertificateAuthority.open(caDir, Clock.systemUTC());
  }

  @Command(
      name = "init",
      description = "Create a CA: an EC P-256 key and a self-signed certificate.")
  static final class Init implements Callable<Integer> {
    @ParentCommand CaCommand parent;
    @Spec CommandSpec spec;

    @Option(
        names = "--name",
        description = "The CA's common name (default: ${DEFAULT-VALUE})",
        defaultValue = "edgesync CA")
    String name;

    @Option(
        names = "--days",
        description = "Validity in days (default: ${DEFAULT-VALUE})",
        defaultValue = "3650")
    long days;

    @Override
    public Integer call() throws Exception {
      CertificateAuthority ca =
          CertificateAuthority.init(parent.caDir, name, Duration.ofDays(days), Clock.systemUTC());
      PrintWriter out = spec.commandLine().getOut();
      Path dir = ca.directory();
      out.println("CA created in " + dir);
      out.println("  certificate (trust this): " + dir.resolve("ca.pem"));
      out.println("  private key (0600):       " + dir.resolve("ca.key"));
      out.println("  revocation list:          " + ca.crlFile());
      out.flush();
      return 0;
    }
  }

  @Command(
      name = "issue",
      description = "Issue a device (client) or server certificate with a new key pair.")
  static final class Issue implements Callable<Integer> {
    @ParentCommand CaCommand parent;
    @Spec CommandSpec spec;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Subject subject;

    static final class Subject {
      @Option(names = "--device", description = "The device id (the certificate's CN)")
      String deviceId;

      @Option(
          names = "--server",
          arity = "1..*",
          description = "DNS names or IP addresses of the server (the first is the CN)")
      List<String> serverNames;
    }

    @Option(
        names = "--days",
        description = "Validity in days (default: 30 for a device, 365 for a server)")
    Long days;

    @Option(
        names = "--out",
        description = "Directory for the certificate and key (default: ${DEFAULT-VALUE})",
        defaultValue = ".")
    Path out;

    @Override
    public Integer call() throws Exception {
      CertificateAuthority ca = parent.open();
      KeyAndCertificate issued;
      String base;
      if (subject.deviceId != null) {
        issued = ca.issueDevice(subject.deviceId, Duration.ofDays(days == null ? 30 : days));
        base = subject.deviceId;
      } else {
        issued = ca.issueServer(subject.serverNames, Duration.ofDays(days == null ? 365 : days));
        base = subject.serverNames.get(0);
      }
      Path certFile = out.resolve(base + ".pem");
      Path keyFile = out.resolve(base + ".key");
      Pem.writePrivateKey(keyFile, issued.privateKey());
      Pem.writeCertificates(certFile, issued.certificate());
      PrintWriter w = spec.commandLine().getOut();
      w.println(
          "issued serial "
              + issued.certificate().getSerialNumber().toString(16)
              + " for "
              + issued.certificate().getSubjectX500Principal().getName()
              + ", valid until "
              + issued.certificate().getNotAfter().toInstant());
      w.println("  certificate:        " + certFile);
      w.println("  private key (0600): " + keyFile);
      w.println("  CA certificate:     " + ca.directory().resolve("ca.pem"));
      w.flush();
      return 0;
    }
  }

  @Command(name = "revoke", description = "Revoke a certificate by its serial (hex, as listed).")
  static final class Revoke implements Callable<Integer> {
    @ParentCommand CaCommand parent;
    @Spec CommandSpec spec;

    @Parameters(paramLabel = "SERIAL", description = "The serial in hex, as 'ca list' shows it")
    String serial;

    @Override
    public Integer call() throws Exception {
      BigInteger parsed;
      try {
        parsed = new BigInteger(serial, 16);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("serial '" + serial + "' is not a hex number");
      }
      CertificateAuthority ca = parent.open();
      ca.revoke(parsed);
      PrintWriter w = spec.commandLine().getOut();
      w.println("revoked serial " + parsed.toString(16));
      w.println("  revocation list: " + ca.crlFile() + " (servers read it when they start)");
      w.flush();
      return 0;
    }
  }

  @Command(name = "list", description = "List the certificates this CA issued.")
  static final class ListCerts implements Callable<Integer> {
    @ParentCommand CaCommand parent;
    @Spec CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      PrintWriter w = spec.commandLine().getOut();
      w.printf(
          "%-34s %-7s %-21s %-21s %-8s %s%n",
          "SERIAL", "KIND", "NOT BEFORE", "NOT AFTER", "STATE", "SUBJECT");
      for (IssuedCertificate c : parent.open().list()) {
        w.printf(
            "%-34s %-7s %-21s %-21s %-8s %s%n",
            c.serialHex(),
            c.kind().name().toLowerCase(java.util.Locale.ROOT),
            c.notBefore(),
            c.notAfter(),
            c.revoked() ? "revoked" : "valid",
            c.subject());
      }
      w.flush();
      return 0;
    }
  }
}
