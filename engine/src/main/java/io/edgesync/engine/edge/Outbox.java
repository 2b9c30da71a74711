package io.edgesync.engine.edge;

import io.edgesync.protocol.Record;
import io.edgesync.protocol.wire.GapReason;
import java.util.List;
import java.util.Map;

/**
 * The edge engine's view of the durable outbox: what is queued per stream, and the place where
 * acknowledgements are recorded. The production implementation is the agent's SQLite store; the
 * engine calls it only from its own thread. Implementations must make {@link #acknowledge} durable
 * before returning.
 */
public interface Outbox {
  /** The random id this outbox was created with (sent in Hello). */
  String storeId();

  /** All streams with their counters, in send order: priority ascending, then name. */
  List<StreamState> streams();

  /**
   * The next thing to send for {@code stream} at or after {@code fromSequence}: a run of records
   * (at most {@code maxRecords} and {@code maxBytes} of payload, but always at least one record), a
   * gap, or {@code null} if nothing at or after that sequence is queued.
   */
  Item read(String stream, long fromSequence, int maxRecords, long maxBytes);

  /** The cloud committed every sequence up to {@code sequence}; durable on return. */
  void acknowledge(String stream, long sequence);

  /**
   * {@link #acknowledge}, and in the same transaction the stream's wire totals (what its batches
   * cost since the outbox was created), so that they survive a restart at no extra fsync. An outbox
   * that does not keep them just acknowledges.
   */
  default void acknowledge(String stream, long sequence, EdgeSyncEngine.WireStats wire) {
    acknowledge(stream, sequence);
  }

  /** Per-stream wire totals as last saved; empty if none were. */
  default Map<String, EdgeSyncEngine.WireStats> savedWireStats() {
    return Map.of();
  }

  /** Saves the wire totals of the given streams (the engine calls it when it stops). */
  default void saveWireStats(Map<String, EdgeSyncEngine.WireStats> totals) {}

  /**
   * Records that the cloud's checkpoint is behind the oldest sequence this outbox still holds (the
   * cloud lost data it had acknowledged, or never got what was already pruned): the range becomes
   * an explicit gap so the stream can continue. Returns the gap, or null if none needed.
   */
  Item.Gap markNotRetained(String stream, long cloudCheckpoint);

  /**
   * The daily byte budget's saved state, or null if none was saved. Kept with the outbox so that a
   * restart does not reset what the device spent today.
   */
  default SavedBudget savedBudget() {
    return null;
  }

  /** What the daily byte budget had spent ({@code spentBytes}) on the UTC day {@code utcDay}. */
  record SavedBudget(long utcDay, long spentBytes) {}

  /** Saves the daily byte budget's state; the engine calls it at most about 100 times a day. */
  default void saveBudget(long utcDay, long spentBytes) {}

  /**
   * The trained dictionaries saved with {@link #saveDictionary} (the newest of each stream). An
   * outbox that keeps none returns an empty list: the cloud then ships them again each session.
   */
  default List<SavedDictionary> savedDictionaries() {
    return List.of();
  }

  /**
   * Saves a dictionary the cloud shipped as the newest of {@code stream}, replacing the stream's
   * older one; durable on return.
   */
  default void saveDictionary(String stream, int id, byte[] bytes) {}

  /** A dictionary kept by the outbox. */
  record SavedDictionary(String stream, int id, byte[] bytes) {}

  /** Per-stream counters. {@code lastSequence} is the last assigned sequence (0 = none yet). */
  record StreamState(
      String name,
      int priority,
      long lastSequence,
      long ackedSequence,
      long queuedRecords,
      long queuedBytes) {}

  /** What {@link #read} returns. */
  sealed interface Item {
    long firstSequence();

    long lastSequence();

    /** Consecutive records. */
    record Records(List<Record> records, long payloadBytes) implements Item {
      @Override
      public long firstSequence() {
        return records.get(0).sequence();
      }

      @Override
      public long lastSequence() {
        return records.get(records.size() - 1).sequence();
      }
    }

    /** A dropped range that must be reported to the cloud. */
    record Gap(long firstSequence, long lastSequence, GapReason reason, long droppedAtMs)
        implements Item {}
  }
}
