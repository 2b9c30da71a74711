package io.edgesync.agent;

import java.util.ArrayList;
import java.util.List;

/**
 * The outcome of a durable append: the records got sequences {@code firstSequence .. firstSequence
 * + count - 1} of {@code stream}. Each record's operation id is {@code stream/sequence}; ask {@link
 * EdgeAgent#operationStatus} about it.
 */
public record AppendResult(String stream, long firstSequence, int count) {
  public long lastSequence() {
    return firstSequence + count - 1;
  }

  public String operationId() {
    return OperationStatus.idOf(stream, firstSequence);
  }

  public List<String> operationIds() {
    List<String> ids = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      ids.add(OperationStatus.idOf(stream, firstSequence + i));
    }
    return ids;
  }
}
