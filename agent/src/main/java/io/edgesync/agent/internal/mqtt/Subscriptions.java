package io.edgesync.agent.internal.mqtt;

/**
 * Subscriptions of MQTT clients to the agent's documents and commands, under the prefix.
 *
 * <p>Not thread safe: owned by the listener's event loop.
 */
class Subscriptions {
  private final String prefix;

  Subscriptions(String prefix) {
    this.prefix = prefix;
  }

  /** Whether {@code topic} lies in the documents' or commands' tree. */
  boolean handles(String topic) {
    return topic.startsWith(prefix + "docs/") || topic.startsWith(prefix + "commands/");
  }

  /** A SUBACK code for {@code filter}: below 0x80 if it can be subscribed to. */
  int check(String filter, boolean v5) {
    return v5 ? ReasonCodes.TOPIC_FILTER_INVALID & 0xFF : 0x80;
  }

  void subscribe(MqttConnection c, String filter, int qos) {}

  void unsubscribe(MqttConnection c, String filter) {}

  void connectionClosed(MqttConnection c) {}

  /** A client published under the prefix: null if taken, else the refusal's metric reason. */
  String publishUnderPrefix(MqttConnection c, String topic, byte[] payload) {
    return "read_only";
  }
}
