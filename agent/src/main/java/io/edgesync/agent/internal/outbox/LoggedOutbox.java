package io.edgesync.agent.internal.outbox;

import io.edgesync.engine.edge.EdgeSyncEngine;
import io.edgesync.engine.edge.Outbox;
import io.edgesync.protocol.Clock;
import java.util.List;
import java.util.Map;

/**
 * The outbox as the sync engine sees it, with every read for sending and every acknowledgement
 * noted in the {@link SyncLog}. The engine reads an item only to send it next, so a read is when a
 * batch goes out. Every method delegates, the defaults of {@link Outbox} included, so that the
 * store's own implementations run. Threads: as the outbox it wraps.
 */
public final class LoggedOutbox implements Outbox {
  private final Outbox outbox;
  private final SyncLog log;
  private final Clock clock;

  public LoggedOutbox(Outbox outbox, SyncLog log, Clock clock) {
    this.outbox = outbox;
    this.log = log;
    this.clock = clock;
  }

  @Override
  public String storeId() {
    return outbox.storeId();
  }

  @Override
  public List<StreamState> streams() {
    return outbox.streams();
  }

  @Override
  public Item read(String stream, long fromSequence, int maxRecords, long maxBytes) {
    Item item = outbox.read(stream, fromSequence, maxRecords, maxBytes);
    if (item != null) {
      log.sent(stream, item, clock.nowMs());
    }
    return item;
  }

  @Override
  public void acknowledge(String stream, long sequence) {
    outbox.acknowledge(stream, sequence);
    log.acknowledged(stream, sequence, clock.nowMs());
  }

  @Override
  public void acknowledge(String stream, long sequence, EdgeSyncEngine.WireStats wire) {
    outbox.acknowledge(stream, sequence, wire);
    log.acknowledged(stream, sequence, clock.nowMs());
  }

  @Override
  public Map<String, EdgeSyncEngine.WireStats> savedWireStats() {
    return outbox.savedWireStats();
  }

  @Override
  public void saveWireStats(Map<String, EdgeSyncEngine.WireStats> totals) {
    outbox.saveWireStats(totals);
  }

  @Override
  public Item.Gap markNotRetained(String stream, long cloudCheckpoint) {
    return outbox.markNotRetained(stream, cloudCheckpoint);
  }

  @Override
  public SavedBudget savedBudget() {
    return outbox.savedBudget();
  }

  @Override
  public void saveBudget(long utcDay, long spentBytes) {
    outbox.saveBudget(utcDay, spentBytes);
  }

  @Override
  public List<SavedDictionary> savedDictionaries() {
    return outbox.savedDictionaries();
  }

  @Override
  public void saveDictionary(String stream, int id, byte[] bytes) {
    outbox.saveDictionary(stream, id, bytes);
  }
}
