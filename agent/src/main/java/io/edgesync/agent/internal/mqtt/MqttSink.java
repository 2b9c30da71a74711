package io.edgesync.agent.internal.mqtt;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Where the listener's records go: the agent's durable append ({@code EdgeAgent.appendAsync}),
 * whose future completes once the records are committed (group commit) or fails.
 */
@FunctionalInterface
public interface MqttSink {
  CompletableFuture<?> append(String stream, List<byte[]> records);
}
