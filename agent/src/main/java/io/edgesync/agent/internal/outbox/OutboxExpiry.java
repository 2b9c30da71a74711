package io.edgesync.agent.internal.outbox;

import io.edgesync.agent.OutboxLimits;
import io.edgesync.protocol.wire.GapReason;
import java.sql.SQLException;
import java.util.Map;

/**
 * Age expiry ({@code max_record_age}): chunks whose newest record is older than the limit are
 * deleted and their unacknowledged records become EXPIRED gaps. Checked by the writer thread at
 * most every {@code expiryCheckIntervalMs}; runs under the outbox's lock, the caller commits.
 */
final class OutboxExpiry {
  private final OutboxLimits limits;
  private final OutboxTables tables;
  private long lastCheckMs;

  OutboxExpiry(OutboxLimits limits, OutboxTables tables, long nowMs) {
    this.limits = limits;
    this.tables = tables;
    this.lastCheckMs = nowMs;
  }

  /** Whether a check is due at {@code nowMs}; if so, the next one is an interval later. */
  boolean due(long nowMs) {
    if (nowMs - lastCheckMs < limits.expiryCheckIntervalMs()) {
      return false;
    }
    lastCheckMs = nowMs;
    return true;
  }

  /** Drops the records older than the age limit at {@code nowMs}. */
  void expire(Map<String, StreamCounters> counters, long nowMs) throws SQLException {
    long cutoff = nowMs - limits.maxRecordAgeMs();
    for (OutboxTables.ChunkRow chunk : tables.chunksOlderThan(cutoff)) {
      StreamCounters c = counters.get(chunk.stream());
      long first = chunk.first();
      long last = chunk.last();
      long from = Math.max(first, c.ackedSeq + 1);
      long bytes = from <= last ? tables.payloadBytes(chunk, from, last) : 0;
      tables.deleteChunk(c.name, first);
      if (from <= last) {
        long n = last - from + 1;
        tables.addGap(c.name, from, last, GapReason.GAP_REASON_EXPIRED, nowMs);
        c.queuedRecords -= n;
        c.queuedBytes -= bytes;
        c.droppedRecords += n;
        tables.saveStream(c);
      }
    }
  }
}
