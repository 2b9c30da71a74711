package io.edgesync.security;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.GeneralSecurityException;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A CRL file that is read again when it changes (its modification time or size), so that a
 * certificate revoked with {@code edgesync ca revoke} is refused from the next handshake on,
 * without a restart. Each read is verified against the CA; a file that becomes unreadable or
 * carries a bad signature is logged and the last good list stays in force (a broken file must not
 * un-revoke).
 *
 * <p>Thread safe: handshakes and sessions call {@link #get} from many threads.
 */
public final class CrlFile implements Supplier<X509CRL> {
  private static final Logger log = LoggerFactory.getLogger(CrlFile.class);

  private final Path file;
  private final List<X509Certificate> cas;

  /** The list in force and the file's stamp it was read at, replaced together. */
  private record Loaded(X509CRL crl, String stamp) {}

  private volatile Loaded loaded;

  /** Reads the file now: a missing, unreadable or wrongly signed file is an error at start. */
  public CrlFile(Path file, List<X509Certificate> cas) throws IOException {
    this.file = file;
    this.cas = List.copyOf(cas);
    String stamp = stamp();
    this.loaded = new Loaded(read(), stamp);
  }

  /**
   * The list in force. The file's stamp is looked at on every call (one {@code stat}, no lock:
   * sessions call this before each frame, so that a revocation counts from the very next one); only
   * a changed file is read again, under the monitor.
   */
  @Override
  public X509CRL get() {
    Loaded l = loaded;
    try {
      if (stamp().equals(l.stamp())) {
        return l.crl();
      }
      return reload();
    } catch (IOException e) {
      log.error(
          "revocation list {} not reloaded, the previous one stays: {}", file, e.getMessage());
      return loaded.crl();
    }
  }

  private synchronized X509CRL reload() throws IOException {
    String now = stamp();
    if (!now.equals(loaded.stamp())) {
      X509CRL fresh = read();
      loaded = new Loaded(fresh, now);
      log.info("revocation list {} reloaded: {} revoked", file, size(fresh));
    }
    return loaded.crl();
  }

  private static int size(X509CRL crl) {
    return crl.getRevokedCertificates() == null ? 0 : crl.getRevokedCertificates().size();
  }

  private String stamp() throws IOException {
    BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
    return a.lastModifiedTime().toMillis() + "/" + a.size() + "/" + a.fileKey();
  }

  private X509CRL read() throws IOException {
    X509CRL crl = Pem.readCrl(file);
    for (X509Certificate ca : cas) {
      try {
        crl.verify(ca.getPublicKey());
        return crl;
      } catch (GeneralSecurityException e) {
        // try the next CA
      }
    }
    throw new IOException(file + ": the CRL is not signed by the client CA");
  }
}
