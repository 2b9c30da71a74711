package io.edgesync.agent.internal.outbox;

import io.edgesync.agent.OutboxLimits;
import io.edgesync.agent.OverflowPolicy;
import io.edgesync.agent.QueueFullException;
import io.edgesync.protocol.Clock;
import io.edgesync.protocol.Record;
import io.edgesync.protocol.wire.GapReason;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;

/**
 * The outbox's queue limits: whether an append fits ({@code queue_max_size}, {@code max_bytes})
 * and, under {@code overflow_policy=drop_oldest}, which queued records make room. Writer thread,
 * under the outbox's lock; dropping runs in the group's transaction.
 */
final class OutboxOverflow {
  /** What to do with one append. */
  enum Decision {
    ACCEPT,
    PARK,
    REFUSE
  }

  /** The decision; {@code refusal} is the message of a {@link QueueFullException} when refused. */
  record Admission(Decision decision, String refusal) {
    static final Admission ACCEPT = new Admission(Decision.ACCEPT, null);
    static final Admission PARK = new Admission(Decision.PARK, null);

    static Admission refuse(String message) {
      return new Admission(Decision.REFUSE, message);
    }
  }

  /** Records and bytes queued in all streams, counting appends accepted so far in a group. */
  static final class QueueTotals {
    long records;
    long bytes;

    QueueTotals(Collection<StreamCounters> streams) {
      for (StreamCounters c : streams) {
        records += c.queuedRecords;
        bytes += c.queuedBytes;
      }
    }
  }

  private final OutboxLimits limits;
  private final OutboxTables tables;
  private final Clock clock;

  OutboxOverflow(OutboxLimits limits, OutboxTables tables, Clock clock) {
    this.limits = limits;
    this.tables = tables;
    this.clock = clock;
  }

  /**
   * Whether the kept records of {@code r} fit beside {@code totals}. Under drop_oldest an append
   * that overflows is accepted: room is made once the whole group is written ({@link #makeRoom}),
   * so appends committed together can push each other out, not only records of earlier commits.
   */
  Admission admit(AppendRequest r, QueueTotals totals) {
    long n = r.kept.size();
    if (n > limits.maxQueueRecords() || r.keptBytes > limits.maxQueueBytes()) {
      return Admission.refuse(
          "append of "
              + n
              + " records / "
              + r.bytes
              + " bytes is larger than"
              + " the whole queue ("
              + limits.maxQueueRecords()
              + " records / "
              + limits.maxQueueBytes()
              + " bytes)");
    }
    long overRecords = totals.records + n - limits.maxQueueRecords();
    long overBytes = totals.bytes + r.keptBytes - limits.maxQueueBytes();
    if (overRecords <= 0 && overBytes <= 0) {
      return Admission.ACCEPT;
    }
    return switch (limits.overflowPolicy()) {
      case REJECT -> Admission.refuse(rejectMessage(r, totals, overRecords > 0));
      case BLOCK -> Admission.PARK;
      case DROP_OLDEST -> Admission.ACCEPT;
    };
  }

  private String rejectMessage(AppendRequest r, QueueTotals totals, boolean recordsFull) {
    String full =
        recordsFull
            ? totals.records
                + " of "
                + limits.maxQueueRecords()
                + " records queued (queue_max_size)"
            : totals.bytes + " of " + limits.maxQueueBytes() + " bytes queued (max_bytes)";
    return "outbox full, "
        + full
        + ", overflow_policy=reject: "
        + r.kept.size()
        + " records of "
        + r.bytes
        + " bytes refused";
  }

  /**
   * Under drop_oldest, drops queued records until {@code totals} fit the limits (when the group
   * accepted anything). Every append fits the whole queue, so dropping everything else always makes
   * room; failing that is a bug.
   */
  void makeRoom(Collection<StreamCounters> streams, QueueTotals totals, boolean acceptedAny)
      throws SQLException {
    long overRecords = totals.records - limits.maxQueueRecords();
    long overBytes = totals.bytes - limits.maxQueueBytes();
    if (limits.overflowPolicy() != OverflowPolicy.DROP_OLDEST
        || !acceptedAny
        || (overRecords <= 0 && overBytes <= 0)) {
      return;
    }
    OutboxTables.Counted freed =
        dropOldest(streams, Math.max(0, overRecords), Math.max(0, overBytes));
    if (freed.records() < overRecords || freed.bytes() < overBytes) {
      throw new IllegalStateException(
          "overflow freed "
              + freed.records()
              + " records / "
              + freed.bytes()
              + " bytes of the "
              + overRecords
              + " / "
              + overBytes
              + " needed");
    }
  }

  /**
   * Drops the oldest queued records of the lowest-priority streams until at least the given records
   * and bytes are freed (or nothing is left). Runs inside the caller's transaction.
   */
  OutboxTables.Counted dropOldest(Collection<StreamCounters> streams, long records, long bytes)
      throws SQLException {
    long freedRecords = 0;
    long freedBytes = 0;
    long now = clock.nowMs();
    List<StreamCounters> victims = new ArrayList<>(streams);
    victims.sort(
        Comparator.comparingInt((StreamCounters c) -> c.priority)
            .reversed()
            .thenComparing(c -> c.name));
    for (StreamCounters c : victims) {
      while ((freedRecords < records || freedBytes < bytes) && c.queuedRecords > 0) {
        List<Record> chunk = tables.oldestChunk(c.name);
        if (chunk == null) {
          break;
        }
        long first = chunk.get(0).sequence();
        long last = chunk.get(chunk.size() - 1).sequence();
        long dropFrom = Math.max(first, c.ackedSeq + 1);
        long dropTo = dropFrom - 1;
        long droppedBytes = 0;
        for (Record r : chunk) {
          if (r.sequence() < dropFrom) {
            continue;
          }
          if (freedRecords >= records && freedBytes >= bytes) {
            break;
          }
          dropTo = r.sequence();
          freedRecords++;
          freedBytes += r.payload().length;
          droppedBytes += r.payload().length;
        }
        tables.deleteChunk(c.name, first);
        if (dropTo < last) {
          tables.insertChunk(c.name, chunk.subList((int) (dropTo + 1 - first), chunk.size()));
        }
        if (dropTo >= dropFrom) {
          tables.addGap(c.name, dropFrom, dropTo, GapReason.GAP_REASON_QUEUE_FULL, now);
          long n = dropTo - dropFrom + 1;
          c.queuedRecords -= n;
          c.queuedBytes -= droppedBytes;
          c.droppedRecords += n;
          tables.saveStream(c);
        }
      }
    }
    return new OutboxTables.Counted(freedRecords, freedBytes);
  }
}
