package io.edgesync.agent.internal.mqtt;

import io.edgesync.agent.MqttSettings;
import java.util.HashMap;
import java.util.Map;

/**
 * What the connections of one listener share: settings, the credentials, the routes, the batcher,
 * the subscriptions to documents and commands, the metrics, and the connected clients by id.
 *
 * <p>Not thread safe: owned by the listener's single event loop (the metrics are thread safe).
 */
final class ListenerContext {
  final MqttSettings settings;
  final MqttCredentials credentials; // null: no credentials required
  final MqttMetrics metrics;
  final IngestBatcher batcher;
  final Subscriptions subscriptions;
  final Map<String, MqttConnection> clients = new HashMap<>();
  private long nextClientNumber = 1;

  ListenerContext(
      MqttSettings settings,
      MqttCredentials credentials,
      MqttMetrics metrics,
      IngestBatcher batcher,
      Subscriptions subscriptions) {
    this.settings = settings;
    this.credentials = credentials;
    this.metrics = metrics;
    this.batcher = batcher;
    this.subscriptions = subscriptions;
  }

  /** The stream of the first route whose filter matches {@code topic}, or null. */
  String streamFor(String topic) {
    for (MqttSettings.Route r : settings.topics()) {
      if (TopicFilter.matches(r.filter(), topic)) {
        return r.stream();
      }
    }
    return null;
  }

  /** A client id for a client that sent none (MQTT 5's Assigned Client Identifier). */
  String assignClientId() {
    return "edgesync-auto-" + nextClientNumber++;
  }
}
