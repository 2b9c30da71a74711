package io.edgesync.engine.edge;

/**
 * Why a stream with something to send is held back now: the kind (which rule holds it) and the text
 * shown to users in {@link EdgeSyncEngine#deferredStreams()}, which starts with the kind's label.
 */
record Deferral(Reason reason, String text) {
  enum Reason {
    /** The link measured below {@code minBandwidthKbps} and the stream is not important enough. */
    LOW_BANDWIDTH("low bandwidth"),
    /** The stream's share of the daily byte budget is spent. */
    DAILY_BUDGET("daily budget");

    final String label;

    Reason(String label) {
      this.label = label;
    }
  }
}
