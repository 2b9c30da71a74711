package io.edgesync.agent.internal.mqtt;

import io.edgesync.agent.Documents;
import io.edgesync.agent.MqttSettings;
import io.edgesync.agent.internal.CommandRunner;
import java.io.IOException;

/** Starts the agent's MQTT listener on the agent's appends, documents and commands. */
public final class MqttAgentBridge {
  private MqttAgentBridge() {}

  public static MqttListener start(
      MqttSettings settings, MqttSink sink, Documents documents, CommandRunner commands)
      throws IOException {
    MqttMetrics metrics = new MqttMetrics();
    return MqttListener.start(
        settings,
        sink,
        loop -> new Subscriptions(settings.prefix(), documents, commands, loop, metrics),
        metrics);
  }
}
