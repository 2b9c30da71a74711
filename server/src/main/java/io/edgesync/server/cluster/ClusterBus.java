package io.edgesync.server.cluster;

import java.util.function.Consumer;

/**
 * How the server nodes sharing one store tell each other what changed, so that a document or
 * command written through one node reaches devices connected to any other. A node delivers what it
 * changed itself to its own sessions directly; the bus carries it to the others. Delivery is best
 * effort and fast; a node that may have missed events gets {@link ClusterEvent.Kind#RESYNC}, and
 * correctness never depends on the bus (a session reads what to push from the store).
 */
public interface ClusterBus extends AutoCloseable {
  /** Tells the other nodes (not this one); returns without waiting for them. */
  void publish(ClusterEvent event);

  /**
   * Calls {@code listener} with every event of another node, and with {@link
   * ClusterEvent.Kind#RESYNC}, on the bus's own thread. Set once, before events flow.
   */
  void listen(Consumer<ClusterEvent> listener);

  @Override
  void close();

  /** A node alone on its store: there is nobody to tell. */
  ClusterBus NONE =
      new ClusterBus() {
        @Override
        public void publish(ClusterEvent event) {}

        @Override
        public void listen(Consumer<ClusterEvent> listener) {}

        @Override
        public void close() {}
      };
}
