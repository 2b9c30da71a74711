package io.edgesync.agent.internal.mqtt;

import io.edgesync.agent.MqttSettings;
import io.edgesync.security.Pem;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * The listener's TLS context from PEM files, read with the security module's {@link Pem} (the same
 * formats as the agent's own {@code tls:} files). The JDK's TLS provider: no native library to ship
 * to small devices. Stateless.
 */
public final class MqttTls {
  private MqttTls() {}

  /** A server context presenting the chain in {@code certFile} with the key in {@code keyFile}. */
  public static SslContext context(MqttSettings.Tls tls) throws IOException {
    List<X509Certificate> chain = Pem.readCertificates(tls.certFile());
    if (chain.isEmpty()) {
      throw new IOException(tls.certFile() + " holds no certificate");
    }
    PrivateKey key = Pem.readPrivateKey(tls.keyFile());
    return SslContextBuilder.forServer(key, chain.toArray(new X509Certificate[0]))
        .sslProvider(SslProvider.JDK)
        .protocols("TLSv1.3", "TLSv1.2")
        .build();
  }
}
