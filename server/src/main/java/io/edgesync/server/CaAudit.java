package io.edgesync.server;

import io.edgesync.security.CertificateAuthority;
import io.edgesync.security.IssuedCertificate;
import io.edgesync.security.Pem;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.cert.X509CRL;
import java.security.cert.X509CRLEntry;
import java.time.Clock;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Puts the built-in CA's actions into the audit chain. {@code edgesync ca issue} and {@code ca
 * revoke} run as their own processes and write only the CA directory ({@code index.tsv}, {@code
 * crl.pem}); a server with {@code server.tls.ca_dir} reads both at start and whenever either file
 * changes, and appends one {@value #ISSUE} record per certificate in the index and one {@value
 * #REVOKE} record per revoked one that the chain does not hold yet.
 *
 * <p>The chain itself is the memory of what was recorded: at the first sync the targets of the
 * chain's {@code cert.*} records are read (one scan of the table), and kept in memory after that. A
 * record and its "recorded" mark are therefore one row, committed together: a crash in between
 * cannot drop a record or write one twice, across restarts too.
 *
 * <p>Thread safe ({@link #sync} is synchronized): the server's timer calls it.
 */
final class CaAudit {
  private static final Logger log = LoggerFactory.getLogger(CaAudit.class);

  /** Audit actions (docs/security.md). Target {@code cert/<serial hex>}. */
  static final String ISSUE = "cert.issue";

  static final String REVOKE = "cert.revoke";

  /** Actor of the records: the server, which found them in the CA directory. */
  static final String ACTOR = AuditChain.SERVER_ACTOR;

  private final Path caDir;
  private final AuditLog audit;
  private Set<String> issued; // targets recorded, loaded at the first sync
  private Set<String> revoked;
  private String stamp = "";

  CaAudit(Path caDir, AuditLog audit) {
    this.caDir = caDir;
    this.audit = audit;
  }

  /** The audit of {@code tls.ca_dir} into {@code store}'s chain; null without either. */
  static CaAudit of(ServerConfig.TlsFiles tls, io.edgesync.engine.cloud.CloudStore store) {
    return tls != null && tls.caDir() != null && store instanceof SqliteCloudStore sqlite
        ? new CaAudit(tls.caDir(), sqlite.auditLog())
        : null;
  }

  /** At start: what changed since the last run goes into the chain, or the start fails. */
  void syncAtStart() {
    try {
      sync();
    } catch (IOException | RuntimeException e) {
      throw new IllegalStateException(
          "server.tls.ca_dir: cannot read the CA's index and CRL in "
              + caDir
              + " to audit them: "
              + e.getMessage(),
          e);
    }
  }

  /** For the timer: {@link #sync} if the index or the CRL changed since the last sync. */
  void syncIfChanged() {
    try {
      String now = stamp();
      if (!now.equals(stamp)) {
        sync();
        stamp = now; // after the sync: a failed one is tried again at the next tick
      }
    } catch (IOException | RuntimeException e) {
      log.warn("auditing the CA in {} failed; trying again: {}", caDir, e.toString());
    }
  }

  /** Appends a record for each issue and revocation not in the chain yet; returns how many. */
  synchronized int sync() throws IOException {
    if (issued == null) {
      issued = new HashSet<>(audit.targetsOf(ISSUE));
      revoked = new HashSet<>(audit.targetsOf(REVOKE));
    }
    CertificateAuthority ca = CertificateAuthority.open(caDir, Clock.systemUTC());
    X509CRL crl = Pem.readCrl(ca.crlFile());
    int appended = 0;
    for (IssuedCertificate c : ca.list()) {
      String target = target(c);
      if (!issued.contains(target)) {
        audit.append(ACTOR, ISSUE, target, issueDetails(c));
        issued.add(target);
        appended++;
      }
      if (c.revoked() && !revoked.contains(target)) {
        audit.append(
            ACTOR, REVOKE, target, revokeDetails(c, crl.getRevokedCertificate(c.serial())));
        revoked.add(target);
        appended++;
      }
    }
    if (appended > 0) {
      log.info(
          "audited {} certificate issue(s) and revocation(s) of the CA in {}", appended, caDir);
    }
    return appended;
  }

  static String target(IssuedCertificate c) {
    return "cert/" + c.serial().toString(16);
  }

  private Map<String, Object> issueDetails(IssuedCertificate c) {
    Map<String, Object> d = new LinkedHashMap<>();
    d.put("serial", c.serial().toString(16));
    d.put("kind", c.kind().name().toLowerCase(java.util.Locale.ROOT));
    d.put("subject", c.subject());
    d.put("not_before", c.notBefore().toString());
    d.put("not_after", c.notAfter().toString());
    d.put("ca_dir", caDir.toAbsolutePath().toString());
    return d;
  }

  private Map<String, Object> revokeDetails(IssuedCertificate c, X509CRLEntry entry) {
    Map<String, Object> d = new LinkedHashMap<>();
    d.put("serial", c.serial().toString(16));
    d.put("kind", c.kind().name().toLowerCase(java.util.Locale.ROOT));
    d.put("subject", c.subject());
    d.put("revoked_at", entry == null ? null : entry.getRevocationDate().toInstant().toString());
    d.put("ca_dir", caDir.toAbsolutePath().toString());
    return d;
  }

  private String stamp() throws IOException {
    return stamp(caDir.resolve("index.tsv"))
        + "|"
        + stamp(caDir.resolve(CertificateAuthority.CRL_FILE));
  }

  private static String stamp(Path file) throws IOException {
    BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
    return a.lastModifiedTime().toMillis() + "/" + a.size() + "/" + a.fileKey();
  }
}
