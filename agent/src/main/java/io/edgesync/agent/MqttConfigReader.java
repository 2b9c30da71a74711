package io.edgesync.agent;

import io.edgesync.agent.MqttSettings.Route;
import io.edgesync.agent.MqttSettings.Tls;
import io.edgesync.agent.internal.mqtt.MqttCredentials;
import io.edgesync.agent.internal.mqtt.TopicFilter;
import io.edgesync.protocol.ProtocolLimits;
import io.edgesync.support.ConfigNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads the agent's {@code mqtt:} section. The credential and TLS files are read here once, so that
 * a missing or malformed one stops the agent at start with its key named.
 */
final class MqttConfigReader {
  private MqttConfigReader() {}

  static MqttSettings mqtt(ConfigNode node) {
    if (!node.isPresent()) {
      return MqttSettings.disabled();
    }
    ConfigNode m =
        node.allowOnly(
            "enabled",
            "host",
            "port",
            "max_inflight_messages",
            "max_packet_bytes",
            "max_connections",
            "connect_timeout_ms",
            "tls",
            "users_file",
            "username",
            "password_file",
            "topics",
            "prefix");
    boolean enabled = m.bool("enabled", false);
    String host = m.string("host", MqttSettings.DEFAULT_HOST);
    if (host.isBlank()) {
      throw m.error("host", "must not be empty; e.g. 127.0.0.1, or 0.0.0.0 for every interface");
    }
    int port = (int) m.integer("port", MqttSettings.DEFAULT_PORT, 0, 65_535, "TCP port; 0 = any");
    int inflight =
        (int)
            m.integer(
                "max_inflight_messages",
                MqttSettings.DEFAULT_MAX_INFLIGHT_MESSAGES,
                1,
                65_535,
                "unacknowledged QoS 1 messages per connection");
    int maxPacket =
        (int)
            m.integer(
                "max_packet_bytes",
                MqttSettings.DEFAULT_MAX_PACKET_BYTES,
                64,
                MqttSettings.MAX_PACKET_BYTES_LIMIT,
                "bytes");
    int maxConnections =
        (int)
            m.integer(
                "max_connections", MqttSettings.DEFAULT_MAX_CONNECTIONS, 1, 100_000, "clients");
    long connectTimeoutMs =
        m.integer(
            "connect_timeout_ms",
            MqttSettings.DEFAULT_CONNECT_TIMEOUT_MS,
            100,
            600_000,
            "milliseconds");
    Tls tls = tls(m.section("tls"));
    Path usersFile = optionalFile(m, "users_file", "user:password lines");
    String username = m.string("username", null);
    Path passwordFile = optionalFile(m, "password_file", "the password of 'username'");
    checkCredentials(m, usersFile, username, passwordFile);
    String prefix = prefix(m);
    List<Route> routes = routes(m, prefix);
    if (enabled && routes.isEmpty()) {
      throw m.error(
          "topics", "required when enabled: e.g. [{filter: \"sensors/#\", stream: sensor_data}]");
    }
    return new MqttSettings(
        enabled,
        host,
        port,
        inflight,
        maxPacket,
        maxConnections,
        connectTimeoutMs,
        tls,
        usersFile,
        username,
        passwordFile,
        routes,
        prefix);
  }

  private static Tls tls(ConfigNode node) {
    if (!node.isPresent()) {
      return null;
    }
    ConfigNode tls = node.allowOnly("cert_file", "key_file");
    Path cert = requiredFile(tls, "cert_file", "the listener's certificate chain (PEM)");
    Path key = requiredFile(tls, "key_file", "the listener's private key (PEM)");
    try {
      io.edgesync.agent.internal.mqtt.MqttTls.context(new Tls(cert, key));
    } catch (IOException | RuntimeException e) {
      throw tls.error(
          "cert_file", "cannot use '" + cert + "' and '" + key + "': " + e.getMessage());
    }
    return new Tls(cert, key);
  }

  private static void checkCredentials(
      ConfigNode m, Path usersFile, String username, Path passwordFile) {
    if (usersFile != null && (username != null || passwordFile != null)) {
      throw m.error("users_file", "set either users_file or username + password_file, not both");
    }
    if ((username == null) != (passwordFile == null)) {
      throw m.error(
          username == null ? "username" : "password_file",
          "username and password_file go together; set both or neither");
    }
    if (username != null && username.isEmpty()) {
      throw m.error("username", "must not be empty");
    }
    try {
      if (usersFile != null) {
        MqttCredentials.fromUsersFile(usersFile);
      } else if (username != null) {
        MqttCredentials.single(username, passwordFile);
      }
    } catch (IOException | IllegalArgumentException e) {
      throw m.error(usersFile != null ? "users_file" : "password_file", e.getMessage());
    }
  }

  private static String prefix(ConfigNode m) {
    String prefix = m.string("prefix", MqttSettings.DEFAULT_PREFIX);
    if (!prefix.isEmpty() && !prefix.endsWith("/")) {
      throw m.error("prefix", "'" + prefix + "' must end with '/' (or be empty), e.g. edgesync/");
    }
    if (prefix.contains("+") || prefix.contains("#") || prefix.startsWith("$")) {
      throw m.error("prefix", "'" + prefix + "' must not hold '+' or '#' nor start with '$'");
    }
    return prefix;
  }

  /**
   * {@code topics: [{filter, stream}]}: valid filters, valid stream names, not under the prefix.
   */
  private static List<Route> routes(ConfigNode m, String prefix) {
    List<Route> out = new ArrayList<>();
    for (ConfigNode t : m.sections("topics")) {
      t.allowOnly("filter", "stream");
      String filter = t.string("filter", null);
      String stream = t.string("stream", null);
      if (filter == null) {
        throw t.error("filter", "required: an MQTT topic filter, e.g. sensors/+/temperature");
      }
      String problem = TopicFilter.problem(filter);
      if (problem != null) {
        throw t.error("filter", "'" + filter + "' is not a valid topic filter: " + problem);
      }
      if (!prefix.isEmpty() && filter.startsWith(prefix)) {
        throw t.error(
            "filter", "'" + filter + "' lies under the prefix '" + prefix + "' (docs, commands)");
      }
      if (stream == null) {
        throw t.error("stream", "required: the stream its messages go to");
      }
      if (!ProtocolLimits.isValidStreamName(stream)) {
        throw t.error(
            "stream",
            "'"
                + stream
                + "' is not a valid stream name; allowed: "
                + ProtocolLimits.STREAM_NAME_PATTERN);
      }
      out.add(new Route(filter, stream));
    }
    return out;
  }

  private static Path optionalFile(ConfigNode node, String key, String what) {
    String value = node.string(key, null);
    if (value == null) {
      return null;
    }
    Path file = Path.of(value);
    if (!Files.isRegularFile(file)) {
      throw node.error(key, "no such file: '" + value + "' (" + what + ")");
    }
    return file;
  }

  private static Path requiredFile(ConfigNode node, String key, String what) {
    if (node.string(key, null) == null) {
      throw node.error(key, "required: " + what);
    }
    return optionalFile(node, key, what);
  }
}
