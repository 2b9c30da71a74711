package io.edgesync.it;

import io.edgesync.agent.AgentConfig;
import io.edgesync.agent.EdgeAgent;

/**
 * An agent with its MQTT listener, in its own JVM, for {@link MqttCrashTest}. Args: {@code dataDir
 * mqttPort}. No cloud (its server URL is closed): what it acknowledges stays in its outbox. Prints
 * {@code READY} once the listener accepts connections; then waits to be killed.
 */
public final class MqttAgentChild {
  static final String STREAM = "mqtt";

  private MqttAgentChild() {}

  static AgentConfig config(String dataDir, int mqttPort) {
    return AgentConfig.fromYaml(
        "device: {id: gw-mqtt}\nserver: {url: \"ws://127.0.0.1:1/v1/sync\"}\n"
            + "local_api: {port: -1}\n"
            + "sync: {offline: {local_storage_path: \""
            + dataDir.replace("\\", "/")
            + "\"}}\n"
            + "mqtt:\n  enabled: true\n  port: "
            + mqttPort
            + "\n  topics: [{filter: \"bench/#\", stream: "
            + STREAM
            + "}]\n");
  }

  public static void main(String[] args) throws Exception {
    ChildJvm.Channel out = new ChildJvm.Channel();
    EdgeAgent agent = EdgeAgent.open(Testbed.neverDrop(config(args[0], Integer.parseInt(args[1]))));
    out.line("READY");
    Thread.sleep(Long.MAX_VALUE);
  }
}
