package io.edgesync.agent;

/**
 * Where one appended record stands: {@code pending} (queued) → {@code in_flight} (sent, not yet
 * acknowledged) → {@code synced} (committed in the cloud), or {@code dropped} with the reason
 * (overflow, age, or the cloud lost it). {@code unknown} for ids this agent never issued.
 */
public record OperationStatus(String operationId, State state, String reason) {
  public enum State {
    PENDING,
    IN_FLIGHT,
    SYNCED,
    DROPPED,
    UNKNOWN
  }

  public static String idOf(String stream, long sequence) {
    return stream + "/" + sequence;
  }
}
