package io.edgesync.agent;

import java.util.ArrayList;
import java.util.List;

/**
 * The outcome of a durable append: the records got sequences {@code firstSequence .. firstSequence
 * + count - 1} of {@code stream}, in the order given. Records equal to one of the stream's last
 * {@code dedup_window} records were not appended and are listed in {@code duplicates} ({@code
 * count} is then smaller than the number of payloads, and {@code firstSequence} is 0 if none was
 * appended). Each record's operation id is {@code stream/sequence}; ask {@link
 * EdgeAgent#operationStatus} about it.
 */
public record AppendResult(
    String stream, long firstSequence, int count, List<Duplicate> duplicates) {

  /**
   * The payload at {@code index} equals record {@code sameAsSequence} of the stream: not stored.
   */
  public record Duplicate(int index, long sameAsSequence) {}

  /** Without duplicates. */
  public AppendResult(String stream, long firstSequence, int count) {
    this(stream, firstSequence, count, List.of());
  }

  public long lastSequence() {
    return firstSequence + count - 1;
  }

  /** The first payload's operation id (for a duplicate: the earlier record's). */
  public String operationId() {
    return operationIds().get(0);
  }

  /**
   * One operation id per payload, in the order given: a stored record's own, a duplicate's the id
   * of the earlier record it equals.
   */
  public List<String> operationIds() {
    List<String> ids = new ArrayList<>(count + duplicates.size());
    long next = firstSequence;
    int d = 0;
    for (int i = 0; i < count + duplicates.size(); i++) {
      if (d < duplicates.size() && duplicates.get(d).index() == i) {
        ids.add(OperationStatus.idOf(stream, duplicates.get(d).sameAsSequence()));
        d++;
      } else {
        ids.add(OperationStatus.idOf(stream, next++));
      }
    }
    return ids;
  }
}
