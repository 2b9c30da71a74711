package io.edgesync.agent;

import java.nio.file.Path;
import java.util.List;

/**
 * The agent's local MQTT listener ({@code mqtt:}, docs/configuration.md and docs/operations.md
 * "MQTT on the device"). Off unless {@code enabled}.
 *
 * @param host the address it listens on (loopback by default)
 * @param port the TCP port; 0 picks a free one
 * @param maxInflightMessages QoS 1 messages of one connection received and not yet acknowledged
 *     (MQTT 5's Receive Maximum); one more is refused
 * @param maxPacketBytes the largest MQTT packet read (MQTT 5's Maximum Packet Size)
 * @param maxConnections clients connected at once; one more is refused
 * @param connectTimeoutMs how long a new connection may take to send CONNECT
 * @param tls TLS on the listener (PEM certificate chain and key); null = plain TCP
 * @param usersFile {@code user:password} lines; null = none
 * @param username with {@code passwordFile}, the one user allowed; null = none
 * @param passwordFile the password of {@code username} (the file's first line)
 * @param topics which topic filters go to which stream, first match wins
 * @param prefix the topic prefix of documents and commands ({@code {prefix}docs/...}, {@code
 *     {prefix}commands/...})
 */
public record MqttSettings(
    boolean enabled,
    String host,
    int port,
    int maxInflightMessages,
    int maxPacketBytes,
    int maxConnections,
    long connectTimeoutMs,
    Tls tls,
    Path usersFile,
    String username,
    Path passwordFile,
    List<Route> topics,
    String prefix) {

  public static final String DEFAULT_HOST = "127.0.0.1";
  public static final int DEFAULT_PORT = 1883;
  public static final int DEFAULT_MAX_INFLIGHT_MESSAGES = 1000;
  public static final int DEFAULT_MAX_PACKET_BYTES = 65_536;

  /**
   * The largest {@code max_packet_bytes}: a payload of this size still fits one outbox record (1
   * MiB) after base64 and the envelope.
   */
  public static final int MAX_PACKET_BYTES_LIMIT = 512 * 1024;

  public static final int DEFAULT_MAX_CONNECTIONS = 100;
  public static final long DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
  public static final String DEFAULT_PREFIX = "edgesync/";

  /** PEM files of the listener's certificate chain and private key. */
  public record Tls(Path certFile, Path keyFile) {}

  /** Messages published on topics matching {@code filter} go to {@code stream}. */
  public record Route(String filter, String stream) {}

  public MqttSettings {
    topics = List.copyOf(topics);
  }

  /** No listener (a config without {@code mqtt:}). */
  public static MqttSettings disabled() {
    return new MqttSettings(
        false,
        DEFAULT_HOST,
        DEFAULT_PORT,
        DEFAULT_MAX_INFLIGHT_MESSAGES,
        DEFAULT_MAX_PACKET_BYTES,
        DEFAULT_MAX_CONNECTIONS,
        DEFAULT_CONNECT_TIMEOUT_MS,
        null,
        null,
        null,
        null,
        List.of(),
        DEFAULT_PREFIX);
  }

  /** Whether clients must present a user name and password. */
  public boolean credentialsRequired() {
    return usersFile != null || username != null;
  }
}
