package io.edgesync.server;

/**
 * How far retention may expire a device's stream: {@link StreamExpiry} never deletes a record whose
 * sequence is above {@link #mayExpireThrough}. An exporter that has not yet handed records on (to
 * Kafka, say) returns its position, so that nothing expires before it was exported.
 *
 * <p>Called on the expiry thread, once per device and stream and run; must be thread safe and quick
 * (no network).
 */
@FunctionalInterface
public interface ExpiryHold {
  /** No hold: retention alone decides. */
  ExpiryHold NONE = (device, stream) -> Long.MAX_VALUE;

  /**
   * The highest sequence of {@code device}'s {@code stream} that may expire; 0 holds everything,
   * {@link Long#MAX_VALUE} nothing.
   */
  long mayExpireThrough(String device, String stream);
}
