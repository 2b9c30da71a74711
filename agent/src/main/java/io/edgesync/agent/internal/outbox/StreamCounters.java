package io.edgesync.agent.internal.outbox;

/**
 * One stream's counters as the outbox keeps them in memory (mirrored in the {@code streams} table,
 * queued figures recomputed from {@code chunks} at open). Guarded by the outbox's lock.
 */
final class StreamCounters {
  final String name;
  final int priority;
  long lastSeq;
  long ackedSeq;
  long queuedRecords;
  long queuedBytes;
  long syncedRecords;
  long droppedRecords;

  StreamCounters(String name, int priority) {
    this.name = name;
    this.priority = priority;
  }
}
