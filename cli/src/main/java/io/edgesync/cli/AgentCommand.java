package io.edgesync.cli;

import io.edgesync.agent.AgentConfig;
import io.edgesync.agent.EdgeAgent;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "agent",
    description =
        "Run the edge agent: durable outbox, sync to the cloud, localhost HTTP API, and the local"
            + " MQTT listener when the config enables it (mqtt.enabled).")
final class AgentCommand implements Callable<Integer> {
  @Option(names = "--config", required = true, description = "YAML config file")
  Path config;

  @Override
  public Integer call() throws InterruptedException {
    AgentConfig c = AgentConfig.load(config);
    EdgeAgent agent = EdgeAgent.open(c);
    System.out.printf(
        "edgesync agent '%s' syncing to %s; local API on http://127.0.0.1:%d/v1/ ; outbox in %s%n",
        c.deviceId(), c.serverUrl(), agent.localApiPort(), c.dataDir().toAbsolutePath());
    if (agent.mqttPort() >= 0) {
      System.out.printf("MQTT listener on %s:%d%n", c.mqtt().host(), agent.mqttPort());
    }
    return Main.untilShutdown(agent::close);
  }
}
