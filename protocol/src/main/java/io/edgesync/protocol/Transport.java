package io.edgesync.protocol;

/**
 * How an edge reaches the cloud: opens one message-oriented connection at a time. The production
 * implementation is a WebSocket client; tests use an in-memory fake. Callbacks may arrive on any
 * thread; adapters hand them to their own event loop.
 */
public interface Transport {
  /** Starts opening a connection; the outcome is reported to {@code listener}. */
  void connect(Listener listener);

  /** An open connection carrying whole binary frames. Thread safe. */
  interface Connection {
    /** Queues one frame; frames are delivered in order. */
    void send(byte[] frame);

    /** Closes the connection; the listener's {@code onClosed} follows. Idempotent. */
    void close(String reason);
  }

  /** Receives a connection's events. */
  interface Listener {
    void onOpen(Connection connection);

    void onFrame(Connection connection, byte[] frame);

    /**
     * Bytes of a queued frame were written to the network: the whole frame, or one fragment of a
     * large one. Lets the edge count a slow but moving upload as a live connection (a large batch
     * can take longer than the liveness timeout to transmit, and nothing arrives meanwhile). A
     * transport that cannot tell may never call it.
     */
    default void onSendProgress(Connection connection, long bytes) {}

    /** The connection failed to open or ended; called exactly once per connect. */
    void onClosed(Connection connection, String reason);
  }
}
