package io.edgesync.agent.internal;

import io.edgesync.agent.internal.outbox.SqliteOutbox;
import io.edgesync.engine.edge.StatusSource;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * What the agent reports about itself over its session (DeviceStatus): its outbox's accounting per
 * stream, the same figures as {@code GET /v1/status} and the local metrics, and the document
 * changes waiting for their outcome. Read on the sync loop's thread.
 */
public final class OutboxStatus implements StatusSource {
  private final SqliteOutbox outbox;
  private final LongSupplier docsPending;

  public OutboxStatus(SqliteOutbox outbox, LongSupplier docsPending) {
    this.outbox = outbox;
    this.docsPending = docsPending;
  }

  @Override
  public List<StreamHealth> streams(long nowMs) {
    List<StreamHealth> out = new ArrayList<>();
    for (SqliteOutbox.StreamStatus s : outbox.streamStatus()) {
      out.add(
          new StreamHealth(
              s.name(),
              s.lastSequence(),
              s.syncedRecords(),
              s.queuedRecords(),
              s.queuedBytes(),
              s.droppedRecords(),
              s.oldestQueuedMs()));
    }
    return out;
  }

  @Override
  public long docsPending() {
    return docsPending.getAsLong();
  }
}
