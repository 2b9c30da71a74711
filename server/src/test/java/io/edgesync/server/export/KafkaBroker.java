package io.edgesync.server.export;

import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;

/**
 * One real KRaft broker (combined with its controller) in this JVM, for the export tests: single
 * replicas for the offsets and transaction state topics, so transactions work on one node. A test
 * class shares one ({@code @BeforeAll}); {@link #restartBroker} stops and starts the broker on the
 * same port and log directory.
 */
final class KafkaBroker implements AutoCloseable {
  private final KafkaClusterTestKit cluster;

  private KafkaBroker(KafkaClusterTestKit cluster) {
    this.cluster = cluster;
  }

  static KafkaBroker start() throws Exception {
    KafkaClusterTestKit cluster =
        new KafkaClusterTestKit.Builder(
                new TestKitNodes.Builder()
                    .setCombined(true)
                    .setNumBrokerNodes(1)
                    .setNumControllerNodes(1)
                    .build())
            .setConfigProp("offsets.topic.replication.factor", "1")
            .setConfigProp("offsets.topic.num.partitions", "1")
            .setConfigProp("transaction.state.log.replication.factor", "1")
            .setConfigProp("transaction.state.log.min.isr", "1")
            .setConfigProp("transaction.state.log.num.partitions", "1")
            .setConfigProp("group.initial.rebalance.delay.ms", "0")
            // A restarted broker registers again only once its old session expired (default 9 s).
            .setConfigProp("broker.session.timeout.ms", "2000")
            .setConfigProp("broker.heartbeat.interval.ms", "500")
            .build();
    try {
      cluster.format();
      cluster.startup();
      cluster.waitForReadyBrokers();
    } catch (Exception e) {
      cluster.close();
      throw e;
    }
    return new KafkaBroker(cluster);
  }

  String bootstrapServers() {
    return cluster.bootstrapServers();
  }

  /** Stops the broker (the controller stays up) and starts it again on the same port. */
  void restartBroker() throws Exception {
    var broker = cluster.brokers().values().iterator().next();
    broker.shutdown();
    broker.awaitShutdown();
    broker.startup();
    cluster.waitForReadyBrokers();
  }

  @Override
  public void close() throws Exception {
    cluster.close();
  }
}
