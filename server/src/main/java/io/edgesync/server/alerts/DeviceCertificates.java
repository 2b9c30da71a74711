package io.edgesync.server.alerts;

import java.security.cert.X509Certificate;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The expiry ({@code notAfter}) of each device's certificate, as this node saw it: recorded from
 * the client certificate of every mutual-TLS session at its Hello (a renewed certificate counts
 * from the first session that presents it). In memory only: after a restart a device's expiry is
 * known again at its next session (a device that never comes back is the {@code device_offline}
 * rule's).
 *
 * <p>Thread safe.
 */
public final class DeviceCertificates {
  private final Map<String, Long> notAfterMs = new ConcurrentHashMap<>();

  /** {@code device} presented {@code cert}, or was given it: the latest one counts. */
  public void record(String device, X509Certificate cert) {
    if (device != null && cert != null) {
      notAfterMs.put(device, cert.getNotAfter().getTime());
    }
  }

  /** Each known device's certificate expiry, epoch ms. */
  public Map<String, Long> notAfterMs() {
    return Map.copyOf(notAfterMs);
  }
}
