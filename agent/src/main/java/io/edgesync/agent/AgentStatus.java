package io.edgesync.agent;

import java.util.List;
import java.util.Map;

/**
 * A point-in-time view of an agent. {@code connection} is OFFLINE, CONNECTING, IDLE, BUSY or
 * STOPPED. Per stream, "queued" means appended and not yet acknowledged by the cloud, and {@code
 * oldestQueuedAgeMs} is -1 when nothing is queued. {@code documents}: local edits waiting for the
 * cloud's outcome, and documents in an open manual conflict.
 */
public record AgentStatus(
    String deviceId,
    String connection,
    String serverUrl,
    String lastError,
    long sessionsEstablished,
    List<StreamView> streams,
    Map<String, String> blockedStreams,
    DocumentsView documents) {

  public record DocumentsView(long pending, long conflicted, String lastHlc) {}

  public record StreamView(
      String name,
      int priority,
      long lastSequence,
      long ackedSequence,
      long queuedRecords,
      long queuedBytes,
      long oldestQueuedAgeMs,
      long syncedRecords,
      long droppedRecords) {}
}
